"""Policy problems with their place in the file, so a security team can fix them without reading Python."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PolicyIssue:
    """One problem in a policy file. Line and column are 1-based (0 when unknown)."""

    file: str
    line: int
    column: int
    message: str
    hint: str = ""
    level: str = "error"  # "error" makes the policy unusable; "warning" is printed but loads

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}:{self.column}: {self.level}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class PolicyError(Exception):
    """A policy that cannot be used. `issues` lists every error found, not just the first."""

    def __init__(self, issues: list[PolicyIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues) or "invalid policy")
