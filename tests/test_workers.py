"""The inspection pool: a hung or crashing job is cut off and its worker replaced; others keep working."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from gateway.models import InspectionError, InspectionErrorKind
from gateway.workers import InspectionPool


def no_models(threads: int) -> None:  # worker initializer without the heavy models
    pass


def quick(x: int) -> int:
    return x * 2


def hang(seconds: float) -> None:
    time.sleep(seconds)


def crash() -> None:
    os._exit(3)


def test_timeout_and_crash_restart_only_the_bad_worker():
    async def scenario() -> None:
        pool = InspectionPool(workers=2, threads_per_worker=1, initializer=no_models)
        await pool.start()
        try:
            assert await pool._run(10, quick, 21) == 42
            slow = asyncio.create_task(pool._run(0.5, hang, 30))
            # the other worker keeps serving while one job hangs
            assert await pool._run(10, quick, 1) == 2
            with pytest.raises(InspectionError) as err:
                await slow
            assert err.value.kind is InspectionErrorKind.TIMEOUT
            with pytest.raises(InspectionError) as err:
                await pool._run(10, crash)
            assert err.value.kind is InspectionErrorKind.INTERNAL
            # restarted workers rejoin the pool
            results = await asyncio.gather(*(pool._run(30, quick, i) for i in range(6)))
            assert results == [i * 2 for i in range(6)]
            assert pool.in_flight == 0 and pool.waiting == 0
        finally:
            pool.shutdown()

    asyncio.run(scenario())


def test_queue_wait_is_bounded():
    async def scenario() -> None:
        pool = InspectionPool(workers=1, threads_per_worker=1, initializer=no_models)
        await pool.start()
        try:
            busy = asyncio.create_task(pool._run(5, hang, 3))
            await asyncio.sleep(0.2)
            with pytest.raises(InspectionError) as err:
                await pool._run(0.3, quick, 1)
            assert "no inspection worker" in str(err.value)
            await busy
        finally:
            pool.shutdown()

    asyncio.run(scenario())


def allocate(mib: int) -> int:
    return len(bytearray(mib << 20))


def worker_pid() -> int:
    return os.getpid()


def oom_score_adj() -> int:
    with open("/proc/self/oom_score_adj") as f:
        return int(f.read())


def test_a_worker_out_of_memory_fails_that_job_and_is_replaced():
    async def scenario() -> None:
        pool = InspectionPool(workers=1, threads_per_worker=1, initializer=no_models, memory_limit_mb=300)
        await pool.start()
        try:
            first = await pool._run(30, worker_pid)
            assert await pool._run(30, oom_score_adj) > 0  # the kernel's OOM killer picks a worker first
            assert await pool._run(30, allocate, 50) == 50 << 20  # under the cap: fine
            with pytest.raises(InspectionError) as err:
                await pool._run(30, allocate, 1000)  # over the cap: MemoryError in the worker
            assert err.value.kind is InspectionErrorKind.INTERNAL and "out of memory" in str(err.value)
            assert await pool._run(60, allocate, 50) == 50 << 20  # the next job runs, in a new worker
            assert await pool._run(30, worker_pid) != first and pool.restarts == 1
        finally:
            pool.shutdown()

    asyncio.run(scenario())


def test_worker_side_reports_of_running_out_of_memory_or_unexpected_errors_replace_the_worker(monkeypatch):
    from gateway import workers
    from gateway.models import ImageReport

    class Reporting:
        def __init__(self, kind, detail):
            self.report = ImageReport("a" * 64, 10, error=kind, error_detail=detail)

        def with_options(self, options):
            return self

        def inspect(self, data):
            return self.report

        inspect_document = inspect

    cases = [(InspectionErrorKind.INTERNAL, "MemoryError", MemoryError),
             (InspectionErrorKind.TOO_MANY_PIXELS, "out of memory while decoding", MemoryError),
             (InspectionErrorKind.INTERNAL, "RuntimeException", workers.WorkerFault)]
    for kind, detail, raised in cases:
        monkeypatch.setattr(workers, "_inspector", Reporting(kind, detail))
        for job in (workers._worker_inspect, workers._worker_inspect_document):
            with pytest.raises(raised):
                job(b"x", None)
    monkeypatch.setattr(workers, "_inspector", Reporting(InspectionErrorKind.CORRUPT, "truncated"))
    assert workers._worker_inspect(b"x", None).error is InspectionErrorKind.CORRUPT  # a bad image, a sound worker
