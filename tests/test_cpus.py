"""Core count for thread pools: affinity capped by the cgroup CPU quota (containers)."""

from __future__ import annotations

import os

from gateway.cpus import available_cpus, cgroup_quota


def test_cgroup_v2_quota(tmp_path):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cgroup_quota(str(tmp_path)) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cgroup_quota(str(tmp_path)) is None


def test_cgroup_v1_quota(tmp_path):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("200000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_quota(str(tmp_path)) == 2.0
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert cgroup_quota(str(tmp_path)) is None


def test_no_cgroup_files_means_no_quota(tmp_path):
    assert cgroup_quota(str(tmp_path)) is None


def test_available_cpus_is_capped_by_the_quota(monkeypatch):
    monkeypatch.setattr("gateway.cpus.cgroup_quota", lambda root="/sys/fs/cgroup": 1.5)
    assert available_cpus() == min(2, len(os.sched_getaffinity(0)))  # 1.5 cores: two threads, each partly busy
    monkeypatch.setattr("gateway.cpus.cgroup_quota", lambda root="/sys/fs/cgroup": None)
    assert available_cpus() == len(os.sched_getaffinity(0))
