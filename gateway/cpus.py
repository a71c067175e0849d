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


# CPU features that change which int8 kernels ONNX Runtime runs (and so, at the margin, what an int8 model reads).
_INT8_FLAGS = ("avx2", "avx512f", "avx512bw", "avx512_vnni", "avxvnni", "avx512_bf16", "amx_tile", "amx_int8")


def cpu_signature(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The CPU's vendor, model and int8-relevant features, e.g. "GenuineIntel|Intel(R) Xeon(R)|avx2,amx_int8": an
    int8 model accepted on one signature is checked again on another."""
    fields: dict[str, str] = {}
    try:
        with open(cpuinfo) as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("vendor_id", "model name", "flags") and key not in fields:
                    fields[key] = value.strip()
                if len(fields) == 3:
                    break
    except OSError:
        pass
    flags = set(fields.get("flags", "").split())
    return "|".join([fields.get("vendor_id", "?"), fields.get("model name", "?"),
                     ",".join(f for f in _INT8_FLAGS if f in flags)])
