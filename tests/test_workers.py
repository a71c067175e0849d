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
