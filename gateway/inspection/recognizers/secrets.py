"""Secrets: cloud and SaaS keys, tokens, JWTs, PEM keys and passwords in connection strings or assignments."""

from __future__ import annotations

import regex as re
from presidio_analyzer import Pattern, PatternRecognizer

from gateway.inspection.recognizers.common import (
    PLACEHOLDER_PASSWORDS,
    is_placeholder,
    looks_random,
)

# The rest of a quoted key that OCR broke up with spaces: chunks up to the closing quote.
_QUOTED_TAIL = r"(?:(?:[ \t]{1,2}[A-Za-z0-9/+_.-]+)+(?=[\"'“”]))?"
# A secret value as OCR reads it: 16+ key characters, possibly continued after a space OCR put at '/', '+', '-'.
_VALUE = r"[A-Za-z0-9/+_.-]{16,}(?:[ \t](?=[/+_-])[A-Za-z0-9/+_.-]+|(?<=[/+_-])[ \t][A-Za-z0-9/+_.-]+)*"
_SP = r"[ \t]?"  # a space OCR puts after a '_' / '-' separator (or reads the '_' as)
# More of a key after a space OCR put inside it: a chunk with a digit or a lower-then-upper case change (random
# text), never a plain word; ']' and '|' are OCR's 'l'.
_KEY_CONT = r"(?:[ \t](?=[^\s\"'“”]*(?:\d|[a-z][^\s\"'“”]*[A-Z]))[A-Za-z0-9_+/\]|-]{4,}(?![^\s\"'“”]))*"
# One JWT segment as OCR reads it: base64url, at most three spaces inside.
_JWT_SEG = r"[A-Za-z0-9_-]{2,}(?:[ \t][A-Za-z0-9_-]{2,}){0,3}"
# Schemes whose URLs carry database / broker credentials; OCR may space out or lose the '://'.
_DB_SCHEME = r"(?i:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|clickhouse)"
_AWS_PREFIX = r"(?:AKIA|ASIA|ABIA|ACCA)"  # an AWS access key id's kind
_SECRET_PATTERNS: tuple[tuple[str, str, float], ...] = (
    # 16 characters after the prefix; OCR may insert spaces, lose one or two characters or add one
    ("aws_access_key_id", rf"\b{_AWS_PREFIX}(?:[ \t]?[A-Z0-9]){{14,17}}\b", 0.9),
    # 40-char secret keys are only recognisable next to their name; the lookbehind keeps the span on the value.
    (
        "aws_secret_access_key",
        r"(?i)(?<=secret[_ .-]?(?:access[_ .-]?)?key[\"'\s]*[:=-]?\s*[\"']?)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])",
        0.85,
    ),
    # Vendor prefixes as OCR reads them: '_' often comes out as a space, and a space may follow any separator.
    # 36 characters after the prefix; OCR may split them once (the length is checked in invalidate_result)
    # (a space, not a tab: a tab is a column gap, and the next cell is no part of the token)
    # (whole first: a whole token followed by a word is the token, not a 43-character run to reject)
    ("github_token", r"\bgh[pousr][_ ]" + _SP + r"(?:[A-Za-z0-9]{30,42}\b|[A-Za-z0-9]{4,35}[ ][A-Za-z0-9]{1,38}\b)"
     + _QUOTED_TAIL, 0.9),
    ("github_pat", r"\bgithub_pat_[A-Za-z0-9_]{40,}\b", 0.9),
    ("gitlab_pat", r"\bglpat-" + _SP + r"[A-Za-z0-9_-]{18,}\b", 0.9),  # 20 characters; OCR may lose one or two
    # Registry and SaaS tokens of a fixed shape (prefix, then a fixed count of token characters)
    ("npm_token", r"\bnpm[._ \t]{1,3}[A-Za-z0-9]{36}\b", 0.9),  # OCR: "npm. _kXR4...", "npm_ _89l6..."
    ("huggingface_token", r"\bhf[_ ]" + _SP + r"[A-Za-z0-9]{34,40}\b", 0.85),
    ("sendgrid_key", r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b", 0.9),
    ("pypi_token", r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}", 0.9),
    ("digitalocean_token", r"\bdo[opr][_ ]v1[_ ][a-f0-9]{64}\b", 0.9),
    ("shopify_token", r"\bshp(?:at|ss|ca|pa)[_ ][a-fA-F0-9]{32}\b", 0.9),
    # xoxb-<team>-<bot>-<secret>: OCR turns some dashes into spaces; chunks with a digit or 10+ chars continue it.
    (
        "slack_token",
        r"\bxox[bpars][- ]" + _SP + r"[A-Za-z0-9-]{4,}(?:[- ]" + _SP + r"(?=[A-Za-z-]*\d|[A-Za-z0-9-]{10})[A-Za-z0-9-]{4,}){1,4}"
        + _QUOTED_TAIL,
        0.9,
    ),
    # 20+ characters after the prefix, possibly split by OCR spaces (random-looking chunks continue it)
    # ("Sk _live 3h41...", "sk_live_ _2pm...": a '_' read twice or as a space, an 's' read as a capital)
    ("stripe_live_key", r"\b[sSr]k[_ ]{1,2}live[_ ]{1,3}(?=(?:[ \t]?[A-Za-z0-9]){20})[A-Za-z0-9]{4,}\b" + _KEY_CONT
     + _QUOTED_TAIL, 0.9),
    ("anthropic_key", r"\bsk[- ]{0,2}ant[- _]" + _SP + r"(?:api\d\d[ \t]?[-_ ]" + _SP + r")?[A-Za-z0-9_-]{12,}" + _KEY_CONT
     + _QUOTED_TAIL, 0.9),
    (
        "openai_key",
        r"\bsk[- ](?!ant\b|ant[- _])(?:(?:proj|svcacct|admin)[ \t]?[- _]" + _SP + r")?[A-Za-z0-9_-]{20,}\b" + _KEY_CONT + _QUOTED_TAIL,
        0.85,
    ),
    ("google_api_key", r"\bAIza[0-9A-Za-z_-]{30,40}\b" + _KEY_CONT + _QUOTED_TAIL, 0.85),
    # header.payload.signature; OCR may put spaces inside the segments or around the dots.
    # The dot before the payload may be lost: the payload's own 'eyJ' still marks it.
    ("jwt", r"\beyJ" + _JWT_SEG + r"(?:" + _SP + r"\." + _SP + r"|[ \t])eyJ" + _JWT_SEG + _SP + r"\." + _SP + _JWT_SEG,
     0.85),
    # A JWT whose dots OCR lost: a long base64url run starting with the JSON header '{"' (eyJ).
    ("jwt_fragment", r"\beyJ[A-Za-z0-9_-]{30,}", 0.7),
    # A whole PEM block, header to footer, whatever OCR made of the dashes and the base64 lines.
    (
        "private_key_block",
        r"-*[ \t]*BEGIN[ \t]+(?:[A-Z0-9]+[ \t]+){0,3}PRIVATE[ \t]+KEY[ \t_=~.-]*(?:\n[^\n]*){1,60}?\n[ \t_=~.-]*"
        r"END[ \t]+(?:[A-Z0-9]+[ \t]+){0,3}PRIVATE[ \t]+KEY[ \t_=~.-]*",
        0.95,
    ),
    # The same block from a blurry photo, where OCR mixed the case and misread the short words ("BeoiN ReA PRIvATE
    # Red" ... "Er0 #84 PRIVAIE KEY"): a header and a footer that both say PRIV..E still frame a key (and the
    # block must hold a base64 body, see invalidate_result).
    (
        "private_key_block_damaged",
        r"(?i:B[A-Z]{2,3}N)[ \t]+(?:\S+[ \t]+){0,3}(?i:PRIV[A-Z]{2}E)[ \t]+[A-Za-z]{2,4}[ \t_=~.-]*"
        r"(?:\n[^\n]*){1,60}?\n[ \t_=~.-]*(?i:E[A-Z0-9]{1,2})[ \t]+(?:\S+[ \t]+){0,3}(?i:PRIV[A-Z]{2}E)[ \t]+"
        r"(?i:K[A-Z]{1,2})",
        0.9,
    ),
    # The PEM header plus the base64 body lines that follow it (the body is the secret to paint over).
    (
        "private_key",
        r"-{3,}\s*BEGIN\s+(?:[A-Z0-9]+\s+){0,3}PRIVATE\s+KEY\s*-{3,}(?:\s*[A-Za-z0-9+/=]{16,})*"
        r"(?:\s*-{3,}\s*END\s+(?:[A-Z0-9]+\s+){0,3}PRIVATE\s+KEY\s*-{3,})?",
        0.95,
    ),
    # A URL with credentials is a secret as a whole (user, password and the host they open).
    ("url_password", r"\b[A-Za-z][A-Za-z0-9+.-]{1,20}://[^\s:/@]{1,64}:[^\s:/@]{3,128}@[A-Za-z0-9][^\s\"'<>]*", 0.8),
    # The same for database URLs whose '://' or '@' OCR spaced out, lost or misread ('@1' as 'el'): scheme, user,
    # ':' and a value of 6+ characters, continued after one OCR space when the rest still looks like a host.
    (
        "db_url",
        r"\b" + _DB_SCHEME + r"[ \t]?[:;=][ \t]?/[ \t]?/?[ \t]?[^\s:/@]{1,64}(?:[ \t][^\s:/@]{1,32})?[ \t]?[:;][ \t]?[^\s\"'<>]{6,200}"
        r"(?:[ \t](?=[^\s\"'<>]*[@.:])[^\s\"'<>]{2,120})?",
        0.8,
    ),
    # ... and whose '://' OCR lost entirely ("postgres admin:pw@host"), or whose ':' before the password
    # ("postgres://admin pw@host"): then the '@' and a host must be there.
    (
        "db_url_damaged",
        r"\b" + _DB_SCHEME + r"(?:(?:[ \t]*=)?[ \t]+[^\s:/@=]{1,64}[:;][^\s@\"'<>]{2,64}(?:[ \t][^\s@\"'<>]{2,64})?"
        r"|[ \t]?[:;=][ \t]?/[ \t]?/?[ \t]?[^\s:/@]{1,64}[ \t][^\s:/@\"'<>]{3,64})@[A-Za-z0-9][^\s\"'<>]*"
        r"(?:[ \t](?=[^\s\"'<>]*[.:])[^\s\"'<>]{2,120})?",
        0.8,
    ),
    ("password_assignment", r"(?i)(?<=\b(?:password|passwd|pwd)[\"'\s]*[:=]\s*[\"']?)[^\s\"']{6,64}", 0.6),
)
# scheme://user:VALUE — what follows the user's ':' (the password, or a port when there are no credentials)
_URL_CREDENTIAL = re.compile(r"^[^:;=]+[:;=][ \t]?/[ \t]?/?[ \t]?[^\s:;/@]{1,64}(?:[ \t][^\s:;/@]{1,32})?[ \t]?[:;][ \t]?(?P<value>\S+)")


class SecretRecognizer(PatternRecognizer):
    """API keys, tokens, private keys and passwords; documentation placeholders are invalidated."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="SECRET",
            name="SecretRecognizer",
            patterns=[Pattern(name, regex, score) for name, regex, score in _SECRET_PATTERNS],
            context=["key", "token", "secret", "password", "api", "credential", "bearer", "authorization"],
            global_regex_flags=re.MULTILINE,  # case matters for key prefixes
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        if pattern_text.lower() in PLACEHOLDER_PASSWORDS:
            return True
        aws = re.match(_AWS_PREFIX, pattern_text)
        if aws and sum(c.isalnum() for c in pattern_text) != 20 and not re.search(r"\d", pattern_text[4:]):
            return True  # a read a character off: only with a digit (ASIAPACIFICREGIONAL is a word)
        gh = re.match(r"gh[pousr][_ ][ \t]?", pattern_text)
        if gh and not 30 <= sum(c.isalnum() for c in pattern_text[gh.end():]) <= 42:
            return True  # GitHub tokens have 36 characters after the prefix
        url = _URL_CREDENTIAL.match(pattern_text)
        if url:  # scheme://user:password@host — judge the password, and the host for documentation domains
            value = url.group("value")
            password = value.split("@", 1)[0]
            if re.fullmatch(r"\d{1,5}(?:/\S*)?", value) or password.lower() in PLACEHOLDER_PASSWORDS:
                return True  # host:port, no credentials; or user:password placeholders
            return is_placeholder(value)
        if re.search(r"PRIV[A-Z]{2}E", pattern_text.upper()):  # a key block has a base64 body, prose has none
            return bool(re.search(r"example|xxxx|\.\.\.", pattern_text, re.IGNORECASE)) or not re.search(
                r"[A-Za-z0-9+/=]{16}", pattern_text)
        return is_placeholder(pattern_text)


class CredentialAssignmentRecognizer(PatternRecognizer):
    """A long random value assigned to a credential-named variable, however OCR mangled it (missing '_', '=' read
    as '-' or dropped, the value split at '/'): `SLACK_TOKEN "xoxb-..."`, `export API_KEY=...`; and a random
    40-character key standing alone."""

    PATTERN = (
        r"(?<=\b[A-Za-z0-9_]*(?i:key|token|secret|passw(?:or)?d|pwd|credentials?)[A-Za-z0-9_]*[\"'\]]?[ \t]*[:=-]?[ \t]*"
        r"[\"'“”]?[ \t]?)" + _VALUE + _QUOTED_TAIL + r"(?![ \t]?[A-Za-z0-9/+_.-]*(?i:exampl))"
    )
    def __init__(self) -> None:
        super().__init__(
            supported_entity="SECRET",
            name="CredentialAssignmentRecognizer",
            patterns=[Pattern("credential_assignment", self.PATTERN, 0.7)],
            global_regex_flags=re.MULTILINE,
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        return is_placeholder(pattern_text) or not looks_random(pattern_text)


# Letters in runs of one case, 3 or more long: words and camelCase parts. Of a random 40-character base64 key they
# are a quarter (95 % of keys under half); of identifiers like getUserNameFromCache2 most.
_CASE_RUNS = re.compile(r"[a-z]{3,}|[A-Z]{3,}")
MAX_RUN_SHARE = 0.5
# A commit hash or SHA-1 digest with a 0 or 1 read as O or l (`aOcdb9…`) is hex, no key: of random base64 keys, none is.
_HEX = re.compile(r"[0-9a-f]+|[0-9A-F]+")
_HEX_LOOKALIKES = str.maketrans("OoIl", "0011")


class KeyShapeRecognizer(PatternRecognizer):
    """A 40-character key of the AWS secret key's shape standing alone (a table cell, a line in a terminal): both
    cases and digits, nothing of base64 around it (a longer blob's line is no key), not made of words."""

    PATTERN = (r"(?<![A-Za-z0-9/+=_-])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[a-z])"
               r"(?=(?:[A-Za-z/+]*\d){2})[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=_-])")

    def __init__(self) -> None:
        super().__init__(supported_entity="SECRET", name="KeyShapeRecognizer",
                         patterns=[Pattern("key_shape", self.PATTERN, 0.6)], global_regex_flags=re.MULTILINE)

    def invalidate_result(self, pattern_text: str) -> bool:
        words = sum(len(m) for m in _CASE_RUNS.findall(pattern_text))
        return (is_placeholder(pattern_text) or words > MAX_RUN_SHARE * len(pattern_text)
                or _HEX.fullmatch(pattern_text.translate(_HEX_LOOKALIKES)) is not None)
