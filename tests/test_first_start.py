"""A first start on a new machine prepares the OCR models before /readyz turns ready, and says so on stderr."""

from __future__ import annotations

import io
import os
import ssl
import time
import urllib.error
import urllib.request
from pathlib import Path

import easyocr_en_models
import httpx
import pytest

from gateway.inspection import craft_onnx
from gateway.inspection.model_files import PREPARING, ModelPreparation, missing_ocr_models
from gateway.inspection.ocr import WEIGHT_FILES
from tests.support.gateway_process import GatewayProcess
from tests.support.images import text_image
from tests.support.upstream import RecordingUpstream

POLICY = Path(__file__).parent / "policies" / "e2e.yaml"
CRAFT = os.path.join(easyocr_en_models.model_dir(), WEIGHT_FILES[0])


# --- in-process: which files are missing, and who speaks ---------------------------------------------------------

def test_an_empty_cache_misses_the_int8_detector_and_a_full_one_nothing(tmp_path):
    missing = missing_ocr_models(CRAFT, str(tmp_path))
    assert len(missing) == 1 and missing[0].startswith("craft-") and missing[0].endswith(craft_onnx.INT8 + ".onnx")
    (tmp_path / missing[0]).write_bytes(b"x")
    assert missing_ocr_models(CRAFT, str(tmp_path)) == []
    # without int8 the float model is the one used
    assert missing_ocr_models(CRAFT, str(tmp_path), int8=False) == [missing[0].replace(craft_onnx.INT8, "")]
    assert missing_ocr_models(str(tmp_path / "no-weights.pth"), str(tmp_path)) == []


def test_the_preparation_is_announced_once_and_its_end_reported(tmp_path):
    first, second = io.StringIO(), io.StringIO()
    speaking = ModelPreparation(CRAFT, str(tmp_path), out=first)
    quiet = ModelPreparation(CRAFT, str(tmp_path), out=second)  # a second worker starting at the same time
    assert first.getvalue() == PREPARING + "\n" and second.getvalue() == ""
    for name in speaking.missing:
        (tmp_path / name).write_bytes(b"x")
    quiet.done()
    speaking.done()
    assert second.getvalue() == ""
    assert "OCR models ready after" in first.getvalue() and str(tmp_path) in first.getvalue()
    later = io.StringIO()
    ModelPreparation(CRAFT, str(tmp_path), out=later).done()  # the next start: nothing to say
    assert later.getvalue() == ""


def test_an_export_that_left_the_model_missing_is_not_reported_ready(tmp_path):
    out = io.StringIO()
    prep = ModelPreparation(CRAFT, str(tmp_path), out=out)
    prep.done()
    assert "not all exported" in out.getvalue() and prep.missing[0] in out.getvalue()


# --- end to end: a real `dlp-gateway run` with an empty model cache ----------------------------------------------

def _readyz(gateway: GatewayProcess) -> int | None:
    try:
        with urllib.request.urlopen(gateway.url("/readyz"), timeout=2) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return None


@pytest.mark.e2e
@pytest.mark.slow
def test_first_start_prepares_the_models_before_ready_and_the_next_start_reuses_them(tmp_path):
    cache = tmp_path / "model-cache"
    cache.mkdir()
    upstream = RecordingUpstream(tmp_path)
    env = {"DLP_GATEWAY_CACHE": str(cache)}
    gateway = GatewayProcess(tmp_path / "gw1", POLICY, upstream.port, env=env)
    seen: list[tuple[int | None, bool]] = []  # (/readyz status, models still missing)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and gateway.proc.poll() is None:
            missing = bool(missing_ocr_models(CRAFT, str(cache)))
            status = _readyz(gateway)
            seen.append((status, missing))
            if status == 200:
                break
            time.sleep(0.5)
        assert seen and seen[-1][0] == 200, gateway.log()
        assert (503, True) in seen and (200, True) not in seen, seen  # not ready while models were missing
        assert missing_ocr_models(CRAFT, str(cache)) == []
        log = gateway.log()
        assert log.count(PREPARING) == 1, log
        announced, done, ready = (log.index(s) for s in (PREPARING, "OCR models ready after",
                                                           "DLP gateway ready"))
        assert announced < done < ready, log
        gateway.wait_ready(60)
        verify = ssl.create_default_context(cafile=str(gateway.ca_cert))
        with httpx.Client(proxy=gateway.proxy_url, verify=verify, timeout=120) as c:
            r = c.put("https://files.oaiusercontent.com/first-start",
                      content=text_image(["Contact jane.doe@corpmail.com"]))
        assert r.status_code == 403 and upstream.last_for("/first-start") is None
    finally:
        gateway.stop()
    second = GatewayProcess(tmp_path / "gw2", POLICY, upstream.port, env=env)
    try:
        second.wait_ready(300)
        assert PREPARING not in second.log() and "OCR models ready after" not in second.log()
    finally:
        second.stop()
        upstream.close()
