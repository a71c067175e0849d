"""A bounded pool of inspection worker processes, off the proxy's event loop.

Each worker is its own single-process executor, so a worker that hangs (timeout) or dies (a crashing decoder)
is killed and restarted alone: one bad upload never hurts another in flight.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from gateway.cpus import available_cpus
from gateway.models import Finding, ImageReport, InspectionError, InspectionErrorKind, InspectOptions

log = logging.getLogger(__name__)

# --- worker process side ---------------------------------------------------------------------------------------

_inspector = None  # the worker's Inspector; models load once per process


def _worker_init(threads: int) -> None:
    # Inspection is batch work: let the proxy's event loop win the CPU whenever both want it, so small requests stay
    # fast while images are being read (measured: x4.3 slower small requests without this).
    try:
        os.nice(10)
    except OSError:
        pass
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    os.environ.setdefault("DLP_OCR_THREADS", str(threads))  # the OCR engine sizes its ONNX sessions by it
    global _inspector
    from gateway.inspection import Inspector

    _inspector = Inspector(InspectOptions())


def _worker_inspector(options: InspectOptions):
    global _inspector
    _inspector = _inspector.with_options(options)
    return _inspector


def _worker_ping() -> int:
    return os.getpid()


def _worker_inspect(data: bytes, options: InspectOptions) -> ImageReport:
    return _worker_inspector(options).inspect(data)


def _worker_redact(data: bytes, findings: list[Finding], options: InspectOptions) -> bytes:
    return _worker_inspector(options).redact(data, findings)


# --- proxy side ---------------------------------------------------------------------------------------------------


class _Worker:
    def __init__(self, threads: int, initializer=_worker_init) -> None:
        self.threads = threads
        self.initializer = initializer
        self.executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        # spawn, not fork: the proxy process runs an event loop and threads that must not be forked.
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=self.initializer,
            initargs=(self.threads,),
        )

    def restart(self) -> None:
        old = self.executor
        for proc in list(getattr(old, "_processes", {}).values()):
            proc.kill()
        old.shutdown(wait=False, cancel_futures=True)
        self.executor = self._new_executor()


class InspectionPool:
    """Runs inspections in `workers` processes; callers await results with a deadline."""

    def __init__(self, workers: int, threads_per_worker: int | None = None, initializer=_worker_init) -> None:
        self.size = max(1, workers)
        cores = available_cpus()
        self.threads = threads_per_worker or max(1, cores // self.size)
        self._workers = [_Worker(self.threads, initializer) for _ in range(self.size)]
        self._idle: asyncio.Queue[_Worker] | None = None
        self.waiting = 0  # requests queued for a worker
        self.in_flight = 0

    async def start(self) -> float:
        """Start every worker and wait until its models are loaded. Returns seconds taken."""
        start = time.perf_counter()
        self._idle = asyncio.Queue()
        await asyncio.gather(*(asyncio.wrap_future(w.executor.submit(_worker_ping)) for w in self._workers))
        for w in self._workers:
            self._idle.put_nowait(w)
        return time.perf_counter() - start

    async def inspect(self, data: bytes, options: InspectOptions, timeout: float) -> ImageReport:
        return await self._run(timeout, _worker_inspect, data, options)

    async def redact(self, data: bytes, findings: list[Finding], options: InspectOptions, timeout: float) -> bytes:
        return await self._run(timeout, _worker_redact, data, findings, options)

    async def _run(self, timeout: float, fn, *args):
        """Wait (at most `timeout`) for a free worker, then give the job `timeout` to finish."""
        assert self._idle is not None, "InspectionPool.start() was not awaited"
        self.waiting += 1
        try:
            worker = await asyncio.wait_for(self._idle.get(), timeout)
        except TimeoutError:
            raise InspectionError(InspectionErrorKind.TIMEOUT, "no inspection worker became free in time") from None
        finally:
            self.waiting -= 1
        self.in_flight += 1
        healthy = True
        try:
            fut = asyncio.wrap_future(worker.executor.submit(fn, *args))
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            log.warning("inspection timed out after %.1fs; restarting its worker", timeout)
            healthy = False
            raise InspectionError(InspectionErrorKind.TIMEOUT, f"inspection took longer than {timeout:g}s") from None
        except BrokenProcessPool:
            log.error("inspection worker died; restarting it")
            healthy = False
            raise InspectionError(InspectionErrorKind.INTERNAL, "inspection worker died") from None
        finally:
            self.in_flight -= 1
            if healthy:
                self._idle.put_nowait(worker)
            else:
                asyncio.get_running_loop().create_task(self._restart(worker))

    async def _restart(self, worker: _Worker) -> None:
        """Replace a hung or dead worker; it rejoins the pool once its models are loaded again."""
        worker.restart()
        try:
            await asyncio.wrap_future(worker.executor.submit(_worker_ping))
        except Exception:  # noqa: BLE001 - a worker that cannot start is retried on its next restart
            log.exception("inspection worker failed to restart")
        self._idle.put_nowait(worker)

    def shutdown(self) -> None:
        for w in self._workers:
            w.executor.shutdown(wait=False, cancel_futures=True)
