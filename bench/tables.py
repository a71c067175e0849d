"""Markdown tables of a detection run: one table per measure, one column per split (and tool).

Reads the JSON `bench.detection` writes, in its multi-split form ({"splits": {name: {"summary": ...}}}) or the
older single-corpus form ({"summary": ...}, or a bare summary).
"""

from __future__ import annotations

import math
from typing import Any

TARGETS = {"EMAIL_ADDRESS": 0.95, "CREDIT_CARD": 0.95, "US_SSN": 0.95, "IBAN_CODE": 0.95, "PHONE_NUMBER": 0.95,
           "SECRET": 0.95, "MRZ": 0.95, "PERSON": 0.85, "FACE": 0.85}
CLEAN_FP_TARGET = 0.03
TOOL_NAMES = {"ours": "ours", "presidio": "Presidio"}
READER_NAMES = {"ours": "ours (CRAFT + PP-OCRv6)", "presidio": "Tesseract"}

Summaries = dict[str, dict]


def summaries(result: dict) -> Summaries:
    """{split: summary} from any form of result file."""
    if "splits" in result:
        return {name: part["summary"] for name, part in result["splits"].items()}
    if "summary" in result:
        return {result.get("split") or "corpus": result["summary"]}
    return {"corpus": result}


def fmt(x: float | None, pct: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{100 * x:.1f}%" if pct else f"{x:.2f}"


def ratio(num: int, den: int, pct: bool = False) -> str:
    return f"{fmt(num / den if den else None, pct)} ({num}/{den})"


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    return [_row(head), "|" + "---|" * len(head)] + [_row(r) for r in rows]


def _columns(splits: Summaries) -> list[tuple[str, str]]:
    """(split, tool) per column: the tools run, then those that cannot read the split (a document set: Presidio)."""
    return [(name, t) for name, s in splits.items() for t in s.get("tools", []) + s.get("na_tools", [])]


def _na(splits: Summaries, split: str, tool: str) -> bool:
    return tool in splits[split].get("na_tools", [])


def _label(split: str, tool: str, names: dict[str, str] = TOOL_NAMES) -> str:
    return f"{split} {names.get(tool, tool)}"


def recall_table(splits: Summaries) -> list[str]:
    cols = _columns(splits)
    entities = sorted({e for s in splits.values() for e in s.get("entities", {})})
    rows = []
    for ent in entities:
        target = TARGETS.get(ent)
        cells: list[Any] = [ent, f"≥ {target:.2f}" if target else ""]
        for split, tool in cols:
            row = splits[split].get("entities", {}).get(ent)
            if not row or _na(splits, split, tool):
                cells.append("n/a" if row else "")
                continue
            cell = ratio(row[tool]["found"], row["gt"])
            if target and tool == "ours":
                cell += " ✅" if (row[tool]["recall"] or 0) >= target else " ❌"
            cells.append(cell)
        rows.append(cells)
    return ["**Recall per entity** (labelled items found)", ""] + \
        _table(["Entity", "target"] + [_label(s, t) for s, t in cols], rows)


def precision_table(splits: Summaries) -> list[str]:
    cols = _columns(splits)
    entities = sorted({e for s in splits.values() for e in s.get("entities", {})})
    rows = []
    for ent in entities:
        cells: list[Any] = [ent]
        for split, tool in cols:
            row = splits[split].get("entities", {}).get(ent)
            if row and _na(splits, split, tool):
                cells.append("n/a")
                continue
            cells.append(ratio(row[tool]["tp"], row[tool]["tp"] + row[tool]["fp"]) if row else "")
        rows.append(cells)
    return ["**Precision per entity** (findings that are right)", ""] + \
        _table(["Entity"] + [_label(s, t) for s, t in cols], rows)


def image_table(splits: Summaries) -> list[str]:
    cols = _columns(splits)

    def cell(split: str, tool: str, what: str) -> str:
        s = splits[split]
        t = s.get(tool, {})
        if _na(splits, split, tool):
            return "n/a"
        if what == "page p50":
            return fmt(s["documents"]["all"]["page_p50"]) if s.get("documents") and tool == "ours" else ""
        if what == "clean":
            return ratio(t.get("clean_flagged", 0), t.get("clean_images", 0), pct=True)
        if what in ("p50", "p95"):
            return fmt(t.get(f"latency_{what}"))
        if what.startswith("ratio"):
            return fmt(s.get(f"latency_ratio_{what[-3:]}")) if tool == "ours" else ""
        return str(t.get("errors", "-"))

    measures = [("clean", "clean images flagged (score ≥ 0.5)", f"≤ {100 * CLEAN_FP_TARGET:.0f}%"),
                ("p50", "latency p50 (s/image)", ""), ("p95", "latency p95 (s/image)", ""),
                ("ratio p50", "latency ratio ours/Presidio, p50", "≤ 1.0"),
                ("ratio p95", "latency ratio ours/Presidio, p95", ""), ("errors", "errors", "0")]
    if any(s.get("documents") for s in splits.values()):
        measures.insert(3, ("page p50", "latency p50 (s/page, documents)", ""))
    rows = [[label, target] + [cell(s, t, what) for s, t in cols] for what, label, target in measures]
    return ["**Images** (a document set: per document)", ""] + _table(["Measure", "target"] + [_label(s, t) for s, t in cols], rows)


def _cer_cell(t: dict | None) -> str:
    if not t or not t.get("length"):
        return ""
    return f"{fmt(t['cer'], pct=True)} ({t['distance']}/{t['length']})"


def _exact_cell(t: dict | None) -> str:
    return ratio(t["exact"], t["runs"], pct=True) if t and t.get("runs") else ""


def cer_table(splits: Summaries, kind: str) -> list[str]:
    """kind "texts": every ground-truth text run, per image category; "items": labelled values, per entity."""
    cols = [(s, t) for s, t in _columns(splits) if splits[s].get(t, {}).get("cer", {}).get(kind)]
    if kind == "texts":
        title = "**Reading: character error rate of every text run** (per category; edit distance / characters)"
    else:
        title = "**Reading: labelled values in their boxes** (per entity; best-matching stretch of the box's words)"
    if not cols:
        what = "ground-truth text runs (`texts`)" if kind == "texts" else "labelled text values read by an OCR"
        return [title, "", f"(no {what} in these manifests or runs)"]
    groups = sorted({g for s, t in cols for g in splits[s][t]["cer"][kind]} - {"all"}) + ["all"]
    rows = [[g] + [_cer_cell(splits[s][t]["cer"][kind].get(g)) for s, t in cols] for g in groups]
    rows.append(["read exactly (share of runs)"] + [_exact_cell(splits[s][t]["cer"][kind].get("all"))
                                                    for s, t in cols])
    head = ["Category" if kind == "texts" else "Entity"] + [_label(s, t, READER_NAMES) for s, t in cols]
    return [title, ""] + _table(head, rows)


def policy_table(splits: Summaries) -> list[str]:
    names = [n for n, s in splits.items() if s.get("ours", {}).get("policy")]
    if not names:
        return []
    pol = {n: splits[n]["ours"]["policy"] for n in names}
    measures = [
        ("must-block images (the policy blocks their ground truth)", lambda p: str(p["must_block"]), ""),
        ("… that went out unblocked", lambda p: ratio(p["must_block_unblocked"], p["must_block"]), "0"),
        ("must-redact images", lambda p: str(p["must_redact"]), ""),
        ("… that went out untouched (allowed)", lambda p: ratio(p["must_redact_untouched"], p["must_redact"]), "0"),
        ("clean images whose action is not allow", lambda p: ratio(p["clean_not_allowed"], p["clean"]), "0"),
    ]
    rows = [[label, target] + [f(pol[n]) for n in names] for label, f, target in measures]
    out = ["**Policy outcomes** (ours, decided by the policy as `dlp-gateway scan` does)", ""] + \
        _table(["Measure", "target"] + names, rows)
    for n in names:
        for key, what in (("must_block_unblocked_files", "must-block, not blocked"),
                          ("must_redact_untouched_files", "must-redact, allowed"),
                          ("clean_not_allowed_files", "clean, not allowed")):
            if pol[n].get(key):
                out.append(f"* {n}, {what}: " + "; ".join(pol[n][key]))
    return out


def documents_table(splits: Summaries) -> list[str]:
    """Document sets: recall per kind and seconds per page (ours; Presidio's image redactor reads no documents)."""
    names = [n for n, s in splits.items() if s.get("documents")]
    if not names:
        return []
    kinds = sorted({k for n in names for k in splits[n]["documents"]["kinds"]}) + ["all"]
    head = ["Kind"]
    for n in names:
        head += [f"{n} documents (pages)", f"{n} ours recall", f"{n} ours p50 s/page", f"{n} ours p95 s/page"]
        head += [f"{n} {TOOL_NAMES.get(t, t)}" for t in splits[n].get("na_tools", [])]
    rows = []
    for kind in kinds:
        cells: list[Any] = [kind]
        for n in names:
            d = splits[n]["documents"]
            r = d["all"] if kind == "all" else d["kinds"].get(kind)
            if r is None:
                cells += [""] * (4 + len(splits[n].get("na_tools", [])))
                continue
            cells += [f"{r['documents']} ({r['pages']})", ratio(r["found"], r["gt"]), fmt(r["page_p50"]),
                      fmt(r["page_p95"])] + ["n/a"] * len(splits[n].get("na_tools", []))
        rows.append(cells)
    return ["**Documents: recall per kind, seconds per page** (`Inspector.inspect_document` wall time / pages)", ""] + \
        _table(head, rows)


def leakage_table(splits: Summaries) -> list[str]:
    """Readable items still readable after the gateway, per entity: policy-forwarded, every finding redacted,
    Presidio's redaction. Document sets have no leak check (no independent reader for them): not shown."""
    splits = {n: s for n, s in splits.items() if not s.get("documents")}
    if not splits:
        return []
    head, keys = ["Entity"], []
    for name, s in splits.items():
        head.append(f"{name} readable")
        keys.append((name, None, None))
        if "ours" in s.get("tools", []):
            head += [f"{name} ours forwarded", f"{name} ours all redacted"]
            keys += [(name, "ours", "forwarded_leak_by_entity"), (name, "ours", "leak_by_entity")]
        if "presidio" in s.get("tools", []):
            head.append(f"{name} Presidio redacted")
            keys.append((name, "presidio", "leak_by_entity"))
    targets = sorted({e for s in splits.values() for e in s.get("redaction_targets", [])})
    entities = sorted({e for s in splits.values() for e in s.get("readable_by_entity", {})})

    def cell(name: str, tool: str | None, key: str | None, ents: list[str]) -> str:
        s = splits[name]
        table = s.get("readable_by_entity", {}) if tool is None else s.get(tool, {}).get(key, {})
        leaked = sum(table.get(e, [0, 0])[0] for e in ents)
        total = sum(table.get(e, [0, 0])[1] for e in ents)
        if tool is None:
            return f"{leaked}/{total}"
        return ratio(leaked, total, pct=True) if total else "-"

    blocking = sorted({e for s in splits.values() for e in s.get("blocking_entities", [])})

    def mark(e: str) -> str:
        return e + (" *" if e in targets else "") + (" †" if e in blocking else "")

    rows = [[mark(e)] + [cell(n, t, k, [e]) for n, t, k in keys] for e in entities]
    if targets:
        rows.append(["targeted by redaction (*)"] + [cell(n, t, k, targets) for n, t, k in keys])
    if blocking:
        acted = sorted(set(targets) | set(blocking))
        rows.append(["redacted or blocked by the policy (* †)"] + [cell(n, t, k, acted) for n, t, k in keys])
    rows.append(["all"] + [cell(n, t, k, entities) for n, t, k in keys])
    title = ("**Leakage: readable items still readable after the gateway** (target 0 for what the policy acts on; "
             "\"readable\": read by the independent reader on the original / labelled; * redacted, † blocked by "
             "the policy when found alone)")
    return [title, ""] + _table(head, rows)


def markdown(result: dict) -> str:
    splits = summaries(result)
    parts = [recall_table(splits), precision_table(splits), image_table(splits), documents_table(splits),
             cer_table(splits, "texts"),
             cer_table(splits, "items"), policy_table(splits), leakage_table(splits)]
    return "\n\n".join("\n".join(p) for p in parts if p)
