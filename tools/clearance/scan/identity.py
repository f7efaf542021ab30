"""National identifiers: validated where python-stdnum knows the scheme, plausible
where the shape fits but the checksum fails or no library covers the scheme, and
contextual where a label names it ("BSN 111222333", "passport no. 533380006").

In a public statement a shape-plausible identifier is a leak risk whether or not
its check digit is right, so a failed checksum lowers confidence, never drops the
hit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from stdnum.br import cpf as _br_cpf
from stdnum.ca import sin as _ca_sin
from stdnum.de import idnr as _de_idnr
from stdnum.dk import cpr as _dk_cpr
from stdnum.es import dni as _es_dni
from stdnum.es import nie as _es_nie
from stdnum.fi import hetu as _fi_hetu
from stdnum.fr import nir as _fr_nir
from stdnum.gb import nhs as _gb_nhs
from stdnum.in_ import aadhaar as _in_aadhaar
from stdnum.it import codicefiscale as _it_cf
from stdnum.nl import bsn as _nl_bsn
from stdnum.pl import pesel as _pl_pesel
from stdnum.se import personnummer as _se_pnr
from stdnum.us import ssn as _us_ssn

from clearance.scan.hits import CONTEXTUAL, PLAUSIBLE, VALIDATED, RawHit
from clearance.scan.numbers import luhn_sum

Validator = Callable[[str], bool] | None
_DIGIT = re.compile(r"\d")


def _sg_nric(value: str) -> bool:
    value = value.upper()
    if not re.fullmatch(r"[STFGM]\d{7}[A-Z]", value):
        return False
    weights = (2, 7, 6, 5, 4, 3, 2)
    total = sum(int(d) * w for d, w in zip(value[1:8], weights, strict=True)) + (4 if value[0] in "TG" else 0)
    letters = "JZIHGFEDCBA" if value[0] in "ST" else "XWUTRQPNMLK"
    return letters[total % 11] == value[8]


def _hk_id(value: str) -> bool:
    compact = re.sub(r"[()\s]", "", value.upper())
    if not re.fullmatch(r"[A-Z]{1,2}\d{6}[0-9A]", compact):
        return False
    body = compact[:-1].rjust(8, " ")
    total = sum(
        (9 - i) * (36 if c == " " else (ord(c) - 55 if c.isalpha() else int(c))) for i, c in enumerate(body)
    )
    check = (11 - total % 11) % 11
    return compact[-1] == ("A" if check == 10 else str(check))


def _sin_valid(value: str) -> bool:
    """A Canadian SIN: Luhn first with string operations (a page of "111 111 111"
    would otherwise spend seconds in the library), then the library's full check."""
    digits = "".join(c for c in value if c.isdigit())
    return luhn_sum(digits, False) % 10 == 0 and _ca_sin.is_valid(value)


