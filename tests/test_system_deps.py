"""Every Debian package the suite and the benchmarks need is named by an install script under scripts/.

The sources of tests/, bench/ and gateway/ are read (never imported: bench/corpus.py checks its files at import) for
absolute system paths (/usr/share/..., /usr/bin/...; with the relative names joined to them in the same file) and
for external commands they run (shutil.which, subprocess argv lists, helpers that call shutil.which, Python wrappers
such as pytesseract). Each is mapped to the Debian package that provides it (dpkg -S here, else a table of
commands), and that package must appear in a non-comment line of a file under scripts/. Essential and required
packages are on every Debian machine and need no naming. Commands the venv provides (mitmdump, dlp-gateway) are
Python's business.
"""

from __future__ import annotations

import ast
import functools
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("tests", "bench", "gateway")
SCRIPTS = ROOT / "scripts"
THIS = Path(__file__).resolve()

# Where Debian puts what packages install. /etc, /proc, /sys, /tmp are not package paths (or are config examples
# such as the compose file's container mounts).
SYSTEM_PATH = re.compile(r"(?<![\w.-])(/(?:usr|bin|sbin|lib)/[\w.+/-]+)")
RELATIVE_NAME = re.compile(r"^[\w.+-]+(?:/[\w.+-]+)*\.[A-Za-z0-9]{2,5}$")
COMMAND_NAME = re.compile(r"^[a-z0-9][a-z0-9._+-]*$")
# Package of a command that is not installed here (dpkg -S answers for the installed ones).
COMMAND_PACKAGES = {
    "tesseract": "tesseract-ocr",
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "docker-compose": "docker-compose",
    "npm": "npm",
    "curl": "curl",
    "iptables": "iptables",
    "ip6tables": "iptables",
    "iptables-save": "iptables",
    "ip": "iproute2",
    "squid": "squid-openssl",
    "c-icap": "c-icap",
    "openssl": "openssl",
    "unzip": "unzip",
    "nft": "nftables",
    "conntrack": "conntrack",
}
# Python modules that run a system command.
MODULE_COMMANDS = {"pytesseract": "tesseract"}
SUBPROCESS_CALLS = {"run", "Popen", "call", "check_call", "check_output", "create_subprocess_exec"}
RUNNERS = SUBPROCESS_CALLS | {"exec", "execute", "spawn", "run_in", "sh"}  # helpers that run an argv list


@dataclass(frozen=True)
class Need:
    """A system file or command a source file uses, and where."""

    kind: str  # "path" or "command"
    name: str
    where: str  # file:line


# --- scanning ----------------------------------------------------------------------------------------------------


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _which_wrappers(tree: ast.AST) -> set[str]:
    """Functions whose first parameter is passed to shutil.which (e.g. tests' `require_tool(name, how)`)."""
    wrappers = set()
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) or not fn.args.args:
            continue
        first = fn.args.args[0].arg
        for node in ast.walk(fn):
            if (isinstance(node, ast.Call) and _call_name(node) == "which" and node.args
                    and isinstance(node.args[0], ast.Name) and node.args[0].id == first):
                wrappers.add(fn.name)
    return wrappers


def _runs_subprocess(node: ast.Call, imported: set[str]) -> bool:
    """subprocess.run(...), asyncio.create_subprocess_exec(...), or run(...) imported from subprocess."""
    func = node.func
    if isinstance(func, ast.Attribute):
        owner = func.value.id if isinstance(func.value, ast.Name) else ""
        return func.attr in SUBPROCESS_CALLS and owner in ("subprocess", "asyncio")
    return isinstance(func, ast.Name) and func.id in imported


def _subprocess_wrappers(tree: ast.AST, imported: set[str]) -> set[str]:
    """Functions that run their own arguments as a command (e.g. tests' `run(*cmd)`)."""
    wrappers = set()
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        params = {a.arg for a in fn.args.args[:1]} | ({fn.args.vararg.arg} if fn.args.vararg else set())
        for node in ast.walk(fn):
            if (isinstance(node, ast.Call) and _runs_subprocess(node, imported) and node.args
                    and isinstance(node.args[0], ast.Name) and node.args[0].id in params):
                wrappers.add(fn.name)
    return wrappers


