"""The providers' words for the going and a horse's sex, mapped to our choices.

Case, spacing, hyphens and a note in brackets or after a comma do not matter: "GOOD TO FIRM",
"Good To Firm" and "Good (Good to Firm in places)" are all read. A word we do not know maps to ""
(unknown), never to an error: an import keeps going and the field stays blank.
"""

from __future__ import annotations

import re

from .models import Horse, Race, Runner

GOING_ALIASES = {
    # The Racing API's and the Racing Post's abbreviations
    "gd": Race.Going.GOOD,
    "gd/fm": Race.Going.GOOD_TO_FIRM,
    "gd/sft": Race.Going.GOOD_TO_SOFT,
    "gd/yld": Race.Going.GOOD_TO_YIELDING,
    "std": Race.Going.STANDARD,
    "std/slow": Race.Going.STANDARD_TO_SLOW,
    "std/fast": Race.Going.STANDARD_TO_FAST,
    "hvy": Race.Going.HEAVY,
    "sft": Race.Going.SOFT,
    "yld": Race.Going.YIELDING,
}

SEX_ALIASES = {
    # The Racing API's sex_code and the racecards' one-letter codes
    "c": Horse.Sex.COLT,
    "f": Horse.Sex.FILLY,
    "g": Horse.Sex.GELDING,
    "m": Horse.Sex.MARE,
    "h": Horse.Sex.HORSE,
    "r": Horse.Sex.RIG,
    "stallion": Horse.Sex.HORSE,
    "entire": Horse.Sex.HORSE,
    "ridgling": Horse.Sex.RIG,
    "ridgeling": Horse.Sex.RIG,
}


def _words(text: object) -> str:
    if not isinstance(text, str):
        return ""
    text = re.split(r"[(,]", text, maxsplit=1)[0]
    return " ".join(text.replace("-", " ").replace("_", " ").lower().split())


def going_choice(text: object) -> str:
    """The `Race.Going` value for a provider's going, or "" when it is none we know."""
    words = _words(text)
    if words in Race.Going.values:
        return words
    return GOING_ALIASES.get(words.replace(" ", ""), "")


def sex_choice(text: object) -> str:
    """The `Horse.Sex` value for a provider's word for a horse's sex, or "" when it is none we
    know (the Hong Kong data's horse_type gives some horses' colour instead: Brown, Grey)."""
    words = _words(text)
    if words in Horse.Sex.values:
        return words
    return SEX_ALIASES.get(words, "")


NON_FINISH_ALIASES = {
    # Result codes of the Racing API, the Racing Post and Timeform
    "f": Runner.NonFinish.FELL,
    "fell": Runner.NonFinish.FELL,
    "pu": Runner.NonFinish.PULLED_UP,
    "p": Runner.NonFinish.PULLED_UP,
    "pulled up": Runner.NonFinish.PULLED_UP,
    "ur": Runner.NonFinish.UNSEATED,
    "u": Runner.NonFinish.UNSEATED,
    "unseated rider": Runner.NonFinish.UNSEATED,
    "ref": Runner.NonFinish.REFUSED,
    "r": Runner.NonFinish.REFUSED,
    "rr": Runner.NonFinish.REFUSED,
    "refused": Runner.NonFinish.REFUSED,
    "bd": Runner.NonFinish.BROUGHT_DOWN,
    "b": Runner.NonFinish.BROUGHT_DOWN,
    "brought down": Runner.NonFinish.BROUGHT_DOWN,
    "su": Runner.NonFinish.SLIPPED_UP,
    "s": Runner.NonFinish.SLIPPED_UP,
    "slipped up": Runner.NonFinish.SLIPPED_UP,
    "ro": Runner.NonFinish.RAN_OUT,
    "o": Runner.NonFinish.RAN_OUT,
    "ran out": Runner.NonFinish.RAN_OUT,
    "co": Runner.NonFinish.CARRIED_OUT,
    "c": Runner.NonFinish.CARRIED_OUT,
    "carried out": Runner.NonFinish.CARRIED_OUT,
    "dsq": Runner.NonFinish.DISQUALIFIED,
    "d": Runner.NonFinish.DISQUALIFIED,
    "disqualified": Runner.NonFinish.DISQUALIFIED,
}


def non_finish_choice(text: object) -> str:
    """The `Runner.NonFinish` value for a provider's result code of a non-finisher ("PU",
    "UR", "F"), or "" when it is none we know."""
    return NON_FINISH_ALIASES.get(_words(text), "")
