"""The addon also loads in a plain `mitmdump -s gateway/addon.py`, as operators who run mitmproxy already do."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest

from tests.support.gateway_process import GatewayProcess
from tests.support.images import text_image
from tests.support.upstream import RecordingUpstream

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
POLICY = Path(__file__).parent / "policies" / "e2e.yaml"


def test_plain_mitmdump_with_the_addon_script_blocks_pii(tmp_path):
    upstream = RecordingUpstream(tmp_path)
    # The script's folder lands on sys.path (mitmproxy does that): our package names must not shadow the stdlib.
    gateway = GatewayProcess(tmp_path / "gw", POLICY, upstream.port, script_mode=True)
    try:
        gateway.wait_ready()
        verify = ssl.create_default_context(cafile=str(gateway.ca_cert))
        with httpx.Client(proxy=gateway.proxy_url, verify=verify, timeout=120) as c:
            r = c.put("https://files.oaiusercontent.com/script-mode",
                      content=text_image(["Contact jane.doe@corpmail.com"]))
        assert r.status_code == 403 and r.headers["x-dlp-rule"] == "block-pii"
        assert upstream.last_for("/script-mode") is None
        assert "Traceback" not in gateway.log()
    finally:
        gateway.stop()
        upstream.close()
