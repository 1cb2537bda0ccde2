"""Saving figures: format from the file extension, written atomically."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from matplotlib.figure import Figure

__all__ = ["save_figure"]

FORMATS = ("png", "svg", "pdf", "eps", "tif", "tiff", "jpg")


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 200) -> Path:
    """Save ``fig`` to ``path``: PNG, SVG, PDF (vector) ... by suffix, creating parent folders.

    The figure is written to a temporary file in the same folder and renamed, so a failed
    save never leaves a truncated file under ``path``.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile
    >>> fig = Figure()
    >>> _ = fig.add_subplot().plot([0, 1])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = save_figure(fig, Path(tmp) / "sub" / "fig.svg")
    ...     out.read_text()[:5]
    '<?xml'
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    out = Path(path)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"{out}: unknown figure format {fmt!r}; use one of {FORMATS}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.{os.getpid()}-{secrets.token_hex(4)}.partial{out.suffix}")
    try:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=fmt)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
