"""Real 2D NMR datasets: pinned downloads with sha256 checks, or a local folder.

Three public measurements are registered (see `REGISTRY`):

=====================  =======  ============================================================
key                    kinds    content
=====================  =======  ============================================================
cement_t1t2_ircpmg     T1_IR-T2 white Portland cement paste, IR-CPMG (Upen2DTool, GPL-3.0);
                                the real dataset of the DLEMLR paper's Fig. 2
maastricht_t2t2        T2-T2    water-saturated Maastricht stone, CPMG-CPMG (Upen2DTool,
                                GPL-3.0)
sse_dt2                D-T2     static-gradient stimulated-echo CPMG (MUpen2D, freeware:
                                no resale or sublicensing)
=====================  =======  ============================================================

The files are never shipped with ``laplace_inv`` (their licences forbid redistribution in
this package). `fetch_file` finds each file, in this order:

1. ``$LAPLACE_INV_DATA/<key>/<file>``: a local folder (e.g. a CI mirror) whose subfolders are
   named like the dataset keys and hold the files under their published names;
2. ``$LAPLACE_INV_CACHE/<key>/<file>`` (default ``~/.cache/laplace_inv``);
3. a download from the commit-pinned raw GitHub URL into the cache: written to a temporary
   file in the cache folder, its sha256 checked, then atomically renamed into place.

Every file, local or downloaded, is checked against the sha256 in the registry. A mismatch
raises `ChecksumError` and never leaves a file in the cache. Set
``LAPLACE_INV_OFFLINE=1`` to forbid downloads. When no source works,
`DatasetNotAvailableError` says what was tried.
"""

from __future__ import annotations

import logging
import os
import urllib.error
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from laplace_inv.datasets._download import (
    DOWNLOAD_DEADLINE_S,
    DOWNLOAD_TIMEOUT_S,
    ChecksumError,
    DatasetNotAvailableError,
    download_verified,
    sha256_file,
)
from laplace_inv.datasets.registry import REGISTRY, DatasetSpec
from laplace_inv.io import Acquisition, read_numeric_text
from laplace_inv.io._text import read_axis as _read_axis
from laplace_inv.kernels import DEFAULT_GRID_SIZE, Kernel2D, KernelAxis

logger = logging.getLogger(__name__)

__all__ = [
    "DOWNLOAD_DEADLINE_S",
    "DOWNLOAD_TIMEOUT_S",
    "REGISTRY",
    "ChecksumError",
    "DatasetNotAvailableError",
    "DatasetSpec",
    "RealDataset",
    "cache_dir",
    "fetch_file",
    "load_cement_t1t2",
    "load_maastricht_t2t2",
    "load_real_dataset",
    "load_sse_dt2",
    "sha256_file",
]

ENV_DATA = "LAPLACE_INV_DATA"
ENV_CACHE = "LAPLACE_INV_CACHE"
ENV_OFFLINE = "LAPLACE_INV_OFFLINE"


@dataclass
class RealDataset:
    """A real measurement with its suggested kernel and reference results.

    Attributes
    ----------
    name : str
        Registry key.
    data : numpy.ndarray
        ``(n1, n2)`` signed raw amplitudes (not normalised).
    tau1, tau2 : numpy.ndarray
        Acquisition axes in SI units (s, or s/m² for ``"D"``).
    kinds : tuple of str
        Kernel kinds.
    kernel : Kernel2D
        Suggested kernel: 64x64 grids (defaults, or the authors' D range for D-T2).
    reference_peaks : list of dict
        ``position`` (SI, per axis), ``fraction`` (or None), ``label``, ``published``.
    reference_residual : float or None
        Relative residual of the published reference inversion.
    noise_std : float or None
        Noise standard deviation in data units, when known.
    description : str
        Provenance and licence.
    files : dict
        ``{file name: local path}`` of the files used.
    """

    name: str
    data: np.ndarray
    tau1: np.ndarray
    tau2: np.ndarray
    kinds: tuple[str, str]
    kernel: Kernel2D
    reference_peaks: list[dict[str, Any]]
    reference_residual: float | None
    noise_std: float | None
    description: str
    files: dict[str, Path] = field(default_factory=dict)

    def to_acquisition(self) -> Acquisition:
        """The same data as an `laplace_inv.io.Acquisition`."""
        return Acquisition(
            data=self.data,
            tau1=self.tau1,
            tau2=self.tau2,
            kinds=self.kinds,
            noise_std=self.noise_std,
            metadata={"dataset": self.name},
            source=str(self.files.get(REGISTRY[self.name].data_file, self.name)),
        )

    def __repr__(self) -> str:
        return (
            f"RealDataset({self.name!r}, kinds={self.kinds}, shape={self.data.shape}, "
            f"n_reference_peaks={len(self.reference_peaks)})"
        )


