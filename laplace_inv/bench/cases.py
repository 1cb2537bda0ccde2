"""Benchmark cases: the seeded simulated suite and the real suite.

Simulated cases come from `laplace_inv.simulate`, which computes the data on a grid four
times finer than the output grid (no inverse crime) and gives the truth on the output grid:

* **resolution** — two equal peaks 0.1–0.8 decade apart along T1, T2 and the diagonal, at SNR
  30, 100, 1000 and 3000, on the cement IR-CPMG acquisition;
* **random** — random multi-peak maps per family, including tilted (|ρ| ≥ 0.5) and broad
  (σ ≥ 0.15 decade) peaks;
* **widened** (one group each: ``random-broad``, ``random-skewed``, ``random-ridge``,
  ``random-continuous``, ``random-nonideal-ir``) — the shape options of
  `laplace_inv.simulate.PeakPrior`: broad components (FWHM 0.3–0.6 decade), skewed
  components, ridges along T1 ∝ T2, continuous log-normal mixtures, and an IR acquisition with
  an unknown inversion efficiency (0.6–1.0) and baseline offset (±2 % of max|S|). T1 families
  keep the mass at T1 ≥ T2. Their truth is a map: the reference peaks are what
  `laplace_inv.metrics.find_peaks` finds on it (as for every simulated case);
* **named** — `laplace_inv.simulate.cement_like` and
  `laplace_inv.simulate.cheese_like`;
* **families** — T1_IR-T2, T1_SR-T2, T2-T2 and D-T2, each on a plausible acquisition
  (`family_kernel`).

Every case draws its noise from ``default_rng([seed, crc32(name)])``, so a case has the same
data whichever suite (full or quick) it appears in.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.metrics import Peak as RefPeak
from laplace_inv.simulate import (
    CEMENT_TAU1,
    CEMENT_TAU2,
    PeakPrior,
    Scenario,
    cement_like,
    cheese_like,
    make_scenario,
    resolution_pair,
    sample_peaks,
)

__all__ = [
    "AXES",
    "FAMILIES",
    "SEPARATIONS",
    "SNRS",
    "WIDE_PRIORS",
    "BenchCase",
    "family_kernel",
    "real_suite",
    "simulated_suite",
]

SEPARATIONS: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.6, 0.8)
"""Separations (decades) of the resolution sweeps."""
SNRS: tuple[float, ...] = (30.0, 100.0, 1000.0, 3000.0)
"""SNRs of the resolution sweeps."""
AXES: tuple[str, ...] = ("T1", "T2", "diagonal")
"""Directions of the resolution sweeps."""
FAMILIES: tuple[str, ...] = ("T1_IR-T2", "T1_SR-T2", "T2-T2", "D-T2")
"""Experiment families of the random cases."""

QUICK_SEPARATIONS: tuple[float, ...] = (0.2, 0.5)
QUICK_SNRS: tuple[float, ...] = (100.0,)
QUICK_RANDOM: tuple[str, ...] = ("multi",)
QUICK_FAMILIES: tuple[str, ...] = ("T1_SR-T2", "T2-T2", "D-T2")

RANDOM_PRIORS: dict[str, PeakPrior] = {
    "multi": PeakPrior(n_peaks=(2, 4), sigma=(0.05, 0.12), rho=(-0.3, 0.3)),
    "tilted": PeakPrior(n_peaks=(2, 3), sigma=(0.06, 0.15), rho=(0.5, 0.8)),
    "broad": PeakPrior(n_peaks=(1, 3), sigma=(0.15, 0.3), rho=(-0.3, 0.3), min_separation=0.4),
}
"""Priors of the random multi-peak cases (``multi``, ``tilted``, ``broad``)."""
RANDOM_SNR = 300.0

WIDE_PRIORS: dict[str, PeakPrior] = {
    "random-broad": PeakPrior(
        n_peaks=(1, 3), rho=(-0.3, 0.3), broad=1.0, broad_fwhm=(0.3, 0.6), min_separation=0.7
    ),
    "random-skewed": PeakPrior(
        n_peaks=(1, 3),
        sigma=(0.08, 0.15),
        rho=(-0.3, 0.3),
        skew=1.0,
        skew_alpha=(1.5, 4.0),
        min_separation=0.6,
    ),
    "random-ridge": PeakPrior(
        n_peaks=(1, 2), sigma=(0.05, 0.12), ridge=1.0, ridge_ratio=(2.0, 20.0), min_separation=0.6
    ),
    "random-continuous": PeakPrior(
        n_peaks=(1, 2), sigma=(0.1, 0.2), rho=(-0.3, 0.3), continuous=1.0, min_separation=0.8
    ),
    "random-nonideal-ir": PeakPrior(
        n_peaks=(2, 4), sigma=(0.05, 0.12), rho=(-0.3, 0.3), broad=0.3, min_separation=0.4
    ),
}
"""Priors of the widened random cases; each kind is its own group in the report tables."""
WIDE_FAMILIES: dict[str, tuple[str, ...]] = {
    "random-ridge": ("T1_IR-T2", "T1_SR-T2"),
    "random-nonideal-ir": ("T1_IR-T2",),
}
"""Families of the widened kinds that do not apply to every family (others: all)."""
NONIDEAL_EFFICIENCY: tuple[float, float] = (0.6, 1.0)
"""Range of the inversion efficiency of ``random-nonideal-ir`` cases."""
NONIDEAL_OFFSET: tuple[float, float] = (-0.02, 0.02)
"""Range of the baseline offset of ``random-nonideal-ir`` cases (fraction of max|S|)."""


@dataclass
class BenchCase:
    """One benchmark case.

    Attributes
    ----------
    name : str
        Unique name.
    suite : {"sim", "real"}
    group : str
        ``resolution``, ``random``, ``named``, ``real`` or a widened kind (``random-broad``, ...
    family : str
        Experiment family, e.g. ``"T1_IR-T2"``.
    kernel : Kernel2D
        Acquisition and output grids.
    data : numpy.ndarray
        The data to invert, ``(n1, n2)``.
    noise_std : float or None
        Noise standard deviation (known for simulations; given or ``None`` for real data).
    truth : numpy.ndarray or None
        True map on the output grid (simulations only).
    pair : numpy.ndarray or None
        For resolution cases: the two true centres, shape ``(2, 2)``, in log10 units.
    reference : list of metrics.Peak or None
        For real cases: the published reference peaks.
    reference_residual : float or None
        Relative residual of the published reference inversion.
    snr : float or None
    params : dict
        Case parameters (axis, separation, prior, ...).
    """

    name: str
    suite: str
    group: str
    family: str
    kernel: Kernel2D
    data: np.ndarray
    noise_std: float | None = None
    truth: np.ndarray | None = None
    pair: np.ndarray | None = None
    reference: list[RefPeak] | None = None
    reference_residual: float | None = None
    snr: float | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_scenario(
        cls, sc: Scenario, group: str, family: str, name: str | None = None, **params: Any
    ) -> BenchCase:
        """Wrap a simulated `laplace_inv.simulate.Scenario`."""
        pair = None
        if group == "resolution":
            pair = np.array([p.center for p in sc.peaks], dtype=float)
        return cls(
            name=name or sc.name,
            suite="sim",
            group=group,
            family=family,
            kernel=sc.kernel,
            data=sc.data,
            noise_std=sc.noise_std,
            truth=sc.truth,
            pair=pair,
            snr=sc.snr,
            params={**sc.params, **params},
        )


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(name.encode())])


def _inside(value: float, log_grid: np.ndarray, margin: float = 0.6) -> float:
    """``value`` (log10) moved inside the grid by at least ``margin`` decades if needed."""
    lo, hi = float(log_grid[0]) + margin, float(log_grid[-1]) - margin
    return float(np.clip(value, lo, hi)) if lo < hi else float(np.mean(log_grid[[0, -1]]))


def family_kernel(family: str, n_grid: int = 64) -> Kernel2D:
    """A plausible acquisition for an experiment family, with default ``n_grid`` grids.

    * ``T1_IR-T2``: the cement IR-CPMG layout (48 delays 0.8 ms–2.8 s, 1000 echoes of
      0.1078 ms).
    * ``T1_SR-T2``: 32 saturation-recovery delays 1 ms–3 s, 1000 echoes of 0.2 ms.
    * ``T2-T2``: 40 first-CPMG echo counts (0.3 ms echoes, geometric up to 600 ms) and
      1000 echoes of 0.3 ms in the second CPMG.
    * ``D-T2``: 32 b-values up to 1e10 s/m² (PFG), 1000 echoes of 0.2 ms.

    Examples
    --------
    >>> family_kernel("D-T2").kinds
    ('D', 'T2')
    """
    echoes = np.arange(1, 1001)
    if family == "T1_IR-T2":
        axes = ("T1_IR", CEMENT_TAU1), ("T2", CEMENT_TAU2)
    elif family == "T1_SR-T2":
        axes = ("T1_SR", np.geomspace(1e-3, 3.0, 32)), ("T2", echoes * 0.2e-3)
    elif family == "T2-T2":
        counts = np.unique(np.round(np.geomspace(1, 2000, 40)))
        axes = ("T2", counts * 0.3e-3), ("T2", echoes * 0.3e-3)
    elif family == "D-T2":
        axes = ("D", np.linspace(0.0, 1e10, 32)), ("T2", echoes * 0.2e-3)
    else:
        raise ValueError(f"unknown family {family!r}; expected one of {FAMILIES}")
    return Kernel2D(*(KernelAxis(kind, tau, n_grid=n_grid) for kind, tau in axes))


def simulated_suite(
    seed: int = 0,
    quick: bool = False,
    *,
    separations: Sequence[float] | None = None,
    snrs: Sequence[float] | None = None,
    axes: Sequence[str] | None = None,
    random_kinds: Sequence[str] | None = None,
    families: Sequence[str] | None = None,
    named: bool = True,
    kernel_for: Callable[[str], Kernel2D] | None = None,
) -> list[BenchCase]:
    """The seeded simulated suite.

    Parameters
    ----------
    seed : int
        Seed of every random draw (peaks and noise).
    quick : bool
        The quick suite (11 cases): separations 0.2 and 0.5 at SNR 100 along each axis, the
        two named cases and one random case for each family other than T1_IR-T2 (which the
        named cases cover).
    separations, snrs, axes : sequence, optional
        Override the resolution sweep (an empty sequence drops it).
    random_kinds : sequence of str, optional
        Which of `RANDOM_PRIORS` and `WIDE_PRIORS` to draw per family (default:
        all; the widened kinds come after every other case, in their own groups).
    families : sequence of str, optional
        Families of the random cases.
    named : bool
        Include ``cement_like`` and ``cheese_like``.
    kernel_for : callable, optional
        ``family -> Kernel2D``; default `family_kernel` (tests pass tiny kernels).

    Returns
    -------
    list of BenchCase

    Examples
    --------
    >>> cases = simulated_suite(quick=True, random_kinds=(), named=False)
    >>> len(cases), cases[0].name
    (6, 'pair_T1_0.2_snr100')
    """
    kernel_for = kernel_for or family_kernel
    separations = QUICK_SEPARATIONS if quick and separations is None else separations
    snrs = QUICK_SNRS if quick and snrs is None else snrs
    random_kinds = QUICK_RANDOM if quick and random_kinds is None else random_kinds
    families = QUICK_FAMILIES if quick and families is None else families
    separations = SEPARATIONS if separations is None else tuple(separations)
    snrs = SNRS if snrs is None else tuple(snrs)
    axes = AXES if axes is None else tuple(axes)
    random_kinds = (*RANDOM_PRIORS, *WIDE_PRIORS) if random_kinds is None else tuple(random_kinds)
    unknown = [k for k in random_kinds if k not in RANDOM_PRIORS and k not in WIDE_PRIORS]
    if unknown:
        raise ValueError(
            f"unknown random kinds {unknown}; expected some of {[*RANDOM_PRIORS, *WIDE_PRIORS]}"
        )
    families = FAMILIES if families is None else tuple(families)

    cases: list[BenchCase] = []
    kernels: dict[str, Kernel2D] = {}

    def kernel(family: str) -> Kernel2D:
        if family not in kernels:
            kernels[family] = kernel_for(family)
        return kernels[family]

    for axis in axes:
        for snr in snrs:
            for sep in separations:
                name = f"pair_{axis}_{sep:g}_snr{snr:g}"
                k = kernel("T1_IR-T2")
                center = (_inside(-1.0, k.axis1.log_grid), _inside(-2.0, k.axis2.log_grid))
                sc = resolution_pair(
                    sep, axis, snr=snr, kernel=k, center=center, random_state=_rng(seed, name)
                )
                cases.append(BenchCase.from_scenario(sc, "resolution", "T1_IR-T2", name))
    if named:
        k = kernel("T1_IR-T2")
        sc = cement_like(k, random_state=_rng(seed, "cement_like"))
        cases.append(BenchCase.from_scenario(sc, "named", "T1_IR-T2"))
        sc = cheese_like(k, random_state=_rng(seed, "cheese_like"))
        cases.append(BenchCase.from_scenario(sc, "named", "T1_IR-T2"))
    for family in families:
        for kind in (k for k in random_kinds if k in RANDOM_PRIORS):
            prior = RANDOM_PRIORS[kind]
            if family.startswith("T1"):
                prior = PeakPrior(**{**prior.__dict__, "t1_ge_t2": True})
            name = f"{kind}_{family}"
            rng = _rng(seed, name)
            k = kernel(family)
            peaks = sample_peaks(prior, k, rng)
            sc = make_scenario(name, k, peaks, RANDOM_SNR, rng, params={"prior": kind})
            cases.append(BenchCase.from_scenario(sc, "random", family))
    for kind in (k for k in random_kinds if k in WIDE_PRIORS):
        for family in families:
            if family in WIDE_FAMILIES.get(kind, FAMILIES):
                cases.append(_wide_case(kind, family, kernel(family), seed))
    return cases


def _wide_case(kind: str, family: str, kernel: Kernel2D, seed: int) -> BenchCase:
    """One case of a widened kind: T1 families at T1 ≥ T2, the IR acquisition non-ideal."""
    prior = WIDE_PRIORS[kind]
    if family.startswith("T1"):
        prior = PeakPrior(**{**prior.__dict__, "t1_ge_t2": True, "below_diagonal": 0.01})
    name = f"{kind}_{family}"
    rng = _rng(seed, name)
    peaks = sample_peaks(prior, kernel, rng)
    acquisition: dict[str, Any] = {}
    if kind == "random-nonideal-ir":
        acquisition = {
            "efficiency": float(rng.uniform(*NONIDEAL_EFFICIENCY)),
            "offset": float(rng.uniform(*NONIDEAL_OFFSET)),
        }
    params = {"prior": kind, "truth_from_map": True}
    sc = make_scenario(name, kernel, peaks, RANDOM_SNR, rng, params=params, **acquisition)
    return BenchCase.from_scenario(sc, kind, family)


def real_suite() -> tuple[list[BenchCase], list[tuple[str, str]]]:
    """The real suite: cement T1-T2, Maastricht T2-T2 and SSE D-T2.

    Datasets that cannot be loaded here (no network, no ``LAPLACE_INV_DATA`` folder) are
    listed with the reason instead.

    Returns
    -------
    cases : list of BenchCase
    missing : list of (name, reason)
    """
    from laplace_inv import datasets

    loaders = {
        "cement_t1t2": (datasets.load_cement_t1t2, "T1_IR-T2"),
        "maastricht_t2t2": (datasets.load_maastricht_t2t2, "T2-T2"),
        "sse_dt2": (datasets.load_sse_dt2, "D-T2"),
    }
    cases: list[BenchCase] = []
    missing: list[tuple[str, str]] = []
    for name, (loader, family) in loaders.items():
        try:
            ds = loader()
        except Exception as exc:  # unavailable data is reported, never fatal
            missing.append((name, f"{type(exc).__name__}: {exc}"))
            continue
        refs = []
        for p in ds.reference_peaks:
            frac = p.get("fraction")
            refs.append(
                RefPeak.from_log_position(
                    np.log10(np.asarray(p["position"], dtype=float)),
                    fraction=float(frac) if frac is not None else np.nan,
                )
            )
        cases.append(
            BenchCase(
                name=name,
                suite="real",
                group="real",
                family=family,
                kernel=ds.kernel,
                data=np.asarray(ds.data, dtype=float),
                noise_std=ds.noise_std,
                reference=refs or None,
                reference_residual=ds.reference_residual,
                params={"labels": [p.get("label", "") for p in ds.reference_peaks]},
            )
        )
    return cases, missing
