"""Lanes: the model calls of one image side by side, results in item order, nothing left running."""

from __future__ import annotations

import threading
import time

import pytest

from gateway.inspection.lanes import Lanes


def test_results_come_back_in_item_order_and_the_costliest_starts_first():
    started: list[int] = []
    gate = threading.Event()

    def call(n: int) -> int:
        started.append(n)
        gate.wait(5)
        return n * n

    lanes = Lanes(2)
    threading.Timer(0.2, gate.set).start()
    assert lanes.map(call, [1, 5, 2, 9, 3], cost=float) == [1, 25, 4, 81, 9]
    assert started[:2] == [9, 5]  # the two lanes took the two costliest calls


def test_calls_run_side_by_side():
    both = threading.Barrier(2, timeout=5)  # breaks (BrokenBarrierError) unless two calls run at once

    def call(n: int) -> int:
        both.wait()
        return n

    assert Lanes(2).map(call, [1, 2], cost=float) == [1, 2]


def test_one_lane_runs_in_the_calling_thread():
    lanes = Lanes(1)
    assert lanes.map(lambda n: threading.current_thread(), [1, 2], cost=float) == [threading.current_thread()] * 2


def test_a_failure_is_raised_only_after_every_call_has_ended():
    ended: list[int] = []

    def call(n: int) -> int:
        if n == 2:
            raise ValueError("bad region")
        time.sleep(0.2)
        ended.append(n)
        return n

    with pytest.raises(ValueError, match="bad region"):
        Lanes(2).map(call, [1, 2, 3], cost=float)
    assert sorted(ended) == [1, 3]  # nothing of this image is still running when the error reaches the caller
