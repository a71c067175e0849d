"""Policy-defined recognizers (the policy's `recognizers` section) as Presidio PatternRecognizers."""

from __future__ import annotations

import regex as re
from presidio_analyzer import Pattern, PatternRecognizer

from gateway.models import CustomRecognizer

# ---------------------------------------------------------------------------------------------------------------
# Policy-defined recognizers


def build_custom(spec: CustomRecognizer) -> PatternRecognizer:
    """A CustomRecognizer spec as a Presidio PatternRecognizer; bad regexes fail here, at policy load."""
    patterns = []
    for i, (regex, score) in enumerate(spec.patterns):
        try:
            re.compile(regex)
        except re.error as e:
            raise ValueError(f"recognizer {spec.name!r}: invalid regex {regex!r}: {e}") from e
        patterns.append(Pattern(name=f"{spec.name}_{i}", regex=regex, score=float(score)))
    if not patterns and not spec.deny_list:
        raise ValueError(f"recognizer {spec.name!r}: needs patterns or a deny_list")
    return PatternRecognizer(
        supported_entity=spec.entity,
        name=spec.name,
        patterns=patterns,
        deny_list=list(spec.deny_list) or None,
        deny_list_score=spec.deny_list_score,
        context=list(spec.context) or None,
    )
