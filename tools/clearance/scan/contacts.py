"""Contact details and network addresses: email addresses (also written out as
"name [at] example [dot] org"), phone numbers, IP addresses.

Phone numbers go to ``phonenumbers``: a number it calls *possible* for a region is a
hit, a *valid* one is validated. Numbers written with a country code are found
whatever the region; national-format numbers are read for the text's own region
first (the incident's or the configuration's locale), then for a fixed list.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterator

import phonenumbers
from stdnum import luhn as _luhn

from clearance.scan.hits import CONTEXTUAL, PLAUSIBLE, VALIDATED, RawHit

_DIGIT = re.compile(r"\d")


def _words(text: str) -> list[str]:
    return text.split()


# --- email -----------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.+%-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,24}(?![\w-])"
)
# "name @ example.com": an address with spaces around the '@'.
_SPACED_AT = re.compile(
    r"(?<![\w.+%-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}[ \t]{1,2}@"
    r"[ \t]{1,2}(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}(?![\w-])"
)
_DOT = (
    r"(?:\s*(?:\[\s*(?:dot|\.)\s*\]|\(\s*(?:dot|\.)\s*\)|\{\s*(?:dot|\.)\s*\}|<\s*dot\s*>)\s*"
    r"|\s+(?:dot|DOT)\s+|\.)"
)
# A written-out address is read outwards from its "at": the domain forwards with an
# anchored match, the local part backwards with an anchored match on the reversed
# text, so each "at" in the text costs a bounded amount whatever surrounds it.
_DOMAIN_AFTER = re.compile(
    r"\s*(?P<domain>[A-Za-z0-9-]{1,63}(?:"
    + _DOT
    + r"[A-Za-z0-9-]{1,63}){0,3})"
    + _DOT
    + r"(?P<tld>[A-Za-z]{2,12})(?![\w-])",
    re.IGNORECASE,
)
_DOT_REVERSED = (
    r"(?:\s*(?:\]\s*(?:tod|\.)\s*\[|\)\s*(?:tod|\.)\s*\(|\}\s*(?:tod|\.)\s*\{|>\s*tod\s*<)\s*"
    r"|\s+(?:tod|TOD)\s+)"
)
_LOCAL_REVERSED = re.compile(
    r"[A-Za-z0-9._%+-]{1,64}(?:" + _DOT_REVERSED + r"[A-Za-z0-9._%+-]{1,64}){0,3}", re.IGNORECASE
)
_AT_TOKEN = re.compile(r"(?i)[\[({<]\s*(?:at|@)\s*[\])}>]|\sat\s")
_TLDS = frozenset(
    _words(
        "com org net edu gov io co uk de fr es it nl pl se fm me"
        " be at ch dk no fi ie pt cz hu ro gr ru ua tr in jp cn "
        "kr au nz ca us mx br ar cl za ng ke eg il ae sa sg my id ph th vn hk tw info biz app dev ai eu"
    )
)
_MAILBOXES = frozenset(
    _words(
        "gmail googlemail outlook hotmail live msn yahoo ymail aol"
        " icloud me mac proton protonmail pm gmx web posteo "
        "fastmail mail yandex zoho tutanota tuta rediffmail wp"
        " onet interia libero orange free laposte t-online "
        "btinternet sky virginmedia comcast verizon att qq 163 126 naver daum seznam telia"
    )
)
_MAIL_CUE = re.compile(
    r"(?i)(?:e-?mail|mail|contact|write|reach|address|dm|message)\w*\W{0,12}(?:\w+\W+){0,3}$"
)


def _clearly_an_address(text: str, start: int, local: str, at: str, domain: str, tld: str) -> bool:
    if tld.lower() not in _TLDS:
        return False
    if at not in ("at", "At"):
        return True  # "[at]", "(at)", "{at}" or a capital AT: written to disguise an address
    # "name at example dot org" in running prose: only with a sign it is an address.
    first = re.split(r"\W+", domain.lower())[0]
    if first in _MAILBOXES or re.search(r"[._\d]|\sdot\s", local, re.IGNORECASE):
        return True
    return bool(_MAIL_CUE.search(text, max(0, start - 40), start))


def _written_out(text: str) -> Iterator[RawHit]:
    end_of_last = 0
    for token in _AT_TOKEN.finditer(text):
        if token.start() < end_of_last:
            continue
        after = _DOMAIN_AFTER.match(text, token.end())
        if after is None:
            continue
        lo = max(end_of_last, token.start() - 160)
        before = text[lo : token.start()].rstrip()
        found = _LOCAL_REVERSED.match(before[::-1])
        if found is None:
            continue
        local = found.group()[::-1].lstrip("._%+-")
        start = lo + len(before) - len(local)
        if not local or (start and text[start - 1] == "@"):
            continue
        at = token.group().strip(" \t\n[](){}<>")
        if _clearly_an_address(text, start, local, at, after.group("domain"), after.group("tld")):
            end_of_last = after.end()
            yield RawHit(start, after.end(), "email", "obfuscated", CONTEXTUAL)


def email(text: str) -> Iterator[RawHit]:
    if "@" in text:
        for match in _EMAIL.finditer(text):
            yield RawHit(match.start(), match.end(), "email", "email", VALIDATED)
        for match in _SPACED_AT.finditer(text):
            yield RawHit(match.start(), match.end(), "email", "obfuscated", PLAUSIBLE)
    yield from _written_out(text)


# --- url credentials ---------------------------------------------------------------

_URL_CREDENTIALS = re.compile(
    r"\b[A-Za-z][A-Za-z0-9+.-]{1,20}://[^\s/:@<>\"']{1,128}:[^\s/@<>\"']{1,256}@[^\s/<>\"']+"
)


def url_credentials(text: str) -> Iterator[RawHit]:
    if "://" not in text:
        return
    for match in _URL_CREDENTIALS.finditer(text):
        yield RawHit(match.start(), match.end(), "url-credentials", "url-credentials")


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

# Regions whose national formats are tried after the text's own region.
PHONE_REGIONS = ("US", "GB", "DE", "FR", "IE", "NL", "ES", "IT", "AU", "IN")
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w/-])(?<!\d\.)(?:\+|00|\()?\d[\d ().\-/]{5,24}\d(?:\s{0,2}(?:x|ext\.?|extension)\s{0,2}\d{1,6})?"
)
_DATE_LIKE = re.compile(
    r"^\(?(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:\b|$)|\d{1,2}[-"
    r"/.]\d{1,2}[-/.](?:\d{4}|\d{2})(?:$|\s+\d{1,2}(?::|$)))"
)
# Words that say a number is something other than a phone number.
_NOT_PHONE_LABEL = re.compile(
    r"(?i)\b(?:company|registration|reg|vat|order|invoice|case|ticket|ref|reference|tracking|sku|lot|"
    r"batch|serial|receipt|item|product|model|isbn|ean|no|number|#|id|iban|account|acct|sort code|"
    r"ssn|nino|bsn|pesel|cpf|nhs|passport|aadhaar|sin|code|numbers|build|version|release|firmware|v)\.?\s*(?:no\.?|numbers?|#|:|=|is|was)?\s*$"
)
_EXTENSION = re.compile(r"\s{0,2}(?:x|ext\.?|extension)\s{0,2}\d{1,6}$")
_AFTER_DIGITS = re.compile(r"\d[ .-]?$")
_SSN_SHAPE = re.compile(r"^\d{3}([- ])\d{2}\1\d{4}$")
_PHONE_LABEL = re.compile(
    r"(?i)\b(?:phone|tel|telephone|mobile|cell|call|ring|fax|whatsapp|sms|text|num[eé]ro|"
    r"numero|rufnummer|handy|bel|chiamatemi|appelez|contact|reach)\b"
)


def region_of(locale: str | None) -> str | None:
    """The region of a locale ("en-GB", "de_DE", "FR") as phonenumbers names it."""
    if not locale:
        return None
    part = re.split(r"[-_]", locale.strip())[-1].upper()
    return part if len(part) == 2 and part.isalpha() else None


def _plausible_phone(text: str, start: int, raw: str) -> bool:
    raw = _EXTENSION.sub("", raw)
    if _DATE_LIKE.match(raw):
        return False
    if raw.startswith("+"):
        return True
    digits = "".join(_DIGIT.findall(raw))
    if digits.startswith(("978", "979")) and len(digits) == 13:
        return False  # an ISBN or EAN
    before = text[max(0, start - 30) : start]
    if raw.startswith("00"):
        return not _NOT_PHONE_LABEL.search(before)
    # A number in national format: not shaped like a US social security number, at
    # least 10 digits (9 when the text says it is a phone number), and not labelled
    # as an order, invoice, company or other reference number.
    if _SSN_SHAPE.match(raw):
        return False
    labelled = bool(_PHONE_LABEL.search(before))
    if not (9 if labelled else 10) <= len(digits) <= 12:
        return False  # longer national numbers are card, account or product numbers
    return labelled or not _NOT_PHONE_LABEL.search(before)


@functools.lru_cache(maxsize=4096)
def _phone_matches(window: str, first: str | None) -> tuple[tuple[int, int, str, str, bool], ...]:
    """Possible phone numbers in a short window, trying the text's region and then
    each listed region. Cached: the same numbers (a support line, a hotline) recur
    across statements."""
    regions = (first, *(r for r in PHONE_REGIONS if r != first)) if first else PHONE_REGIONS
    fallback: tuple[tuple[int, int, str, str, bool], ...] = ()
    for region in regions:
        found = tuple(
            (
                m.start,
                m.end,
                m.raw_string,
                phonenumbers.region_code_for_number(m.number) or region,
                phonenumbers.is_valid_number(m.number),
            )
            for m in phonenumbers.PhoneNumberMatcher(window, region, leniency=phonenumbers.Leniency.POSSIBLE)
        )
        if found and all(valid for *_, valid in found):
            return found
        if found and not fallback:
            fallback = found  # possible here; a later region may call it valid
    return fallback


def _is_card_run(raw: str) -> bool:
    compact = "".join(_DIGIT.findall(raw))
    return 13 <= len(compact) <= 19 and _luhn.is_valid(compact)


def phone(text: str, region: str | None = None) -> Iterator[RawHit]:
    seen: set[tuple[int, int]] = set()
    for candidate in _PHONE_CANDIDATE.finditer(text):
        raw = _EXTENSION.sub("", candidate.group())
        digits = len(_DIGIT.findall(raw))
        international = raw.startswith(("+", "00"))
        least = 7 if raw.startswith("+") else 10 if international else 9  # "00" + country + number
        if digits < least or digits > 17:
            continue  # cheaper to rule out here than in the matcher
        if not international and digits > 12 and _is_card_run(raw):
            continue  # a card number (the card detector's), never a phone number
        # Give the matcher a little context on each side (it looks at what precedes
        # and follows a number) but not the whole text.
        lo = max(0, candidate.start() - 3)
        hi = min(len(text), candidate.end() + 3)
        for start, end, number, found_region, valid in _phone_matches(text[lo:hi], region):
            span = (lo + start, lo + end)
            if span in seen or (span[0] and text[span[0] - 1].isalnum()):
                continue  # the matcher's context ran into a code such as "AA1 01 2345"
            if not number.startswith(("+", "00")) and _AFTER_DIGITS.search(
                text, max(0, span[0] - 2), span[0]
            ):
                continue  # the tail of a longer number (an account, an IBAN with a bad check)
            if not _plausible_phone(text, span[0], number):
                continue
            seen.add(span)
            yield RawHit(span[0], span[1], "phone", found_region.lower(), VALIDATED if valid else PLAUSIBLE)
