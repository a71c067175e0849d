"""Linux network namespaces for end-to-end tests: create, wire with veth pairs, run commands in them, enter them.

Needs root and iproute2. Every namespace this module creates is named `PREFIX<pid>-<role>`, so namespaces left
behind by a killed test run can be recognised (their pid is gone) and removed by the next run.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import uuid
from pathlib import Path

PREFIX = "dlpe2e-"
NETNS_DIR = Path("/run/netns")
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def unavailable_reason() -> str | None:
    """Why namespaces cannot be used here (not root, no netns support), or None."""
    if os.geteuid() != 0:
        return "needs root: creates network namespaces, veth pairs and iptables rules"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed (scripts/install-system-deps.sh installs it)"
    probe = f"{PREFIX}probe-{uuid.uuid4().hex[:8]}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"no network namespace support: `ip netns add` failed: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True)
    return None


def remove_stale() -> None:
    """Delete namespaces of earlier runs whose test process no longer exists."""
    if not NETNS_DIR.is_dir():
        return
    for entry in NETNS_DIR.iterdir():
        pid = entry.name[len(PREFIX):].split("-", 1)[0]
        if entry.name.startswith(PREFIX) and pid.isdigit() and not Path(f"/proc/{pid}").exists():
            Netns(entry.name, create=False).delete()


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


class Netns:
    """One network namespace; `role` names it within this test run."""

    def __init__(self, role: str, create: bool = True) -> None:
        self.name = role if not create else f"{PREFIX}{os.getpid()}-{role}"
        if create:
            subprocess.run(["ip", "netns", "add", self.name], check=True, capture_output=True)
            self.ip("link", "set", "lo", "up")

    def ip(self, *args: str) -> None:
        """`ip -n NAME ARGS...`, failing loudly."""
        done = subprocess.run(["ip", "-n", self.name, *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"ip -n {self.name} {' '.join(args)}: {done.stderr.strip()}")

    def run(self, argv: list[str], check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        """Run a command inside the namespace; output captured as text."""
        done = subprocess.run(["ip", "netns", "exec", self.name, *argv], capture_output=True, text=True,
                              timeout=timeout)
        if check and done.returncode != 0:
            raise RuntimeError(f"in {self.name}: {argv} exited {done.returncode}:\n{done.stdout}{done.stderr}")
        return done

    def add_address(self, interface: str, *cidrs: str) -> None:
        for cidr in cidrs:  # nodad: an IPv6 address is usable at once, not "tentative" for a second or two
            self.ip("addr", "add", cidr, "dev", interface, *(["nodad"] if ":" in cidr else []))
        self.ip("link", "set", interface, "up")

    @contextlib.contextmanager
    def entered(self):
        """Sockets and child processes created inside the block (by this thread) belong to the namespace."""
        with open(NETNS_DIR / self.name) as target, open("/proc/thread-self/ns/net") as home:
            _setns(target.fileno())
            try:
                yield self
            finally:
                _setns(home.fileno())

    def pids(self) -> list[int]:
        done = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True, text=True)
        return [int(p) for p in done.stdout.split()]

    def delete(self) -> None:
        """Kill what still runs in the namespace (only this test's processes live there), then remove it."""
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        subprocess.run(["ip", "netns", "delete", self.name], capture_output=True)


def veth(a: Netns, a_name: str, b: Netns, b_name: str) -> None:
    """A veth pair between two namespaces (it disappears with either of them)."""
    a.ip("link", "add", a_name, "type", "veth", "peer", "name", b_name, "netns", b.name)
