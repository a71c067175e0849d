"""Independent model calls of one image, run side by side: one single-threaded call per core.

OCR makes many independent calls per image: CRAFT on each text region, the recogniser on each batch of lines.
Running them on one session with two threads left a core idle between operators and during the Python work
between calls, and a two-thread call is only 1.66x a one-thread call (CRAFT, measured). Two one-thread calls at
once keep both cores busy: `Inspector.inspect` over 51 corpus images took 8% less time (bench/SPEED.md, session 7).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Lanes:
    """`width` threads that run the calls of one `map` side by side (width 1: in the calling thread)."""

    def __init__(self, width: int) -> None:
        self.width = max(1, width)
        self._pool = ThreadPoolExecutor(self.width, thread_name_prefix="ocr-lane") if self.width > 1 else None

    def map(self, fn: Callable[[T], R], items: Sequence[T], cost: Callable[[T], float]) -> list[R]:
        """[fn(item) for item in items], the costliest started first (a long call started last would run alone at
        the end). Returns only when every call has ended; the first failure, in item order, is raised then."""
        if self._pool is None or len(items) < 2:
            return [fn(item) for item in items]
        order = sorted(range(len(items)), key=lambda i: -cost(items[i]))
        futures: dict[int, Future[R]] = {i: self._pool.submit(fn, items[i]) for i in order}
        wait(futures.values())  # never leave a call of this image running into the next one
        return [futures[i].result() for i in range(len(items))]
