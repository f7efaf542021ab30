"""Secrets: provider token formats, private keys, and keyword assignments.

Provider tokens are recognised by their documented prefixes and lengths (the same
formats secret scanners such as detect-secrets and gitleaks use), so a bare token in
a chat paste is caught without a keyword. A keyword assignment is any identifier
that has a secret word as one of its parts (``password``, ``DB_PASSWORD_PROD``,
``admin_pass``, ``secret_key_v2``, ``dbPassword``) followed by ``=``, ``:``, ``=>``
or "is", and a value of any shape: bare, quoted, or in brackets. Placeholders
(``changeme``, ``insert_key_here``, ``<your-token>``, ``${VAR}``, ``xxxx``) are
recognised as such and are not hits.

Everything here is linear: the keyword is found first, and the key and the value
around it are read within fixed bounds.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from clearance.scan.hits import PLAUSIBLE, VALIDATED, RawHit

# (kind, pattern, literal hint that must occur in the text for the pattern to run)
_PROVIDERS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("private-key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----"), "-----BEGIN"),
    (
        "aws-access-key",
        re.compile(
            r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|A"
            r"ROA|ANPA|ANVA|AIPA|APKA)[A-Z0-9]{16}(?![A-Za-z0-9])"
        ),
        "A",
    ),
    (
        "github-token",
        re.compile(
            r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}"
            r"|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])"
        ),
        "g",
    ),
    (
        "gitlab-token",
        re.compile(r"(?<![A-Za-z0-9_-])gl(?:pat|dt|ptt|rt|cbt|ft|imt)-[A-Za-z0-9_-]{20,64}(?![A-Za-z0-9_-])"),
        "gl",
    ),
    (
        "openai-key",
        re.compile(r"(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,200}(?![A-Za-z0-9_-])"),
        "sk-",
    ),
    (
        "anthropic-key",
        re.compile(r"(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{32,200}(?![A-Za-z0-9_-])"),
        "sk-ant-",
    ),
    (
        "sendgrid-key",
        re.compile(r"(?<![A-Za-z0-9_-])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"),
        "SG.",
    ),
    ("pypi-token", re.compile(r"(?<![A-Za-z0-9_-])pypi-AgE[A-Za-z0-9_-]{50,}(?![A-Za-z0-9_-])"), "pypi-"),
    ("npm-token", re.compile(r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9_])"), "npm_"),
    ("huggingface-token", re.compile(r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{34,40}(?![A-Za-z0-9_])"), "hf_"),
    (
        "discord-token",
        re.compile(
            r"(?<![A-Za-z0-9_.-])[MNO][A-Za-z0-9_-]{23,27}\.[A-Z"
            r"a-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}(?![A-Za-z0-9_-])"
        ),
        ".",
    ),
    (
        "discord-webhook",
        re.compile(r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]{20,}"),
        "discord",
    ),
    ("twilio-key", re.compile(r"(?<![A-Za-z0-9])(?:AC|SK)[0-9a-f]{32}(?![A-Za-z0-9])"), "C"),
    ("mailgun-key", re.compile(r"(?<![A-Za-z0-9_-])key-[0-9a-z]{32}(?![A-Za-z0-9_-])"), "key-"),
    ("slack-token", re.compile(r"(?<![A-Za-z0-9])xox[abposre]-[A-Za-z0-9-]{10,200}(?![A-Za-z0-9])"), "xox"),
    ("slack-webhook", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,}"), "hooks.slack"),
    ("google-api-key", re.compile(r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])"), "AIza"),
    (
        "stripe-key",
        re.compile(r"(?<![A-Za-z0-9])(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}(?![A-Za-z0-9])"),
        "_",
    ),
    (
        "jwt",
        re.compile(
            r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za"
            r"-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(?![A-Za-z0-9_-])"
        ),
        "eyJ",
    ),
    (
        "bearer-token",
        re.compile(r"(?<![A-Za-z0-9])Bearer\s+(?P<value>[A-Za-z0-9._~+/-]{20,500}=*)"),
        "Bearer",
    ),
)
_SERVICE_SID = re.compile(r"^(?:AC|SK)")

# --- keyword assignments -------------------------------------------------------------

_KEYWORD = re.compile(
    r"pass|pwd|secret|token|api[_-]?key|apikey|credential|auth|(?:private|access|signing|encryption|master)[_-]?key",
    re.IGNORECASE,
)
_IDENT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_KEY_PARTS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_SECRET_PARTS = frozenset(
    {
        "pass",
        "passwd",
        "password",
        "passwords",
        "passphrase",
        "pwd",
        "pw",
        "secret",
        "secrets",
        "token",
        "tokens",
        "apikey",
        "credential",
        "credentials",
        "auth",
        "authkey",
    }
)
_KEY_SECOND = frozenset({"api", "access", "private", "secret", "auth", "signing", "encryption", "master"})
# Parts that make a key a setting about secrets rather than a secret.
_SETTING_PARTS = frozenset(
    {
        "length",
        "len",
        "min",
        "max",
        "age",
        "days",
        "expiry",
        "expires",
        "expiration",
        "minutes",
        "seconds",
        "hours",
        "ttl",
        "timeout",
        "policy",
        "rules",
        "rule",
        "field",
        "reset",
        "hint",
        "url",
        "uri",
        "file",
        "path",
        "enabled",
        "required",
        "type",
        "header",
        "name",
        "count",
        "attempts",
        "retries",
        "strength",
        "complexity",
        "history",
        "lifetime",
        "format",
        "endpoint",
        "manager",
        "prompt",
        "label",
        "id",
    }
)
_SEPARATOR = re.compile(r"[\"']?\s{0,3}(?:=>|:=|==|=|:)\s{0,3}|\s{1,3}(?:is|was)\s{1,3}")
_CLOSE = {"(": ")", "[": "]", "{": "}", '"': '"', "'": "'", "`": "`", "<": ">"}
_VALUE_TOKEN = re.compile(r"[^\s'\",\[\](){}`]+")
_TRAILING = ".,;:!?)]}>'\""
_WORD = re.compile(r"^[A-Za-z][a-z]+$|^[A-Z]+$")

_PLACEHOLDER = re.compile(
    r"""^(?:
        [*•xX.#_\-0?]+ |                                  # ****, xxxx, ...., 0000
        <[^>]*> | \[[^\]]*\] | \$\{?[A-Za-z_][A-Za-z0-9_]*\}? | %[A-Za-z_]+% | \{\{.*\}\} |
        .*(?:\.\.\.|…).* |                                # "sk-proj-...your key..."
        (?:insert|replace|enter|put|add|paste|fill|set|change)[-_ ]?.* |
        .*(?:[-_ ]here|_?placeholder|[-_]?example|[-_]?sample|changeme|change[-_]me)$ |
        (?:your|my|the|a|an|some|new|old)[-_ ].* | your[A-Z_].* |
        your(?:key|token|secret|password|pass).* |
        redacted | \[redacted\] | hidden | removed | none | null | nil | n/?a | required | optional |
        unchanged | changed | reset | rotated | revoked | expired | invalid | example | sample |
        placeholder | dummy | fake | test | testing | todo | tbd | fixme | secret | password | passwd |
        token | apikey | api[-_]key | true | false | empty | default | env | undefined | string | str |
        value | xxx.* | replace_me | replaceme
    )$""",
    re.IGNORECASE | re.VERBOSE,
)


def _key_is_secret(key: str) -> bool:
    parts = [p.lower() for p in _KEY_PARTS.findall(key)]
    if not parts or any(p in _SETTING_PARTS for p in parts):
        return False
    for position, part in enumerate(parts):
        if part in _SECRET_PARTS:
            return True
        if part == "key" and position and parts[position - 1] in _KEY_SECOND:
            return True
    return False


def is_placeholder(value: str) -> bool:
    """Whether an assigned value is a stand-in rather than a secret."""
    value = value.strip().strip("'\"`")
    if len(value) < 4 or _PLACEHOLDER.match(value):
        return True
    core = re.sub(r"[^A-Za-z0-9]", "", value)
    return len(set(core.lower())) < 3 or "xxxx" in value.lower()


def _stand_in(token: str) -> bool:
    """A provider-shaped token that is visibly a stand-in: "glpat-XXXXXXXXXXXXXXXXXXXX"."""
    tail = re.sub(r"[^A-Za-z0-9]", "", token)[-16:]
    return len(set(tail.lower())) < 4 or "xxxx" in token.lower() or "..." in token


def _read_value(text: str, start: int) -> tuple[int, int, str] | None:
    """The value after a separator: quoted, bracketed or bare, on one line."""
    if start >= len(text):
        return None
    first = text[start]
    limit = min(len(text), start + 300)
    if first in _CLOSE:
        close = text.find(_CLOSE[first], start + 1, limit)
        newline = text.find("\n", start + 1, limit)
        if close < 0 or (0 <= newline < close):
            return None
        inner = text[start + 1 : close]
        if first in "([{<":
            tokens = [t for t in _VALUE_TOKEN.findall(inner)]
            # A bracketed list of values: the secret is any one of them.
            useful = [t for t in tokens if not is_placeholder(t)]
            if not useful:
                return None
            return start, close + 1, max(useful, key=len)
        return start, close + 1, inner
    end = start
    while end < limit and not text[end].isspace():
        end += 1
    value = text[start:end].rstrip(_TRAILING)
    if not value:
        return None
    return start, start + len(value), value


def _value_is_secret(value: str, loose: bool) -> bool:
    value = value.strip()
    if is_placeholder(value):
        return False
    if value.isdigit():
        return len(value) >= 6
    # "password: required", "the token is valid": a plain word in prose is no secret.
    return not (loose and _WORD.match(value))


def _assignments(text: str) -> Iterator[RawHit]:
    last = -1
    for match in _KEYWORD.finditer(text):
        if match.start() < last:
            continue
        start = match.start()
        while start > 0 and match.start() - start < 48 and text[start - 1] in _IDENT:
            start -= 1
        end = match.end()
        while end < len(text) and end - match.end() < 48 and text[end] in _IDENT:
            end += 1
        key = text[start:end].strip(".-")
        last = end
        if not _key_is_secret(key):
            continue
        sep = _SEPARATOR.match(text, end)
        if sep is None:
            continue
        loose = "=" not in sep.group()
        read = _read_value(text, sep.end())
        if read is None:
            continue
        vstart, vend, value = read
        if _value_is_secret(value, loose):
            last = vend
            yield RawHit(vstart, vend, "secret", "assignment", VALIDATED if not loose else PLAUSIBLE)


# Token formats maintained by detect-secrets (Yelp) that the table above does not
# carry: its plugins' own expressions run in process over our normalised text, no
# verification calls, so it works offline. Imported only when a cheap hint occurs
# (the library pulls in 'requests', a quarter of a second).
_LIBRARY_PLUGINS = (
    ("mailchimp", "MailchimpDetector", "mailchimp-key"),
    ("azure_storage_key", "AzureStorageKeyDetector", "azure-storage-key"),
    ("telegram_token", "TelegramBotTokenDetector", "telegram-token"),
    ("square_oauth", "SquareOAuthDetector", "square-oauth-secret"),
    ("artifactory", "ArtifactoryDetector", "artifactory-token"),
)
_LIBRARY_HINT = re.compile(
    r"-us\d|AccountKey=|\d{8,10}:[\w-]{35}|sq0csp-|(?<![\w])A(?:KC|P[\dA-F])[A-Za-z0-9]{8}"
)


@functools.cache
def _library_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    try:
        import importlib

        found: list[tuple[str, re.Pattern[str]]] = []
        for module, name, kind in _LIBRARY_PLUGINS:
            plugin = getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), name)
            found.extend((kind, pattern) for pattern in plugin.denylist)
        return tuple(found)
    except (ImportError, AttributeError, TypeError):  # not installed, or its layout changed
        return ()


def _library(text: str) -> Iterator[RawHit]:
    if not _LIBRARY_HINT.search(text):
        return
    for kind, pattern in _library_patterns():
        for match in pattern.finditer(text):
            start, end = match.span(1) if pattern.groups else match.span()
            value = text[start:end].strip(" \t=:\"'")
            if not value or _stand_in(value):
                continue
            start = text.index(value, start)
            yield RawHit(start, start + len(value), "secret", kind)


def secret(text: str) -> Iterator[RawHit]:
    yield from _library(text)
    for kind, pattern, hint in _PROVIDERS:
        if hint not in text:
            continue
        for match in pattern.finditer(text):
            value = match.group("value") if "value" in pattern.groupindex else match.group()
            if not kind.endswith(("private-key", "webhook")) and _stand_in(value):
                continue
            if kind == "twilio-key" and not _SERVICE_SID.match(value):
                continue
            start = match.start("value") if "value" in pattern.groupindex else match.start()
            yield RawHit(start, start + len(value), "secret", kind)
    yield from _assignments(text)
