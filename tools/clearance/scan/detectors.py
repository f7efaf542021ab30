"""Built-in detectors. Each runs over normalised text and yields raw hits.

Validation goes to well-kept libraries where they exist: ``phonenumbers`` for phone
numbers, ``python-stdnum`` for Luhn, IBAN and national identifiers, ``ipaddress`` for
IP addresses. Every regular expression is compiled once, at import. Cheap pre-checks
(is there an '@', are there enough digits) keep clean text fast.

The names here are the ones data classes list under ``detectors.builtin``.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import phonenumbers
from stdnum import iban as _iban
from stdnum import luhn as _luhn
from stdnum.ca import sin as _ca_sin
from stdnum.de import idnr as _de_idnr
from stdnum.es import dni as _es_dni
from stdnum.es import nie as _es_nie
from stdnum.fr import nir as _fr_nir
from stdnum.it import codicefiscale as _it_cf
from stdnum.us import ssn as _us_ssn


@dataclass(frozen=True)
class RawHit:
    start: int
    end: int
    detector: str  # built-in name
    kind: str  # what exactly: "aws-access-key", "us-ssn", "visa", ...


Detect = Callable[[str], Iterator[RawHit]]
_DIGIT = re.compile(r"\d")

# --- email -----------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.+%-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,24}(?![\w-])"
)


def email(text: str) -> Iterator[RawHit]:
    if "@" not in text:
        return
    for match in _EMAIL.finditer(text):
        yield RawHit(match.start(), match.end(), "email", "email")


# --- url credentials ---------------------------------------------------------------

_URL_CREDENTIALS = re.compile(
    r"\b[A-Za-z][A-Za-z0-9+.-]{1,20}://[^\s/:@<>\"']{1,128}:[^\s/@<>\"']{1,256}@[^\s/<>\"']+"
)


def url_credentials(text: str) -> Iterator[RawHit]:
    if "://" not in text:
        return
    for match in _URL_CREDENTIALS.finditer(text):
        yield RawHit(match.start(), match.end(), "url-credentials", "url-credentials")


# --- secrets -------------------------------------------------------------------------

_SECRETS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private-key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----")),
    (
        "aws-access-key",
        re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
    ),
    (
        "github-token",
        re.compile(
            r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])"
        ),
    ),
    ("slack-token", re.compile(r"(?<![A-Za-z0-9])xox[abposre]-[A-Za-z0-9-]{10,200}(?![A-Za-z0-9])")),
    ("slack-webhook", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,}")),
    ("google-api-key", re.compile(r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])")),
    ("stripe-key", re.compile(r"(?<![A-Za-z0-9])(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}(?![A-Za-z0-9])")),
    (
        "jwt",
        re.compile(
            r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(?![A-Za-z0-9_-])"
        ),
    ),
)
_SECRET_HINTS = (
    "-----BEGIN",
    "AKIA",
    "ASIA",
    "AGPA",
    "AIDA",
    "AROA",
    "ANPA",
    "ANVA",
    "AIPA",
    "gh",
    "github_pat_",
    "xox",
    "hooks.slack",
    "AIza",
    "_live_",
    "_test_",
    "eyJ",
)
_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9])(?P<key>pass(?:word|wd|phrase)?|pwd|secret(?:[_-]?key)?|api[_-]?key|apikey|"
    r"access[_-]?key(?:[_-]?id)?|secret[_-]?access[_-]?key|(?:access|auth|api|bearer|refresh)[_-]?token|"
    r"client[_-]?secret|private[_-]?key|token)"
    r"(?P<sep>\s*(?:=|:=|:)\s*|\s+is\s+)(?P<quote>[\"']?)(?P<value>[^\s\"'`,;<>(){}\[\]]{4,200})",
    re.IGNORECASE,
)
_ASSIGNMENT_KEYS = re.compile(r"pass|pwd|secret|key|token", re.IGNORECASE)
_NOT_A_SECRET = re.compile(
    r"^(?:[*•xX.#-]+|<[^>]*>|redacted|\[redacted\]|hidden|removed|none|null|n/?a|required|"
    r"optional|unchanged|changed|reset|rotated|revoked|expired|invalid|example|sample|"
    r"placeholder|your[-_a-z]*|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|%[A-Za-z_]+%)$",
    re.IGNORECASE,
)


def _assignment_value_is_secret(sep: str, quote: str, value: str) -> bool:
    value = value.rstrip(".!?:")
    if len(value) < 4 or _NOT_A_SECRET.match(value):
        return False
    if "=" in sep or quote:
        return True
    # "password: ..." or "token is ..." in prose: only values that do not read as a
    # plain word (they have a digit, a symbol, or mixed case after the first letter).
    if value.isalpha() and (value.islower() or value[1:].islower()):
        return False
    return not value.isdigit() or len(value) >= 6


def secret(text: str) -> Iterator[RawHit]:
    if any(hint in text for hint in _SECRET_HINTS):
        for kind, pattern in _SECRETS:
            for match in pattern.finditer(text):
                yield RawHit(match.start(), match.end(), "secret", kind)
    if _ASSIGNMENT_KEYS.search(text):
        for match in _ASSIGNMENT.finditer(text):
            if _assignment_value_is_secret(match.group("sep"), match.group("quote"), match.group("value")):
                value = match.group("value").rstrip(".!?:")
                start = match.start("value")
                yield RawHit(start, start + len(value), "secret", "assignment")


# --- payment cards -------------------------------------------------------------------

_CARD = re.compile(r"(?<![\d.,/-])\d(?:[ -]?\d){12,18}(?![\d]|[.,/-]\d)")
_ENOUGH_DIGITS_13 = re.compile(r"(?:\d\D{0,2}){13}")
# Issuer prefixes in use (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay,
# Maestro, Mir): a 16-digit order number that happens to pass Luhn but starts with
# 0, 1, 7, 8 or 9 is not a card.
_CARD_PREFIX = re.compile(r"^(?:4|5[0-8]|2[2-7]|3[4-9]|30|6[0-9])")


def _card_kind(digits: str) -> str:
    if digits[0] == "4":
        return "visa"
    if digits[:2] in ("34", "37"):
        return "amex"
    if digits[0] == "5" or digits[:2] in ("22", "23", "24", "25", "26", "27"):
        return "mastercard"
    if digits[0] == "6":
        return "discover"
    return "card"


def payment_card(text: str) -> Iterator[RawHit]:
    if not _ENOUGH_DIGITS_13.search(text):
        return
    for match in _CARD.finditer(text):
        raw = match.group()
        digits = raw.replace(" ", "").replace("-", "")
        if not 13 <= len(digits) <= 19 or not _CARD_PREFIX.match(digits):
            continue
        separators = {c for c in raw if not c.isdigit()}
        if len(separators) > 1:
            continue  # "4111 1111-1111 1111" mixes separators: not how cards are written
        if _luhn.is_valid(digits):
            yield RawHit(match.start(), match.end(), "payment-card", _card_kind(digits))


# --- IBAN ----------------------------------------------------------------------------

_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4}){3,8}(?![A-Za-z0-9])")
_IBAN_GROUPS = re.compile(r"\S+")


def iban(text: str) -> Iterator[RawHit]:
    for match in _IBAN.finditer(text):
        groups = list(_IBAN_GROUPS.finditer(match.group()))
        # The pattern may run on into a following word in capitals; try the longest
        # run of groups that is a valid IBAN.
        for count in range(len(groups), 0, -1):
            candidate = "".join(g.group() for g in groups[:count])
            if len(candidate) < 15:
                break
            if _iban.is_valid(candidate):
                yield RawHit(match.start(), match.start() + groups[count - 1].end(), "iban", "iban")
                break


# --- national identifiers ------------------------------------------------------------

_SSN = re.compile(r"(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w]|-\d)")
_SSN_LABELLED = re.compile(r"(?i)\b(?:ssn|social security(?: number| no\.?)?)\s*[:#]?\s*(\d{9})\b")
_NINO = re.compile(
    r"(?<![A-Za-z0-9])([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])"
    r"(?![A-Za-z0-9])"
)
_NINO_BAD_PREFIX = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})
_DNI = re.compile(r"(?<![A-Za-z0-9])\d{8}-?[A-Z](?![A-Za-z0-9])")
_NIE = re.compile(r"(?<![A-Za-z0-9])[XYZ]-?\d{7}-?[A-Z](?![A-Za-z0-9])")
_CODICE_FISCALE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z](?![A-Za-z0-9])")
_NIR = re.compile(
    r"(?<![\w])[12] ?\d{2} ?(?:0[1-9]|1[0-2]|[2-9]\d) ?(?:\d{2}|2A|2B) ?\d{3} ?\d{3} ?\d{2}(?![\w])"
)
_IDNR = re.compile(r"(?<![\w.,/-])[1-9]\d ?\d{3} ?\d{3} ?\d{3}(?![\w]|[.,/-]\d)")
_SIN = re.compile(r"(?<![\w.,/-])[1-9]\d{2}([ -])\d{3}\1\d{3}(?![\w]|[.,/-]\d)")


def national_id(text: str) -> Iterator[RawHit]:
    if not _DIGIT.search(text):
        return
    for match in _SSN.finditer(text):
        compact = match.group(1) + match.group(3) + match.group(4)
        if _us_ssn.is_valid(compact):
            yield RawHit(match.start(), match.end(), "national-id", "us-ssn")
    for match in _SSN_LABELLED.finditer(text):
        if _us_ssn.is_valid(match.group(1)):
            yield RawHit(match.start(1), match.end(1), "national-id", "us-ssn")
    for match in _NINO.finditer(text):
        if match.group(1) not in _NINO_BAD_PREFIX:
            yield RawHit(match.start(), match.end(), "national-id", "uk-nino")
    for pattern, module, kind in (
        (_DNI, _es_dni, "es-dni"),
        (_NIE, _es_nie, "es-nie"),
        (_CODICE_FISCALE, _it_cf, "it-codice-fiscale"),
        (_NIR, _fr_nir, "fr-nir"),
        (_IDNR, _de_idnr, "de-tax-id"),
        (_SIN, _ca_sin, "ca-sin"),
    ):
        for match in pattern.finditer(text):
            if module.is_valid(match.group()):
                yield RawHit(match.start(), match.end(), "national-id", kind)


# --- IP addresses ----------------------------------------------------------------------

_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?=[0-9A-Fa-f:]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:]{2,39}(?:\.\d{1,3}){0,3}(?![\w:])")
_VERSION_CONTEXT = re.compile(
    r"(?i)(?:\bv|\bversion|\brelease|\bbuild|\bver\.?|\bfirmware|\bapp|\bios|\bandroid)\s*$"
)


def ip_address(text: str) -> Iterator[RawHit]:
    if "." in text:
        for match in _IPV4.finditer(text):
            try:
                ipaddress.IPv4Address(match.group())
            except ValueError:
                continue
            if _VERSION_CONTEXT.search(text, max(0, match.start() - 12), match.start()):
                continue
            yield RawHit(match.start(), match.end(), "ip-address", "ipv4")
    if "::" in text or text.count(":") >= 7:
        for match in _IPV6.finditer(text):
            value = match.group()
            if value.count(":") < 2 or not any(c not in ":" for c in value):
                continue
            try:
                ipaddress.IPv6Address(value)
            except ValueError:
                continue
            yield RawHit(match.start(), match.end(), "ip-address", "ipv6")


# --- phone numbers -----------------------------------------------------------------

# Regions whose national formats are tried; numbers written with a leading + are
# found whatever the region.
PHONE_REGIONS = ("US", "GB", "DE", "FR", "IE", "NL", "ES", "IT", "AU", "IN")
_PHONE_CANDIDATE = re.compile(r"(?:\+|\b00|\()?\d[\d ().\-/]{5,24}\d")
_DATE_LIKE = re.compile(
    r"^\(?(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2}))(?:$|\s+\d{1,2}(?::|$))"
)
# Words that say a number is something other than a phone number.
_NOT_PHONE_LABEL = re.compile(
    r"(?i)\b(?:company|registration|reg|vat|order|invoice|case|ticket|ref|reference|tracking|sku|lot|"
    r"batch|serial|receipt|item|product|model|isbn|ean|no|number|#)\.?\s*(?:no\.?|number|#|:)?\s*$"
)
_SSN_SHAPE = re.compile(r"^\d{3}([- ])\d{2}\1\d{4}$")
_PHONE_LABEL = re.compile(r"(?i)\b(?:phone|tel|telephone|mobile|cell|call|fax|whatsapp|sms|text)\b")


def _plausible_phone(text: str, start: int, raw: str) -> bool:
    if _DATE_LIKE.match(raw):
        return False
    if raw.startswith(("+", "00")):
        return True
    # A number in national format: not shaped like a US social security number, at
    # least 10 digits (9 when the text says it is a phone number), and not labelled
    # as an order, invoice, company or other reference number.
    if _SSN_SHAPE.match(raw):
        return False
    before = text[max(0, start - 30) : start]
    labelled = bool(_PHONE_LABEL.search(before))
    if len(_DIGIT.findall(raw)) < (9 if labelled else 10):
        return False
    return labelled or not _NOT_PHONE_LABEL.search(before)


@functools.lru_cache(maxsize=4096)
def _phone_matches(window: str) -> tuple[tuple[int, int, str, str], ...]:
    """Valid phone numbers in a short window, trying each region in turn. Cached:
    the same numbers (a support line, a hotline) recur across statements."""
    for region in PHONE_REGIONS:
        found = tuple(
            (m.start, m.end, m.raw_string, phonenumbers.region_code_for_number(m.number) or region)
            for m in phonenumbers.PhoneNumberMatcher(window, region, leniency=phonenumbers.Leniency.VALID)
        )
        if found:
            return found
    return ()


def phone(text: str) -> Iterator[RawHit]:
    seen: set[tuple[int, int]] = set()
    for candidate in _PHONE_CANDIDATE.finditer(text):
        raw = candidate.group()
        digits = len(_DIGIT.findall(raw))
        international = raw.startswith(("+", "00"))
        if digits < (7 if international else 9):
            continue  # cheaper to rule out here than in the matcher
        # Give the matcher a little context on each side (it looks at what precedes
        # and follows a number) but not the whole text.
        lo = max(0, candidate.start() - 3)
        hi = min(len(text), candidate.end() + 3)
        for start, end, number, region in _phone_matches(text[lo:hi]):
            span = (lo + start, lo + end)
            if span in seen or not _plausible_phone(text, span[0], number):
                continue
            seen.add(span)
            yield RawHit(span[0], span[1], "phone", region.lower())


# Built-in detectors by name, strongest first: when two built-in hits overlap, the
# earlier one in this order wins (a card number is not also a phone number).
BUILTINS: dict[str, Detect] = {
    "secret": secret,
    "url-credentials": url_credentials,
    "payment-card": payment_card,
    "iban": iban,
    "national-id": national_id,
    "email": email,
    "ip-address": ip_address,
    "phone": phone,
}
PRIORITY = {name: rank for rank, name in enumerate(BUILTINS)}


def run_all(text: str) -> list[RawHit]:
    """Every built-in hit in ``text`` with overlaps resolved by priority."""
    found: list[RawHit] = []
    for detect in BUILTINS.values():
        found.extend(detect(text))
    if len(found) < 2:
        return found
    found.sort(key=lambda h: (PRIORITY[h.detector], h.start, -(h.end - h.start)))
    kept: list[RawHit] = []
    for hit in found:
        if any(hit.start < other.end and other.start < hit.end for other in kept):
            continue
        kept.append(hit)
    kept.sort(key=lambda h: (h.start, h.end))
    return kept
