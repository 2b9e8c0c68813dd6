"""Spelling suggestions for every "unknown name" message: "; did you mean 'x'?"."""

from __future__ import annotations

import difflib


def did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or ``""`` when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def one_of(value: str, choices: tuple[str, ...]) -> str:
    """The message for a value that is not one of ``choices``, with a suggestion."""
    return f"'{value}' is not one of {', '.join(choices)}{did_you_mean(value, choices)}"