# --------------------------------------------------------------------------------------------
# Finding files
# --------------------------------------------------------------------------------------------


def cache_dir() -> Path:
    """The download cache: ``$LAPLACE_INV_CACHE`` or ``~/.cache/laplace_inv``.

    Examples
    --------
    >>> isinstance(cache_dir(), Path)
    True
    """
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "laplace_inv"


def _spec(dataset: str) -> DatasetSpec:
    if dataset not in REGISTRY:
        raise ValueError(f"unknown dataset {dataset!r}; available: {sorted(REGISTRY)}")
    return REGISTRY[dataset]


def fetch_file(dataset: str, filename: str) -> Path:
    """Local path of one registered file, verified against its sha256.

    Looks in ``$LAPLACE_INV_DATA/<dataset>/``, then the cache (`cache_dir`), then
    downloads it from the pinned URL into the cache (unless ``LAPLACE_INV_OFFLINE`` is set).

    Parameters
    ----------
    dataset : str
        A key of `REGISTRY`.
    filename : str
        One of the dataset's registered files.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ChecksumError
        A local file or the downloaded bytes do not match the registered sha256 (a downloaded
        or cached file is removed, never left behind).
    DatasetNotAvailableError
        No local copy and the download is disabled or fails.

    Examples
    --------
    >>> fetch_file("cement_t1t2_ircpmg", "S_IRCPMG.dat")  # doctest: +SKIP
    PosixPath('/home/user/.cache/laplace_inv/cement_t1t2_ircpmg/S_IRCPMG.dat')
    >>> fetch_file("cement_t1t2_ircpmg", "nope.dat")
    Traceback (most recent call last):
    ...
    ValueError: dataset 'cement_t1t2_ircpmg' has no file 'nope.dat'; files: ['S_IRCPMG.dat', 't_X.dat', 't_Y.dat']
    """  # noqa: E501
    spec = _spec(dataset)
    if filename not in spec.files:
        raise ValueError(
            f"dataset {dataset!r} has no file {filename!r}; files: {sorted(spec.files)}"
        )
    expected = spec.files[filename]
    tried: list[str] = []

    local_root = os.environ.get(ENV_DATA)
    if local_root:
        local = Path(local_root).expanduser() / dataset / filename
        if local.is_file():
            got = sha256_file(local)
            if got != expected:
                raise ChecksumError(
                    f"{local}: sha256 {got} does not match the registered {expected}; the "
                    f"copy under {ENV_DATA} is modified or corrupted"
                )
            logger.info("%s/%s: local copy %s (sha256 verified)", dataset, filename, local)
            return local
        tried.append(f"{ENV_DATA}: {local} (absent)")
    else:
        tried.append(f"{ENV_DATA} not set")

    cached = cache_dir() / dataset / filename
    if cached.is_file():
        if sha256_file(cached) == expected:
            logger.info("%s/%s: cached copy %s (sha256 verified)", dataset, filename, cached)
            return cached
        cached.unlink()  # corrupted cache entry: drop it and fetch again
        logger.warning("%s: bad checksum, removed from the cache", cached)
        tried.append(f"cache: {cached} (bad checksum, removed)")
    else:
        tried.append(f"cache: {cached} (absent)")

    url = spec.url(filename)
    if os.environ.get(ENV_OFFLINE, "").strip() not in ("", "0"):
        tried.append(f"download disabled by {ENV_OFFLINE}")
    else:
        try:
            logger.info("%s/%s: downloading %s", dataset, filename, url)
            download_verified(url, cached, expected, expected_size=spec.sizes.get(filename))
            return cached
        except ChecksumError:
            raise
        except (urllib.error.URLError, OSError, TimeoutError, ValueError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            tried.append(f"download {url} failed ({reason})")
    raise DatasetNotAvailableError(
        f"dataset file {dataset}/{filename} is not available. Tried: "
        + "; ".join(tried)
        + f". Set {ENV_DATA} to a folder holding {dataset}/{filename} (files as published), or "
        "allow network access so it can be downloaded and verified (sha256) into the cache "
        f"({ENV_CACHE}, default ~/.cache/laplace_inv)."
    )


# --------------------------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------------------------


def load_real_dataset(name: str) -> RealDataset:
    """Load a registered dataset by name (see `REGISTRY`).

    Examples
    --------
    >>> ds = load_real_dataset("cement_t1t2_ircpmg")  # doctest: +SKIP
    >>> ds.data.shape, ds.kinds  # doctest: +SKIP
    ((48, 1000), ('T1_IR', 'T2'))
    """
    spec = _spec(name)
    paths = {f: fetch_file(name, f) for f in spec.files}
    data = read_numeric_text(paths[spec.data_file], "data")
    tau1 = _read_axis(paths[spec.tau1_file], "axis 1") * spec.tau1_unit
    tau2 = _read_axis(paths[spec.tau2_file], "axis 2") * spec.tau2_unit
    if data.shape != (tau1.size, tau2.size):
        raise ValueError(
            f"{paths[spec.data_file]}: data is {data.shape} but the axes have "
            f"{tau1.size} and {tau2.size} values"
        )
    grids = [
        None if rng is None else np.geomspace(rng[0], rng[1], DEFAULT_GRID_SIZE)
        for rng in (spec.grid1, spec.grid2)
    ]
    kernel = Kernel2D(
        KernelAxis(spec.kinds[0], tau1, grids[0]),
        KernelAxis(spec.kinds[1], tau2, grids[1]),
    )
    return RealDataset(
        name=name,
        data=data,
        tau1=kernel.axis1.tau,
        tau2=kernel.axis2.tau,
        kinds=spec.kinds,
        kernel=kernel,
        reference_peaks=[dict(p) for p in spec.reference_peaks],
        reference_residual=spec.reference_residual,
        noise_std=spec.noise_std,
        description=f"{spec.description} Source: {spec.source}. Licence: {spec.licence}.",
        files=paths,
    )


def load_cement_t1t2() -> RealDataset:
    """White Portland cement paste, IR-CPMG T1-T2 (48 × 1000; DLEMLR paper Fig. 2).

    Rows are the 48 inversion delays (0.8 ms to 2.8 s), columns the 1000 echoes
    (TE 0.1078 ms); kinds ``("T1_IR", "T2")``; signed raw amplitudes. Reference (MUpen2D):
    main peak T1 112.4 ms, T2 19.55 ms (85 %), minor peak T1 ≈ 97 ms, T2 ≈ 0.79 ms (9 %),
    relative residual 2.3e-2. Licence GPL-3.0.

    Examples
    --------
    >>> ds = load_cement_t1t2()  # doctest: +SKIP
    >>> ds.data.shape, float(ds.tau1[0]), float(ds.tau1[-1])  # doctest: +SKIP
    ((48, 1000), 0.0008, 2.8)
    """
    return load_real_dataset("cement_t1t2_ircpmg")


def load_maastricht_t2t2() -> RealDataset:
    """Water-saturated Maastricht stone, CPMG-CPMG T2-T2 (128 × 2800).

    Rows follow ``T2T2axisB`` (first CPMG, 0.3 to 840 ms), columns ``T2T2axisA`` (second
    CPMG); kinds ``("T2", "T2")``. Reference (Upen2DTool): dominant diagonal peak near
    272 ms / 303 ms holding about 56 %. Licence GPL-3.0.

    Examples
    --------
    >>> load_maastricht_t2t2().data.shape  # doctest: +SKIP
    (128, 2800)
    """
    return load_real_dataset("maastricht_t2t2")


def load_sse_dt2() -> RealDataset:
    """Static-gradient stimulated-echo CPMG, D-T2 (48 × 200), low SNR.

    Rows are b-values (``DiffAxis`` in ms/µm², converted to s/m² with 1e9), columns echo
    times (ms → s); kinds ``("D", "T2")``; the suggested D grid spans 1e-11 to 1e-7 m²/s
    (the authors' 1e-2 to 1e2 µm²/ms). No published reference map. MUpen2D freeware licence.

    Examples
    --------
    >>> load_sse_dt2().kinds  # doctest: +SKIP
    ('D', 'T2')
    """
    return load_real_dataset("sse_dt2")
