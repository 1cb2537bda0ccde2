"""The package's one sha256 helper and a bounded, verified download."""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, BinaryIO

DOWNLOAD_TIMEOUT_S = 60.0
"""Socket timeout of one network operation (connect or read)."""

DOWNLOAD_DEADLINE_S = 300.0
"""Wall-clock limit of one download, all reads together (a trickling server is given up on)."""

DOWNLOAD_RETRIES = 3
"""Attempts per download when the connection fails (not when the bytes are wrong)."""

MAX_DOWNLOAD_BYTES = 256 * 1024**2
"""Cap on a download whose expected size is not registered."""

_CHUNK = 1 << 16


class DatasetNotAvailableError(OSError):
    """No local copy, no cached copy, and the download failed or is disabled."""


class ChecksumError(OSError):
    """A local, cached or downloaded file does not match its registered sha256 or size."""


def sha256_file(path: str | os.PathLike | BinaryIO) -> str:
    """Hex sha256 of a file, read in chunks (the one sha256 helper of the package).

    Parameters
    ----------
    path : str, os.PathLike or binary file object
        The file, or a file already open for binary reading: it is read from its current
        position to the end and left open (callers that vet a file before reading it, such as
        the DLEMLR weights reader, pass the handle they opened).

    Returns
    -------
    str
        64 lower-case hex digits.

    Examples
    --------
    >>> import io, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    >>> sha256_file(io.BytesIO(b"abc")) == sha256_file(p)
    True
    """
    if not isinstance(path, (str, os.PathLike)):
        return _sha256_stream(path)
    with open(path, "rb") as fh:
        return _sha256_stream(fh)


def _sha256_stream(fh: BinaryIO) -> str:
    h = hashlib.sha256()
    for chunk in iter(lambda: fh.read(1 << 20), b""):
        h.update(chunk)
    return h.hexdigest()


def _read_some(response: Any) -> bytes:
    """Whatever the server has sent, up to one chunk (never waits for a full chunk)."""
    if isinstance(response, http.client.HTTPResponse):
        return response.read1(_CHUNK)
    return response.read(_CHUNK)


def _copy(url: str, out: Any, cap: int, deadline: float, timeout: float) -> str:
    """Stream ``url`` into ``out``; return the sha256. Stops past ``cap`` or ``deadline``."""
    h = hashlib.sha256()
    total = 0
    with urllib.request.urlopen(url, timeout=timeout) as response:
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"download of {url} passed its deadline; given up")
            chunk = _read_some(response)
            if not chunk:
                break
            total += len(chunk)
            if total > cap:
                raise ChecksumError(
                    f"download of {url} is larger than the expected {cap} bytes; stopped and "
                    "discarded (wrong file or hostile server)"
                )
            h.update(chunk)
            out.write(chunk)
    return h.hexdigest()


def download_verified(
    url: str,
    target: Path,
    expected_sha256: str,
    *,
    expected_size: int | None = None,
    deadline_s: float = DOWNLOAD_DEADLINE_S,
    retries: int = DOWNLOAD_RETRIES,
    timeout_s: float = DOWNLOAD_TIMEOUT_S,
) -> None:
    """Download ``url`` to ``target`` through a temporary file, checking size and sha256.

    The transfer stops as soon as it passes ``expected_size`` (or `MAX_DOWNLOAD_BYTES`) or
    ``deadline_s`` seconds, all attempts included. A failed connection is retried up to
    ``retries`` times with a short back-off; wrong bytes are never retried. Nothing is left
    behind on failure; on success the file is renamed into place atomically.

    Parameters
    ----------
    url : str
        Source URL.
    target : pathlib.Path
        Destination file.
    expected_sha256 : str
        Hex digest the bytes must have.
    expected_size : int, optional
        Size in bytes the file must have.
    deadline_s : float
        Wall-clock limit of the whole download.
    retries : int
        Attempts when the connection fails.
    timeout_s : float
        Socket timeout of each network operation.

    Raises
    ------
    ChecksumError
        Wrong size or sha256.
    TimeoutError
        The deadline passed.
    OSError
        The connection failed on every attempt (``urllib.error.URLError`` and the like).
    """
    cap = int(expected_size) if expected_size is not None else MAX_DOWNLOAD_BYTES
    deadline = time.monotonic() + float(deadline_s)
    target.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(max(1, int(retries))):
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=target.parent
        )
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                got = _copy(url, out, cap, deadline, min(timeout_s, max(deadline_s, 0.1)))
            if got != expected_sha256:
                raise ChecksumError(
                    f"downloaded {url} has sha256 {got}, expected {expected_sha256}; the file "
                    "was discarded (corrupted transfer or changed upstream)"
                )
            os.replace(tmp, target)
            return
        except (urllib.error.URLError, ConnectionError) as exc:
            if attempt + 1 >= retries or time.monotonic() > deadline:
                raise OSError(f"{type(exc).__name__}: {exc}") from exc
            time.sleep(min(0.2 * 2**attempt, max(0.0, deadline - time.monotonic())))
        finally:
            if tmp.exists():
                tmp.unlink()
