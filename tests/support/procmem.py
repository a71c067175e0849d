"""Resident memory of processes from /proc (Linux), for memory sanity bounds in tests and benchmarks."""

from __future__ import annotations

import os
import threading
from pathlib import Path


def rss_bytes(pid: int) -> int:
    """VmRSS of one process, 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def group_pids(pgid: int) -> list[int]:
    """Every process in process group `pgid` (the gateway and its inspection workers)."""
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        if int(fields[2]) == pgid:
            pids.append(int(entry.name))
    return pids


def group_rss_bytes(pgid: int) -> int:
    return sum(rss_bytes(pid) for pid in group_pids(pgid))


class PeakSampler:
    """Samples a process's (or a process group's) RSS on a thread every `interval` seconds; keeps the peak."""

    def __init__(self, pid: int, group: bool = False, interval: float = 0.05) -> None:
        self.measure = (lambda: group_rss_bytes(pid)) if group else (lambda: rss_bytes(pid))
        self.interval = interval
        self.peak = 0
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            value = self.measure()
            self.samples.append(value)
            self.peak = max(self.peak, value)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
