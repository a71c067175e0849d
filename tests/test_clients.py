"""Closed by default: clients from loopback and private ranges only, or only from the operator's networks."""

from __future__ import annotations

import argparse
import ssl
import time
import urllib.request
from pathlib import Path

import httpx
import pytest
from mitmproxy import exceptions
from mitmproxy.addons.block import Block
from mitmproxy.proxy.mode_specs import ProxyMode
from mitmproxy.test import taddons, tflow

from gateway.clients import REFUSED, ClientAcl, client_address, parse_networks
from gateway.metrics import GatewayMetrics
from gateway.run import mitmdump_args
from tests.support.gateway_process import GatewayProcess
from tests.support.upstream import RecordingUpstream

POLICY = Path(__file__).parent / "policies" / "e2e.yaml"


def _client(ip: str, mode: str = "regular"):
    client = tflow.tclient_conn()
    client.peername = (ip, 50000)
    client.proxy_mode = ProxyMode.parse(mode)
    return client


def _refused(metrics: GatewayMetrics, reason: str) -> float:
    return metrics.registry.get_sample_value("dlp_gateway_clients_refused_total", {"reason": reason}) or 0.0


def _connect(addons, ip: str, mode: str = "regular"):
    client = _client(ip, mode)
    for addon in addons:  # in mitmproxy's order: its Block addon first, ours after
        addon.client_connected(client)
    return client


def test_by_default_mitmproxy_refuses_public_clients_and_the_refusal_is_counted():
    metrics = GatewayMetrics()
    block, acl = Block(), ClientAcl(metrics)
    with taddons.context(block, acl) as tctx:
        tctx.configure(acl, dlp_allow_clients=[])
        assert tctx.options.block_global is True  # mitmproxy's default, and the gateway keeps it
        for ip in ("127.0.0.1", "::1", "10.1.2.3", "172.16.0.9", "192.168.1.20", "fd00::5", "::ffff:10.0.0.7"):
            assert _connect((block, acl), ip).error is None, ip
        for ip in ("8.8.8.8", "2001:4860::8888", "::ffff:1.1.1.1"):
            assert _connect((block, acl), ip).error == "Connection killed by block_global.", ip
    assert _refused(metrics, "block_global") == 3 and _refused(metrics, "not_allowed") == 0


def test_a_listed_network_is_the_only_one_allowed_loopback_included(caplog):
    metrics = GatewayMetrics()
    block, acl = Block(), ClientAcl(metrics)
    with taddons.context(block, acl) as tctx:
        tctx.configure(acl, dlp_allow_clients=["10.99.0.0/16", "fd12:3456::/32"])
        assert _connect((block, acl), "10.99.4.5").error is None
        assert _connect((block, acl), "::ffff:10.99.0.1").error is None
        assert _connect((block, acl), "fd12:3456::1").error is None
        for ip in ("127.0.0.1", "::1", "10.98.0.1", "192.168.1.1", "8.8.8.8"):
            assert _connect((block, acl), ip).error in (REFUSED, "Connection killed by block_global."), ip
    assert _refused(metrics, "not_allowed") == 4 and _refused(metrics, "block_global") == 1
    assert "client connection from 127.0.0.1 refused: not in dlp_allow_clients" in caplog.text


def test_a_listed_public_network_turns_block_global_off_and_back_on():
    metrics = GatewayMetrics()
    block, acl = Block(), ClientAcl(metrics)
    with taddons.context(block, acl) as tctx:
        tctx.configure(acl, dlp_allow_clients=["8.8.0.0/16, 10.0.0.0/8"])  # one value, two networks
        assert tctx.options.block_global is False
        assert _connect((block, acl), "8.8.4.4").error is None
        assert _connect((block, acl), "1.1.1.1").error == REFUSED
        tctx.configure(acl, dlp_allow_clients=["10.0.0.0/8"])
        assert tctx.options.block_global is True
        tctx.configure(acl, dlp_allow_clients=[])
        assert tctx.options.block_global is True


def test_a_bad_network_is_refused_at_start_up_with_its_value():
    acl = ClientAcl()
    with taddons.context(acl) as tctx:
        with pytest.raises(exceptions.OptionsError, match="'10.0.0.0/33'"):
            tctx.configure(acl, dlp_allow_clients=["10.0.0.0/8", "10.0.0.0/33"])
    assert parse_networks(["192.168.1.7", " 10.0.0.0/8 ,fd00::/8 "]) == parse_networks(
        ["192.168.1.7/32", "10.0.0.0/8", "fd00::/8"])


