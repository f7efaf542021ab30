"""What a built-in detector yields: a span of the normalised text, what found it, and
how sure it is.

Confidence ranks a hit, it never gates it. ``validated`` means a checksum or a
registry confirmed the value (Luhn with a known issuer, an IBAN's mod-97 and national
check, a valid phone number for its region); ``plausible`` means the value has the
right shape but failed or skipped validation (a card-length run passing Luhn in an
unknown range, a possible but unallocated phone number, an id whose check digit is
wrong); ``contextual`` means the surrounding words make it one (a labelled id, an
address written out as "name at example dot org").
"""

from __future__ import annotations

from dataclasses import dataclass

VALIDATED = "validated"
PLAUSIBLE = "plausible"
CONTEXTUAL = "contextual"
CONFIDENCE_RANK = {VALIDATED: 0, PLAUSIBLE: 1, CONTEXTUAL: 2}


@dataclass(frozen=True)
class RawHit:
    start: int
    end: int
    detector: str  # built-in name
    kind: str  # what exactly: "aws-access-key", "us-ssn", "visa", ...
    confidence: str = VALIDATED
