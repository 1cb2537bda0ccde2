"""1D benchmark cases with known truth: log-normal T2 components on a CPMG acquisition.

Each component is a Gaussian in ``log10 T2`` (centre ``μ``, width ``σ`` decades, FWHM
``2.3548σ``). The data are computed on a grid four times finer than the output grid (no
inverse crime), with white noise of ``σ_noise = max|S| / SNR``; the truth is the same
components on the output grid, each with its exact mass. Groups:

* **components** — 1, 2 and 3 components at random positions and widths (σ 0.05-0.15
  decade, at least 0.5 decade apart) at SNR 30, 100, 300, 1000 and 3000, two draws each;
* **resolution** — two equal narrow components (σ = 0.05 decade) 0.2-1.0 decade apart at
  SNR 30, 100, 1000 and 3000;
* **kinds** — two components on a T1 inversion-recovery, a T1 saturation-recovery and a
  PGSE diffusion acquisition at SNR 300, to show every kernel kind inverts.

Every case draws its noise from ``default_rng([seed, crc32(name)])``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from laplace_inv.kernels import Kernel1D, KernelAxis

__all__ = [
    "COMPONENT_SNRS",
    "RESOLUTION_SEPARATIONS",
    "RESOLUTION_SNRS",
    "OneDCase",
    "one_d_kernel",
    "one_d_suite",
]

COMPONENT_SNRS: tuple[float, ...] = (30.0, 100.0, 300.0, 1000.0, 3000.0)
"""SNRs of the random 1-3 component cases."""
RESOLUTION_SEPARATIONS: tuple[float, ...] = (0.2, 0.3, 0.4, 0.6, 0.8, 1.0)
"""Separations (decades) of the two-component resolution sweep."""
RESOLUTION_SNRS: tuple[float, ...] = (30.0, 100.0, 1000.0, 3000.0)
"""SNRs of the resolution sweep."""
RESOLUTION_SIGMA = 0.05
"""Width (σ, decades) of each component of a resolution pair."""
N_GRID = 100
"""Output grid size of the 1D cases."""
FINE = 4
"""The data are simulated on a grid this many times finer than the output grid."""

_ACQUISITIONS: dict[str, tuple[np.ndarray, tuple[float, float]]] = {
    # kind: (acquisition values, range of component centres in log10 of the grid unit)
    "T2": (np.arange(1, 2001) * 2e-4, (-3.0, -0.3)),  # 2000 echoes, 0.2 ms apart
    "T1_IR": (np.geomspace(1e-4, 5.0, 32), (-3.0, 0.0)),  # 32 recovery delays
    "T1_SR": (np.geomspace(1e-4, 5.0, 32), (-3.0, 0.0)),
    "D": (np.linspace(0.0, 1.0, 32) ** 2 * 1e10, (-10.5, -8.5)),  # b up to 1e10 s/m²
}


@dataclass
class OneDCase:
    """One 1D benchmark case.

    Attributes
    ----------
    name : str
        Unique name.
    group : str
        ``components``, ``resolution`` or ``kinds``.
    kernel : Kernel1D
        Acquisition and output grid.
    data : numpy.ndarray
        The decay, shape ``(n,)``.
    noise_std : float
        Noise standard deviation.
    truth : numpy.ndarray
        True distribution on the output grid (mass per grid point), shape ``(N,)``.
    centers : numpy.ndarray
        True component centres, log10 of the grid unit.
    fwhm : numpy.ndarray
        True component FWHM, decades.
    fractions : numpy.ndarray
        True component mass fractions.
    snr : float
        ``max|S| / σ_noise``.
    params : dict
        Case parameters (separation, draw, ...).
    """

    name: str
    group: str
    kernel: Kernel1D
    data: np.ndarray
    noise_std: float
    truth: np.ndarray
    centers: np.ndarray
    fwhm: np.ndarray
    fractions: np.ndarray
    snr: float
    params: dict[str, Any] = field(default_factory=dict)


def one_d_kernel(kind: str = "T2", n_grid: int = N_GRID) -> Kernel1D:
    """The benchmark acquisition of ``kind`` on its default grid.

    Examples
    --------
    >>> one_d_kernel().data_shape, one_d_kernel().map_shape
    ((2000, 1), (100, 1))
    """
    tau, _ = _ACQUISITIONS[kind]
    return Kernel1D(KernelAxis(kind, tau, n_grid=n_grid))


def _components(log_grid: np.ndarray, centers: Any, sigmas: Any, masses: Any) -> np.ndarray:
    """Each component as mass per grid point on ``log_grid``, shape ``(k, N)``."""
    out = []
    for mu, sigma, mass in zip(centers, sigmas, masses, strict=True):
        shape = np.exp(-0.5 * ((log_grid - mu) / sigma) ** 2)
        out.append(mass * shape / shape.sum())
    return np.array(out)


def make_case(
    name: str,
    group: str,
    kind: str,
    centers: Any,
    sigmas: Any,
    masses: Any,
    snr: float,
    seed: int = 0,
    **params: Any,
) -> OneDCase:
    """Simulate one case: data on a 4× finer grid, truth on the output grid.

    Examples
    --------
    >>> case = make_case("demo", "components", "T2", [-2.0], [0.1], [1.0], snr=300)
    >>> case.data.shape, case.truth.shape, round(float(case.truth.sum()), 6)
    ((2000,), (100,), 1.0)
    """
    kernel = one_d_kernel(kind)
    fine = kernel.refined(FINE)
    masses = np.asarray(masses, dtype=float)
    f_fine = _components(np.log10(fine.grid), centers, sigmas, masses).sum(axis=0)
    clean = fine.forward(f_fine)
    rng = np.random.default_rng([int(seed), zlib.crc32(name.encode())])
    noise_std = float(np.abs(clean).max()) / float(snr)
    data = clean + noise_std * rng.standard_normal(clean.shape)
    truth = _components(np.log10(kernel.grid), centers, sigmas, masses).sum(axis=0)
    return OneDCase(
        name=name,
        group=group,
        kernel=kernel,
        data=data,
        noise_std=noise_std,
        truth=truth,
        centers=np.asarray(centers, dtype=float),
        fwhm=2.3548 * np.asarray(sigmas, dtype=float),
        fractions=masses / masses.sum(),
        snr=float(snr),
        params={"kind": kind, **params},
    )


def _random_components(
    rng: np.random.Generator, k: int, span: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``k`` centres at least 0.5 decade apart in ``span``, σ in [0.05, 0.15], masses."""
    while True:
        centers = np.sort(rng.uniform(span[0] + 0.3, span[1] - 0.3, k))
        if k == 1 or np.min(np.diff(centers)) >= 0.5:
            break
    sigmas = rng.uniform(0.05, 0.15, k)
    masses = rng.uniform(0.3, 1.0, k)
    return centers, sigmas, masses


