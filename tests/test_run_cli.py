"""`dlp-gateway run` fails loudly at start-up and builds the mitmdump command line it promises."""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from gateway.run import mitmdump_args
from tests.support.gateway_process import GatewayProcess, free_port

EXE = str(Path(sys.executable).with_name("dlp-gateway"))
POLICY = Path(__file__).parent / "policies" / "e2e.yaml"


def test_broken_policy_stops_start_up_with_file_line_and_hint(tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text("version: 1\nrules:\n  - name: x\n    action: blok\n")
    proc = subprocess.run([EXE, "run", "--policy", str(bad)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert f"{bad}:4:13" in proc.stderr and "did you mean 'block'" in proc.stderr


def test_missing_policy_and_mistyped_own_option_are_refused(tmp_path):
    proc = subprocess.run([EXE, "run", "--policy", str(tmp_path / "none.yaml")], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "none.yaml" in proc.stderr
    proc = subprocess.run([EXE, "run", "--set", "dlp_wrokers=2"], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "unknown option --set dlp_wrokers" in proc.stderr


def test_mitmdump_arguments_pass_modes_and_options_through():
    args = argparse.Namespace(
        mode=["transparent", "upstream:http://corp:3128"], listen_host="127.0.0.1", listen_port=3128,
        confdir="/etc/ca", policy="p.yaml", metrics_host="0.0.0.0", metrics_port=9100, audit_log="-", workers=2,
        cache_entries=10, flow_detail=0, setoptions=["ssl_insecure=true"], allow_clients=[],
    )
    argv = mitmdump_args(args, ["--proxyauth", "u:p"])
    assert argv[:4] == ["--set", "mode=transparent", "--set", "mode=upstream:http://corp:3128"]
    joined = " ".join(argv)
    for part in ("listen_host=127.0.0.1", "listen_port=3128", "confdir=/etc/ca", "dlp_policy=p.yaml",
                 "dlp_metrics_port=9100", "dlp_workers=2", "--set ssl_insecure=true"):
        assert part in joined
    assert argv[-2:] == ["--proxyauth", "u:p"]

def _namespace(**overrides) -> argparse.Namespace:
    values = dict(mode=[], listen_host="", listen_port=8080, confdir="~/.mitmproxy", policy="", metrics_host="0.0.0.0",
                  metrics_port=9090, audit_log="-", workers=1, cache_entries=4096, flow_detail=0, setoptions=[],
                  allow_clients=[])
    values.update(overrides)
    return argparse.Namespace(**values)


def _sets(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == "--set"]


def test_a_users_set_replaces_the_gateways_default_and_flag_for_that_key():
    argv = mitmdump_args(_namespace(
        mode=["transparent"], listen_host="127.0.0.1", confdir="/etc/ca",
        setoptions=["confdir=/srv/ca", "listen_port=3128", "listen_host=::1", "mode=socks5", "mode=wireguard",
                    "flow_detail=2", "dlp_workers=3", "dlp_policy=/p.yaml"]), [])
    sets = _sets(argv)
    for key in ("confdir", "listen_port", "listen_host", "flow_detail", "dlp_workers", "dlp_policy"):
        assert len([s for s in sets if s.startswith(key + "=")]) == 1, (key, sets)
    assert [s for s in sets if s.startswith("mode=")] == ["mode=socks5", "mode=wireguard"]
    assert {"confdir=/srv/ca", "listen_port=3128", "listen_host=::1", "flow_detail=2", "dlp_workers=3"} <= set(sets)
    # Nothing is passed as a mitmdump flag: its flags would override a --set without a word.
    assert not {"--mode", "--listen-host", "--listen-port"} & set(argv)
    # Keys the user did not set keep the gateway's defaults.
    assert {"dlp_metrics_port=9090", "dlp_audit_log=-", "dlp_cache_entries=4096"} <= set(sets)


def test_the_addons_own_options_are_accepted_and_unknown_dlp_keys_refused(tmp_path):
    # dlp_warn_secret and dlp_proceed_host are addon options too: the list comes from the addons' load().
    from gateway.run import own_option_names

    assert {"dlp_warn_secret", "dlp_proceed_host", "dlp_policy", "dlp_workers"} <= own_option_names()
    proc = subprocess.run([EXE, "run", "--set", "dlp_warn_secrett=x"], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "unknown option --set dlp_warn_secrett" in proc.stderr
    assert "dlp_warn_secret," in proc.stderr  # the known list names the real one


@pytest.mark.e2e
def test_set_confdir_listen_port_mode_and_metrics_port_win_in_a_real_run(tmp_path):
    """`--set confdir=DIR` used to stop the start-up: "Received multiple values for confdir"."""
    confdir, port, metrics_port = tmp_path / "my-ca", free_port(), free_port()
    gateway = GatewayProcess(tmp_path / "gw", POLICY, None, extra=[
        "--set", f"confdir={confdir}", "--set", f"listen_port={port}", "--set", "mode=socks5",
        "--set", f"dlp_metrics_port={metrics_port}", "--set", "dlp_warn_secret=shared-secret"])
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and gateway.proc.poll() is None:
            if (confdir / "mitmproxy-ca-cert.pem").exists() and f"SOCKS v5 proxy listening at 127.0.0.1:{port}" \
                    in gateway.log():
                break
            time.sleep(0.3)
        log = gateway.log()
        assert gateway.proc.poll() is None, log
        assert "multiple values" not in log
        assert (confdir / "mitmproxy-ca-cert.pem").exists() and not gateway.ca_cert.exists()
        assert f"CA certificate: {confdir}/mitmproxy-ca-cert.pem" in log
        assert f"SOCKS v5 proxy listening at 127.0.0.1:{port}" in log and "mode: socks5" in log
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:  # SOCKS5 greeting: no auth
            s.sendall(b"\x05\x01\x00")
            assert s.recv(2) == b"\x05\x00"
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/healthz", timeout=5) as resp:
            assert resp.status == 200
    finally:
        gateway.stop()
