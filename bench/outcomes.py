"""Policy outcomes: what a policy (the shipped default unless told) does with each image, decided like `dlp-gateway scan`.

The expected action of an image is the policy's decision on its ground truth, as if every labelled item had been
found at score 1.0: "must block" is then whatever the policy's block rules say (for the default policy: an MRZ, a
secret, a card number, an SSN or an IBAN, or a face next to a document number or a birth date), read from the
policy rather than listed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.models import Action, Decision, Finding, ImageReport, InspectionErrorKind, RequestContext
from gateway.policy import Policy

# Manifest item sources -> finding sources (gateway.models.Source values)
SOURCES = {"text": "ocr", "face": "face", "barcode": "barcode", "metadata": "metadata"}
DEFAULT_HOST = "chatgpt.com"  # what `dlp-gateway scan` decides for by default


@dataclass(frozen=True)
class Destination:
    """The request an image is decided for (as `dlp-gateway scan --host --path --method`)."""

    host: str = DEFAULT_HOST
    path: str = "/"
    method: str = "POST"


def context(policy: Policy, dest: Destination, size_bytes: int) -> RequestContext:
    return RequestContext(host=dest.host, path=dest.path, method=dest.method,
                          destination=policy.destination_for(dest.host, dest.path, dest.method),
                          client_ip="127.0.0.1", image_count=1, total_image_bytes=size_bytes)


def decide(policy: Policy, dest: Destination, report: ImageReport) -> Decision:
    return policy.decide(context(policy, dest, report.size_bytes), [report])


def ground_truth_report(items: list[dict], size_bytes: int = 0) -> ImageReport:
    """The report a perfect reader would give: every labelled item a finding at score 1.0."""
    findings = [Finding(it["entity"], SOURCES.get(it.get("source", "text"), "ocr"), 1.0,
                        tuple(it["box"]) if it.get("box") else None) for it in items]
    return ImageReport(sha256="ground-truth", size_bytes=size_bytes, findings=findings)


def expected(policy: Policy, dest: Destination, items: list[dict]) -> Decision:
    """The policy's decision on the image's ground truth."""
    return decide(policy, dest, ground_truth_report(items))


def error_report(size_bytes: int, detail: str) -> ImageReport:
    """What the gateway decides on when inspection itself failed: the policy's on_error applies."""
    return ImageReport(sha256="", size_bytes=size_bytes, error=InspectionErrorKind.INTERNAL, error_detail=detail)


def acting_entities(policy: Policy, dest: Destination, sources: dict[str, str]) -> dict[str, list[str]]:
    """Entities that, found alone, make the policy block or redact: {"block": [...], "redact": [...]}.

    For the default policy and a chatbot: MRZ, secrets, cards, SSNs and IBANs block; e-mail, phone, name, face and
    GPS metadata are redacted (the items a redaction must make unreadable). `sources`: entity -> item source.
    """
    out: dict[str, list[str]] = {"block": [], "redact": []}
    for entity in sorted(sources):
        item = {"entity": entity, "box": [0, 0, 10, 10], "source": sources[entity]}
        action = expected(policy, dest, [item]).action
        if action in (Action.BLOCK, Action.REDACT):
            out[action.value].append(entity)
    return out


def outcome_summary(records: list[dict]) -> dict:
    """Per split: must-block images that went out unblocked, must-redact images allowed, clean images acted on.

    records: {"file", "clean", "expected": action, "expected_rule", "action", "rule"} per image.
    """
    must_block = [r for r in records if r["expected"] == Action.BLOCK.value]
    unblocked = [r for r in must_block if r["action"] != Action.BLOCK.value]
    must_redact = [r for r in records if r["expected"] == Action.REDACT.value]
    # warn lets the user proceed with the original: as much a way out as allow
    passed = {Action.ALLOW.value, Action.AUDIT.value, Action.WARN.value}
    untouched = [r for r in must_redact if r["action"] in passed]
    clean = [r for r in records if r["clean"]]
    clean_acted = [r for r in clean if r["action"] != Action.ALLOW.value]
    confusion: dict[str, dict[str, int]] = {}
    for r in records:
        row = confusion.setdefault(r["expected"], {})
        row[r["action"]] = row.get(r["action"], 0) + 1
    return {
        "images": len(records),
        "must_block": len(must_block), "must_block_unblocked": len(unblocked),
        "must_block_unblocked_files": [_label(r) for r in unblocked],
        "must_redact": len(must_redact), "must_redact_untouched": len(untouched),
        "must_redact_untouched_files": [_label(r) for r in untouched],
        "clean": len(clean), "clean_not_allowed": len(clean_acted),
        "clean_not_allowed_files": [_label(r) for r in clean_acted],
        "expected_vs_actual": confusion,
    }


def _label(r: dict) -> str:
    return f"{r['file']} ({r['action']}{' by ' + r['rule'] if r.get('rule') else ''}; " \
           f"expected {r['expected']} by {r.get('expected_rule') or 'default'})"
