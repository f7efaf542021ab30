"""'Did you mean ...?': the one place a mistyped name is matched against the names that
exist, for findings, usage errors and the incident commands alike."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# Lists of valid values up to this long are shown in full after an unknown value (the
# 17 commands and 13 log entry types still fit on a line or two; longer registers don't).
SHORT = 20


def closest(word: object, options: Iterable[object], cutoff: float = 0.6) -> str | None:
    """The option most like ``word``, or None when none is close enough."""
    if not isinstance(word, str):
        return None
    found = difflib.get_close_matches(word, [str(o) for o in options], n=1, cutoff=cutoff)
    return found[0] if found else None


def did_you_mean(word: object, options: Iterable[object], cutoff: float = 0.6) -> str | None:
    """``"did you mean 'x'?"`` for a finding's hint, or None."""
    match = closest(word, options, cutoff)
    return f"did you mean {match!r}?" if match else None


def hint(word: object, options: Iterable[object], plural: str, also: Iterable[object] = ()) -> str:
    """What to append to a message about an unknown ``word``: ``" (did you mean 'x'?)"``
    when one option (or one of ``also``: other spellings that are accepted but not
    listed) is close, then ``"; <plural>: a, b, c"`` when the list is short enough to
    read, or ``"; there are no <plural> yet"``."""
    names = [str(o) for o in options]
    suggestion = did_you_mean(word, [*names, *also])
    text = f" ({suggestion})" if suggestion else ""
    if not names:
        return text + f"; there are no {plural} yet"
    if len(names) <= SHORT:
        return text + f"; {plural}: {', '.join(names)}"
    return text
