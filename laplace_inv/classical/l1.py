"""The GRIN-like L1 baseline estimator: non-negative L1 (optionally elastic-net) inversion.

The estimator is a parameter bag over `laplace_inv.solvers.l1_cvxpy` (the solver choice and
fallback: the exact active-set method, or a cvxpy model), `laplace_inv.solvers.l1_rank` (the
compression from the noise level) and `laplace_inv.solvers.discrepancy` (α by the
discrepancy rule).
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import cvxpy as cp
import numpy as np

from laplace_inv._validation import Interval, Options, Text
from laplace_inv.base import BaseInverter
from laplace_inv.kernels import CompressedOperator, Kernel2D
from laplace_inv.solvers.alpha_scale import ALPHA_SCALES, alpha_unit
from laplace_inv.solvers.discrepancy import alpha_for_residual, discrepancy_target
from laplace_inv.solvers.l1_active import l1_active_set
from laplace_inv.solvers.l1_cvxpy import (
    _CACHE_SIZE,
    ACTIVE_SET,
    FISTA,
    OWN_SOLVERS,
    _cache,
    _clarabel_faer_options,
    _get_model,
    _L1Model,
    _solver_options,
    solve_l1,
    solve_with_options,
)
from laplace_inv.solvers.l1_fista import duality_gap
from laplace_inv.solvers.l1_rank import noise_ranks, truncated
from laplace_inv.threads import limit_blas

__all__ = ["ACTIVE_SET", "FISTA", "L1Inverter", "solve_l1_cvxpy"]

#: Relative duality gap on the ``rtol`` problem above which a solve on the noise-ranked
#: compression is finished on the ``rtol`` problem itself.
GAP_RTOL = 1e-4
_REEXPORTED = (_CACHE_SIZE, _cache, _clarabel_faer_options, _get_model, _L1Model)


class L1Inverter(BaseInverter):
    """Non-negative L1 inversion, GRIN-style, on the compressed problem.

    Minimises ``½‖K̃1 F K̃2ᵀ − S̃‖² + α‖F‖₁ + ½·l2·‖F‖²`` over ``F ≥ 0`` for data scaled to
    ``max |S| = 1`` (GRIN's convention: its D-T2 app uses α = 0.01). ``l2 > 0`` gives the
    elastic-net (L1 + L2) variant of MUPen2D.

    **Default solver: the active-set method** (`laplace_inv.solvers.l1_active`). On
    ``F ≥ 0`` the L1 norm is linear, so the problem is non-negative least squares with a
    shifted linear term, which Lawson–Hanson solves exactly in as many steps as the sparse
    solution has bins; the duality gap certifies it. Any cvxpy solver (``"ECOS"``,
    ``"CLARABEL"``, ...) or ``"FISTA"`` can be chosen with ``solver=``; Clarabel is the
    fallback.

    **Compression from the noise** (``rank="noise"``, the default): within the ``rtol``
    compression, each axis keeps the singular components whose truncation error for a map of
    unit mass exceeds the noise (`laplace_inv.solvers.l1_rank`), so the truncation error is
    below one noise standard deviation. ``info["objective"]`` and ``info["duality_gap"]`` are
    those of the ``rtol`` problem (the loss-free one by default); when the gap there exceeds
    1e-4 of the objective, the active-set solver finishes on the ``rtol`` problem.

    Parameters
    ----------
    kernel : Kernel2D
        The forward model.
    alpha : float or "discrepancy"
        L1 weight on normalised data (in the unit ``alpha_scale`` sets). ``"discrepancy"``
        chooses α by a 1D search over log α so that the RMS data residual equals
        ``discrepancy_factor`` × the noise level (estimated from the data outside the
        kernels' range); each step is a full solve.
    solver : str
        ``"ACTIVE_SET"`` (exact, the default), a cvxpy solver name (``"ECOS"``,
        ``"CLARABEL"``, ``"SCS"``, ``"OSQP"``, ...) or ``"FISTA"`` for
        `laplace_inv.solvers.l1_fista.l1_fista` (slow, a cross-check).
    l2 : float
        Elastic-net ridge weight (≥ 0).
    rtol : float
        Per-axis singular-value threshold of the compression that defines the problem
        (objective and duality gap are reported on it).
    rank : {"noise", "rtol"}
        ``"noise"``: solve on the per-axis ranks whose truncation error is below the noise
        (the given ``noise_std``, else the estimate outside the kernels' range);
        ``"rtol"``: solve on the ``rtol`` compression as is.
    max_iter : int, optional
        Iteration cap, passed to the solver under its own option name; ``None`` keeps the
        solver's default (FISTA: 50 000).
    tol : float, optional
        Tolerance, passed to the solver under its own option names; ``None`` keeps the
        solver's default (FISTA: 1e-8).
    fallback_solver : str or None
        Tried when ``solver`` raises, returns a non-optimal status or is a known cvxpy solver
        that is not installed. If it fails too, a
        ``RuntimeError`` is raised; if it only reaches "optimal_inaccurate", that solution is
        returned with a ``ConvergenceWarning``.
    discrepancy_factor : float
        Target RMS residual / noise for ``alpha="discrepancy"``.
    alpha_scale : {"absolute", "noise"}
        The unit of a numeric ``alpha``. ``"absolute"`` (the default, the historical
        behaviour): α multiplies ``‖F‖₁`` for data scaled to ``max|S| = 1``. ``"noise"``: α
        is relative to ``N1·N2·σ̂²``, σ̂ the noise standard deviation of the scaled data (the
        given ``noise_std``, else estimated outside the kernels' range), so ``alpha`` from
        1e-4 to 1e2 spans under- to over-smoothing whatever the noise level and grid size.
        The α actually used is ``res.info["alpha"]``.

    Examples
    --------
    >>> from laplace_inv.simulate import resolution_pair
    >>> from laplace_inv.kernels import Kernel2D, KernelAxis
    >>> k = Kernel2D(KernelAxis("T2", np.geomspace(1e-3, 1, 24), n_grid=16),
    ...              KernelAxis("T2", np.geomspace(1e-3, 1, 40), n_grid=16))
    >>> sc = resolution_pair(0.7, kernel=k, snr=300, center=(-1.5, -1.5))
    >>> res = L1Inverter(k, alpha=0.01).invert(sc.data)
    >>> res.info["method"], res.info["solver"], res.info["status"]
    ('L1', 'ACTIVE_SET', 'optimal')
    >>> bool(res.info["duality_gap"] <= 1e-4 * res.info["objective"])
    True
    >>> bool(res.map.min() >= 0)
    True
    """

    _parameter_constraints: ClassVar[dict[str, list]] = {
        "alpha": [Options("discrepancy"), Interval(float, 0, None, "left")],
        "solver": [Text()],
        "l2": [Interval(float, 0, None, "left")],
        "rtol": [Interval(float, 0, 1, "neither")],
        "rank": [Options("noise", "rtol")],
        "max_iter": [None, Interval(int, 1, None, "left")],
        "tol": [None, Interval(float, 0, None, "neither")],
        "fallback_solver": [None, Text()],
        "discrepancy_factor": [Interval(float, 0, None, "neither")],
        "alpha_scale": [Options(*ALPHA_SCALES)],
    }

    def __init__(
        self,
        kernel: Kernel2D | None = None,
        alpha: float | str = 0.01,
        solver: str = ACTIVE_SET,
        l2: float = 0.0,
        rtol: float = 1e-8,
        max_iter: int | None = None,
        tol: float | None = None,
        fallback_solver: str | None = "CLARABEL",
        discrepancy_factor: float = 1.0,
        alpha_scale: str = "absolute",
        rank: str = "noise",
    ) -> None:
        self.kernel = kernel
        self.alpha = alpha
        self.solver = solver
        self.l2 = l2
        self.rtol = rtol
        self.max_iter = max_iter
        self.tol = tol
        self.fallback_solver = fallback_solver
        self.discrepancy_factor = discrepancy_factor
        self.alpha_scale = alpha_scale
        self.rank = rank

    def _method_name(self) -> str:
        return "L1"

    def _check_params(self) -> None:
        super()._check_params()
        available = {*OWN_SOLVERS, *cp.installed_solvers()}
        known = available | {str(n).upper() for n in cp.settings.SOLVERS}
        for label, name in (("solver", self.solver), ("fallback_solver", self.fallback_solver)):
            if name is None:
                continue
            ok = known if label == "solver" and self.fallback_solver else available
            if name.upper() not in ok:
                raise ValueError(
                    f"{label}={name!r} is not available; choose one of {sorted(available)}"
                )

    def _solvers(self) -> tuple[str, ...]:
        names = [self.solver.upper()]
        if self.fallback_solver and self.fallback_solver.upper() != names[0]:
            names.append(self.fallback_solver.upper())
        return tuple(names)

    def _solve_once(
        self, comp: CompressedOperator, S_c: np.ndarray, alpha: float
    ) -> tuple[np.ndarray, dict]:
        """One solve at fixed α on ``comp``, with fallback; returns ``(F, info)``."""
        full = self._check_kernel().compress(float(self.rtol))
        res = solve_l1(
            self._check_kernel(),
            S_c,
            alpha,
            l2=float(self.l2),
            rtol=float(self.rtol),
            solvers=self._solvers(),
            max_iter=self.max_iter,
            tol=self.tol,
            ranks=None if comp is full else comp.shape,
        )
        return res.map, res.info

    def _discrepancy_alpha(
        self, comp: CompressedOperator, S: np.ndarray, S_c: np.ndarray, noise_std: float | None
    ) -> tuple[np.ndarray, dict, float, dict]:
        """α such that the RMS residual is ``discrepancy_factor`` × the noise."""
        n = S.size
        oor2 = comp.out_of_range_norm(S) ** 2
        # the package's noise estimate (finest compression), as InversionResult uses
        sigma = self._check_kernel().compress().noise_std(S) if noise_std is None else noise_std
        target2 = discrepancy_target(n, sigma, oor2, factor=self.discrepancy_factor)
        target = float(np.sqrt(max(target2, 1e-300)))
        alpha_max = float(max(comp.adjoint(S_c).max(), 1e-12))  # F = 0 is optimal above it
        disc: dict[str, Any] = {"noise_std": float(sigma), "target_residual": target}
        if target >= float(np.linalg.norm(S_c)):
            F = np.zeros(comp.map_shape)
            info = {"solver": "none", "status": "optimal", "iterations": 0}
            disc.update(n_solves=0, note="noise exceeds the signal: zero map")
            return F, info, alpha_max, disc

        def attempt(alpha: float) -> tuple[np.ndarray, dict, float]:
            F, info = self._solve_once(comp, S_c, alpha)
            return F, info, float(np.linalg.norm(comp.forward(F) - S_c))

        alpha, (F, info, _), n_solves = alpha_for_residual(attempt, target, alpha_max)
        disc["n_solves"] = n_solves
        return F, info, alpha, disc

    def _invert_normalised(
        self, S: np.ndarray, noise_std: float | None = None
    ) -> tuple[np.ndarray, dict]:
        # One BLAS thread: small matrices gain nothing from threads, and threaded reductions
        # make two identical calls differ in the last bits.
        with limit_blas(1):
            return self._invert_single_thread(S, noise_std)

    def _invert_single_thread(
        self, S: np.ndarray, noise_std: float | None
    ) -> tuple[np.ndarray, dict]:
        kernel = self._check_kernel()
        t0 = time.perf_counter()
        full = kernel.compress(float(self.rtol))
        comp = full
        if self.rank == "noise":
            comp = truncated(full, noise_ranks(full, self._noise_level(S, noise_std)))
        S_c = comp.project(S)
        l2 = float(self.l2)
        extra: dict[str, Any] = {}
        if isinstance(self.alpha, str):
            F, sinfo, alpha, disc = self._discrepancy_alpha(comp, S, S_c, noise_std)
            extra["alpha_selection"] = "discrepancy"
            extra["discrepancy"] = disc
        else:
            alpha = float(self.alpha) * alpha_unit(self.alpha_scale, kernel, S, noise_std)
            F, sinfo = self._solve_once(comp, S_c, alpha)
        if not np.all(np.isfinite(F)):  # pragma: no cover - guarded in the solvers
            raise RuntimeError("L1Inverter: solver returned a non-finite map")
        F, gap = self._certify(full, full.project(S), F, alpha, l2, comp is not full)
        info = {
            "method": "L1",
            "alpha": alpha,
            "l2": l2,
            **sinfo,
            **gap,
            "compressed_shape": comp.shape,
            "problem_shape": full.shape,
            "time": time.perf_counter() - t0,
            **extra,
        }
        return F, info

    def _noise_level(self, S: np.ndarray, noise_std: float | None) -> float:
        """The given noise level, else the estimate outside the kernels' range (0 when the
        data have no room outside it: then nothing is truncated)."""
        if noise_std is not None:
            return float(noise_std)
        try:
            return self._check_kernel().compress().noise_std(S)
        except ValueError:
            return 0.0

    def _certify(
        self,
        full: CompressedOperator,
        S_c: np.ndarray,
        F: np.ndarray,
        alpha: float,
        l2: float,
        truncated_solve: bool,
    ) -> tuple[np.ndarray, dict]:
        """Objective and duality gap on the ``rtol`` problem; finish a truncated solve there
        (active set from its support) when its gap exceeds `GAP_RTOL`."""
        primal, dual = duality_gap(full, S_c, F, alpha, l2)
        finished = False
        if (
            truncated_solve
            and primal - dual > GAP_RTOL * abs(primal)
            and (self.solver.upper() == ACTIVE_SET)
        ):
            res = l1_active_set(full, S_c, alpha, l2, F0=F, max_iter=self.max_iter)
            if res.converged:
                F, finished = res.map, True
                primal, dual = duality_gap(full, S_c, F, alpha, l2)
        gap = max(primal - dual, 0.0)
        return F, {
            "objective": primal,
            "duality_gap": gap,
            "relative_gap": gap / max(abs(primal), 1e-300),
            "finished_on_problem": finished,
        }


def solve_l1_cvxpy(
    kernel: Kernel2D,
    S_c: np.ndarray,
    alpha: float,
    *,
    l2: float = 0.0,
    rtol: float = 1e-4,
    solver: str = "CLARABEL",
    max_iter: int | None = None,
    tol: float | None = None,
    formulation: str = "separable",
) -> tuple[np.ndarray | None, str, int | None]:
    """Solve the compressed non-negative L1 problem once with a cvxpy solver.

    The same as `laplace_inv.solvers.l1_cvxpy.solve_l1_cvxpy`, with the solver options
    looked up through this module's ``_solver_options`` (which benchmarks may patch).

    Examples
    --------
    >>> k = Kernel2D.from_arrays(("T2", "T2"), np.geomspace(1e-3, 1, 12),
    ...                          np.geomspace(1e-3, 1, 16), n_grid=8)
    >>> F_true = np.zeros((8, 8)); F_true[3, 4] = 1.0
    >>> F, status, _ = solve_l1_cvxpy(k, k.compress(1e-6).forward(F_true), 1e-3)
    >>> status, int(np.argmax(F))
    ('optimal', 28)
    """
    options = _solver_options(solver.upper(), max_iter, tol)
    return solve_with_options(
        kernel, S_c, alpha, solver, options, l2=l2, rtol=rtol, formulation=formulation
    )
