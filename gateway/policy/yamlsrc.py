"""Safe YAML loading that remembers where every key and value came from (line/column for error messages)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from gateway.policy.errors import PolicyIssue

Path = tuple[str | int, ...]  # e.g. ("rules", 2, "when", "entity")
MAX_NODES = 200_000  # aliases can expand exponentially ("billion laughs"); no real policy comes close


@dataclass
class Document:
    """Plain YAML data plus the position of every value (`marks`) and every mapping key (`key_marks`)."""

    file: str
    data: Any
    marks: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path, key: bool = False) -> tuple[int, int]:
        """Line/column of `path` (of its key if `key`); falls back to the nearest enclosing value."""
        table = self.key_marks if key else self.marks
        if path in table:
            return table[path]
        while path:
            path = path[:-1]
            if path in self.marks:
                return self.marks[path]
        return (1, 1)

    def issue(self, path: Path, message: str, hint: str = "", key: bool = False, level: str = "error") -> PolicyIssue:
        line, col = self.where(path, key)
        return PolicyIssue(self.file, line, col, message, hint, level)


class _TooBig(Exception):
    pass


def _pos(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def parse_yaml(text: str, file: str) -> tuple[Document | None, list[PolicyIssue]]:
    """Parse YAML text into a Document. Syntax errors and duplicate keys become issues."""
    issues: list[PolicyIssue] = []
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or str(exc)
        return None, [PolicyIssue(file, line, col, f"YAML syntax error: {problem}",
                                  "check indentation, colons and quotes around values with ':' or '#'")]
    except yaml.YAMLError as exc:
        return None, [PolicyIssue(file, 1, 1, f"YAML error: {exc}")]
    finally:
        loader.dispose()
    doc = Document(file, None)
    budget = [MAX_NODES]
    if node is None:
        doc.data = None
        return doc, issues

    def build(n: yaml.Node, path: Path) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise _TooBig
        doc.marks[path] = _pos(n)
        if isinstance(n, yaml.MappingNode):
            explicit = {id(k) for k, _ in n.value if k.tag != "tag:yaml.org,2002:merge"}
            loader.flatten_mapping(n)  # YAML merge keys (<<: *anchor); merged pairs come first
            out: dict[Any, Any] = {}
            key_node: dict[str, yaml.Node] = {}
            for knode, vnode in n.value:
                key = loader.construct_object(knode)
                if not isinstance(key, (str, int, float, bool)) or key is None:
                    issues.append(PolicyIssue(file, *_pos(knode), "mapping keys must be plain words"))
                    continue
                key = str(key) if not isinstance(key, str) else key
                if key in out and id(knode) in explicit and id(key_node[key]) in explicit:
                    issues.append(PolicyIssue(file, *_pos(knode), f"duplicate key '{key}'",
                                              "YAML would silently keep only the last one; merge them"))
                key_node[key] = knode
                doc.key_marks[path + (key,)] = _pos(knode)
                out[key] = build(vnode, path + (key,))
            return out
        if isinstance(n, yaml.SequenceNode):
            return [build(item, path + (i,)) for i, item in enumerate(n.value)]
        try:
            return loader.construct_object(n)
        except yaml.YAMLError as exc:  # e.g. a malformed timestamp
            issues.append(PolicyIssue(file, *_pos(n), f"cannot read value: {exc}"))
            return None

    try:
        doc.data = build(node, ())
    except _TooBig:
        return None, [PolicyIssue(file, *_pos(node), f"the document expands to more than {MAX_NODES} values",
                                  "check for recursive or nested YAML aliases (*name)")]
    except RecursionError:
        return None, [PolicyIssue(file, *_pos(node), "the document is nested too deeply")]
    return doc, issues
