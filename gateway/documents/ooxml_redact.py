"""Redaction of DOCX and PPTX text: the matched strings are replaced by "[ENTITY]" in the XML bytes themselves.

Only the text nodes and text attributes that change are rewritten; every other byte of every part stays as it was
(no re-serialisation, so namespaces, prefixes and formatting are Word's own). A string that Word split over several
runs (a change of formatting, a spell-check mark) is found across them. Each rewrite is checked by reading the part
again: if a redacted string can still be read there, the document is NOT_REDACTABLE and the rule's
redact_fallback applies — never a half-redacted file.
"""

from __future__ import annotations

import html
import re
from xml.sax.saxutils import escape, quoteattr

from gateway.documents.ooxml import _BREAKS, _INLINE, _TEXT_ATTRIBUTES, external_targets, xml_text_runs
from gateway.models import InspectionError, InspectionErrorKind

_TOKEN = re.compile(r"<[^>]*>|[^<]+")
_TAG_NAME = re.compile(r"</?([A-Za-z_][\w.:-]*)")
_ATTRIBUTE = re.compile(r"""([A-Za-z_][\w.:-]*)\s*=\s*("[^"]*"|'[^']*')""")


def strings_at(data: bytes, part: str, spans: list[tuple[int, int, str]]) -> list[tuple[str, str]]:
    """The (text, entity) each span of a part covers, read the way the inspection read the part."""
    runs = list(_runs(data, part))
    out = []
    for start, end, entity in spans:
        run = next((r for r in runs if r.offset <= start < r.offset + len(r.text)), None)
        if run is None:
            raise InspectionError(InspectionErrorKind.NOT_REDACTABLE, f"{part}: a finding's place is gone")
        text = run.text[start - run.offset:end - run.offset]
        if text.strip():
            out.append((text, entity))
    return out


def redact_part(data: bytes, part: str, targets: list[tuple[str, str]]) -> bytes:
    """The part with every occurrence of each target text replaced by [ENTITY]; verified by reading it again."""
    try:
        xml = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InspectionError(InspectionErrorKind.NOT_REDACTABLE, f"{part}: not UTF-8 XML") from None
    if "<!--" in xml or "<![CDATA[" in xml:
        raise InspectionError(InspectionErrorKind.NOT_REDACTABLE, f"{part}: XML comments or CDATA")
    ordered = sorted(set(targets), key=lambda t: -len(t[0]))  # longest first: a card before its last four digits
    tokens = [m.group(0) for m in _TOKEN.finditer(xml)]
    attributes = (*_TEXT_ATTRIBUTES, "Target") if part.endswith(".rels") else _TEXT_ATTRIBUTES
    tokens = [_redact_attributes(t, attributes, ordered) if t.startswith("<") and not t.startswith(("</", "<?"))
              else t for t in tokens]
    _redact_text_nodes(tokens, ordered)
    new = "".join(tokens).encode("utf-8")
    left = [text for text, _ in ordered for run in _runs(new, part) if text in run.text]
    if left:
        raise InspectionError(InspectionErrorKind.NOT_REDACTABLE, f"{part}: a matched string could not be replaced")
    return new


def _runs(data: bytes, part: str):
    if part.endswith(".rels"):
        return external_targets(data, part, part)
    return xml_text_runs(data, part, part, None, "text")


def _redact_attributes(tag: str, names: tuple[str, ...], targets: list[tuple[str, str]]) -> str:
    def one(m: re.Match) -> str:
        local = m.group(1).rsplit(":", 1)[-1]
        if local not in names:
            return m.group(0)
        value = html.unescape(m.group(2)[1:-1])
        new = _replace_all(value, targets)
        return m.group(0) if new == value else f"{m.group(1)}={quoteattr(new)}"

    return _ATTRIBUTE.sub(one, tag)


def _replace_all(text: str, targets: list[tuple[str, str]]) -> str:
    for target, entity in targets:
        text = text.replace(target, f"[{entity}]")
    return text


def _text_node_indexes(tokens: list[str]) -> list[list[int]]:
    """Text nodes grouped as the reader groups them: inline runs of one paragraph together, a leaf element alone."""
    groups: list[list[int]] = []
    current: list[int] = []
    stack: list[str] = []
    for i, token in enumerate(tokens):
        if token.startswith("<?"):
            continue
        if token.startswith("<"):
            name = _TAG_NAME.match(token)
            local = name.group(1).rsplit(":", 1)[-1] if name else ""
            if token.startswith("</"):
                if stack:
                    stack.pop()
                if local in ("p", "si", "row", "tr"):
                    groups.append(current)
                    current = []
            elif local in _BREAKS:
                current.append(-1)  # a tab or break: no text can be matched across it
                if not token.endswith("/>"):
                    stack.append(local)
            elif not token.endswith("/>"):
                stack.append(local)
            continue
        parent = stack[-1] if stack else ""
        if parent in _INLINE:
            current.append(i)
        elif i + 1 < len(tokens) and tokens[i + 1].startswith("</") and i and _is_start_tag(tokens[i - 1]):
            groups.append([i])  # a leaf element's text (document properties, chart values)
    groups.append(current)
    return groups


def _is_start_tag(token: str) -> bool:
    return token.startswith("<") and not token.startswith(("</", "<?")) and not token.endswith("/>")


def _redact_text_nodes(tokens: list[str], targets: list[tuple[str, str]]) -> None:
    for group in _text_node_indexes(tokens):
        for segment in _split(group):
            _redact_segment(tokens, segment, targets)


def _split(group: list[int]) -> list[list[int]]:
    out, current = [], []
    for i in group:
        if i < 0:
            out.append(current)
            current = []
        else:
            current.append(i)
    out.append(current)
    return [s for s in out if s]


def _redact_segment(tokens: list[str], segment: list[int], targets: list[tuple[str, str]]) -> None:
    """Replace the targets in the text of consecutive text nodes, across node boundaries."""
    texts = [html.unescape(tokens[i]) for i in segment]
    joined = "".join(texts)
    marks: list[str | None] = [None] * len(joined)  # per character: None (keep), "" (drop) or the placeholder
    for target, entity in targets:
        start = joined.find(target)
        while start >= 0:
            end = start + len(target)
            if all(m is None for m in marks[start:end]):
                marks[start:end] = [f"[{entity}]"] + [""] * (len(target) - 1)
            start = joined.find(target, end)
    if all(m is None for m in marks):
        return
    pos = 0
    for index, text in zip(segment, texts):
        chars = [c if marks[pos + k] is None else marks[pos + k] for k, c in enumerate(text)]
        pos += len(text)
        new = "".join(chars)
        if new != text:
            tokens[index] = escape(new)
