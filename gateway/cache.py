"""A bounded cache of inspection reports by image content, so a re-sent image is decided without re-reading it.

API clients re-send every image of a conversation on each turn. Reports (not decisions) are cached: the decision
still depends on destination and user, and is cheap. The key includes the inspection options, so a policy change
that alters what inspection finds never serves a stale report.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict

from gateway.models import ImageReport, InspectOptions


class ReportCache:
    def __init__(self, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[tuple[str, InspectOptions], ImageReport] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, sha256: str, options: InspectOptions) -> ImageReport | None:
        with self._lock:
            report = self._items.get((sha256, options))
            if report is None:
                return None
            self._items.move_to_end((sha256, options))
        hit = copy.copy(report)
        hit.cached, hit.stage_seconds = True, {}
        return hit

    def put(self, report: ImageReport, options: InspectOptions) -> None:
        if not report.ok or self.max_entries <= 0:
            return  # errors (timeouts!) are retried, never remembered
        with self._lock:
            self._items[(report.sha256, options)] = report
            self._items.move_to_end((report.sha256, options))
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
