"""Numeric text parsing shared by every text reader (tables, tool folders, vendor exports)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

PathLike = str | os.PathLike

MAX_TEXT_BYTES = 2 * 1024**3
"""Largest text file a reader parses (2 GiB): a bigger file is refused before it is read."""


def short(token: str, width: int = 40) -> str:
    """``token`` cut to ``width`` characters, so messages never echo long file content."""
    return token if len(token) <= width else token[: width - 3] + "..."


def read_text(path: Path) -> str:
    """The text of ``path`` (UTF-8 with or without BOM, else Latin-1)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: file not found") from None
    if size > MAX_TEXT_BYTES:
        raise ValueError(
            f"{path}: {size} bytes is more than the {MAX_TEXT_BYTES} a text reader accepts"
        )
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise ValueError(f"{path}: is a folder, a file was expected") from None
    for enc in ("utf-8-sig", "latin-1"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ValueError(f"{path}: not a text file")  # pragma: no cover - latin-1 always decodes


def split_fields(line: str, delim: str | None) -> list[str]:
    """Split one line on ``delim`` (whitespace when ``None``), dropping a trailing empty field."""
    if delim is None:
        return line.split()
    tokens = [t.strip() for t in line.split(delim)]
    while tokens and tokens[-1] == "":
        tokens.pop()
    return tokens


def is_number(token: str) -> bool:
    """Whether ``float(token)`` succeeds."""
    try:
        float(token)
    except ValueError:
        return False
    return True


def guess_delimiter(line: str) -> str | None:
    """``","`` or ``";"`` when the line holds one, else ``None`` (whitespace)."""
    for cand in (",", ";"):
        if cand in line:
            return cand
    return None


def is_header(tokens: list[str]) -> bool:
    """A line made only of non-numeric words (column names)."""
    return bool(tokens) and all(
        not is_number(t) and re.match(r"[\"']?[A-Za-z_µ]", t) for t in tokens
    )


def _bad_token_error(path: Path, what: str, lineno: int, tokens: list[str]) -> ValueError:
    for col, tok in enumerate(tokens, start=1):
        if not is_number(tok):
            hint = ""
            if tok == "":
                hint = " (empty field)"
            elif re.search(r"\d[,;|:]\d|\d[,;|:]-", tok):
                hint = " (wrong delimiter or decimal comma?)"
            return ValueError(
                f"{path}: {what} line {lineno}, column {col}: cannot read {short(tok)!r} as "
                f"a number{hint}"
            )
    return ValueError(f"{path}: {what} line {lineno}: not numeric")  # pragma: no cover


def numbered_lines(text: str) -> list[tuple[int, str]]:
    """Non-blank lines that are not ``#``/``%`` comments, with their 1-based line numbers."""
    return [
        (i + 1, ln.strip())
        for i, ln in enumerate(text.splitlines())
        if ln.strip() and not ln.lstrip().startswith(("#", "%"))
    ]


def parse_numeric_lines(
    path: Path, lines: list[tuple[int, str]], what: str, delim: str | None
) -> np.ndarray:
    """Parse numbered lines into a 2D float array; every problem names file, line and column."""
    rows: list[np.ndarray] = []
    width = None
    for lineno, line in lines:
        tokens = split_fields(line, delim)
        try:
            row = np.array(tokens, dtype=np.float64)
        except ValueError:
            raise _bad_token_error(path, what, lineno, tokens) from None
        if width is None:
            width = row.size
        elif row.size != width:
            raise ValueError(
                f"{path}: {what} line {lineno} has {row.size} values but the first data line "
                f"has {width} (truncated file or inconsistent delimiter?)"
            )
        rows.append(row)
    arr = np.vstack(rows)
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(
            f"{path}: {what} contains NaN or infinite values (first at data row {bad[0] + 1}, "
            f"column {bad[1] + 1})"
        )
    return arr


def read_numeric_text(path: PathLike, what: str = "data") -> np.ndarray:
    """Read a numeric matrix from a text file (whitespace, tab, comma or semicolon separated).

    Blank lines and lines starting with ``#`` or ``%`` are skipped; CRLF line ends are fine;
    a first line made only of non-numeric words is taken as a header. Every other problem
    raises ``ValueError`` naming the file, line and column.

    Parameters
    ----------
    path : str or os.PathLike
        The text file.
    what : str
        What the file holds, used in messages (``"data"``, ``"tau1 axis"``...).

    Returns
    -------
    numpy.ndarray
        A 2D float64 array (one row per line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.txt"
    >>> _ = p.write_bytes(b"1\\t2\\r\\n3\\t4\\r\\n")
    >>> read_numeric_text(p)
    array([[1., 2.],
           [3., 4.]])
    >>> _ = p.write_text("1 2\\n3 x\\n")
    >>> read_numeric_text(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...m.txt: data line 2, column 2: cannot read 'x' as a number
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: {what} file not found")
    lines = numbered_lines(read_text(path))
    if not lines:
        raise ValueError(f"{path}: {what} file is empty")
    delim = guess_delimiter(lines[0][1])
    if is_header(split_fields(lines[0][1], delim)):
        lines = lines[1:]  # a header line of column names
        if not lines:
            raise ValueError(f"{path}: {what} file has a header but no numbers")
    return parse_numeric_lines(path, lines, what, delim)


def read_axis(path: Path, what: str) -> np.ndarray:
    """One row or one column of numbers from a text file, as a 1D array."""
    arr = read_numeric_text(path, what)
    if arr.shape[0] != 1 and arr.shape[1] != 1:
        raise ValueError(
            f"{path}: {what} file must hold one row or one column of values, got a "
            f"{arr.shape[0]}x{arr.shape[1]} table"
        )
    return arr.ravel()