# Unlabelled shapes: (pattern, kind, validator). Each expression opens with a plain
# character class and checks what precedes it right after ("\d(?<![\w-].)"), not
# before: the regular expression engine can then skip to candidate characters
# instead of testing a look-behind at every position (about 3x faster). A validator's pass makes the hit
# validated; a fail leaves it plausible.
_SHAPES: tuple[tuple[re.Pattern[str], str, Validator], ...] = (
    (re.compile(r"\d(?<![\w-].)\d{2}([- ])\d{2}\1\d{4}(?![\w]|-\d)"), "us-ssn", _us_ssn.is_valid),
    (
        re.compile(
            r"[A-CEGHJ-PR-TW-Z](?<![A-Za-z0-9].)[A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])"
        ),
        "uk-nino",
        None,
    ),
    (re.compile(r"\d(?<![\w.].)\d{2}\.\d{3}\.\d{3}-\d{2}(?![\w]|[.-]\d)"), "br-cpf", _br_cpf.is_valid),
    (
        re.compile(r"(?<![\w-])(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])\d{2}[-+A]\d{3}[0-9A-Y](?![\w]|-\d)"),
        "nordic-id",
        None,
    ),
    (
        re.compile(r"(?<![\w-])\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])[-+]\d{4}(?![\w]|-\d)"),
        "se-personnummer",
        _se_pnr.is_valid,
    ),
    (re.compile(r"[STFGM](?<![A-Za-z0-9].)\d{7}[A-Z](?![A-Za-z0-9])"), "sg-nric", _sg_nric),
    (re.compile(r"[A-Z](?<![A-Za-z0-9].)[A-Z]?\d{6}\([0-9A]\)"), "hk-id", _hk_id),
    (re.compile(r"\d(?<![A-Za-z0-9].)\d{7}-?[A-Z](?![A-Za-z0-9])"), "es-dni", _es_dni.is_valid),
    (re.compile(r"[XYZ](?<![A-Za-z0-9].)-?\d{7}-?[A-Z](?![A-Za-z0-9])"), "es-nie", _es_nie.is_valid),
    (
        re.compile(r"[A-Z](?<![A-Za-z0-9].)[A-Z]{5}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z](?![A-Za-z0-9])"),
        "it-codice-fiscale",
        _it_cf.is_valid,
    ),
    (re.compile(r"\d(?<![\w-].)\d{5}-[1-4]\d{6}(?![\w]|-\d)"), "kr-rrn", None),
)
# Shapes too common to report without a passing checksum (bare 9-13 digit numbers).
_CHECKED: tuple[tuple[re.Pattern[str], str, Callable[[str], bool]], ...] = (
    (
        re.compile(
            r"[12](?<![\w].) ?\d{2} ?(?:0[1-9]|1[0-2]|[2-9]\d) ?(?:\d{2}|2A|2B) ?\d{3} ?\d{3} ?\d{2}(?![\w])"
        ),
        "fr-nir",
        _fr_nir.is_valid,
    ),
    (
        re.compile(r"[1-9](?<![\w.,/-].)\d ?\d{3} ?\d{3} ?\d{3}(?![\w]|[.,/-]\d)"),
        "de-tax-id",
        _de_idnr.is_valid,
    ),
    (re.compile(r"[1-9](?<![\w.,/-].)\d{2}([ -])\d{3}\1\d{3}(?![\w]|[.,/-]\d)"), "ca-sin", _sin_valid),
)

# Labels that name an identifier, and the validator for what follows where one exists.
_LABELS: tuple[tuple[str, str, Validator], ...] = (
    (r"ssn|social[- ]security(?:[- ]number|[- ]no\.?)?", "us-ssn", _us_ssn.is_valid),
    (r"national[- ]insurance(?:[- ]number|[- ]no\.?)?|ni[- ]number|ni[- ]no\.?|nino", "uk-nino", None),
    (r"nhs[- ](?:number|no\.?)", "gb-nhs", _gb_nhs.is_valid),
    (r"bsn|burgerservicenummer|sofinummer", "nl-bsn", _nl_bsn.is_valid),
    (r"pesel", "pl-pesel", _pl_pesel.is_valid),
    (r"cpr(?:-?nr\.?|[- ]number)?", "dk-cpr", _dk_cpr.is_valid),
    (r"personnummer|personnr\.?", "se-personnummer", _se_pnr.is_valid),
    (r"hetu|henkil[oö]tunnus", "fi-hetu", _fi_hetu.is_valid),
    (r"f[oø]dselsnummer", "no-fodselsnummer", None),
    (r"nric|fin[- ]number", "sg-nric", _sg_nric),
    (r"hkid", "hk-id", _hk_id),
    (r"cpf", "br-cpf", _br_cpf.is_valid),
    (r"aadhaa?r(?:[- ]number|[- ]no\.?)?", "in-aadhaar", _in_aadhaar.is_valid),
    (r"codice[- ]fiscale|cf", "it-codice-fiscale", _it_cf.is_valid),
    (r"dni|nif", "es-dni", _es_dni.is_valid),
    (r"nie", "es-nie", _es_nie.is_valid),
    (r"sin|social[- ]insurance[- ]number", "ca-sin", _ca_sin.is_valid),
    (r"steuer-?id|steueridentifikationsnummer|idnr", "de-tax-id", _de_idnr.is_valid),
    (r"rrn|resident[- ]registration[- ]number", "kr-rrn", None),
    (r"tfn|tax[- ]file[- ]number", "au-tfn", None),
    (r"medicare[- ](?:number|no\.?)", "medicare", None),
    (r"passport(?:[- ]number|[- ]no\.?|[- ]#)?", "passport", None),
    (
        r"national[- ]id(?:entity)?(?:[- ]card)?(?:[- ]number|[- ]no\.?)?|id[- ]card[- ](?:number|no\.?)",
        "national-id",
        None,
    ),
    (r"tax[- ]id(?:entification)?(?:[- ]number|[- ]no\.?)?|tin", "tax-id", None),
    (r"driver'?s?[- ]licen[cs]e(?:[- ]number|[- ]no\.?)?", "driving-licence", None),
    (r"my[- ]number", "jp-my-number", None),
)
_LABEL_KIND: dict[str, tuple[str, Validator]] = {}
_LABEL_PARTS: list[str] = []
for _position, (_regex, _kind, _validator) in enumerate(_LABELS):
    _LABEL_PARTS.append(f"(?P<l{_position}>{_regex})")
    _LABEL_KIND[f"l{_position}"] = (_kind, _validator)
