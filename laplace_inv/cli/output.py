"""Result files: overwrite policy, atomic writes, labelled CSV maps.

Every output of ``laplace-inv`` is first written to a hidden temporary file in the target
folder and then renamed onto its name, so an interrupted or failed run never leaves a truncated
result where a complete one is expected. Without ``overwrite`` the rename is a hard link, which
fails if the name exists: of two runs writing into one folder, only the first gets the names;
the other stops with a clear error instead of silently replacing the first one's results.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["ResultWriter", "check_absent", "write_map_csv"]

_UNITS = {"T1_IR": ("T1", "s"), "T1_SR": ("T1", "s"), "T2": ("T2", "s"), "D": ("D", "m2/s")}


def check_absent(paths: Sequence[Path], overwrite: bool) -> None:
    """Refuse early when a target exists and ``overwrite`` is false.

    Raises
    ------
    FileExistsError
        Naming the existing files and how to proceed.
    """
    if overwrite:
        return
    existing = [str(p) for p in paths if p.exists()]
    if existing:
        raise FileExistsError(
            f"{', '.join(existing)} already exist(s); refusing to overwrite earlier results. "
            "Pass --overwrite to replace them, or choose another folder with -o/--out."
        )


def _temp_name(path: Path) -> Path:
    # Hidden, unique per process and call, same folder (rename stays on one file system),
    # suffix kept last so writers that pick the format from it (savefig) still work.
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    return path.with_name(f".{path.stem}.{token}.partial{path.suffix}")


class ResultWriter:
    """Write several files atomically, all or none of them under their final names.

    Parameters
    ----------
    overwrite : bool
        Replace existing files (``os.replace``); otherwise a name that exists is an error.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with ResultWriter(overwrite=False) as w:
    ...     _ = w.add(folder / "a.txt", lambda tmp: tmp.write_text("done"))
    >>> (folder / "a.txt").read_text()
    'done'
    >>> sorted(p.name for p in folder.iterdir())
    ['a.txt']
    """

    def __init__(self, overwrite: bool = False) -> None:
        self.overwrite = overwrite
        self._staged: list[tuple[Path, Path]] = []
        self.written: list[Path] = []

    def add(self, path: Path, write: Callable[[Path], Any]) -> Path:
        """Write ``path`` through ``write(temporary_path)``; published at `commit`."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not self.overwrite and path.exists():
            check_absent([path], overwrite=False)
        tmp = _temp_name(path)
        self._staged.append((tmp, path))
        write(tmp)
        if not tmp.is_file():
            raise OSError(f"{path}: the writer produced no file")
        return path

    def commit(self) -> list[Path]:
        """Move every staged file onto its name; on a clash undo this run's moves."""
        done: list[Path] = []
        try:
            for tmp, path in self._staged:
                self._publish(tmp, path)
                done.append(path)
        except BaseException:
            if not self.overwrite:
                for path in done:
                    path.unlink(missing_ok=True)
            raise
        finally:
            self.discard()
        self.written.extend(done)
        return done

    def _publish(self, tmp: Path, path: Path) -> None:
        if self.overwrite:
            os.replace(tmp, path)
            return
        try:
            os.link(tmp, path)  # atomic and fails if the name exists
        except FileExistsError:
            check_absent([path], overwrite=False)
            raise
        except OSError:  # file systems without hard links
            check_absent([path], overwrite=False)
            os.replace(tmp, path)

    def discard(self) -> None:
        """Remove the temporary files not (or no longer) needed."""
        for tmp, _ in self._staged:
            tmp.unlink(missing_ok=True)
        self._staged.clear()

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def write_map_csv(
    path: Path,
    F: Any,
    grid1: Any,
    grid2: Any,
    kinds: Sequence[str],
    comment: str = "",
) -> None:
    """A map as CSV with its axes and units: first row axis 2, first column axis 1.

    Lines starting with ``#`` describe the file; the corner cell names both axes.

    Examples
    --------
    >>> import io, numpy as np
    >>> buf = io.StringIO()
    >>> write_map_csv(buf, np.eye(2), [0.1, 1.0], [0.01, 0.1], ("T1_IR", "T2"))
    >>> print(buf.getvalue().splitlines()[2])
    T1 (s) \\ T2 (s),0.01,0.1
    """
    import numpy as np

    F = np.asarray(F, dtype=float)
    (s1, u1), (s2, u2) = _UNITS[kinds[0]], _UNITS[kinds[1]]
    if s1 == s2:
        s1, s2 = f"{s1},1", f"{s2},2"
    lines = [
        f"# laplace_inv map{': ' + comment if comment else ''}",
        f"# rows: {s1} ({u1}) = {kinds[0]}; columns: {s2} ({u2}) = {kinds[1]}; "
        "values: signal per grid cell",
        f"{s1} ({u1}) \\ {s2} ({u2})," + ",".join(f"{v:.10g}" for v in grid2),
    ]
    for g, row in zip(grid1, F, strict=True):
        lines.append(f"{g:.10g}," + ",".join(f"{v:.10g}" for v in row))
    text = "\n".join(lines) + "\n"
    if hasattr(path, "write"):
        path.write(text)
    else:
        Path(path).write_text(text, encoding="utf-8")