def _argv_head(node: ast.AST) -> ast.Constant | None:
    if isinstance(node, ast.List | ast.Tuple) and node.elts:
        head = node.elts[0]
        if isinstance(head, ast.Constant) and isinstance(head.value, str):
            return head
    return None


def _string_values(tree: ast.AST) -> list[tuple[str, int]]:
    """Every string literal, and every `+` of strings the module spells out (`_T + "dejavu/DejaVuSans.ttf"` with
    `_T = "truetype/"`), with its line."""
    names: dict[str, str] = {}
    for node in getattr(tree, "body", []):  # module-level NAME = "..." and A, B = "...", "..."
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target, assigned = node.targets[0], node.value
        pairs = zip(target.elts, assigned.elts) if isinstance(target, ast.Tuple) and isinstance(assigned, ast.Tuple) \
            else [(target, assigned)]
        for name, constant in pairs:
            if isinstance(name, ast.Name) and isinstance(constant, ast.Constant) and isinstance(constant.value, str):
                names[name.id] = constant.value

    def value(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return names.get(node.id)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = value(node.left), value(node.right)
            return left + right if left is not None and right is not None else None
        return None

    return [(v, n.lineno) for n in ast.walk(tree) if isinstance(n, ast.Constant | ast.BinOp)
            and (v := value(n)) is not None]


def scan_source(text: str, label: str) -> set[Need]:
    """System paths and commands one Python source uses."""
    tree = ast.parse(text)
    needs: set[Need] = set()
    strings = _string_values(tree)
    dirs = set()
    for text_value, line in strings:
        for match in SYSTEM_PATH.finditer(text_value):
            path = match.group(1).rstrip("./")
            needs.add(Need("path", path, f"{label}:{line}"))
            dirs.add(path)
    for text_value, line in strings:  # relative names joined to a system directory of the same file, if there
        if RELATIVE_NAME.match(text_value):
            for d in dirs:
                if os.path.isfile(os.path.join(d, text_value)):
                    needs.add(Need("path", os.path.join(d, text_value), f"{label}:{line}"))
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    imported = {a.asname or a.name for n in imports if isinstance(n, ast.ImportFrom) and n.module == "subprocess"
                for a in n.names if a.name in SUBPROCESS_CALLS}
    which = _which_wrappers(tree) | {"which"}
    wrappers = _subprocess_wrappers(tree, imported)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _call_name(node)
            first = node.args[0] if node.args else None
            if name in which | wrappers and isinstance(first, ast.Constant) and isinstance(first.value, str):
                needs.add(Need("command", first.value.split()[0], f"{label}:{node.lineno}"))
            elif first is not None and _runs_subprocess(node, imported):
                head = first if name == "create_subprocess_exec" else _argv_head(first)
                if isinstance(head, ast.Constant) and isinstance(head.value, str):
                    needs.add(Need("command", head.value.split()[0], f"{label}:{node.lineno}"))
            elif name in RUNNERS and (head := _argv_head(first)) is not None and COMMAND_NAME.match(head.value) \
                    and _is_command(head.value):
                # an argv run through a helper: router.run(["iptables", "-t", "nat", ...])
                needs.add(Need("command", head.value, f"{label}:{node.lineno}"))
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Name) \
                and isinstance(node.iter, ast.List | ast.Tuple):  # for tool in ("iptables", "curl"): which(tool)
            if any(isinstance(c, ast.Call) and _call_name(c) in which and c.args and isinstance(c.args[0], ast.Name)
                   and c.args[0].id == node.target.id for c in ast.walk(node)):
                needs |= {Need("command", e.value, f"{label}:{e.lineno}") for e in node.iter.elts
                          if isinstance(e, ast.Constant) and isinstance(e.value, str)}
        elif isinstance(node, ast.Import | ast.ImportFrom):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for module in modules:
                if command := MODULE_COMMANDS.get(module.split(".")[0]):
                    needs.add(Need("command", command, f"{label}:{node.lineno}"))
    return {n for n in needs if n.kind == "path" or COMMAND_NAME.match(n.name)}


