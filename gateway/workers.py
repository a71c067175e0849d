"""A bounded pool of inspection worker processes, off the proxy's event loop.

Each worker is its own single-process executor, so a worker that hangs (timeout), dies (a crashing decoder, the
kernel's OOM killer), runs out of memory or fails unexpectedly is killed and restarted alone: that upload gets the
policy's on_error, and no other upload in flight is hurt. Workers volunteer as the OOM killer's first choice
(oom_score_adj), so a container at its memory limit loses a worker, not the proxy; `memory_limit_mb` caps each
worker's memory below the container's, so an image too big to inspect is a MemoryError in that worker instead.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace

from gateway.cpus import available_cpus
from gateway.models import EngineSettings, Finding, ImageReport, InspectionError, InspectionErrorKind, InspectOptions

log = logging.getLogger(__name__)

# --- worker process side ---------------------------------------------------------------------------------------

_inspector = None  # the worker's Inspector; models load once per process
OOM_SCORE_ADJ = 500  # > 0: the kernel kills a worker before the proxy when memory runs out


class WorkerFault(Exception):
    """An inspection failed unexpectedly inside a worker: the pool replaces that worker."""


def _worker_bootstrap(initializer, threads: int, memory_limit_mb: int) -> None:
    """Limits first (the models count against the memory cap), then the initializer."""
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write(str(OOM_SCORE_ADJ))
    except OSError:
        pass
    if memory_limit_mb:
        cap = memory_limit_mb << 20
        resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))  # malloc/mmap past it fail: MemoryError
    initializer(threads)


def _worker_init(threads: int) -> None:
    # Inspection is batch work: let the proxy's event loop win the CPU whenever both want it, so small requests stay
    # fast while images are being read (measured: x4.3 slower small requests without this).
    try:
        os.nice(10)
    except OSError:
        pass
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    global _inspector
    from gateway.inspection import Inspector

    engine = EngineSettings.from_env()  # the worker's start-up: $DLP_OCR_THREADS, if set, wins over its share
    _inspector = Inspector(InspectOptions(), engine=engine if engine.threads else replace(engine, threads=threads))


def _worker_inspector(options: InspectOptions):
    global _inspector
    _inspector = _inspector.with_options(options)
    return _inspector


def _worker_ping() -> int:
    return os.getpid()


def _worker_inspect(data: bytes, options: InspectOptions) -> ImageReport:
    return _sound(_worker_inspector(options).inspect(data))


def _sound(report: ImageReport) -> ImageReport:
    """The report, unless it shows this process is not sound any more: then the pool replaces the worker."""
    if _out_of_memory(report):
        raise MemoryError()
    if report.error is InspectionErrorKind.INTERNAL:  # an unexpected error
        raise WorkerFault(report.error_detail or "unexpected error")
    return report


def _out_of_memory(report: ImageReport) -> bool:
    """The Inspector reports a MemoryError by its name (INTERNAL), or as the decoder's "out of memory"."""
    detail = report.error_detail.lower()
    return report.error is not None and (detail == "memoryerror" or "out of memory" in detail)


def _worker_redact(data: bytes, findings: list[Finding], options: InspectOptions) -> bytes:
    return _worker_inspector(options).redact(data, findings)


def _worker_inspect_document(data: bytes, options: InspectOptions) -> ImageReport:
    return _sound(_worker_inspector(options).inspect_document(data))


def _worker_inspect_prompt(texts: list[str], options: InspectOptions) -> list[ImageReport]:
    return [_sound(r) for r in _worker_inspector(options).inspect_prompt(texts)]


def _worker_redact_document(data: bytes, findings: list[Finding], options: InspectOptions) -> bytes:
    return _worker_inspector(options).redact_document(data, findings)


# --- proxy side ---------------------------------------------------------------------------------------------------


class _Worker:
    def __init__(self, threads: int, initializer=_worker_init, memory_limit_mb: int = 0) -> None:
        self.threads = threads
        self.initializer = initializer
        self.memory_limit_mb = memory_limit_mb
        self.executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        # spawn, not fork: the proxy process runs an event loop and threads that must not be forked.
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_bootstrap,
            initargs=(self.initializer, self.threads, self.memory_limit_mb),
        )

    def restart(self) -> None:
        old = self.executor
        for proc in list(getattr(old, "_processes", {}).values()):
            proc.kill()
        old.shutdown(wait=False, cancel_futures=True)
        self.executor = self._new_executor()


class InspectionPool:
    """Runs inspections in `workers` processes; callers await results with a deadline."""

    def __init__(self, workers: int, threads_per_worker: int | None = None, initializer=_worker_init,
                 memory_limit_mb: int = 0) -> None:
        self.size = max(1, workers)
        cores = available_cpus()
        self.threads = threads_per_worker or max(1, cores // self.size)
        self._workers = [_Worker(self.threads, initializer, memory_limit_mb) for _ in range(self.size)]
        self.restarts = 0
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

    async def inspect_document(self, data: bytes, options: InspectOptions, timeout: float) -> ImageReport:
        """A document or archive, read in a worker with the same models (one deadline for the whole document)."""
        return await self._run(timeout, _worker_inspect_document, data, options)

    async def redact_document(self, data: bytes, findings: list[Finding], options: InspectOptions,
                              timeout: float) -> bytes:
        return await self._run(timeout, _worker_redact_document, data, findings, options)

    async def inspect_prompt(self, texts: list[str], options: InspectOptions, timeout: float) -> list[ImageReport]:
        """The prompt texts of one request, in one worker job (text analysis only: milliseconds, no OCR)."""
        return await self._run(timeout, _worker_inspect_prompt, texts, options)

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
        except InspectionError:
            raise  # an image that cannot be read (redaction's decode): the worker is fine
        except Exception as err:  # noqa: BLE001 - a MemoryError, a WorkerFault, or any error a job raised
            healthy = False
            if isinstance(err, MemoryError) or str(err) == MemoryError.__name__:
                log.error("inspection worker ran out of memory; restarting it")
                raise InspectionError(InspectionErrorKind.INTERNAL, "inspection worker ran out of memory") from None
            detail = str(err) or type(err).__name__
            log.error("inspection failed in its worker (%s); restarting the worker", detail)
            raise InspectionError(InspectionErrorKind.INTERNAL, f"inspection failed in its worker: {detail}") from None
        finally:
            self.in_flight -= 1
            if healthy:
                self._idle.put_nowait(worker)
            else:
                asyncio.get_running_loop().create_task(self._restart(worker))

    async def _restart(self, worker: _Worker) -> None:
        """Replace a hung or dead worker; it rejoins the pool once its models are loaded again."""
        self.restarts += 1
        worker.restart()
        try:
            await asyncio.wrap_future(worker.executor.submit(_worker_ping))
        except Exception:  # noqa: BLE001 - a worker that cannot start is retried on its next restart
            log.exception("inspection worker failed to restart")
        self._idle.put_nowait(worker)

    def shutdown(self) -> None:
        for w in self._workers:
            w.executor.shutdown(wait=False, cancel_futures=True)
