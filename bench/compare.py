"""Two detection runs image by image: which labelled items one found and the other lost, and what else moved.

    python -m bench.compare RUN_A.json RUN_B.json [--tool ours|presidio]

Lines starting `+` are items B finds and A does not, `-` items A finds and B loses, `~` images whose policy action
changed, `!` items B leaks (still readable in what is forwarded) and A did not, `=` the other way round. Images are
matched by split and file; items by entity, text and box (by position in the manifest for older result files
without items).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def splits(result: dict) -> dict[str, list[dict]]:
    """{split: per-image records} of a result file (multi-split, or the older single-corpus form)."""
    if "splits" in result:
        return {name: part["images"] for name, part in result["splits"].items()}
    return {result.get("split") or "corpus": result["images"]}


def _key(record: dict, i: int) -> tuple:
    items = record.get("items")
    if not items:
        return ("#", i)
    it = items[i]
    return it["entity"], it.get("text"), tuple(it["box"]) if it.get("box") else None


def _describe(record: dict, i: int) -> str:
    items = record.get("items")
    if not items:
        return f"item #{i}"
    it = items[i]
    return f"{it['entity']} {it.get('text')!r}" if it.get("text") else f"{it['entity']} at {it.get('box')}"


def _flags(record: dict, tool: str, field: str) -> dict[tuple, tuple[int, bool]]:
    run = record["tools"].get(tool)
    if run is None:
        return {}
    if field == "found":
        return {_key(record, i): (i, bool(x)) for i, x in enumerate(run["found"])}
    return {_key(record, int(i)): (int(i), bool(x)) for i, x in (run.get(field) or {}).items()}


def diff_image(a: dict, b: dict, tool: str) -> list[str]:
    """The changed lines of one image, found/lost first."""
    lines = []
    fa, fb = _flags(a, tool, "found"), _flags(b, tool, "found")
    for key, (i, found) in fb.items():
        if key in fa and fa[key][1] != found:
            lines.append(f"{'+' if found else '-'} {b['file']} {_describe(b, i)}")
    ra, rb = a["tools"].get(tool, {}), b["tools"].get(tool, {})
    if ra.get("action") and rb.get("action") and ra["action"] != rb["action"]:
        lines.append(f"~ {b['file']} {ra['action']} ({ra.get('rule') or 'default'}) -> "
                     f"{rb['action']} ({rb.get('rule') or 'default'})")
    la, lb = _flags(a, tool, "leaked_forwarded"), _flags(b, tool, "leaked_forwarded")
    for key, (i, leaked) in lb.items():
        if key in la and la[key][1] != leaked:
            lines.append(f"{'!' if leaked else '='} {b['file']} {_describe(b, i)}")
    return lines


def diff_runs(a: dict, b: dict, tool: str = "ours") -> list[str]:
    """A report of every split both runs hold: a count line, then one line per change."""
    out = []
    sa, sb = splits(a), splits(b)
    for name in [n for n in sb if n in sa]:
        by_file = {r["file"]: r for r in sa[name]}
        changes = [line for rb in sb[name] if rb["file"] in by_file
                   for line in diff_image(by_file[rb["file"]], rb, tool)]
        common = sum(rb["file"] in by_file for rb in sb[name])
        counts = {c: sum(line.startswith(c) for line in changes) for c in "+-~!="}
        out.append(f"{name} ({tool}, {common} images in both): {counts['+']} found, {counts['-']} lost, "
                   f"{counts['~']} actions changed, {counts['!']} new leaks, {counts['=']} leaks closed")
        out += ["  " + line for line in changes]
    for name in sorted(set(sa) ^ set(sb)):
        out.append(f"{name}: only in {'A' if name in sa else 'B'}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_a", type=Path)
    ap.add_argument("run_b", type=Path)
    ap.add_argument("--tool", default="ours", choices=["ours", "presidio"])
    args = ap.parse_args(argv)
    try:
        a, b = (json.loads(p.read_text()) for p in (args.run_a, args.run_b))
    except (OSError, ValueError) as err:
        ap.error(f"cannot read a result file: {err}")
    print("\n".join(diff_runs(a, b, args.tool)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