def _is_command(name: str) -> bool:
    """A command the table knows, or one a system directory holds (not the venv's, not a word like "sans")."""
    found = shutil.which(name)
    return name in COMMAND_PACKAGES or bool(found) and found.startswith(("/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/"))


def scan_tree(root: Path = ROOT) -> set[Need]:
    needs: set[Need] = set()
    for top in SCANNED:
        for path in sorted((root / top).rglob("*.py")):
            if path.resolve() == THIS:
                continue
            needs |= scan_source(path.read_text(), str(path.relative_to(root)))
    return needs


# --- mapping to packages -----------------------------------------------------------------------------------------


def _dpkg_candidates(path: str) -> list[str]:
    """The path, its target, and their pre-/usr-merge spellings (dpkg knows /bin/ip, not /usr/bin/ip)."""
    out: list[str] = []
    for p in (path, os.path.realpath(path)):
        for q in (p, p[4:] if p.startswith("/usr/") else "/usr" + p):
            if q not in out:
                out.append(q)
    return out


_OWNERS: dict[str, frozenset[str]] = {}  # path dpkg was asked about -> packages that installed it


def _ask_dpkg(paths: list[str]) -> None:
    """One `dpkg -S` for many paths (~0.3 s a call): their owners go into _OWNERS, frozenset() for none."""
    todo = sorted({p for p in paths if p not in _OWNERS})
    if not todo:
        return
    owners: dict[str, set[str]] = {p: set() for p in todo}
    if shutil.which("dpkg"):
        proc = subprocess.run(["dpkg", "-S", *todo], capture_output=True, text=True)
        for line in proc.stdout.splitlines():
            if line.startswith("diversion ") or ": " not in line:
                continue
            names, _, owned = line.partition(": ")
            if owned.strip() in owners:
                owners[owned.strip()] |= {n.strip().split(":")[0] for n in names.split(",")}
    _OWNERS.update({p: frozenset(o) for p, o in owners.items()})


def dpkg_owners(path: str) -> frozenset[str]:
    """Packages that installed `path` (empty when none did, or dpkg is not there)."""
    candidates = _dpkg_candidates(path)
    _ask_dpkg(candidates)
    return next((_OWNERS[c] for c in candidates if _OWNERS[c]), frozenset())


@functools.cache
def always_installed(package: str) -> bool:
    """Essential or required packages: part of every Debian system."""
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Essential} ${Priority}", package], capture_output=True,
                          text=True)
    return proc.returncode == 0 and (proc.stdout.startswith("yes") or proc.stdout.endswith("required"))


def venv_command(name: str) -> bool:
    found = shutil.which(name)
    return (Path(sys.executable).with_name(name).exists()
            or bool(found) and Path(found).resolve().is_relative_to(Path(sys.prefix).resolve()))


def packages_for(need: Need) -> frozenset[str] | None:
    """Packages any one of which provides `need`; frozenset() when the system always has it or the venv provides it;
    None when nothing on this machine tells."""
    if need.kind == "command":
        if venv_command(need.name):
            return frozenset()
        found = shutil.which(need.name)
        owners = dpkg_owners(found) if found else frozenset()
        known = {COMMAND_PACKAGES[need.name]} if need.name in COMMAND_PACKAGES else set()
        candidates = owners | known
    else:
        candidates = dpkg_owners(need.name) if os.path.exists(need.name) else frozenset()
    if not candidates:
        return None
    return frozenset() if any(always_installed(p) for p in candidates) else frozenset(candidates)


def named_packages(scripts: Path = SCRIPTS) -> str:
    """The non-comment text of every file under scripts/."""
    lines = []
    for path in sorted(p for p in scripts.rglob("*") if p.is_file()):
        lines += [ln for ln in path.read_text(errors="replace").splitlines() if not ln.lstrip().startswith("#")]
    return "\n".join(lines)


