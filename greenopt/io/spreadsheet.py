"""CSV files a spreadsheet opens safely, and read back exactly (OWASP "CSV injection").

A spreadsheet treats a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula (and a
leading tab or carriage return can hide one), so a job named ``=HYPERLINK("http://x","y")``
written verbatim into ``assignments.csv`` becomes a live link, or worse, when the file is opened.
Following OWASP's advice, every *text* cell greenopt writes that begins with one of those
characters gets a single quote in front (``'=HYPERLINK(...)``): spreadsheets show it as text and
hide the quote. Numbers stay numbers (a negative price is ``-0.1``, not text).

The rule is reversible, so greenopt's own loaders give every name back exactly:

* :func:`escape_text` adds a quote to a text beginning with a trigger character, and to a text
  that already begins with a quote followed by a trigger or another quote (``'=a`` → ``''=a``);
* :func:`unescape_text` removes one leading quote when a trigger or a quote follows it.

So ``unescape_text(escape_text(s)) == s`` for every string ``s``. A hand-written cell ``'=a`` in a
scenario file reads as ``=a``, as a spreadsheet shows it; a quote before anything else (``'a``)
is kept.

:func:`write_csv` is the one way greenopt writes a table to CSV; :func:`read_csv` reads one back
(a plan's ``assignments.csv`` for :func:`greenopt.evaluate`) and :func:`unescape_frame` undoes the
quoting on a table read otherwise.
"""

from __future__ import annotations

import csv
import os
from typing import Any

import pandas as pd

#: Characters that make a spreadsheet evaluate a cell (OWASP): formula starts, tab, CR.
TRIGGERS = frozenset("=+-@\t\r")
QUOTE = "'"


def escape_text(text: str) -> str:
    """``text`` as a cell a spreadsheet shows literally (see the module docstring)."""
    if not text:
        return text
    if text[0] in TRIGGERS or (text[0] == QUOTE and len(text) > 1 and _quoted(text[1])):
        return QUOTE + text
    return text


def unescape_text(text: str) -> str:
    """The inverse of :func:`escape_text`."""
    if len(text) > 1 and text[0] == QUOTE and _quoted(text[1]):
        return text[1:]
    return text


def _quoted(char: str) -> bool:
    return char in TRIGGERS or char == QUOTE


#: Text cells :func:`escape_text` quotes / :func:`unescape_text` unquotes (the same rules).
_NEEDS_QUOTE = r"^(?:[=+\-@\t\r]|'[=+\-@\t\r'])"
_QUOTED = r"^'[=+\-@\t\r']"


def escape_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every text cell escaped (numeric, boolean and time columns, and
    the column names, which greenopt chooses, are left as they are)."""
    out = df.copy()
    for col in out.columns:
        text = _text(out[col])
        if text is not None:
            hit = text.str.contains(_NEEDS_QUOTE, regex=True, na=False).to_numpy(dtype=bool)
            if hit.any():
                out[col] = out[col].astype(object)
                out.loc[hit, col] = QUOTE + text[hit]
    return out


def unescape_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (read from a CSV) with every text cell unescaped, in place; returns it."""
    for col in df.columns:
        text = _text(df[col])
        if text is not None:
            hit = text.str.contains(_QUOTED, regex=True, na=False).to_numpy(dtype=bool)
            if hit.any():
                df.loc[hit, col] = text[hit].str.slice(1)
    return df


def _text(column: pd.Series) -> pd.Series | None:
    """The column's text cells as strings (other cells missing), or ``None`` for a column that
    holds no text (numbers, booleans, times)."""
    if pd.api.types.is_string_dtype(column) and not pd.api.types.is_object_dtype(column):
        return column
    if not pd.api.types.is_object_dtype(column):
        return None
    if pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty"):
        return column
    return column.map(lambda v: v if isinstance(v, str) else None)


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str], **kwargs: Any) -> None:
    """Write ``df`` to ``path`` as CSV (no index) with its text cells escaped and quoted.

    Every text cell is written in double quotes (numbers bare): Python's CSV writer leaves a
    cell with a carriage return unquoted otherwise, and a reader would split the row there.
    """
    escape_frame(df).to_csv(path, index=False, quoting=csv.QUOTE_NONNUMERIC, **kwargs)


def read_csv(path: str | os.PathLike[str], **kwargs: Any) -> pd.DataFrame:
    """A CSV file greenopt wrote (e.g. a plan's ``assignments.csv``), its text cells unquoted:
    the names come back exactly as they were planned."""
    return unescape_frame(pd.read_csv(path, **kwargs))
