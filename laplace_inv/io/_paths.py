"""The one safe-path rule every reader follows.

A parameter file (``FileSetInput.par``, ``acqu.par``...) names its data files; those names are
untrusted input. A named file must be a plain relative name that resolves, symbolic links
followed, to a regular file inside the folder being read. Absolute paths, ``..`` components,
drive letters and links that leave the folder are refused before anything is opened, and the
error names the parameter file and the offending value, never the content of another file.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath, PureWindowsPath

from laplace_inv.io._text import short


def _unsafe_reason(name: str) -> str | None:
    if not name or name.strip() != name or "\x00" in name:
        return "is empty, padded or holds a NUL byte"
    if PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute():
        return "is an absolute path"
    if re.match(r"^[A-Za-z]:", name) or name.startswith(("\\", "~")):
        return "is an absolute or home-relative path"
    parts = re.split(r"[\\/]+", name)
    if any(p in ("..", "") for p in parts) and name not in (".",):
        return "leaves the folder ('..' or an empty path component)"
    return None


def inside(folder: Path, candidate: Path) -> bool:
    """Whether ``candidate`` (links followed) lies inside ``folder`` (links followed)."""
    try:
        candidate.resolve(strict=True).relative_to(folder.resolve(strict=True))
    except (OSError, ValueError, RuntimeError):
        return False
    return True


def find_file(folder: Path, name: str, what: str, named_in: str) -> Path:
    """The file ``name`` inside ``folder``, matched case-insensitively, refused when unsafe.

    Parameters
    ----------
    folder : pathlib.Path
        The folder being read.
    name : str
        The file name as a parameter file wrote it.
    what : str
        What the file holds (used in messages).
    named_in : str
        Where the name came from (a parameter file name, or ``"the folder"``).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "S.DAT").write_text("1\\n")
    >>> find_file(d, "s.dat", "data", "x.par").name
    'S.DAT'
    >>> find_file(d, "/etc/passwd", "data", "x.par")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...: x.par names '/etc/passwd' as its data file, which is an absolute path; ...
    """
    reason = _unsafe_reason(name)
    if reason is not None:
        raise ValueError(
            f"{folder}: {named_in} names {short(name)!r} as its {what} file, which {reason}; "
            "data files must lie inside the folder being read"
        )
    exact = folder / name
    if exact.is_file():
        return _checked(folder, exact, name, what, named_in)
    want = Path(name).name.lower()
    parent = exact.parent
    matches = []
    if parent.is_dir() and inside(folder, parent):
        matches = sorted(p for p in parent.iterdir() if p.is_file() and p.name.lower() == want)
    if matches:
        return _checked(folder, matches[0], name, what, named_in)
    raise FileNotFoundError(
        f"{folder}: the {what} file {short(name)!r} named in {named_in} is not in the folder "
        f"(also looked for it case-insensitively)"
    )


def _checked(folder: Path, path: Path, name: str, what: str, named_in: str) -> Path:
    if not inside(folder, path):
        raise ValueError(
            f"{folder}: {named_in} names {short(name)!r} as its {what} file, which is a link "
            "that leaves the folder; data files must lie inside the folder being read"
        )
    return path


def has_file(folder: Path, name: str) -> bool:
    """Whether ``folder`` holds a file called ``name`` (case-insensitive)."""
    want = name.lower()
    return any(p.is_file() and p.name.lower() == want for p in folder.iterdir())
