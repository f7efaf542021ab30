"""Payment cards and IBANs: digit runs and account numbers, validated where a
checksum exists, reported as plausible where only the shape fits.

A card is any run of 12 to 19 digits, written with one kind of separator (space,
``-``, ``.``, ``/``, ``_``) or none, that passes Luhn. A known issuer range and
length (Visa, Mastercard, Amex, Discover, JCB including 15-digit 2131/1800, Diners,
UnionPay, Maestro from 12 digits, Mir, RuPay, Verve) makes it ``validated``; any
other prefix ``plausible``, unless the words just before it call it an order,
invoice, tracking or other reference number. An IBAN is matched in any letter case,
spaced or compact; mod-97 must hold, the national check makes it ``validated``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from stdnum import iban as _iban
from stdnum.exceptions import InvalidComponent

from clearance.scan.hits import PLAUSIBLE, VALIDATED, RawHit

# Groups of digits joined by single separators; a '+' or a letter before it makes it
# something else (a phone number, an id with a prefix).
_DIGIT_RUN = re.compile(r"(?<![\w+])\d+(?:[ ._/-]\d+)*(?![\w])")
_GROUP = re.compile(r"\d+")
_ENOUGH_DIGITS = re.compile(r"\d{3}")


def _words(text: str) -> list[str]:
    return text.split()


# (prefixes, lengths, kind)
_ISSUERS: tuple[tuple[tuple[str, ...], frozenset[int], str], ...] = (
    (("4",), frozenset({13, 16, 19}), "visa"),
    (("34", "37"), frozenset({15}), "amex"),
    (
        (*(f"5{d}" for d in "12345"), *(str(n) for n in range(2221, 2721))),
        frozenset({16}),
        "mastercard",
    ),
    (("6011", "644", "645", "646", "647", "648", "649", "65"), frozenset({16, 17, 18, 19}), "discover"),
    (("3528", "3529", *(str(n) for n in range(353, 359))), frozenset({16, 17, 18, 19}), "jcb"),
    (("2131", "1800"), frozenset({15}), "jcb"),
    (
        ("300", "301", "302", "303", "304", "305", "36", "38", "39"),
        frozenset({14, 15, 16, 17, 18, 19}),
        "diners",
    ),
    (("62", "81"), frozenset({16, 17, 18, 19}), "unionpay"),
    (("50", "56", "57", "58", "6"), frozenset(range(12, 20)), "maestro"),
    (("2200", "2201", "2202", "2203", "2204"), frozenset({16, 17, 18, 19}), "mir"),
    (("60", "65", "81", "82", "508", "353", "356"), frozenset({16}), "rupay"),
    (("5060", "5061", "5078", "5079", "6500"), frozenset({16, 18, 19}), "verve"),
)
_NOT_A_CARD_LABEL = re.compile(
    r"(?i)\b(?:order|invoice|inv|receipt|tracking|track|pa"
    r"rcel|shipment|consignment|case|ticket|ref|reference|"
    r"isbn|ean|upc|gtin|sku|serial|imei|iccid|batch|lot|account|acct|customer|member|policy|claim|"
    r"transaction|txn|booking|confirmation|request|id)\b[^\n\d]{0,12}$"
)


_DOUBLED = str.maketrans("0123456789", "0246813579")  # 2d, minus 9 when over 9


def luhn_sum(digits: str, last_doubled: bool) -> int:
    """The Luhn sum of ``digits`` as part of a longer number: the last digit doubled
    or not, alternating leftwards."""
    if last_doubled:
        return sum(map(int, digits[-1::-2].translate(_DOUBLED))) + sum(map(int, digits[-2::-2]))
    return sum(map(int, digits[-1::-2])) + sum(map(int, digits[-2::-2].translate(_DOUBLED)))


def card_kind(digits: str) -> str | None:
    """The issuer of a Luhn-valid number, or None when no known range fits."""
    for prefixes, lengths, kind in _ISSUERS:
        if len(digits) in lengths and digits.startswith(prefixes):
            return kind
    return None


def _cards_in_run(text: str, run: re.Match[str]) -> Iterator[RawHit]:
    raw = run.group()
    spans = [m.span() for m in _GROUP.finditer(raw)]
    values = [raw[a:b] for a, b in spans]
    seps = [raw[spans[i][1] : spans[i + 1][0]] for i in range(len(spans) - 1)]
    count = len(values)
    # Each group's Luhn sum for both parities of its last digit: a window's sum is
    # then a few additions instead of a pass over its digits.
    # Computed only for groups a window reaches (a run of short groups needs none).
    plain: list[int | None] = [None] * count
    doubled: list[int | None] = [None] * count

    def window_valid(lo: int, hi: int) -> bool:
        total = 0
        offset = 0
        for index in range(hi, lo - 1, -1):
            table = doubled if offset % 2 else plain
            value = table[index]
            if value is None:
                value = table[index] = luhn_sum(values[index], table is doubled)
            total += value
            offset += len(values[index])
        return total % 10 == 0

    # Windows of consecutive groups, one separator kind, 12-19 digits; the longest
    # from each start wins, and a found card consumes its groups. A card's first
    # group has at least four digits in every issuer's format, so a run of short
    # groups ("111 111 111 ...") is passed over without any arithmetic.
    first = 0
    while first < count:
        digits = values[first]
        if len(digits) < 4:
            first += 1
            continue
        found = (first, digits) if 12 <= len(digits) <= 19 and window_valid(first, first) else None
        sep = seps[first] if first < count - 1 else None
        last = first
        while last + 1 < count and seps[last] == sep and len(digits) + len(values[last + 1]) <= 19:
            last += 1
            digits += values[last]
            if len(digits) >= 12 and window_valid(first, last):
                found = (last, digits)
        if found is None:
            first += 1
            continue
        last, digits = found
        start = run.start() + spans[first][0]
        end = run.start() + spans[last][1]
        kind = card_kind(digits)
        if kind is not None:
            yield RawHit(start, end, "payment-card", kind, VALIDATED)
        elif not _NOT_A_CARD_LABEL.search(text, max(0, start - 40), start):
            yield RawHit(start, end, "payment-card", "card", PLAUSIBLE)
        first = last + 1


def payment_card(text: str) -> Iterator[RawHit]:
    if not _ENOUGH_DIGITS.search(text):
        return
    for run in _DIGIT_RUN.finditer(text):
        if run.end() - run.start() >= 12:
            yield from _cards_in_run(text, run)


# --- IBAN ----------------------------------------------------------------------------

_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]{1,4}){3,9}(?![A-Za-z0-9])"
    r"|(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}[A-Za-z0-9]{11,30}(?![A-Za-z0-9])"
)
_IBAN_GROUPS = re.compile(r"[A-Za-z0-9]+")


def _mod97(compact: str) -> bool:
    moved = compact[4:] + compact[:4]
    try:
        return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1
    except ValueError:
        return False


def _iban_confidence(candidate: str) -> str | None:
    if not 15 <= len(candidate) <= 34 or not _mod97(candidate):
        return None
    try:
        _iban.validate(candidate)
    except InvalidComponent:
        return PLAUSIBLE  # mod-97 holds; the national check or format does not
    except Exception:  # stdnum raises a family of ValidationError
        return PLAUSIBLE  # a known country and mod-97: the length or format is off
    return VALIDATED


_IBAN_COUNTRIES = frozenset(
    _words(
        "AD AE AL AT AZ BA BE BG BH BR BY CH CR CY CZ DE DK DO EE"
        " EG ES FI FO FR GB GE GI GL GR GT HR HU IE IL IQ IS "
        "IT JO KW KZ LB LC LI LT LU LV LY MC MD ME MK MR MT MU NL"
        " NO PK PL PS PT QA RO RS SA SC SE SI SK SM ST SV TL "
        "TN TR UA VA VG XK"
    )
)


def iban(text: str) -> Iterator[RawHit]:
    for match in _IBAN.finditer(text):
        groups = list(_IBAN_GROUPS.finditer(match.group()))
        # The pattern may run on into following words; try the longest run of
        # groups that is an IBAN.
        for count in range(len(groups), 0, -1):
            candidate = "".join(g.group() for g in groups[:count]).upper()
            if len(candidate) < 15:
                break
            if candidate[:2] not in _IBAN_COUNTRIES:
                break
            confidence = _iban_confidence(candidate)
            if confidence is not None:
                yield RawHit(
                    match.start(), match.start() + groups[count - 1].end(), "iban", "iban", confidence
                )
                break
