"""How many CPU cores this process may really use: the affinity mask, capped by a cgroup CPU quota.

`os.cpu_count()` reports the host's cores: in a container limited to 2 CPUs on a 64-core node, sizing thread pools
by it would start 64 inference threads that the quota then throttles.
"""

from __future__ import annotations

import math
import os


def available_cpus() -> int:
    """Cores usable by this process (at least 1)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    quota = cgroup_quota()
    return max(1, min(cores, math.ceil(quota)) if quota else cores)


def cgroup_quota(root: str = "/sys/fs/cgroup") -> float | None:
    """The CPU limit in cores from cgroup v2 `cpu.max` or v1 `cpu.cfs_quota_us`/`cpu.cfs_period_us`; None if unlimited."""
    try:
        with open(os.path.join(root, "cpu.max")) as f:
            quota, period = (f.read().split() + ["100000"])[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        with open(os.path.join(root, "cpu", "cpu.cfs_quota_us")) as f:
            quota_us = int(f.read())
        with open(os.path.join(root, "cpu", "cpu.cfs_period_us")) as f:
            period_us = int(f.read())
        return None if quota_us <= 0 or period_us <= 0 else quota_us / period_us
    except (OSError, ValueError):
        return None