def test_addresses_are_read_as_mitmproxy_does():
    assert str(client_address(("::ffff:10.0.0.1", 1, 0, 0))) == "10.0.0.1"
    assert str(client_address(("fe80::1%eth0", 1, 0, 0))) == "fe80::1"
    assert client_address(None) is None and client_address(("not-an-ip", 1)) is None
    acl = ClientAcl()
    with taddons.context(acl) as tctx:
        tctx.configure(acl, dlp_allow_clients=["10.0.0.0/8"])
        client = _client("10.0.0.1")
        client.peername = None  # no address: not in any network
        acl.client_connected(client)
        assert client.error == REFUSED


def test_allow_clients_flag_becomes_the_option_and_a_users_set_wins():
    args = argparse.Namespace(
        mode=[], listen_host="", listen_port=8080, confdir="~/.mitmproxy", policy="", metrics_host="0.0.0.0",
        metrics_port=9090, audit_log="-", workers=1, cache_entries=4096, flow_detail=0,
        allow_clients=["10.0.0.0/8", "192.168.0.0/16"], setoptions=[])
    assert [a for a in mitmdump_args(args, []) if a.startswith("dlp_allow_clients=")] == [
        "dlp_allow_clients=10.0.0.0/8", "dlp_allow_clients=192.168.0.0/16"]
    args.setoptions = ["dlp_allow_clients=172.16.0.0/12"]
    assert [a for a in mitmdump_args(args, []) if a.startswith("dlp_allow_clients=")] == [
        "dlp_allow_clients=172.16.0.0/12"]


# --- end to end ------------------------------------------------------------------------------------------------

def _wait_listening(gateway: GatewayProcess, timeout: float = 120) -> None:
    """The proxy accepts connections (the inspection models may still be loading: a GET needs none)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert gateway.proc.poll() is None, gateway.log()
        if gateway.ca_cert.exists() and "proxy listening at" in gateway.log():
            return
        time.sleep(0.3)
    raise TimeoutError(gateway.log())


@pytest.mark.e2e
def test_a_client_outside_allow_clients_is_refused_and_inside_the_default_accepted(tmp_path):
    upstream = RecordingUpstream(tmp_path)
    try:
        closed = GatewayProcess(tmp_path / "closed", POLICY, upstream.port, extra=["--allow-clients", "10.99.0.0/16"])
        try:
            _wait_listening(closed)
            assert "clients allowed from: 10.99.0.0/16" in closed.log()
            verify = ssl.create_default_context(cafile=str(closed.ca_cert))
            with httpx.Client(proxy=closed.proxy_url, verify=verify, timeout=30) as c:
                with pytest.raises(httpx.TransportError):
                    c.get("https://chatgpt.com/refused")
            assert upstream.last_for("/refused") is None
            with urllib.request.urlopen(closed.url("/metrics"), timeout=5) as resp:
                metrics = resp.read().decode()
            assert 'dlp_gateway_clients_refused_total{reason="not_allowed"} 1.0' in metrics
            assert "client connection from 127.0.0.1 refused: not in dlp_allow_clients" in closed.log()
        finally:
            closed.stop()
        default = GatewayProcess(tmp_path / "default", POLICY, upstream.port)
        try:
            _wait_listening(default)
            assert "clients allowed from: loopback and private networks" in default.log()
            verify = ssl.create_default_context(cafile=str(default.ca_cert))
            with httpx.Client(proxy=default.proxy_url, verify=verify, timeout=30) as c:
                assert c.get("https://chatgpt.com/accepted").status_code == 200
            assert upstream.last_for("/accepted") is not None
        finally:
            default.stop()
    finally:
        upstream.close()


def test_the_refusal_metric_has_a_fixed_set_of_reasons():
    metrics = GatewayMetrics()
    for reason in ("not_allowed", "block_global", "block_private"):
        assert _refused(metrics, reason) == 0  # present at 0 from the start, for alerts
    metrics.observe_client_refused("10.1.2.3")  # never an address or anything unbounded
    assert _refused(metrics, "other") == 1
