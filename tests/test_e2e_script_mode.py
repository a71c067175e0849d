"""The addon also loads in a plain `mitmdump -s gateway/addon.py`, as operators who run mitmproxy already do."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx
import pytest

from tests.support.gateway_process import REDIRECT_SCRIPT, REPO, free_port
from tests.support.images import text_image
from tests.support.upstream import RecordingUpstream

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_plain_mitmdump_with_the_addon_script_blocks_pii(tmp_path):
    upstream = RecordingUpstream(tmp_path)
    port, metrics = free_port(), free_port()
    mitmdump = str(Path(sys.executable).with_name("mitmdump"))
    log = open(tmp_path / "mitmdump.log", "wb")
    # The script's folder lands on sys.path (mitmproxy does that): our package names must not shadow the stdlib.
    proc = subprocess.Popen(
        [mitmdump, "-s", str(REPO / "gateway" / "addon.py"), "-s", str(REDIRECT_SCRIPT),
         "--listen-host", "127.0.0.1", "--listen-port", str(port), "--set", f"confdir={tmp_path / 'conf'}",
         "--set", f"dlp_policy={REPO / 'tests' / 'policies' / 'e2e.yaml'}", "--set", f"dlp_metrics_port={metrics}",
         "--set", "dlp_metrics_host=127.0.0.1", "--set", f"dlp_audit_log={tmp_path / 'audit.log'}",
         "--set", "connection_strategy=lazy", "--set", "ssl_insecure=true",
         "--set", f"test_upstream=127.0.0.1:{upstream.port}"],
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, (tmp_path / "mitmdump.log").read_text()
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{metrics}/readyz", timeout=2).status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "mitmdump.log").read_text()
            time.sleep(0.5)
        verify = ssl.create_default_context(cafile=str(tmp_path / "conf" / "mitmproxy-ca-cert.pem"))
        with httpx.Client(proxy=f"http://127.0.0.1:{port}", verify=verify, timeout=120) as c:
            r = c.put("https://files.oaiusercontent.com/script-mode",
                      content=text_image(["Contact jane.doe@corpmail.com"]))
        assert r.status_code == 403 and r.headers["x-dlp-rule"] == "block-pii"
        assert upstream.last_for("/script-mode") is None
        assert "Traceback" not in (tmp_path / "mitmdump.log").read_text()
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        log.close()
        upstream.close()
