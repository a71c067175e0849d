"""`dlp-gateway run` fails loudly at start-up and builds the mitmdump command line it promises."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from gateway.run import mitmdump_args

EXE = str(Path(sys.executable).with_name("dlp-gateway"))


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
        cache_entries=10, flow_detail=0, setoptions=["ssl_insecure=true"],
    )
    argv = mitmdump_args(args, ["--proxyauth", "u:p"])
    assert argv[:4] == ["--mode", "transparent", "--mode", "upstream:http://corp:3128"]
    joined = " ".join(argv)
    for part in ("--listen-host 127.0.0.1", "--listen-port 3128", "confdir=/etc/ca", "dlp_policy=p.yaml",
                 "dlp_metrics_port=9100", "dlp_workers=2", "--set ssl_insecure=true"):
        assert part in joined
    assert argv[-2:] == ["--proxyauth", "u:p"]
