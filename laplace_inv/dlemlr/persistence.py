"""DLEMLR weights on disk: safe reading, checking, caching, writing, and the shipped models.

A weights file is a safetensors file whose metadata holds the network config; a pretrained
model also has a JSON record next to it (``<family>.json``: SHA-256, families, training
recipe and history). Files are read once, in full, after checking that the path is a
regular file under a size cap; the SHA-256, the config and the tensors all come from those
same bytes. Every tensor must be finite. Shipped models are cached per process.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import torch

from laplace_inv.datasets import sha256_file as _sha256_of
from laplace_inv.dlemlr.record import (
    FAMILIES,
    INPUT_VERSION,
    PRETRAINED,
    UNIVERSAL,
    parse_json,
    validate_config,
    validate_record,
)
from laplace_inv.kernels import Kernel2D

#: The package's folder of shipped weights.
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

#: Largest weights file read (bytes); the shipped model is about 1 MB.
MAX_WEIGHTS_BYTES = 256 * 2**20

#: Largest JSON record read (bytes).
MAX_RECORD_BYTES = 4 * 2**20

#: Architecture keys of the config that define the network.
ARCH_PARAMS = ("dim", "depth", "heads", "patch", "mlp_ratio")


@dataclass(frozen=True)
class Weights:
    """A checked weights file in memory.

    Attributes
    ----------
    path : pathlib.Path
        Where it was read.
    config : dict
        The validated network config (`laplace_inv.dlemlr.record.validate_config`).
    state : dict of torch.Tensor
        The tensors (finite, on the CPU).
    sha256 : str
        Hex SHA-256 of the file's bytes.
    record : dict or None
        The validated JSON record, for a pretrained model.
    """

    path: Path
    config: dict[str, Any]
    state: dict[str, torch.Tensor]
    sha256: str
    record: dict[str, Any] | None = None

    @property
    def grid(self) -> tuple[int, int]:
        """The output grid ``(N1, N2)``."""
        return (int(self.config["grid"][0]), int(self.config["grid"][1]))


def family_of(kernel: Kernel2D) -> str:
    """The experiment family name of a kernel, e.g. ``"T1_IR-T2"``.

    Parameters
    ----------
    kernel : Kernel2D
        The acquisition.

    Returns
    -------
    str
        ``"<kind1>-<kind2>"``.

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel
    >>> family_of(cement_kernel())
    'T1_IR-T2'
    """
    return f"{kernel.kinds[0]}-{kernel.kinds[1]}"


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 (`laplace_inv.datasets.sha256_file`) of a regular file under the weights cap.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    str
        64 hex digits.

    Examples
    --------
    >>> sha256_file("/dev/zero")
    Traceback (most recent call last):
    ...
    ValueError: /dev/zero is not a regular file; give the path of a weights file
    """
    with _open_regular_file(path, MAX_WEIGHTS_BYTES) as fh:
        digest, size = _sha256_of(fh), fh.tell()
    if size > MAX_WEIGHTS_BYTES:
        raise ValueError(f"{path} grew beyond the {MAX_WEIGHTS_BYTES} bytes allowed while read")
    return digest


def read_regular_file(path: str | Path, max_bytes: int) -> bytes:
    """The bytes of ``path``, refusing anything but a regular file of at most ``max_bytes``.

    FIFOs, devices and links to them (``/dev/zero``) are refused before they are opened,
    so a hostile path can neither block nor fill the memory.

    Parameters
    ----------
    path : str or Path
        The file.
    max_bytes : int
        Size cap.

    Returns
    -------
    bytes
        The content.

    Examples
    --------
    >>> read_regular_file("/dev/zero", 10)
    Traceback (most recent call last):
    ...
    ValueError: /dev/zero is not a regular file; give the path of a weights file
    """
    with _open_regular_file(path, max_bytes) as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"{path} grew beyond the {max_bytes} bytes allowed while read")
    return data


@contextmanager
def _open_regular_file(path: str | Path, max_bytes: int) -> Iterator[BinaryIO]:
    """``path`` opened for reading once it is known to be a regular file under the cap."""
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{path} is not a regular file; give the path of a weights file")
    if info.st_size > max_bytes:
        raise ValueError(f"{path} is {info.st_size} bytes, more than the {max_bytes} allowed")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # swapped since the check
            raise ValueError(f"{path} is not a regular file")
        yield fh


def _header_config(data: bytes, path: Path) -> dict[str, Any]:
    """The validated config from a safetensors header (parsed here, before any tensor)."""
    if len(data) < 8:
        raise ValueError(f"{path} is not a safetensors weights file (too short)")
    (size,) = struct.unpack("<Q", data[:8])
    if size > len(data) - 8:
        raise ValueError(f"{path} is not a safetensors weights file (truncated header)")
    header = parse_json(data[8 : 8 + size], f"{path} (header)")
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or "config" not in meta:
        raise ValueError(f"{path} has no DLEMLR config in its metadata")
    return validate_config(parse_json(meta["config"], f"{path} (config)"), path)


