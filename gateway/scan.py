"""`dlp-gateway scan`: inspect image, document and archive files and decide them exactly as the proxy would
(dry-run a policy).

The `--json` output is a stable contract: one object per file per line,
{"path", "action", "rule", "findings": [{"entity", "source", "score", "box"}], "elapsed_ms"} (+ "error" when the
file could not be read or inspected; a finding seen outside the main picture also has "plane", e.g. "alpha-hidden",
"frame:2", "exif-thumbnail"). Documents and archives add "document": {"type", "pages"}, and their findings add
"page" and/or "member" where they have one.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from gateway.documents.sniff import sniff_document
from gateway.formats import sniff_format
from gateway.models import Action, Decision, ImageReport, InspectionError, RequestContext


def add_scan_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scan", help="inspect image, document and archive files and show the policy decision "
                       "(no proxy needed)")
    p.add_argument("images", nargs="+", metavar="FILE", help="images, PDFs, Office files, ZIP/tar archives, text")
    p.add_argument("--json", action="store_true", help="one JSON object per file per line (stable format)")
    p.add_argument("--policy", default="", help="policy YAML (default: the shipped default policy)")
    p.add_argument("--out-dir", help="write redacted copies of files whose action is redact here (same file name)")
    p.add_argument("--host", default="chatgpt.com", help="destination host to decide for (default chatgpt.com)")
    p.add_argument("--path", default="/", help="destination request path (default /)")
    p.add_argument("--method", default="POST", help="request method (default POST)")
    p.add_argument("--user", default=None, help="authenticated user to decide for")
    p.add_argument("--group", action="append", default=[], help="user group (repeatable)")
    p.add_argument("--client-ip", default="127.0.0.1", help="client address to decide for")
    p.add_argument("--explain", action="store_true", help="print a readable account of each decision")
    p.add_argument("--annotate", metavar="OUT", help="write a preview with every finding boxed and labeled "
                   "(a file for one image, a directory for several)")
    p.set_defaults(func=scan_command)


def scan_command(args: argparse.Namespace) -> int:
    from gateway.cli import load_policy_or_report
    from gateway.inspection import Inspector

    policy = load_policy_or_report(args.policy)
    if policy is None:
        return 2
    inspector = Inspector(policy.inspect_options)
    dest = policy.destination_for(args.host, args.path, args.method)
    out_dir = Path(args.out_dir) if args.out_dir else None
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    if not args.json and not args.explain:
        print(f"{'action':8} {'rule':28} {'ms':>7}  {'path'}  findings")
    for path_str in args.images:
        path = Path(path_str)
        start = time.perf_counter()
        try:
            data = path.read_bytes()
        except OSError as err:
            _emit_error(args, path_str, f"cannot read file: {err.strerror or err}")
            continue
        kind = None if sniff_format(data) else sniff_document(data, text=True)
        report = inspector.inspect(data) if kind is None else inspector.inspect_document(data, kind)
        ctx = RequestContext(
            host=args.host, path=args.path, method=args.method.upper(), destination=dest,
            client_ip=args.client_ip, user=args.user, groups=frozenset(args.group),
            image_count=1, total_image_bytes=len(data),
        )
        decision = policy.decide(ctx, [report])
        if decision.action is Action.REDACT and (out_dir or kind is not None):
            decision = _redact(inspector, policy, data, kind, decision, out_dir / path.name if out_dir else None,
                               path_str)
        elapsed_ms = (time.perf_counter() - start) * 1000
        if args.annotate and kind is not None:
            print(f"dlp-gateway: --annotate draws on images only, not on {path_str}", file=sys.stderr)
        elif args.annotate:
            _annotate(data, report, decision, args.annotate, path, len(args.images) > 1, policy.inspect_options.limits)
        _emit(args, path_str, report, decision, elapsed_ms, dest)
    return 0


def _redact(inspector, policy, data: bytes, kind: str | None, decision: Decision, target: Path | None,
            path_str: str) -> Decision:
    """Redact as the proxy would; a document that cannot be redacted gets the same fallback decision."""
    try:
        if kind is None:
            redacted = inspector.redact(data, decision.redactions.get(0, []))
        else:
            redacted = inspector.redact_document(data, decision.redactions.get(0, []))
    except InspectionError as err:
        return policy.after_redaction_error(decision, err.kind, str(err))
    except Exception as err:  # noqa: BLE001 - reported, never fatal for the other files
        print(f"dlp-gateway: cannot redact {path_str}: {err}", file=sys.stderr)
        return decision
    if target is not None:
        target.write_bytes(redacted)
    return decision


def scan_result(path: str, report: ImageReport, decision: Decision, elapsed_ms: float) -> dict:
    """The stable JSON object of one scanned file."""
    out = {
        "path": path,
        "action": decision.action.value,
        "rule": decision.rule,
        "findings": [f.to_json() for f in report.findings],
        "elapsed_ms": round(elapsed_ms, 1),
    }
    if report.error is not None:
        out["error"] = report.error.value
    if report.document is not None:
        out["document"] = {"type": report.document.type, "pages": report.document.pages}
    return out


def _emit(args, path: str, report: ImageReport, decision: Decision, elapsed_ms: float, dest: str | None) -> None:
    if args.json:
        print(json.dumps(scan_result(path, report, decision, elapsed_ms)), flush=True)
    elif args.explain:
        print(explain(path, report, decision, elapsed_ms, dest), flush=True)
    else:
        counts: dict[str, int] = {}
        for f in report.findings:
            counts[f.entity] = counts.get(f.entity, 0) + 1
        summary = ", ".join(f"{k} x{v}" for k, v in sorted(counts.items())) or "-"
        if report.error:
            summary = f"error: {report.error.value}"
        print(f"{decision.action.value:8} {decision.rule or '-':28} {elapsed_ms:7.0f}  {path}  {summary}", flush=True)


def _emit_error(args, path: str, message: str) -> None:
    if args.json:
        print(json.dumps({"path": path, "action": None, "rule": None, "findings": [], "elapsed_ms": 0.0,
                          "error": message}), flush=True)
    else:
        print(f"{'error':8} {'-':28} {0:7.0f}  {path}  {message}", flush=True)


def explain(path: str, report: ImageReport, decision: Decision, elapsed_ms: float, dest: str | None) -> str:
    """A readable account of what was seen and why the decision was made."""
    lines = [f"{path}", f"  decision : {decision.action.value.upper()}  (rule: {decision.rule or 'default action'})",
             f"  why      : {decision.reason}", f"  destination group: {dest or '(not an AI destination)'}"]
    if report.error:
        lines.append(f"  error    : {report.error.value} {report.error_detail}")
    facts = report.document
    if facts is not None:
        lines.append(f"  document : {facts.type}, {report.size_bytes} bytes, {facts.pages} page(s), {facts.members} "
                     f"member(s)/part(s), {facts.images} image(s) inspected ({facts.rendered_pages} page(s) rendered), "
                     f"{facts.text_chars} characters of text, {facts.skipped} binary part(s) skipped, "
                     f"sha256 {report.sha256[:16]}…")
    elif not report.error:
        lines.append(f"  image    : {report.format} {report.width}x{report.height}, {report.size_bytes} bytes, "
                     f"sha256 {report.sha256[:16]}…")
    lines.append(f"  findings : {len(report.findings)}")
    matched = set(map(id, decision.matched))
    for f in sorted(report.findings, key=lambda f: (-f.score, f.entity)):
        mark = "*" if id(f) in matched or f in decision.matched else " "
        box = "" if f.box is None else f" at {list(f.box)}"
        plane = f" in {f.plane}" if f.plane else ""
        place = "".join(part for part in (f" page {f.page}" if f.page else "", f" in {f.member}" if f.member else ""))
        lines.append(f"    {mark} {f.entity:22} {f.source:9} score {f.score:.2f}{place}{box}{plane}")
    if decision.matched:
        lines.append("    (* = made the rule match)")
    stages = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in report.stage_seconds.items())
    lines.append(f"  time     : {elapsed_ms:.0f} ms ({stages})")
    return "\n".join(lines)


def _annotate(data: bytes, report, decision, out: str, path: Path, many: bool, limits) -> None:
    from PIL import ImageDraw

    from gateway.inspection.decode import decode_image
    from gateway.models import InspectionError

    try:
        image = decode_image(data, limits).image.copy()
    except InspectionError as err:
        print(f"dlp-gateway: cannot annotate {path}: {err}", file=sys.stderr)
        return
    draw = ImageDraw.Draw(image)
    colors = {"face": (255, 140, 0), "barcode": (0, 120, 255), "ocr": (220, 0, 0)}
    for f in report.findings:
        if f.box is None:
            continue
        color = colors.get(f.source, (200, 0, 200))
        draw.rectangle(f.box, outline=color, width=3)
        label = f"{f.entity} {f.score:.2f}" + (f" ({f.plane})" if f.plane else "")
        draw.text((f.box[0] + 2, max(0, f.box[1] - 12)), label, fill=color)
    draw.text((4, 4), f"{decision.action.value.upper()} ({decision.rule or 'default'})", fill=(255, 0, 0))
    target = Path(out)
    if many:
        target.mkdir(parents=True, exist_ok=True)
        target = target / (path.stem + ".annotated.png")
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
    image.save(target, format="PNG")