def is_named(package: str, text: str) -> bool:
    return re.search(rf"(?<![\w.+/-]){re.escape(package)}(?![\w.+/-])", text) is not None


def unmet(needs: set[Need], scripts_text: str) -> list[str]:
    """One line per need that no install script provides."""
    problems = []
    _ask_dpkg([c for n in needs if n.kind == "path" and os.path.exists(n.name) for c in _dpkg_candidates(n.name)])
    for need in sorted(needs, key=lambda n: (n.kind, n.name, n.where)):
        packages = packages_for(need)
        if packages is None:
            problems.append(f"{need.where}: {need.kind} {need.name} is not on this machine and no package is known "
                            f"for it: add its package to scripts/install-system-deps.sh (and run it)")
        elif packages and not any(is_named(p, scripts_text) for p in packages):
            problems.append(f"{need.where}: {need.kind} {need.name} comes from {' or '.join(sorted(packages))}, "
                            f"which no file under scripts/ installs")
    return problems


# --- tests -------------------------------------------------------------------------------------------------------


def test_every_system_package_the_suite_and_bench_need_is_installed_by_a_script():
    needs = scan_tree()
    # The scan sees what the suite is known to need (if these vanish, the scanner broke, not the need).
    names = {n.name for n in needs}
    assert {"/usr/share/doc/opencv-doc/examples/data/messi5.jpg", "tesseract", "promtool", "docker-compose",
            "npm", "curl"} <= names, sorted(names)
    assert "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf" in names
    problems = unmet(needs, named_packages())
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(not shutil.which("dpkg"), reason="needs a Debian system (dpkg)")
def test_a_package_missing_from_the_scripts_is_reported(tmp_path):
    source = (
        "import shutil, subprocess\n"
        "PHOTO = '/usr/share/doc/opencv-doc/examples/data/messi5.jpg'\n"
        "FONTS = '/usr/share/fonts/truetype'\n"
        "SANS = 'liberation/LiberationSans-Regular.ttf'\n"
        "def require_tool(name, how):\n    return shutil.which(name)\n"
        "require_tool('promtool', 'apt-get install prometheus')\n"
        "subprocess.run(['curl', '-sS', 'http://x'])\n"
        "import pytesseract\n"
    )
    needs = scan_source(source, "example.py")
    assert {(n.kind, n.name) for n in needs} >= {
        ("path", "/usr/share/doc/opencv-doc/examples/data/messi5.jpg"),
        ("path", "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
        ("command", "promtool"), ("command", "curl"), ("command", "tesseract"),
    }
    full = named_packages()
    assert unmet(needs, full) == []
    for package, what in [("opencv-doc", "messi5.jpg"), ("fonts-liberation", "LiberationSans"),
                          ("prometheus", "promtool"), ("tesseract-ocr", "tesseract")]:
        without = re.sub(rf"(?<![\w.+/-]){re.escape(package)}(?![\w.+-])", "REMOVED", full)
        problems = unmet(needs, without)
        assert any(what in p and package in p for p in problems), (package, problems)


def test_an_argv_list_and_a_command_that_is_nowhere_are_reported():
    source = ("import shutil, subprocess\nsubprocess.check_call(['iptables', '-t', 'nat', '-L'])\n"
              "router.run(['ip6tables', '-A', 'FORWARD'])\nWORDS = ['time', 'file']\n"
              "for tool in ('conntrack', 'curl'):\n    assert shutil.which(tool)\n"
              "subprocess.run(['no-such-tool-xyz', '--version'])\n")
    needs = scan_source(source, "net.py")
    assert {("command", "iptables"), ("command", "ip6tables"), ("command", "conntrack"), ("command", "curl"),
            ("command", "no-such-tool-xyz")} <= {(n.kind, n.name) for n in needs}
    assert not {"time", "file"} & {n.name for n in needs}  # a list of words is not a command line
    problems = unmet(needs, "apt-get install curl")
    assert any("no-such-tool-xyz" in p and "no package is known" in p for p in problems)
    assert any("iptables" in p for p in problems)