def read_weights(path: str | Path, record: dict[str, Any] | None = None) -> Weights:
    """Read and check a weights file written by `save_weights` (or shipped).

    Parameters
    ----------
    path : str or Path
        A ``.safetensors`` file.
    record : dict, optional
        Its validated JSON record; when given, the file's SHA-256 must match it.

    Returns
    -------
    Weights
        The checked content.

    Raises
    ------
    ValueError
        Not a regular file, too large, malformed header or config, non-finite weights.
    OSError
        The SHA-256 differs from the record's.
    """
    path = Path(path)
    data = read_regular_file(path, MAX_WEIGHTS_BYTES)
    digest = hashlib.sha256(data).hexdigest()
    if record is not None and record["sha256"] != digest:
        raise OSError(
            f"{path} does not match the SHA-256 in its record "
            f"({digest[:12]}… != {record['sha256'][:12]}…); the file is corrupt"
        )
    config = _header_config(data, path)
    from safetensors.torch import load

    try:
        state = load(data)
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise ValueError(
            f"{path}: cannot read the weights (truncated or corrupt?): {exc}"
        ) from None
    for name, tensor in state.items():
        if not tensor.is_floating_point() or not bool(torch.isfinite(tensor).all()):
            raise ValueError(f"{path}: weight {name!r} is not finite; the file is unusable")
    return Weights(path=path, config=config, state=state, sha256=digest, record=record)


def read_record(path: str | Path) -> dict[str, Any]:
    """Read and validate a JSON weights record.

    Parameters
    ----------
    path : str or Path
        The ``<family>.json`` file.

    Returns
    -------
    dict
        The record (`laplace_inv.dlemlr.record.validate_record`).
    """
    data = read_regular_file(path, MAX_RECORD_BYTES)
    return validate_record(parse_json(data, str(path)), path)


