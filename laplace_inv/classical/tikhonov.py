"""Non-negative Tikhonov inversion: one global α, or UPEN's locally adapted weights."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from laplace_inv._validation import Interval, Options, PositiveArray
from laplace_inv.base import BaseInverter
from laplace_inv.kernels import Kernel2D
from laplace_inv.solvers.alpha_scale import ALPHA_SCALES, alpha_unit
from laplace_inv.solvers.result import warn_not_converged
from laplace_inv.solvers.tikhonov import ALPHA_RULES, global_tikhonov, tikhonov_fista
from laplace_inv.solvers.upen import upen_solve
from laplace_inv.threads import limit_blas

PENALTIES = ("upen", "global")

_POSITIVE = Interval(float, 0, None, "neither")
_NON_NEGATIVE = Interval(float, 0, None, "left")
_UNIT = Interval(float, 0, 1, "neither")
_COUNT = Interval(int, 1, None, "left")


class TikhonovInverter(BaseInverter):
    """Non-negative Tikhonov inversion on the compressed problem.

    ``penalty="global"`` solves ``min_{F≥0} ½‖K1 F K2ᵀ − S‖² + ½α‖F‖²`` on the
    SVD-compressed problem with BRD (Butler, Reeds, Dawson 1981): Newton's method on the
    smooth dual, whose dimension is the number of significant singular-value pairs (a few
    hundred) rather than the 4096 bins. Chosen over FLINT's FISTA because its iteration
    count does not grow with the conditioning: the α that GCV picks on real data is
    ~1e-8 of the Lipschitz constant, where FISTA needs tens of thousands of iterations
    per α, while BRD needs a handful of Cholesky steps with warm starts along the α path,
    and the final Cholesky factor gives GCV's degrees of freedom for free. The default
    discrepancy rule walks no path: it solves the non-negative least-squares problem once
    (the floor of the misfit) and finds the α by a root search whose solves restart an
    active-set method from the nearest solved support (a few small factorisations each).
    ``solver="fista"`` keeps FLINT's method for a fixed α.

    ``penalty="upen"`` (the default) is the 2DUPEN multi-parameter method of Bortolotti
    et al. (Inverse Problems 2017): local weights on the squared 2D Laplacian, adapted to the
    map's slope and curvature (see `laplace_inv.solvers.upen`).

    Data are scaled to ``max|S| = 1`` before solving, so α values refer to normalised data;
    with ``alpha_scale="noise"`` a numeric α is in units of ``N1·N2·σ̂²`` instead (σ̂ the
    noise level of the normalised data), where a log grid from 1e-4 to 1e2 goes from
    under- to over-smoothing on any dataset.

    Parameters
    ----------
    kernel : Kernel2D
        Acquisition and output grids.
    penalty : {"upen", "global"}
        The regularisation.
    alpha : {"discrepancy", "gcv", "lcurve"} or float
        For ``penalty="global"``: the rule choosing α, or α itself (in the unit
        ``alpha_scale`` sets). The default,
        ``"discrepancy"``, takes the largest α whose residual is within one standard
        deviation of χ² of ``max(nσ², best achievable fit)``, with σ from the data outside
        the kernels' range; it stays robust when model error (imperfect pulses, correlated
        noise) keeps real data above the noise floor, where GCV under-smooths and splits
        peaks (real cement: one main peak holding 83 % with the default, two lobes of 58 % +
        22 % with GCV). On simulated white-noise data GCV gives sharper peaks
        (``benchmarks/bench_foundation.py`` prints both).
    alpha_grid : array_like, optional
        Candidate α values (decreasing), in the units of ``alpha_scale``; default 13 values
        from 1e-2·L to 1e-11·L (L the operator's Lipschitz constant) for GCV and the
        L-curve. The discrepancy rule searches that range by root finding unless a grid is
        given (then it walks the grid and bisects, as the other rules do).
    solver : {"brd", "fista"}
        Solver for global Tikhonov: BRD dual Newton (default; its iteration count does not
        depend on the conditioning) or FLINT-style FISTA (first order, numeric α only;
        needs ~√(L/α) iterations, slow for the small α that GCV picks on high-SNR data).
    rtol : float
        Singular-value threshold of the compression.
    max_iter : int
        Iteration cap per solve (Newton steps, or FISTA iterations).
    tol : float
        Tolerance: relative dual-gradient norm (BRD) or relative map change (FISTA).
    beta00 : float
        UPEN's β0 for the first weights (> 0; published default 1).
    beta0 : float
        UPEN's constant compliance (> 0; published default 1e-4).
    beta_p : float
        UPEN's slope compliance (≥ 0; published default 1e-5).
    beta_c : float
        UPEN's curvature compliance (≥ 0; published default 0.1).
    upen_tol : float
        UPEN outer-loop tolerance on ``‖F − F_old‖/‖F‖``.
    upen_max_iter : int
        UPEN outer-loop iteration cap.
    alpha_scale : {"absolute", "noise"}
        The unit of a numeric ``alpha`` and of ``alpha_grid``. ``"absolute"`` (the default,
        the historical behaviour): α multiplies ``½‖F‖²`` for data scaled to
        ``max|S| = 1``. ``"noise"``: α is relative to ``N1·N2·σ̂²``, σ̂ the noise standard
        deviation of the scaled data (the given ``noise_std``, else estimated outside the
        kernels' range), about the largest useful α (the Wiener-filter α of a map spread
        evenly over the grid), so ``alpha`` from 1e-4 to 1e2 spans under- to
        over-smoothing whatever the noise level and grid size. The α actually used is
        ``res.info["alpha"]``.

    Examples
    --------
    >>> from laplace_inv.simulate import cement_like
    >>> sc = cement_like(snr=200)
    >>> est = TikhonovInverter(sc.kernel, penalty="global", alpha="gcv")
    >>> res = est.invert(sc.data)
    >>> res.map.shape, res.info["alpha_rule"]
    ((64, 64), 'gcv')
    """

    _parameter_constraints: ClassVar[dict[str, list]] = {
        "penalty": [Options(*PENALTIES)],
        "alpha": [Options(*ALPHA_RULES), _POSITIVE],
        "alpha_grid": [None, PositiveArray()],
        "alpha_scale": [Options(*ALPHA_SCALES)],
        "solver": [Options("brd", "fista")],
        "rtol": [_UNIT],
        "max_iter": [_COUNT],
        "tol": [_UNIT],
        "beta00": [_POSITIVE],
        "beta0": [_POSITIVE],
        "beta_p": [_NON_NEGATIVE],
        "beta_c": [_NON_NEGATIVE],
        "upen_tol": [_UNIT],
        "upen_max_iter": [_COUNT],
    }

    def __init__(
        self,
        kernel: Kernel2D,
        penalty: str = "upen",
        alpha: str | float = "discrepancy",
        alpha_grid: np.ndarray | None = None,
        solver: str = "brd",
        rtol: float = 1e-8,
        max_iter: int = 100,
        tol: float = 1e-9,
        beta00: float = 1.0,
        beta0: float = 1e-4,
        beta_p: float = 1e-5,
        beta_c: float = 0.1,
        upen_tol: float = 1e-3,
        upen_max_iter: int = 100,
        alpha_scale: str = "absolute",
    ) -> None:
        self.kernel = kernel
        self.penalty = penalty
        self.alpha = alpha
        self.alpha_grid = alpha_grid
        self.solver = solver
        self.alpha_scale = alpha_scale
        self.rtol = rtol
        self.max_iter = max_iter
        self.tol = tol
        self.beta00 = beta00
        self.beta0 = beta0
        self.beta_p = beta_p
        self.beta_c = beta_c
        self.upen_tol = upen_tol
        self.upen_max_iter = upen_max_iter

    def _method_name(self) -> str:
        return "UPEN" if self.penalty == "upen" else "Tikhonov"

    def _check_params(self) -> None:
        super()._check_params()
        if self.penalty == "global" and self.solver == "fista" and isinstance(self.alpha, str):
            raise ValueError(
                f"solver='fista' needs a numeric alpha; use solver='brd' for alpha={self.alpha!r}"
            )

    def _invert_normalised(
        self, S: np.ndarray, noise_std: float | None = None
    ) -> tuple[np.ndarray, dict]:
        comp = self._check_kernel().compress(self.rtol)
        S_c = comp.project(S)
        # The matrices are small: threaded BLAS only adds contention (10-100x slower when
        # the cores are busy), and one thread per solve lets joblib parallelise over samples.
        with limit_blas(1):
            if self.penalty == "upen":
                res = upen_solve(
                    comp,
                    S_c,
                    beta00=float(self.beta00),
                    beta0=float(self.beta0),
                    beta_p=float(self.beta_p),
                    beta_c=float(self.beta_c),
                    upen_tol=float(self.upen_tol),
                    upen_max_iter=int(self.upen_max_iter),
                    max_iter=int(self.max_iter),
                    start_iter=int(getattr(self, "upen_start_iter", 100)),
                    # R² counts the data no map can explain, as the uncompressed method does.
                    out_of_range2=comp.out_of_range_energy(S, S_c),
                    noise_energy=None if noise_std is None else S.size * noise_std**2,
                )
                return res.map, res.info
            unit = 1.0
            if self.alpha_scale != "absolute" and not (
                isinstance(self.alpha, str) and self.alpha_grid is None
            ):
                unit = alpha_unit(self.alpha_scale, self._check_kernel(), S, noise_std)
            if self.solver == "fista":
                alpha = float(self.alpha) * unit
                res = tikhonov_fista(comp, S_c, alpha, max_iter=self.max_iter, tol=self.tol)
                if not res.converged:
                    warn_not_converged("FISTA (global Tikhonov)", res.iterations, self.tol)
                info = {"method": "Tikhonov", "alpha": alpha, "alpha_rule": "fixed"}
                return res.map, {**info, "iterations": res.iterations}
            grid = None if self.alpha_grid is None else np.asarray(self.alpha_grid) * unit
            res = global_tikhonov(
                comp,
                S,
                S_c,
                self.alpha if isinstance(self.alpha, str) else float(self.alpha) * unit,
                alpha_grid=grid,
                max_iter=self.max_iter,
                tol=self.tol,
                noise_std=noise_std,
            )
            return res.map, res.info