def one_d_suite(seed: int = 0, quick: bool = False) -> list[OneDCase]:
    """The 1D cases (see the module description); ``quick`` keeps a small subset.

    Examples
    --------
    >>> cases = one_d_suite(quick=True)
    >>> sorted({c.group for c in cases}), len(cases)
    (['components', 'kinds', 'resolution'], 10)
    """
    cases: list[OneDCase] = []
    snrs = (100.0, 1000.0) if quick else COMPONENT_SNRS
    draws = 1 if quick else 2
    span = _ACQUISITIONS["T2"][1]
    for k in (1, 2, 3):
        for snr in snrs:
            for draw in range(draws):
                name = f"1d-{k}comp-snr{snr:g}-d{draw}"
                rng = np.random.default_rng([int(seed), zlib.crc32(name.encode())])
                centers, sigmas, masses = _random_components(rng, k, span)
                cases.append(
                    make_case(name, "components", "T2", centers, sigmas, masses, snr, seed, n=k)
                )
    separations = (0.3, 0.6) if quick else RESOLUTION_SEPARATIONS
    for snr in (1000.0,) if quick else RESOLUTION_SNRS:
        for sep in separations:
            name = f"1d-pair-sep{sep:g}-snr{snr:g}"
            pair = [-1.8 - sep / 2, -1.8 + sep / 2]
            widths = [RESOLUTION_SIGMA] * 2
            cases.append(
                make_case(name, "resolution", "T2", pair, widths, [1, 1], snr, seed, sep=sep)
            )
    for kind in ("T1_IR", "D") if quick else ("T1_IR", "T1_SR", "D"):
        lo, hi = _ACQUISITIONS[kind][1]
        where = [lo + 0.3 * (hi - lo), lo + 0.75 * (hi - lo)]
        name = f"1d-{kind}-2comp-snr300"
        cases.append(make_case(name, "kinds", kind, where, [0.08, 0.1], [0.6, 0.4], 300, seed))
    return cases
