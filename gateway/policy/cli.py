"""`dlp-gateway policy validate|schema|test`. Each command returns a process exit code."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gateway.policy.errors import PolicyError
from gateway.policy.loader import load_policy
from gateway.policy.schema import SCHEMA
from gateway.policy.testing import find_test_files, format_results, run_test_file


def cmd_validate(args: argparse.Namespace) -> int:
    failed = False
    for path in args.paths:
        try:
            policy = load_policy(path)
        except PolicyError as exc:
            failed = True
            errors = sum(i.level == "error" for i in exc.issues)
            for issue in exc.issues:
                print(issue, file=sys.stderr)
            print(f"{path}: INVALID ({errors} error{'s' if errors != 1 else ''})", file=sys.stderr)
            continue
        for issue in policy.warnings:
            print(issue, file=sys.stderr)
        if args.strict and policy.warnings:
            failed = True
            print(f"{path}: INVALID (warnings are errors with --strict)", file=sys.stderr)
            continue
        print(f"{path}: OK (policy '{policy.name}', version {policy.version_id}, {len(policy.destinations)} "
              f"destinations, {len(policy.rules)} rules)")
    return 1 if failed else 0


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(SCHEMA, indent=2))
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    factory = getattr(args, "inspector_factory", None)
    failed = False
    for path in args.paths:
        files = find_test_files(path)
        if not files:
            print(f"{path}: no test file (looked for tests/<name>.test.yaml and <name>.test.yaml)", file=sys.stderr)
            failed = True
            continue
        for test_file in files:
            print(f"== {test_file}")
            try:
                results = run_test_file(test_file, factory)
            except PolicyError as exc:
                print(exc, file=sys.stderr)
                failed = True
                continue
            except (OSError, ImportError) as exc:
                print(f"{test_file}: cannot run: {exc}", file=sys.stderr)
                failed = True
                continue
            print(format_results(results))
            failed |= not all(r.passed for r in results)
    return 1 if failed else 0


def add_policy_commands(subparsers: Any) -> None:
    """Register `policy validate|schema|test` on the main parser's subparsers; each sets args.func(args) -> int."""
    policy = subparsers.add_parser("policy", help="check, test and document policy files")
    sub = policy.add_subparsers(dest="policy_command", metavar="{validate,schema,test}")
    sub.required = True
    v = sub.add_parser("validate", help="check policy files; prints every problem with file:line:col")
    v.add_argument("paths", nargs="+", metavar="PATH")
    v.add_argument("--strict", action="store_true", help="treat warnings as errors")
    v.set_defaults(func=cmd_validate)
    s = sub.add_parser("schema", help="print the policy JSON Schema")
    s.set_defaults(func=cmd_schema)
    t = sub.add_parser("test", help="run a policy's YAML test cases and print a pass/fail table")
    t.add_argument("paths", nargs="+", metavar="PATH", help="a *.test.yaml file, or a policy with tests next to it")
    t.set_defaults(func=cmd_test)


def main(argv: list[str] | None = None, inspector_factory: Any = None) -> int:
    """Stand-alone entry point: python -m gateway.policy {validate,schema,test} ..."""
    parser = argparse.ArgumentParser(prog="dlp-gateway")
    sub = parser.add_subparsers(dest="command", metavar="policy")
    sub.required = True
    add_policy_commands(sub)
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv if argv[:1] == ["policy"] else ["policy", *argv])
    if inspector_factory is not None:
        args.inspector_factory = inspector_factory
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
