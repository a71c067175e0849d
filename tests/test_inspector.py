"""The Inspector orchestrator with real models: every detector feeds one report; errors never raise."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw, ImageFont

from gateway.inspection import Inspector
from gateway.models import InspectionErrorKind
from tests.support.images import FONT, gps_exif, text_image

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def inspector() -> Inspector:
    return Inspector()


def test_text_metadata_and_stages_in_one_report(inspector):
    report = inspector.inspect(text_image(["Contact: jane.doe@corpmail.com"], fmt="JPEG", exif=gps_exif()))
    assert report.ok and report.format == "JPEG"
    entities = {f.entity for f in report.findings}
    assert {"EMAIL_ADDRESS", "EXIF_GPS"} <= entities
    assert {"decode", "metadata", "ocr", "analyze", "faces", "barcodes"} <= set(report.stage_seconds)


def test_pii_in_a_later_animation_frame_is_found(inspector):
    font = ImageFont.truetype(FONT, 30)
    frames = []
    for text in ["Hello there", "Mail jane.doe@corpmail.com"]:
        im = Image.new("RGB", (700, 120), "white")
        ImageDraw.Draw(im).text((20, 40), text, font=font, fill="black")
        frames.append(im)
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=500)
    report = inspector.inspect(buf.getvalue())
    emails = [f for f in report.findings if f.entity == "EMAIL_ADDRESS"]
    assert emails and emails[0].box is None


def test_corrupt_input_is_reported_not_raised(inspector):
    report = inspector.inspect(b"\x89PNG\r\n\x1a\n" + b"junk" * 50)
    assert report.error is InspectionErrorKind.CORRUPT and not report.findings


def test_options_share_models(inspector):
    from gateway.models import CustomRecognizer, InspectOptions

    other = inspector.with_options(InspectOptions(recognizers=(CustomRecognizer("code", "PROJECT_CODENAME",
                                                                                 deny_list=("BLUEBIRD",)),)))
    assert other._ocr is inspector._ocr and other._faces is inspector._faces
    report = other.inspect(text_image(["Status of project BLUEBIRD"]))
    assert "PROJECT_CODENAME" in {f.entity for f in report.findings}


def _recording_faces(monkeypatch, inspector, seen: list, result=None, exc: Exception | None = None, delay=0.0):
    import threading
    import time

    from gateway.models import Finding

    def detect(rgb):
        time.sleep(delay)
        seen.append(threading.current_thread().name)
        if exc:
            raise exc
        return result if result is not None else [Finding("FACE", "face", 0.99, (1, 1, 5, 5))]

    monkeypatch.setattr(inspector._faces, "detect", detect)


def test_faces_run_on_the_side_thread_beside_ocr(inspector, monkeypatch):
    if inspector._side is None:
        pytest.skip("one CPU: no side thread")
    seen: list[str] = []
    _recording_faces(monkeypatch, inspector, seen)
    report = inspector.inspect(text_image(["Contact: jane.doe@corpmail.com"]))
    assert seen and seen[0].startswith("inspect-side")
    assert {"FACE", "EMAIL_ADDRESS"} <= {f.entity for f in report.findings}


def test_parallel_stages_can_be_turned_off(inspector, monkeypatch):
    from gateway.models import EngineSettings, InspectOptions

    sequential = Inspector(InspectOptions(), engine=EngineSettings(parallel_stages=False), _shared=inspector)
    assert sequential._side is None and sequential._ocr is inspector._ocr
    seen: list[str] = []
    _recording_faces(monkeypatch, sequential, seen)
    report = sequential.inspect(text_image(["Contact: jane.doe@corpmail.com"]))
    assert seen == ["MainThread"] and {"FACE", "EMAIL_ADDRESS"} <= {f.entity for f in report.findings}


def test_side_thread_failure_is_reported_not_raised(inspector, monkeypatch):
    _recording_faces(monkeypatch, inspector, [], exc=RuntimeError("face model broke"))
    report = inspector.inspect(text_image(["Contact: jane.doe@corpmail.com"]))
    assert report.error is InspectionErrorKind.INTERNAL and not report.findings


def test_ocr_failure_waits_for_the_side_thread(inspector, monkeypatch):
    """An image whose OCR fails is reported only once the side thread is done with it (nothing runs on after)."""
    seen: list[str] = []
    _recording_faces(monkeypatch, inspector, seen, delay=0.3)

    def broken(rgb):
        raise RuntimeError("ocr broke")

    monkeypatch.setattr(inspector._ocr, "read", broken)
    report = inspector.inspect(text_image(["Contact: jane.doe@corpmail.com"]))
    assert report.error is InspectionErrorKind.INTERNAL and len(seen) == 1


def test_engine_settings_are_read_once_from_the_environment():
    from gateway.models import EngineSettings

    assert EngineSettings.from_env({}) == EngineSettings()
    got = EngineSettings.from_env({"DLP_OCR_THREADS": "3", "DLP_PARALLEL_STAGES": "0", "DLP_GATEWAY_CACHE": "/c",
                                   "DLP_ONNX_PROVIDERS": "CUDAExecutionProvider, CPUExecutionProvider",
                                   "DLP_OCR_INT8": "0"})
    assert got == EngineSettings(3, False, "/c", ("CUDAExecutionProvider", "CPUExecutionProvider"), False)
