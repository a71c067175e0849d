"""Fixtures shared by the end-to-end tests: a recording upstream and a real `dlp-gateway run` in front of it.

Both are module-scoped (one gateway per test module: starting one loads the models). The gateway's policy is the
module's `gateway_policy` marker (`pytestmark = pytest.mark.gateway_policy(path)`), else its `POLICY` attribute.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.gateway_process import GatewayProcess
from tests.support.upstream import RecordingUpstream


def gateway_policy(request: pytest.FixtureRequest) -> Path:
    """The policy file the requesting test module asks for."""
    marker = request.node.get_closest_marker("gateway_policy")
    if marker is not None and marker.args:
        return Path(marker.args[0])
    policy = getattr(request.module, "POLICY", None)
    if policy is None:
        raise pytest.UsageError(f"{request.module.__name__} uses the gateway fixture but sets no POLICY "
                                "(or gateway_policy marker)")
    return Path(policy)


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    server = RecordingUpstream(tmp_path_factory.mktemp("upstream"))
    yield server
    server.close()


@pytest.fixture(scope="module")
def gateway(request, tmp_path_factory, upstream):
    proc = GatewayProcess(tmp_path_factory.mktemp("gateway"), gateway_policy(request), upstream.port)
    try:
        proc.wait_ready()
        yield proc
    finally:
        proc.stop()
