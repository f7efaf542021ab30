"""Built-in detectors. Each runs over normalised text and yields raw hits with a
confidence (see :mod:`clearance.scan.hits`).

Validation goes to well-kept libraries where they exist: ``phonenumbers`` for phone
numbers, ``python-stdnum`` for Luhn, IBAN and national identifiers, ``ipaddress`` for
IP addresses. Every regular expression is compiled once, at import. Cheap pre-checks
(is there an '@', are there enough digits) keep clean text fast.

The names here are the ones data classes list under ``detectors.builtin``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from clearance.scan.contacts import PHONE_REGIONS, email, ip_address, phone, region_of, url_credentials
from clearance.scan.hits import CONFIDENCE_RANK, CONTEXTUAL, PLAUSIBLE, VALIDATED, RawHit
from clearance.scan.identity import national_id
from clearance.scan.numbers import card_kind, iban, payment_card
from clearance.scan.secrets import is_placeholder, secret

__all__ = [
    "BUILTINS",
    "CONTEXTUAL",
    "PHONE_REGIONS",
    "PLAUSIBLE",
    "SPECIFICITY",
    "VALIDATED",
    "RawHit",
    "card_kind",
    "is_placeholder",
    "region_of",
    "resolve_overlaps",
    "run_all",
]

Detect = Callable[[str], Iterator[RawHit]]


def _phone_detector(region: str | None) -> Detect:
    return lambda text: phone(text, region)


# Built-in detectors by name, most specific first: when two built-in hits overlap,
# the more confident one wins, and between equally confident ones the more specific
# (an IBAN beats the card-like digits inside it; a card is not also a phone number).
BUILTINS: dict[str, Detect] = {
    "secret": secret,
    "url-credentials": url_credentials,
    "iban": iban,
    "payment-card": payment_card,
    "national-id": national_id,
    "email": email,
    "ip-address": ip_address,
    "phone": phone,
}
SPECIFICITY = {name: rank for rank, name in enumerate(BUILTINS)}


def resolve_overlaps(found: list[RawHit]) -> list[RawHit]:
    """Keep, of every set of overlapping hits, the strongest: by confidence, then
    specificity, then length. O(h log h + total hit length): hits are ranked once,
    and each kept hit marks the characters it covers in a byte array that later
    hits test with one C-level search."""
    if len(found) < 2:
        return list(found)
    found = sorted(
        found,
        key=lambda h: (CONFIDENCE_RANK[h.confidence], SPECIFICITY[h.detector], h.start - h.end, h.start),
    )
    size = max(h.end for h in found)
    covered = bytearray(size)
    kept: list[RawHit] = []
    for hit in found:
        if hit.end <= hit.start or covered.find(1, hit.start, hit.end) >= 0:
            continue
        covered[hit.start : hit.end] = b"\x01" * (hit.end - hit.start)
        kept.append(hit)
    kept.sort(key=lambda h: (h.start, h.end))
    return kept


def run_all(text: str, region: str | None = None) -> list[RawHit]:
    """Every built-in hit in ``text`` with overlaps resolved. ``region`` is the
    text's own region for phone numbers written without a country code."""
    found: list[RawHit] = []
    for name, detect in BUILTINS.items():
        if name == "phone":
            found.extend(phone(text, region))
        else:
            found.extend(detect(text))
    return resolve_overlaps(found)
