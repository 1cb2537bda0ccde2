"""Data shipped inside the package: the embedded demo dataset.

``cement_like_demo.npz`` is a cement-like IR-CPMG simulation (48 inversion delays × 1000
echoes, the layout of the real white-cement acquisition) made by
``laplace_inv.simulate.cement_like`` with a fixed seed by ``scripts/make_demo_data.py``.
``laplace-inv demo`` uses it when the real cement data can be neither found nor downloaded,
so the demo runs on a machine without network. Its sha256 is checked on every load.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DEMO_FILE", "DEMO_SHA256", "EmbeddedDataset", "load_embedded_demo"]

DEMO_FILE = Path(__file__).with_name("cement_like_demo.npz")
"""Location of the embedded demo file inside the installed package."""
DEMO_SEED = 20240523
"""Random seed of the noise in the demo file."""
DEMO_SNR = 200.0
"""Peak signal-to-noise ratio of the demo file (``max|S| / σ``)."""
DEMO_SHA256 = "5eb3b3a08ba6c170ad93663a02df3c53c4b28f1f29a4095689a9bb0c605ec4c0"
"""sha256 of ``cement_like_demo.npz`` as written by ``scripts/make_demo_data.py``."""


@dataclass
class EmbeddedDataset:
    """The embedded demo data, with the attributes the demo reads from a real dataset.

    Attributes
    ----------
    name : str
        ``"cement_like_embedded"``.
    data : numpy.ndarray
        ``(48, 1000)`` simulated IR-CPMG amplitudes (float64, stored as float32).
    tau1 : numpy.ndarray
        Inversion delays in s.
    tau2 : numpy.ndarray
        Echo times in s.
    kinds : tuple of str
        ``("T1_IR", "T2")``.
    kernel : Kernel2D
        The acquisition with 64-point default grids.
    reference_peaks : list of dict
        The simulated components: ``position`` (s, per axis), ``fraction``, ``label``.
    reference_residual : float or None
        Always ``None`` (no published inversion of simulated data).
    noise_std : float
        The simulated noise standard deviation.
    description : str
        What the data are and how they were made.
    files : dict
        ``{file name: path}`` of the embedded file.
    """

    name: str
    data: np.ndarray
    tau1: np.ndarray
    tau2: np.ndarray
    kinds: tuple[str, str]
    kernel: Any
    reference_peaks: list[dict[str, Any]]
    reference_residual: float | None
    noise_std: float
    description: str
    files: dict[str, Path] = field(default_factory=dict)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def load_embedded_demo(path: str | Path | None = None) -> EmbeddedDataset:
    """Load the embedded cement-like demo dataset, checking its sha256.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Another copy of the file to read (default: the one shipped in the package).

    Returns
    -------
    EmbeddedDataset

    Raises
    ------
    OSError
        When the file is missing or its sha256 differs from ``DEMO_SHA256``.

    Examples
    --------
    >>> ds = load_embedded_demo()
    >>> ds.data.shape, ds.kinds
    ((48, 1000), ('T1_IR', 'T2'))
    >>> [round(p["fraction"], 2) for p in ds.reference_peaks]
    [0.88, 0.12]
    """
    from laplace_inv.kernels import Kernel2D, KernelAxis

    file = Path(DEMO_FILE if path is None else path)
    if not file.is_file():
        raise OSError(
            f"{file}: the embedded demo file is missing; reinstall laplace-inv or run "
            "scripts/make_demo_data.py"
        )
    actual = _sha256(file)
    if actual != DEMO_SHA256:
        raise OSError(
            f"{file}: sha256 {actual} does not match the expected {DEMO_SHA256}; the file is "
            "damaged: reinstall laplace-inv or rerun scripts/make_demo_data.py"
        )
    with np.load(file, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    kinds = (str(arrays["kinds"][0]), str(arrays["kinds"][1]))
    tau1 = arrays["tau1"].astype(np.float64)
    tau2 = arrays["tau2"].astype(np.float64)
    kernel = Kernel2D(KernelAxis(kinds[0], tau1, n_grid=64), KernelAxis(kinds[1], tau2, n_grid=64))
    labels = ("main (simulated)", "minor (simulated)")
    peaks = [
        {"position": tuple(float(v) for v in pos), "fraction": float(frac), "label": label}
        for pos, frac, label in zip(
            arrays["peak_positions"], arrays["peak_fractions"], labels, strict=False
        )
    ]
    return EmbeddedDataset(
        name="cement_like_embedded",
        data=arrays["data"].astype(np.float64),
        tau1=tau1,
        tau2=tau2,
        kinds=kinds,
        kernel=kernel,
        reference_peaks=peaks,
        reference_residual=None,
        noise_std=float(np.ravel(arrays["noise_std"])[0]),
        description=(
            "Simulated cement-like IR-CPMG data (laplace_inv.simulate.cement_like, seed "
            f"{DEMO_SEED}, SNR {DEMO_SNR:g}) on the real cement acquisition layout; shipped "
            "with the package for offline use. Not a measurement."
        ),
        files={file.name: file},
    )
