"""Real 2D NMR datasets: pinned downloads with sha256 checks, or a local folder.

Three public measurements are registered (see :data:`REGISTRY`):

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
this package). :func:`fetch_file` finds each file, in this order:

1. ``$LAPLACE_INV_DATA/<key>/<file>``: a local folder (e.g. a CI mirror) whose subfolders are
   named like the dataset keys and hold the files under their published names;
2. ``$LAPLACE_INV_CACHE/<key>/<file>`` (default ``~/.cache/laplace_inv``);
3. a download from the commit-pinned raw GitHub URL into the cache: written to a temporary
   file in the cache folder, its sha256 checked, then atomically renamed into place.

Every file, local or downloaded, is checked against the sha256 in the registry. A mismatch
raises :class:`ChecksumError` and never leaves a file in the cache. Set
``LAPLACE_INV_OFFLINE=1`` to forbid downloads. When no source works,
:class:`DatasetNotAvailableError` says what was tried.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from laplace_inv.io import Acquisition, read_numeric_text
from laplace_inv.io._text import read_axis as _read_axis
from laplace_inv.kernels import DEFAULT_GRID_SIZE, Kernel2D, KernelAxis

logger = logging.getLogger(__name__)

__all__ = [
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
]

ENV_DATA = "LAPLACE_INV_DATA"
ENV_CACHE = "LAPLACE_INV_CACHE"
ENV_OFFLINE = "LAPLACE_INV_OFFLINE"
DOWNLOAD_TIMEOUT_S = 60.0

_UPEN2DTOOL = (
    "https://raw.githubusercontent.com/fzama63/Upen2DTool/"
    "529846491712c09666254a18b767b0871f8a24d3/Upen2DTool/DATA"
)
_MUPEN2D = (
    "https://raw.githubusercontent.com/ElsevierSoftwareX/SOFTX-D-22-00071/"
    "5525fcb44414b1e831252860a60925715beeca1d/DATA"
)


class DatasetNotAvailableError(OSError):
    """No local copy, no cached copy, and the download failed or is disabled."""


class ChecksumError(OSError):
    """A local, cached or downloaded file does not match its registered sha256."""


@dataclass(frozen=True)
class DatasetSpec:
    """Registry entry of one real dataset.

    Attributes
    ----------
    key : str
        Dataset name (also the subfolder name under ``LAPLACE_INV_DATA`` and the cache).
    base_url : str
        Commit-pinned raw URL of the folder; a file's URL is ``base_url + "/" + name``.
    files : dict
        ``{file name: sha256}``.
    data_file, tau1_file, tau2_file : str
        Data matrix (rows = axis 1), row axis, column axis.
    kinds : tuple of str
        Kernel kinds.
    tau1_unit, tau2_unit : float
        SI units per file unit (1e-3 for ms, 1e9 for b in ms/µm²).
    grid1, grid2 : tuple or None
        ``(lo, hi)`` of the suggested 64-point grid in SI units; ``None`` picks
        :func:`laplace_inv.kernels.default_grid`.
    reference_peaks : tuple of dict
        Reference peaks: ``position`` (SI, one value per axis), ``fraction`` (of the total
        signal, or None), ``label``, ``published`` (bool).
    reference_residual : float or None
        Relative residual ``‖K F − S‖/‖S‖`` of the published reference inversion.
    noise_std : float or None
        Noise standard deviation in data units, when known.
    licence, source, description : str
        Provenance.
    """

    key: str
    base_url: str
    files: dict[str, str]
    data_file: str
    tau1_file: str
    tau2_file: str
    kinds: tuple[str, str]
    tau1_unit: float
    tau2_unit: float
    grid1: tuple[float, float] | None
    grid2: tuple[float, float] | None
    reference_peaks: tuple[dict[str, Any], ...]
    reference_residual: float | None
    noise_std: float | None
    licence: str
    source: str
    description: str

    def url(self, filename: str) -> str:
        """Pinned download URL of one file."""
        return f"{self.base_url}/{filename}"


REGISTRY: dict[str, DatasetSpec] = {
    "cement_t1t2_ircpmg": DatasetSpec(
        key="cement_t1t2_ircpmg",
        base_url=f"{_UPEN2DTOOL}/T1-T2",
        files={
            "S_IRCPMG.dat": "c4216d5932ae638d94db2b1732d5369332e935ab55f480336f2a4388bcafdfa0",
            "t_X.dat": "83081875c53022f0830f55e1b9b3e20dfba808574712b132fa7d849996d470e0",
            "t_Y.dat": "2377895db9415be6f323a765c466895b63226af5f5bf55098add70da447ed1cc",
        },
        data_file="S_IRCPMG.dat",
        tau1_file="t_Y.dat",
        tau2_file="t_X.dat",
        kinds=("T1_IR", "T2"),
        tau1_unit=1e-3,
        tau2_unit=1e-3,
        grid1=None,
        grid2=None,
        reference_peaks=(
            {
                "position": (112.37e-3, 19.55e-3),
                "fraction": 0.85,
                "label": "main peak (T1 112.4 ms, T2 19.55 ms)",
                "published": True,
            },
            {
                "position": (97e-3, 0.79e-3),
                "fraction": 0.09,
                "label": "minor peak (T1 ≈ 97 ms, T2 ≈ 0.79 ms)",
                "published": True,
            },
        ),
        reference_residual=2.3e-2,
        noise_std=31.0,
        licence="GPL-3.0 (Upen2DTool)",
        source=(
            "github.com/fzama63/Upen2DTool @ 529846491712c09666254a18b767b0871f8a24d3, "
            "Upen2DTool/DATA/T1-T2/"
        ),
        description=(
            "White Portland cement paste, IR-CPMG T1-T2: 48 inversion delays (0.8 ms to 2.8 s, "
            "geometric) x 1000 echoes (TE 0.1078 ms), TR 3 s, 4 scans, SNR about 200. Signed "
            "raw amplitudes (first row negative, last positive). The real dataset of the "
            "DLEMLR paper's Fig. 2 and the Upen2DTool example. Reference: MUpen2D output "
            "(SOFTX-D-22-00071 @ 5525fcb, output_files), 80x80 grid, T1 and T2 in "
            "[1e-2, 1e3] ms; noise_std 31 is the residual standard deviation it reports."
        ),
    ),
    "maastricht_t2t2": DatasetSpec(
        key="maastricht_t2t2",
        base_url=f"{_UPEN2DTOOL}/T2-T2",
        files={
            "T2T2data2D.dat": "8f03f1edaaf773ffcd13e7bc629b2d0973a08ea88d170f154bdfe8568d494c89",
            "T2T2axisA.dat": "8d2e3851cfb721da854a244b532348a7d1bdeaac782229ade9c0c28a37615c9b",
            "T2T2axisB.dat": "a51127ab99aa52f4b469ddf1987846a7961e4e29c6292b9448444a34a35e871e",
        },
        data_file="T2T2data2D.dat",
        tau1_file="T2T2axisB.dat",
        tau2_file="T2T2axisA.dat",
        kinds=("T2", "T2"),
        tau1_unit=1e-3,
        tau2_unit=1e-3,
        grid1=None,
        grid2=None,
        reference_peaks=(
            {
                "position": (272e-3, 303e-3),
                "fraction": 0.56,
                "label": "dominant diagonal peak (T2a ≈ 272 ms, T2b ≈ 303 ms)",
                "published": True,
            },
        ),
        reference_residual=9.8456e-3,
        noise_std=None,
        licence="GPL-3.0 (Upen2DTool)",
        source=(
            "github.com/fzama63/Upen2DTool @ 529846491712c09666254a18b767b0871f8a24d3, "
            "Upen2DTool/DATA/T2-T2/"
        ),
        description=(
            "Water-saturated Maastricht stone (calcarenite), CPMG-CPMG T2-T2: 128 first-CPMG "
            "times (0.3 to 840 ms) x 2800 second-CPMG echoes (0.3 to 840 ms). Mixing time very "
            "probably 100 µs, so the map should be mostly diagonal. Reference: Upen2DTool "
            "output, 64x64 grid (T2a in [1e-2, 3e3] ms, T2b in [1e-1, 3e3] ms), weak "
            "off-diagonal features."
        ),
    ),
    "sse_dt2": DatasetSpec(
        key="sse_dt2",
        base_url=f"{_MUPEN2D}/D-T2",
        files={
            "Data2D.dat": "e81e0f1751addc1a6b85fc4f9c7720cf0f04195723789b0dd98ae5feae045efc",
            "DiffAxis.dat": "945ae3d88c722fce7a249518f11f8c9f062f675df616e7e4e741506deaf09892",
            "T2Axis.dat": "79cf594615476f10e320a0a7bdcc3e86ce3721888f15bffb3ada8e917db697f8",
        },
        data_file="Data2D.dat",
        tau1_file="DiffAxis.dat",
        tau2_file="T2Axis.dat",
        kinds=("D", "T2"),
        tau1_unit=1e9,
        tau2_unit=1e-3,
        grid1=(1e-11, 1e-7),
        grid2=None,
        reference_peaks=(
            {
                "position": (1.1e-9, 1.3e-3),
                "fraction": None,
                "label": "dominant component (D ≈ 1–1.2 µm²/ms, T2 ≈ 0.8–1.9 ms)",
                "published": False,
            },
            {
                "position": (1.1e-8, 0.65e-3),
                "fraction": None,
                "label": "minor component (D ≈ 11 µm²/ms, T2 ≈ 0.65 ms)",
                "published": False,
            },
        ),
        reference_residual=None,
        noise_std=None,
        licence="MUpen2D freeware licence: no resale or sublicensing",
        source=(
            "github.com/ElsevierSoftwareX/SOFTX-D-22-00071 @ "
            "5525fcb44414b1e831252860a60925715beeca1d, DATA/D-T2/"
        ),
        description=(
            "Static-gradient stimulated-echo CPMG, D-T2 (sample not described): 48 b-values "
            "(0.019 to 1.277 ms/µm², taken as 1e9 s/m² per unit) x 200 echoes (0.04 to 8 ms). "
            "Low SNR (about 10 to 20). The authors' grids: D in [1e-2, 1e2] µm²/ms, T2 in "
            "[0.1, 100] ms. No reference map is published; the reference peaks come from a "
            "quick non-negative Tikhonov inversion and are indicative only."
        ),
    ),
}
"""The registered real datasets, keyed by name."""


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
        """The same data as an :class:`~laplace_inv.io.Acquisition`."""
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


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _spec(dataset: str) -> DatasetSpec:
    if dataset not in REGISTRY:
        raise ValueError(f"unknown dataset {dataset!r}; available: {sorted(REGISTRY)}")
    return REGISTRY[dataset]


def _download(url: str, target: Path, expected: str) -> None:
    """Download ``url`` to ``target`` through a temporary file, checking sha256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
                while True:
                    chunk = response.read(1 << 20)
                    if not chunk:
                        break
                    h.update(chunk)
                    out.write(chunk)
        got = h.hexdigest()
        if got != expected:
            raise ChecksumError(
                f"downloaded {url} has sha256 {got}, expected {expected}; the file was "
                "discarded (corrupted transfer or changed upstream)"
            )
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def fetch_file(dataset: str, filename: str) -> Path:
    """Local path of one registered file, verified against its sha256.

    Looks in ``$LAPLACE_INV_DATA/<dataset>/``, then the cache (:func:`cache_dir`), then
    downloads it from the pinned URL into the cache (unless ``LAPLACE_INV_OFFLINE`` is set).

    Parameters
    ----------
    dataset : str
        A key of :data:`REGISTRY`.
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
            _download(url, cached, expected)
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
    """Load a registered dataset by name (see :data:`REGISTRY`).

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
