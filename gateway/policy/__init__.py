"""The YAML policy language: which uploads are inspected, and what happens to what was found.

    policy = load_policy("policies/default.yaml")       # raises PolicyError with file:line:col per issue
    dest = policy.destination_for(host, path, method)    # None = out of scope, pass untouched
    decision = policy.decide(ctx, reports)               # first matching rule wins
"""

from gateway.policy.errors import PolicyError, PolicyIssue
from gateway.policy.loader import DEFAULT_POLICY_PATH, load_default_policy, load_policy, load_policy_text, parse_size
from gateway.policy.model import Condition, Destination, Identity, Policy, Rule
from gateway.policy.schema import SCHEMA
from gateway.policy.store import PolicyStore

__all__ = [
    "DEFAULT_POLICY_PATH", "SCHEMA", "Condition", "Destination", "Identity", "Policy", "PolicyError", "PolicyIssue",
    "PolicyStore", "Rule", "load_default_policy", "load_policy", "load_policy_text", "parse_size",
]
