"""A real Prometheus server (Debian `prometheus`) scraping one target every second, for dashboard/alert tests."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import yaml


class Prometheus:
    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, path: str, **params) -> dict:
        url = f"{self.base}{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as resp:
            return json.loads(resp.read())

    def query(self, expr: str) -> list[dict]:
        body = self.get("/api/v1/query", query=expr)
        assert body["status"] == "success", (expr, body)
        return body["data"]["result"]

    def wait_for(self, what: str, check, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                result = check()
                if result:
                    return result
            except (OSError, ValueError, LookupError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what}")
            time.sleep(0.25)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_prometheus(tmp: Path, target: str, rule_files: list[str] = (), scrapes: int = 5) -> Iterator[Prometheus]:
    """Start Prometheus scraping `target` (host:port) as job dlp-gateway; yields once it has `scrapes` samples."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise RuntimeError("prometheus is not installed: apt-get install -y --no-install-recommends prometheus")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": list(rule_files),
        "scrape_configs": [{"job_name": "dlp-gateway", "static_configs": [{"targets": [target]}]}],
    }
    (tmp / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = _free_port()
    log = open(tmp / "prometheus.log", "w")
    proc = subprocess.Popen(
        [binary, f"--config.file={tmp / 'prometheus.yml'}", f"--web.listen-address=127.0.0.1:{port}",
         f"--storage.tsdb.path={tmp / 'data'}", "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    prom = Prometheus(f"http://127.0.0.1:{port}")
    try:
        prom.wait_for("Prometheus to start", lambda: proc.poll() is not None or urllib.request.urlopen(
            f"{prom.base}/-/ready", timeout=2).status == 200)
        assert proc.poll() is None, (tmp / "prometheus.log").read_text()
        prom.wait_for(f"{scrapes} scrapes", lambda: float(prom.query(
            'count_over_time(up{job="dlp-gateway"}[1m])')[0]["value"][1]) >= scrapes)
        yield prom
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