_LABELLED = re.compile(
    r"(?i)(?<![\w-])(?:" + "|".join(_LABEL_PARTS) + r")(?![\w])"
    r"[ \t]{0,3}(?:[:#=]|is|was|no\.?)?[ \t]{0,3}"
    r"(?P<value>[A-Z]{0,6}\d[A-Z0-9]*(?:[ ./-]\d[A-Z0-9]*)*(?:\([0-9A]\))?)(?![\w])"
)


# Literal openings of the labels: searched with str.find (C speed), the label
# expression then runs only where one occurs.
_ANCHORS = (
    *("ssn", "social", "national", "ni", "nhs", "bsn", "burgerservice", "sofinummer", "pesel", "cpr"),
    *("personn", "hetu", "henkil", "fodsel", "fødsel", "nric", "fin", "hkid", "cpf", "aadha", "codice"),
    *("cf", "dni", "nif", "nie", "sin", "steuer", "idnr", "rrn", "resident", "tfn", "tax", "medicare"),
    *("passport", "id", "driver", "my", "tin"),
)


def _labelled(text: str) -> Iterator[re.Match[str]]:
    lowered = text.lower()
    if len(lowered) != len(text):
        yield from _LABELLED.finditer(text)
        return
    starts: set[int] = set()
    for anchor in _ANCHORS:
        at = lowered.find(anchor)
        while at >= 0:
            if at == 0 or not (lowered[at - 1].isalnum() or lowered[at - 1] in "_-"):
                starts.add(at)
            at = lowered.find(anchor, at + 1)
    last = -1
    for start in sorted(starts):
        if start < last:
            continue
        match = _LABELLED.match(text, start)
        if match is not None:
            last = match.end()
            yield match


# Never issued: not a leaked id but a made-up or administrative one.
_NINO_NEVER = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})
_SSN_NEVER = re.compile(r"^(?:000|666)|^\d{3}\D?00\D|0000$")


def _never_issued(kind: str, value: str) -> bool:
    if kind == "uk-nino":
        return value[:2] in _NINO_NEVER
    if kind == "us-ssn":
        return bool(_SSN_NEVER.search(value))
    return False


def national_id(text: str) -> Iterator[RawHit]:
    if not _DIGIT.search(text):
        return
    for pattern, kind, validator in _SHAPES:
        for match in pattern.finditer(text):
            if _never_issued(kind, match.group()):
                continue
            valid = validator is None or validator(match.group())
            confidence = VALIDATED if valid and validator is not None else PLAUSIBLE
            yield RawHit(match.start(), match.end(), "national-id", kind, confidence)
    for pattern, kind, check in _CHECKED:
        for match in pattern.finditer(text):
            if check(match.group()):
                yield RawHit(match.start(), match.end(), "national-id", kind, VALIDATED)
    for match in _labelled(text):
        value = match.group("value")
        if len(value) > 24 or len(_DIGIT.findall(value)) < 5:
            continue
        group = next(name for name, part in match.groupdict().items() if part and name.startswith("l"))
        kind, validator = _LABEL_KIND[group]
        if _never_issued(kind, value):
            continue
        valid = validator is not None and validator(value)
        yield RawHit(
            match.start("value"), match.end("value"), "national-id", kind, VALIDATED if valid else CONTEXTUAL
        )
