"""Crashes are decisions, through a real `dlp-gateway run`: a worker killed mid-inspection, a worker out of memory.

Either way that upload gets the policy's on_error (block), the worker is replaced, and later uploads are decided
correctly by the new worker.
"""

from __future__ import annotations

import io
import os
import resource
import signal
import threading
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.support.gateway_process import GatewayProcess, client
from tests.support.images import photo_like, text_image
from tests.support.procmem import group_pids
from tests.support.upstream import RecordingUpstream

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
POLICY = Path(__file__).parent / "policies" / "e2e.yaml"


def worker_pid(gateway: GatewayProcess) -> int:
    """The inspection worker: the gateway's multiprocessing child that is not the resource tracker."""
    for pid in group_pids(gateway.proc.pid):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"spawn_main" in cmdline:
            return pid
    raise AssertionError("no inspection worker process")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime in clock ticks (USER_HZ = 100)


def vm_data(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmData:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmData")


def memory_hungry_png() -> bytes:
    """A small PNG of 36 Mpx (under max_pixels): ~250 MiB of pixels to decode."""
    image = Image.new("RGB", (6000, 6000), "white")
    ImageDraw.Draw(image).rectangle((100, 100, 900, 400), fill=(30, 90, 200))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def assert_decided_correctly_afterwards(gateway: GatewayProcess, upstream: RecordingUpstream, tag: str) -> None:
    pii = text_image([f"Ticket {tag}", "Reply to jane.doe@corpmail.com"])
    clean = photo_like(size=(320, 200), fmt="PNG")
    with client(gateway) as c:
        blocked = c.put(f"https://files.oaiusercontent.com/pii-after-{tag}", content=pii)
        allowed = c.put(f"https://files.oaiusercontent.com/clean-after-{tag}", content=clean)
    assert blocked.status_code == 403 and blocked.headers["x-dlp-rule"] == "block-pii"
    assert allowed.status_code == 200 and upstream.last_for(f"/clean-after-{tag}").body == clean


def test_a_worker_killed_mid_inspection_fails_that_upload_closed_and_is_replaced(gateway, upstream):
    lines = [f"Row {i}: order 77{i:03d} shipped to the warehouse in building {i % 7}" for i in range(22)]
    big = text_image(["Customer: jane.doe@corpmail.com"] + lines, size=(2400, 1800), font_size=34)
    victim = worker_pid(gateway)
    answer: dict = {}

    def upload() -> None:
        with client(gateway) as c:
            answer["r"] = c.put("https://files.oaiusercontent.com/killed-mid-inspection", content=big)

    busy_from = cpu_seconds(victim)
    sender = threading.Thread(target=upload)
    sender.start()
    deadline = time.monotonic() + 60
    while cpu_seconds(victim) < busy_from + 0.3:  # the worker is reading the image now
        assert time.monotonic() < deadline and "r" not in answer, "the worker never started on the upload"
        time.sleep(0.02)
    killed_at = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    sender.join(120)
    r = answer["r"]
    assert r.status_code == 403 and r.headers["x-dlp-rule"] == "on_error", r.text
    assert "inspection worker died; restarting it" in gateway.log()
    assert time.monotonic() - killed_at < 10  # decided at once, not at the inspection timeout
    assert upstream.last_for("/killed-mid-inspection") is None
    assert_decided_correctly_afterwards(gateway, upstream, "kill")
    assert worker_pid(gateway) != victim


def test_a_worker_out_of_memory_fails_that_upload_closed_and_is_replaced(gateway, upstream):
    assert_decided_correctly_afterwards(gateway, upstream, "warm-up")  # the worker's memory at steady state
    victim = worker_pid(gateway)
    # A memory cap like a container's, just above what the worker uses now: 200 MiB for the next image.
    cap = vm_data(victim) + (200 << 20)
    resource.prlimit(victim, resource.RLIMIT_DATA, (cap, cap))
    with client(gateway) as c:
        r = c.put("https://files.oaiusercontent.com/out-of-memory", content=memory_hungry_png())
    assert r.status_code == 403 and r.headers["x-dlp-rule"] == "on_error", r.text
    assert upstream.last_for("/out-of-memory") is None
    assert "ran out of memory; restarting it" in gateway.log()
    assert_decided_correctly_afterwards(gateway, upstream, "oom")
    assert worker_pid(gateway) != victim


def _memory_cgroup(limit: int) -> Path | None:
    """A fresh memory cgroup capped at `limit` bytes (v1 or v2), or None where this machine lets us make none."""
    for root, cap_file in ((Path("/sys/fs/cgroup/memory"), "memory.limit_in_bytes"),
                           (Path("/sys/fs/cgroup"), "memory.max")):
        if not (root / cap_file).exists() and not (root / "cgroup.controllers").exists():
            continue
        group = root / f"dlp-oom-test-{os.getpid()}"
        try:
            group.mkdir()
            (group / cap_file).write_text(str(limit))
            swap = group / ("memory.memsw.limit_in_bytes" if cap_file == "memory.limit_in_bytes" else "memory.swap.max")
            if swap.exists():
                swap.write_text(str(limit) if cap_file == "memory.limit_in_bytes" else "0")
            return group
        except OSError:
            if group.exists():
                group.rmdir()
    return None


def test_the_kernel_oom_killer_under_a_container_limit_is_a_decision_too(gateway, upstream):
    """The real thing a container limit does: the worker, moved into a memory cgroup with 200 MiB left for new
    pages, decodes a 36 Mpx image and the kernel's OOM killer kills it. The upload is blocked, the worker
    replaced, later uploads decided correctly."""
    assert_decided_correctly_afterwards(gateway, upstream, "warm-up-cgroup")
    victim = worker_pid(gateway)
    group = _memory_cgroup(200 << 20)  # pages the worker already holds stay charged where they were
    if group is None:
        pytest.skip("no writable memory cgroup on this machine (needs root and cgroup v1 memory or v2)")
    try:
        (group / "cgroup.procs").write_text(str(victim))
        with client(gateway) as c:
            r = c.put("https://files.oaiusercontent.com/cgroup-oom", content=memory_hungry_png())
        assert r.status_code == 403 and r.headers["x-dlp-rule"] == "on_error", r.text
        assert upstream.last_for("/cgroup-oom") is None
        assert not Path(f"/proc/{victim}").exists() or b"zombie" in Path(f"/proc/{victim}/status").read_bytes()
        assert "inspection worker died; restarting it" in gateway.log()
        assert_decided_correctly_afterwards(gateway, upstream, "cgroup-oom")
        assert worker_pid(gateway) != victim
    finally:
        for _ in range(50):  # the killed worker leaves the group as the kernel reaps it
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.1)
