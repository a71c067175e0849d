"""Hot reload against a running gateway: a new policy takes effect mid-traffic; a broken one is refused."""

from __future__ import annotations

import re
import ssl
import threading
import time

import httpx
import pytest

from tests.support.gateway_process import GatewayProcess
from tests.support.images import photo_like
from tests.support.upstream import RecordingUpstream

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

POLICY = """\
version: 1
name: reload-test
settings: {{on_error: block}}
destinations:
  - name: openai
    hosts: [files.oaiusercontent.com]
rules:
  - name: {name}
    action: block
    when: {{format: [{fmt}]}}
"""


def reloads(gateway: GatewayProcess, result: str) -> float:
    m = re.search(rf'dlp_gateway_policy_reloads_total{{result="{result}"}} ([0-9.e+]+)', gateway.metrics_text())
    return float(m.group(1)) if m else 0.0


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def test_policy_change_takes_effect_and_broken_policy_is_refused(tmp_path):
    upstream = RecordingUpstream(tmp_path)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.format(name="block-gif", fmt="GIF"))
    gateway = GatewayProcess(tmp_path / "gw", policy, upstream.port)
    png = photo_like(size=(64, 48), fmt="PNG")
    statuses: list[tuple[int, str]] = []
    stop = threading.Event()
    try:
        gateway.wait_ready()
        verify = ssl.create_default_context(cafile=str(gateway.ca_cert))

        def traffic() -> None:  # uploads keep flowing during every reload
            with httpx.Client(proxy=gateway.proxy_url, verify=verify, timeout=120) as c:
                while not stop.is_set():
                    r = c.put("https://files.oaiusercontent.com/bg", content=png)
                    statuses.append((r.status_code, r.headers.get("x-dlp-rule", "")))

        with httpx.Client(proxy=gateway.proxy_url, verify=verify, timeout=120) as c:
            assert c.put("https://files.oaiusercontent.com/a", content=png).status_code == 200
            bg = threading.Thread(target=traffic, daemon=True)
            bg.start()

            policy.write_text(POLICY.format(name="block-png", fmt="PNG"))
            wait_for(lambda: reloads(gateway, "success") >= 2)
            r = c.put("https://files.oaiusercontent.com/b", content=png)
            assert r.status_code == 403 and r.headers["x-dlp-rule"] == "block-png"

            policy.write_text("version: 1\nrules:\n  - name: x\n    action: explode\n")
            wait_for(lambda: reloads(gateway, "failure") >= 1)
            r = c.put("https://files.oaiusercontent.com/c", content=png)
            assert r.status_code == 403 and r.headers["x-dlp-rule"] == "block-png"  # the old policy keeps serving
            stop.set()
            bg.join(120)
        assert statuses, "no background traffic was sent"
        # Every background upload got a whole-policy answer: allowed by v1 or blocked by v2's rule, nothing else.
        assert set(statuses) <= {(200, ""), (403, "block-png")}
        assert "refused" in gateway.log() or "invalid" in gateway.log()
    finally:
        stop.set()
        gateway.stop()
        upstream.close()
