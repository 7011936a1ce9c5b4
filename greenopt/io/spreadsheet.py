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

:func:`write_csv` is the one way greenopt writes a table to CSV; :func:`unescape_frame` undoes
the quoting on a table read back.
"""

from __future__ import annotations

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


def _escape_cell(value: Any) -> Any:
    return escape_text(value) if isinstance(value, str) else value


def _unescape_cell(value: Any) -> Any:
    return unescape_text(value) if isinstance(value, str) else value


def escape_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every text cell escaped (numeric, boolean and time columns, and
    the column names, which greenopt chooses, are left as they are)."""
    out = df.copy()
    for col in out.columns:
        if _is_text(out[col]):
            out[col] = out[col].map(_escape_cell)
    return out


def unescape_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (read from a CSV) with every text cell unescaped, in place; returns it."""
    for col in df.columns:
        if _is_text(df[col]):
            df[col] = df[col].map(_unescape_cell)
    return df


def _is_text(column: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str], **kwargs: Any) -> None:
    """Write ``df`` to ``path`` as CSV (no index) with its text cells escaped."""
    escape_frame(df).to_csv(path, index=False, **kwargs)