def save_weights(module: torch.nn.Module, config: dict[str, Any], path: str | Path) -> Path:
    """Write a module's weights as safetensors, the validated config in its metadata.

    The file is written under a temporary name and renamed, so a reader never sees half
    of it.

    Parameters
    ----------
    module : torch.nn.Module
        The network.
    config : dict
        Its config (`laplace_inv.dlemlr.record.validate_config` keys).
    path : str or Path
        Destination.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from safetensors.torch import save_file

    path = Path(path)
    clean = validate_config(config, path)
    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        save_file(state, str(tmp), metadata={"config": json.dumps(clean)})
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def check_input_version(weights: Weights) -> None:
    """Refuse weights trained on another network input.

    Parameters
    ----------
    weights : Weights
        The weights.
    """
    version = weights.config["input_version"]
    if version != INPUT_VERSION:
        raise ValueError(
            f"{weights.path} was trained on DLEMLR input version {version}, but this package "
            f"computes version {INPUT_VERSION}; retrain it with `laplace-inv train`"
        )


def check_grid(weights: Weights, kernel: Kernel2D) -> None:
    """Refuse to build the network on a grid other than the trained one.

    Inference builds it on `laplace_inv.dlemlr.grid_transfer.native_kernel` instead.

    Parameters
    ----------
    weights : Weights
        The weights.
    kernel : Kernel2D
        The acquisition.
    """
    grid = weights.grid
    if tuple(kernel.map_shape) != grid:
        raise ValueError(
            f"these weights were trained for a {grid[0]}x{grid[1]} output grid, but the "
            f"network was asked for {kernel.map_shape[0]}x{kernel.map_shape[1]}; build it "
            "on native_kernel(kernel, weights.grid) (DLEMLRInverter does, for any grid)"
        )


def pretrained_files(family: str, weights_dir: str | Path | None = None) -> tuple[Path, Path]:
    """The weights file and JSON record serving ``family``.

    Parameters
    ----------
    family : str
        An experiment family of `FAMILIES`.
    weights_dir : str or Path, optional
        Where to look (default: the package's `WEIGHTS_DIR`). Without a family file, the
        universal model ``all.safetensors`` serves.

    Returns
    -------
    tuple of pathlib.Path
        ``(weights, record)``.
    """
    wdir = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
    wfile, jfile = wdir / f"{family}.safetensors", wdir / f"{family}.json"
    if not wfile.exists() and (wdir / f"{UNIVERSAL}.safetensors").exists():
        wfile, jfile = wdir / f"{UNIVERSAL}.safetensors", wdir / f"{UNIVERSAL}.json"
    if not wfile.exists() or not jfile.exists():
        shipped = sorted(p.stem for p in wdir.glob("*.safetensors"))
        raise FileNotFoundError(
            f"no pretrained DLEMLR model for family {family!r} in {wdir} (shipped: "
            f"{shipped}); train one with `laplace-inv train --family {family} --out DIR`"
        )
    return wfile, jfile


_CACHE: dict[tuple[Any, ...], Weights] = {}

#: Weights files kept in memory at once.
_CACHE_SIZE = 4


def _file_key(path: Path) -> tuple[Any, ...]:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such weights file") from None
    return (str(path.resolve()), info.st_size, info.st_mtime_ns, info.st_ino)


def load_pretrained(family: str, weights_dir: str | Path | None = None) -> Weights:
    """The checked pretrained weights of a family, cached per process.

    The cache is keyed by the files' paths, sizes and modification times, so a replaced
    file is read again.

    Parameters
    ----------
    family : str
        An experiment family of `FAMILIES`.
    weights_dir : str or Path, optional
        See `pretrained_files`.

    Returns
    -------
    Weights
        With its record.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; expected one of {sorted(FAMILIES)}")
    wfile, jfile = pretrained_files(family, weights_dir)
    key = (_file_key(wfile), _file_key(jfile))
    weights = _cached(key, lambda: read_weights(wfile, read_record(jfile)))
    record = weights.record or {}
    if family not in record.get("families", [family]):
        raise ValueError(
            f"{wfile.name} was not trained on the {family} family "
            f"(trained on {record.get('families')})"
        )
    status = str(record.get("status", ""))
    if status.upper().startswith("UNDER-TRAINED"):
        warnings.warn(f"pretrained DLEMLR {family}: {status}", UserWarning, stacklevel=3)
    return weights


def load_user_weights(path: str | Path) -> Weights:
    """Checked weights from a file a user names (cached per process like the shipped ones).

    A JSON record next to the file (same stem) is validated and its SHA-256 checked; the
    file alone is enough otherwise.

    Parameters
    ----------
    path : str or Path
        A ``.safetensors`` file written by `save_weights` or ``laplace-inv train``.

    Returns
    -------
    Weights
        The checked content.
    """
    wfile = Path(path)
    jfile = wfile.with_suffix(".json")
    has_record = jfile.is_file()
    key = (_file_key(wfile), _file_key(jfile) if has_record else None)
    return _cached(key, lambda: read_weights(wfile, read_record(jfile) if has_record else None))


def _cached(key: tuple[Any, ...], read: Any) -> Weights:
    if key not in _CACHE:
        while len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = read()
    return _CACHE[key]


def pretrained_source(
    kernel: Kernel2D, family: str | None = None, weights_dir: str | Path | None = None
) -> tuple[Weights, str | Path]:
    """The pretrained weights for ``kernel``, and what an estimator's ``weights`` should say.

    Parameters
    ----------
    kernel : Kernel2D
        The acquisition.
    family : str, optional
        Experiment family (default from the kernel's kinds).
    weights_dir : str or Path, optional
        See `pretrained_files`.

    Returns
    -------
    weights : Weights
        The checked weights.
    source : str or Path
        ``"pretrained"`` for the shipped model of the kernel's own family, else the file.
    """
    if not isinstance(kernel, Kernel2D):
        raise TypeError(f"kernel must be a Kernel2D, got {type(kernel).__name__}")
    family = family or family_of(kernel)
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; expected one of {sorted(FAMILIES)}")
    if FAMILIES[family] != kernel.kinds:
        raise ValueError(
            f"family {family!r} expects kernel kinds {FAMILIES[family]}, got {kernel.kinds}"
        )
    weights = load_pretrained(family, weights_dir)
    if weights_dir is None and family == family_of(kernel):
        return weights, PRETRAINED
    return weights, pretrained_files(family, weights_dir)[0]


def resolve_weights(weights: str | Path | None, kernel: Kernel2D) -> Weights:
    """The weights an estimator's ``weights`` parameter names, checked and cached.

    Parameters
    ----------
    weights : str or Path
        ``"pretrained"`` (the shipped model of the kernel's family) or a weights file.
    kernel : Kernel2D
        The acquisition.

    Returns
    -------
    Weights
        The checked weights.
    """
    if isinstance(weights, str) and weights == PRETRAINED:
        return load_pretrained(family_of(kernel))
    if not isinstance(weights, (str, Path)):
        raise TypeError(
            f"weights must be 'pretrained', a path or None, got {type(weights).__name__}"
        )
    return load_user_weights(weights)


def clear_cache() -> None:
    """Forget the cached pretrained weights (the next load reads the files again)."""
    _CACHE.clear()
