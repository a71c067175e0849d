"""The text a user sends with an upload: where the chat APIs and web apps put it, and that text with the policy's
matches replaced by placeholders such as ``[EMAIL_ADDRESS]``. Pure functions: no models, no proxy.

JSON strings are prompt text by their path (array indexes are ``*``; a path is matched as a suffix, so a body that
wraps a chat request one level deeper still counts, except for the paths marked ``$``, which start at the root):

* OpenAI chat, Mistral, Ollama: ``messages[].content`` (string) and ``messages[].content[].text`` (text parts);
  Responses API: ``input`` (string), ``input[].content``, ``input[].content[].text``, ``instructions``;
* Anthropic: the same ``messages`` shapes (text blocks) and ``system`` (string or text blocks);
* Gemini: ``contents[].parts[].text``, ``systemInstruction.parts[].text`` (and ``system_instruction``);
* ChatGPT web conversation: ``messages[].content.parts[]`` (strings);
* Claude web: ``prompt``, and the pasted files' ``attachments[].extracted_content``;
* form and multipart text fields (no file name) named like a prompt: PROMPT_FIELDS.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace

from gateway.models import DocumentFacts, Finding, ImageReport

Path = tuple[str, ...]  # object keys, and "*" for an array index

# Suffix paths: they may sit anywhere in the body.
_SUFFIX_PATHS: tuple[Path, ...] = (
    ("messages", "*", "content"),
    ("messages", "*", "content", "*", "text"),
    ("messages", "*", "content", "parts", "*"),
    ("contents", "*", "parts", "*", "text"),
    ("systemInstruction", "parts", "*", "text"),
    ("system_instruction", "parts", "*", "text"),
    ("input", "*", "content"),
    ("input", "*", "content", "*", "text"),
)
# Root paths: too generic a key to trust deeper in a body.
_ROOT_PATHS: tuple[Path, ...] = (
    ("system",),
    ("system", "*", "text"),
    ("prompt",),
    ("input",),
    ("instructions",),
    ("attachments", "*", "extracted_content"),
)
# The last step of every path above: a string under any other key is never prompt text (cheap pre-check).
LAST_KEYS = frozenset(p[-1] for p in _SUFFIX_PATHS + _ROOT_PATHS if p[-1] != "*")
ARRAY_PARENTS = frozenset(p[-2] for p in _SUFFIX_PATHS + _ROOT_PATHS if p[-1] == "*")
PROMPT_FIELDS = frozenset({"prompt", "negative_prompt", "text", "message", "content", "query", "q", "input",
                           "instructions", "system", "system_prompt", "caption"})
MAX_PROMPT_CHARS = 2_000_000  # more prompt text than this in one request is not inspected: on_error


def is_prompt_path(path: Path) -> bool:
    """True when a JSON string at `path` is text a person typed (or pasted) for the model."""
    return path in _ROOT_PATHS or any(path[-len(p):] == p for p in _SUFFIX_PATHS if len(path) >= len(p))


def is_prompt_field(name: str | None) -> bool:
    """True for a form or multipart text field that carries a prompt (Stability's `prompt`, OpenAI images' `prompt`)."""
    return name is not None and name.strip().lower() in PROMPT_FIELDS


def prompt_index(finding: Finding) -> int | None:
    """The prompt text a source-"prompt" finding was seen in (its member "prompt:N"), None for any other."""
    member = finding.member or ""
    if not member.startswith("prompt:"):
        return None
    try:
        return int(member[7:])
    except ValueError:
        return None


def redact_prompts(texts: Sequence[str], findings: list[Finding]) -> dict[int, str]:
    """{prompt index: the text with each finding's span replaced by "[ENTITY]"} for the texts that change.

    Overlapping spans are merged; the one that starts first names the placeholder."""
    spans: dict[int, list[tuple[int, int, str]]] = {}
    for f in findings:
        index = prompt_index(f)
        if index is not None and f.span is not None and 0 <= index < len(texts):
            spans.setdefault(index, []).append((f.span[0], f.span[1], f.entity))
    return {index: replace_spans(texts[index], found) for index, found in spans.items()}


def replace_spans(text: str, spans: list[tuple[int, int, str]]) -> str:
    """`text` with each (start, end, entity) character span replaced by "[ENTITY]"."""
    merged: list[list] = []
    for start, end, entity in sorted((max(0, s), min(len(text), e), n) for s, e, n in spans if e > s):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, entity])
    out, last = [], 0
    for start, end, entity in merged:
        out += (text[last:start], f"[{entity}]")
        last = end
    out.append(text[last:])
    return "".join(out)


def prompt_sha256(text: str) -> str:
    """The report-cache key of one prompt text (a conversation re-sends its earlier messages on every turn)."""
    return hashlib.sha256(b"prompt\x00" + text.encode("utf-8", "surrogatepass")).hexdigest()


def merged_report(texts: Sequence[str], reports: Sequence[ImageReport]) -> ImageReport:
    """One report for all prompt texts of a request (reports[i] is texts[i]'s): its findings name their text as
    member "prompt:N", so the policy sees one PROMPT upload and redaction finds each span's text."""
    findings = [replace(f, member=f"prompt:{i}") for i, r in enumerate(reports) for f in r.findings]
    stages: dict[str, float] = {}
    for r in reports:
        for stage, seconds in r.stage_seconds.items():
            stages[stage] = stages.get(stage, 0.0) + seconds
    failed = next((r for r in reports if not r.ok), None)
    joined = hashlib.sha256("".join(r.sha256 for r in reports).encode()).hexdigest()
    size = sum(len(t.encode("utf-8", "surrogatepass")) for t in texts)
    facts = DocumentFacts("PROMPT", members=len(texts), text_chars=sum(len(t) for t in texts), redactable=True)
    return ImageReport(joined, size, "PROMPT", findings=findings, stage_seconds=stages,
                       error=failed.error if failed else None, error_detail=failed.error_detail if failed else "",
                       cached=bool(reports) and all(r.cached for r in reports), document=facts)


def is_prompt_report(report: ImageReport) -> bool:
    return report.document is not None and report.document.type == "PROMPT"
