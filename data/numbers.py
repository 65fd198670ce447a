"""The one parser for numbers people enter: targets, rubric thresholds, rule settings, imports.

A number is written in plain ASCII decimal (`12`, `-0.5`, `.8`, `1e3`); it must be finite.
NaN, infinity and values too large for a float (`1e999`) are refused, and so are blanks where a
value is required, booleans, thousands separators, underscores and full-width digits (which
Python's `float()` would accept). Every refusal says what is wrong in Chinese and English.
"""

from __future__ import annotations

import math
import re

import pandas as pd

NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
NUMBER_PATTERN = NUMBER.pattern


class BadNumber(ValueError):
    """A value that is not a finite number (or is missing); the message says so in zh and en."""


def _say(what: tuple[str, str], zh: str, en: str) -> BadNumber:
    return BadNumber(f"{what[0]}{zh}。 The {what[1]} {en}.")


def finite(raw: object, what: tuple[str, str] = ("数值", "value"),
           required: bool = True) -> float | None:
    """Return `raw` as a finite float; None for a blank when not `required`; else BadNumber.

    `what` names the value (zh, en) in the message, e.g. ("目标值", "target").
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            raise _say(what, "不能为空", "is required")
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise _say(what, f"必须是数字，不能是 {raw!r}", f"must be a number, not {raw!r}")
    if isinstance(raw, str):
        text = raw.strip()
        if not NUMBER.fullmatch(text):
            raise _say(what, f"必须是有限的数字，不能是 '{text[:40]}'",
                       f"must be a finite number, not '{text[:40]}'")
        value = float(text)
    else:
        try:
            value = float(raw)
        except OverflowError:  # an int too large for a float
            value = math.inf
    if not math.isfinite(value):
        raise _say(what, f"必须是有限的数字，不能是 '{str(raw)[:40]}'",
                   f"must be a finite number, not '{str(raw)[:40]}'")
    return value


def whole(raw: object, what: tuple[str, str] = ("数值", "value"),
          required: bool = True) -> int | None:
    """Return `raw` as an int (12 and 12.0 are fine, 12.5 is not); rules as for `finite`."""
    value = finite(raw, what, required)
    if value is None:
        return None
    if value != int(value):
        raise _say(what, f"必须是整数，不能是 '{raw}'", f"must be a whole number, not '{raw}'")
    return int(value)


def stored(value, what: tuple[str, str]):
    """The model-level guard: return `value` unless it is a NaN or infinite float (any writer)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise _say(what, f"必须是有限的数字，不能是 '{value}'", f"must be a finite number, not '{value}'")
    return value


def finite_series(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse a column of strings (as read from an import file) by the same rules, all at once.

    Return the float values and the mask of the non-blank entries that are not finite numbers.
    """
    blank = raw == ""
    spelled = raw.str.fullmatch(NUMBER_PATTERN).astype("boolean").fillna(False).astype(bool)
    values = pd.to_numeric(raw.where(spelled), errors="coerce").astype("float64")
    finite_ = values.abs().lt(math.inf)  # False for NaN and for both infinities
    return values.where(finite_), ~blank & ~finite_


def not_finite_reason(raw: str) -> str:
    """The import's reason for a value that is not a finite number (zh and en)."""
    return f"'{raw}' is not a finite number (不是有限的数字)"
