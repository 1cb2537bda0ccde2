"""The GRIN-like L1 baseline: non-negative L1 (optionally elastic-net) inversion in cvxpy.

    min_{F ≥ 0} ½‖K̃1 F K̃2ᵀ − S̃‖² + α‖F‖₁ + ½·l2·‖F‖²           (ALGORITHMS.md §4)

on the SVD-compressed problem, with α in GRIN's convention (data normalised to max |S| = 1,
which :class:`~laplace_inv.base.BaseInverter` already does, so the default α = 0.01 applies
as is).

How the problem is handed to the solver (measured in ``benchmarks/bench_l1_solvers.py``):

* **Separable lifting, not a Kronecker matrix.** ``vec(K̃1 F K̃2ᵀ) = (K̃2 ⊗ K̃1) vec F`` is a
  dense ``(r1·r2) × (N1·N2)`` block (e.g. 800 × 4096): an interior-point KKT factorisation then
  costs ``O(N1N2·(r1r2)²)`` per iteration with a scalar sparse LDL (tens of seconds on the cement
  layout). Introducing ``Z = F K̃2ᵀ`` (``N1 × r2``) as a variable and writing the residual as
  ``K̃1 Z − S̃`` gives a sparse problem with about ``N1N2·r2 + r1N1r2`` non-zeros, whose
  factorisation is an order of magnitude cheaper. Also measured: the Kronecker form with only
  the singular-value pairs above 1e-6 kept, and its dual (both still ~5-10× slower); lifting
  ``W = K̃1 F`` instead of ``F K̃2ᵀ`` (~10× slower: worse fill-in); a separable dual (about
  25 % less CPU, but the map then comes from constraint multipliers and the elastic net needs
  a different model, so it was not adopted).
* **One canonicalisation per kernel.** The problem is built once per (kernel, rtol, l2) with
  ``cp.Parameter`` for ``S̃`` and α (it is DPP), and cached; later solves skip cvxpy's
  reductions and only refill the solver's vectors.
* **rtol = 1e-4** (per-axis singular-value threshold) by default. Evaluated on the rtol = 1e-8
  problem, the solution's objective differs from the rtol = 1e-8 solution by 1.5e-6 relative on
  ``cement_like`` and 6e-7 on the real cement data, and the peaks are the same to 0.1 ms, while
  the compressed data shrink from 32 × 25 to 16 × 13 and the solve is 3-4× faster. Pass
  ``rtol=1e-6`` or smaller for the strict problem.
* **Clarabel with its ``faer`` supernodal LDL on one thread** where the installed Clarabel has
  it (0.10+): about half the CPU time of its default QDLDL on this problem.
"""

from __future__ import annotations

import functools
import threading
import time
import warnings
from collections import OrderedDict
from typing import Any

import cvxpy as cp
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from laplace_inv.base import BaseInverter
from laplace_inv.classical.l1_fista import duality_gap, fista_l1
from laplace_inv.kernels import CompressedProblem, Kernel2D
from laplace_inv.simulate import estimate_noise

__all__ = ["L1Inverter", "solve_l1_cvxpy"]

FISTA = "FISTA"
"""Pseudo-solver name selecting :func:`~laplace_inv.classical.l1_fista.fista_l1`."""

_CACHE_SIZE = 8
_cache: OrderedDict[tuple, _L1Model] = OrderedDict()
_cache_lock = threading.Lock()


class _L1Model:
    """A cached, parametrised cvxpy problem for one compressed problem and one ``l2``."""

    def __init__(self, comp: CompressedProblem, l2: float, formulation: str) -> None:
        r1, r2 = comp.shape
        N1, N2 = comp.K1.shape[1], comp.K2.shape[1]
        self.comp = comp
        self.l2 = float(l2)
        self.formulation = formulation
        self.alpha = cp.Parameter(nonneg=True, name="alpha")
        self.lock = threading.Lock()
        if formulation == "separable":
            self.S = cp.Parameter((r1, r2), name="S_c")
            self.F = cp.Variable((N1, N2), nonneg=True, name="F")
            Z = cp.Variable((N1, r2), name="Z")  # Z = F K̃2ᵀ keeps the problem sparse
            misfit = cp.sum_squares(comp.K1 @ Z - self.S)
            constraints = [Z == self.F @ comp.K2.T]
            F_expr = self.F
        elif formulation == "kron":
            A = np.kron(comp.K2, comp.K1)  # vec(K̃1 F K̃2ᵀ) = (K̃2 ⊗ K̃1) vec(F), column-major
            self.S = cp.Parameter(r1 * r2, name="S_c")
            self.F = cp.Variable(N1 * N2, nonneg=True, name="F")
            misfit = cp.sum_squares(A @ self.F - self.S)
            constraints = []
            F_expr = self.F
        else:
            raise ValueError(f"unknown formulation {formulation!r}")
        objective = 0.5 * misfit + self.alpha * cp.sum(F_expr)
        if self.l2 > 0:
            objective = objective + 0.5 * self.l2 * cp.sum_squares(F_expr)
        self.problem = cp.Problem(cp.Minimize(objective), constraints)
        self.shape = (N1, N2)

    def solve(
        self, S_c: np.ndarray, alpha: float, solver: str, options: dict
    ) -> tuple[np.ndarray | None, str, int | None]:
        """Solve for one dataset; returns ``(F or None, status, iterations)``."""
        with self.lock:
            self.S.value = S_c if self.formulation == "separable" else S_c.ravel(order="F")
            self.alpha.value = float(alpha)
            with warnings.catch_warnings():
                # cvxpy warns on inaccurate solutions; the status is handled by the caller.
                warnings.simplefilter("ignore", UserWarning)
                self.problem.solve(solver=solver, **options)
            status = str(self.problem.status)
            value = self.F.value
            stats = self.problem.solver_stats
            n_iter = getattr(stats, "num_iters", None) if stats is not None else None
        if value is None:
            return None, status, n_iter
        F = np.asarray(value, dtype=float)
        if self.formulation == "kron":
            F = F.reshape(self.shape, order="F")
        if not np.all(np.isfinite(F)):
            return None, status + " (non-finite)", n_iter
        return np.maximum(F, 0.0), status, n_iter


def _get_model(
    kernel: Kernel2D, rtol: float, l2: float, formulation: str = "separable"
) -> _L1Model:
    key = (kernel.fingerprint(), float(rtol), float(l2), formulation)
    with _cache_lock:
        model = _cache.get(key)
        if model is not None:
            _cache.move_to_end(key)
            return model
    model = _L1Model(kernel.compress(rtol), l2, formulation)
    with _cache_lock:
        _cache[key] = model
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return model


@functools.lru_cache(maxsize=1)
def _clarabel_faer_options() -> dict:
    """Clarabel's supernodal ``faer`` LDL on one thread, where this build has it.

    On the cement problem it needs about half the CPU time of the default QDLDL; more threads
    only add overhead at this size. Older Clarabel builds lack it: then use the default.
    """
    try:
        import clarabel
        import scipy.sparse as sps

        settings = clarabel.DefaultSettings()
        settings.verbose = False
        settings.direct_solve_method = "faer"
        settings.max_threads = 1
        P = sps.csc_matrix(np.eye(1))
        A = sps.csc_matrix(-np.eye(1))
        sol = clarabel.DefaultSolver(
            P, np.ones(1), A, np.zeros(1), [clarabel.NonnegativeConeT(1)], settings
        ).solve()
        if "Solved" not in str(sol.status):
            return {}
    except Exception:  # any failure means "not available"
        return {}
    return {"direct_solve_method": "faer", "max_threads": 1}


def _solver_options(solver: str, max_iter: int | None, tol: float | None) -> dict:
    """Map the common ``max_iter``/``tol`` onto each solver's own option names."""
    opts: dict[str, Any] = {}
    if solver == "CLARABEL":
        opts.update(_clarabel_faer_options())
        if max_iter is not None:
            opts["max_iter"] = int(max_iter)
        if tol is not None:
            opts.update(tol_gap_rel=tol, tol_gap_abs=tol, tol_feas=tol)
    elif solver == "ECOS":
        if max_iter is not None:
            opts["max_iters"] = int(max_iter)
        if tol is not None:
            opts.update(reltol=tol, abstol=tol, feastol=tol)
    elif solver == "SCS":
        opts["max_iters"] = int(max_iter) if max_iter is not None else 100_000
        eps = tol if tol is not None else 1e-7
        opts.update(eps_abs=eps, eps_rel=eps)
    elif solver == "OSQP":
        opts["max_iter"] = int(max_iter) if max_iter is not None else 20_000
        eps = tol if tol is not None else 1e-7
        opts.update(eps_abs=eps, eps_rel=eps, polish=True)
    elif max_iter is not None:
        opts["max_iters"] = int(max_iter)
    return opts


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

    Parameters
    ----------
    kernel : Kernel2D
    S_c : numpy.ndarray
        Compressed data ``kernel.compress(rtol).project(S)``.
    alpha, l2 : float
        L1 and ridge weights.
    rtol : float
        Compression threshold (must match the one ``S_c`` was projected with).
    solver : str
        A cvxpy solver name (``"CLARABEL"``, ``"SCS"``, ``"OSQP"``, ``"ECOS"``, ...).
    max_iter, tol : int or float, optional
        Passed on under the solver's own option names; ``None`` keeps its defaults (SCS and
        OSQP get 1e-7 and 100 000 / 20 000 iterations: their defaults are too loose here).
    formulation : {"separable", "kron"}
        ``"kron"`` builds the dense Kronecker form (for benchmarking only: it is far slower).

    Returns
    -------
    F : numpy.ndarray or None
        The map, or None if the solver returned nothing usable.
    status : str
        cvxpy's status string.
    n_iter : int or None
        Solver iterations, where reported.

    Raises
    ------
    cvxpy.error.SolverError
        When the solver itself fails (the caller falls back).

    Examples
    --------
    >>> k = Kernel2D.from_arrays(("T2", "T2"), np.geomspace(1e-3, 1, 12),
    ...                          np.geomspace(1e-3, 1, 16), n_grid=8)
    >>> comp = k.compress(1e-6)
    >>> F_true = np.zeros((8, 8)); F_true[3, 4] = 1.0
    >>> F, status, _ = solve_l1_cvxpy(k, comp.forward(F_true), 1e-3)
    >>> status, int(np.argmax(F))
    ('optimal', 28)
    """
    model = _get_model(kernel, rtol, l2, formulation)
    return model.solve(
        np.asarray(S_c, dtype=float),
        alpha,
        solver.upper(),
        _solver_options(solver.upper(), max_iter, tol),
    )


class L1Inverter(BaseInverter):
    """Non-negative L1 inversion, GRIN-style, solved by cvxpy on the compressed problem.

    Minimises ``½‖K̃1 F K̃2ᵀ − S̃‖² + α‖F‖₁ + ½·l2·‖F‖²`` over ``F ≥ 0`` for data scaled to
    ``max |S| = 1`` (GRIN's convention: its D-T2 app uses α = 0.01). ``l2 > 0`` gives the
    elastic-net (L1 + L2) variant of MUPen2D.

    **Default solver: ECOS, then Clarabel.** Measured on the cement IR-CPMG layout at 64 × 64
    (``benchmarks/bench_l1_solvers.py``; CPU seconds per solve, simulated / real cement):
    ECOS 0.65 / 0.74 s, Clarabel 0.91 / 1.24 s (both interior point, 19-30 iterations, both
    within 1e-6 of the best objective), SCS 3.6 / 6.1 s (ADMM, 5-10k iterations, within 3e-6),
    OSQP not converged after 20 000 iterations (objective 5-44× too high), FISTA 3.8 / 4.0 s
    for 1e5 iterations and still 1e-3 / 3e-3 above the optimum. ECOS is the fastest at equal
    accuracy, so it is the default when installed (``pip install ecos``); Clarabel, a core
    dependency, is the fallback and is used directly when ECOS is missing. Any cvxpy solver
    can be chosen with ``solver=``.

    Parameters
    ----------
    kernel : Kernel2D
        The forward model.
    alpha : float or "discrepancy"
        L1 weight on normalised data. ``"discrepancy"`` chooses α by a 1D search over log α
        so that the RMS data residual equals ``discrepancy_factor`` × the noise level
        (estimated from the data outside the kernels' range); each step is a full solve.
    solver : str
        A cvxpy solver name (``"ECOS"``, ``"CLARABEL"``, ``"SCS"``, ``"OSQP"``, ...) or
        ``"FISTA"`` for :func:`~laplace_inv.classical.l1_fista.fista_l1` (slow, a
        cross-check).
    l2 : float
        Elastic-net ridge weight (≥ 0).
    rtol : float
        Per-axis singular-value threshold of the compression.
    max_iter, tol : int or float, optional
        Iteration cap and tolerance, passed to the solver under its own option names; ``None``
        keeps the solver's defaults (FISTA: 50 000 and 1e-8).
    fallback_solver : str or None
        Tried when ``solver`` raises, returns a non-optimal status or is a known cvxpy solver
        that is not installed. If it fails too, a
        ``RuntimeError`` is raised; if it only reaches "optimal_inaccurate", that solution is
        returned with a ``ConvergenceWarning``.
    discrepancy_factor : float
        Target RMS residual / noise for ``alpha="discrepancy"``.

    Examples
    --------
    >>> from laplace_inv.simulate import resolution_pair
    >>> from laplace_inv.kernels import Kernel2D, KernelAxis
    >>> k = Kernel2D(KernelAxis("T2", np.geomspace(1e-3, 1, 24), n_grid=16),
    ...              KernelAxis("T2", np.geomspace(1e-3, 1, 40), n_grid=16))
    >>> sc = resolution_pair(0.7, kernel=k, snr=300, center=(-1.5, -1.5))
    >>> res = L1Inverter(k, alpha=0.01).invert(sc.data)
    >>> res.info["method"], res.info["solver"] in ("ECOS", "CLARABEL"), res.info["status"]
    ('L1', True, 'optimal')
    >>> bool(res.map.min() >= 0)
    True
    """

    def __init__(
        self,
        kernel: Kernel2D | None = None,
        alpha: float | str = 0.01,
        solver: str = "ECOS",
        l2: float = 0.0,
        rtol: float = 1e-4,
        max_iter: int | None = None,
        tol: float | None = None,
        fallback_solver: str | None = "CLARABEL",
        discrepancy_factor: float = 1.0,
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

    def _method_name(self) -> str:
        return "L1"

    # ----------------------------------------------------------------------------------
    def _check_params(self) -> None:
        if isinstance(self.alpha, str):
            if self.alpha != "discrepancy":
                raise ValueError(
                    f"alpha must be a non-negative float or 'discrepancy', got {self.alpha!r}"
                )
        elif not (np.isfinite(self.alpha) and float(self.alpha) >= 0):
            raise ValueError(f"alpha must be a non-negative float, got {self.alpha!r}")
        if not (np.isfinite(self.l2) and float(self.l2) >= 0):
            raise ValueError(f"l2 must be a non-negative float, got {self.l2!r}")
        if not self.discrepancy_factor > 0:
            raise ValueError("discrepancy_factor must be > 0")
        available = {FISTA, *cp.installed_solvers()}
        known = available | {str(n).upper() for n in cp.settings.SOLVERS}
        for label, name in (("solver", self.solver), ("fallback_solver", self.fallback_solver)):
            if name is None and label == "fallback_solver":
                continue
            ok = known if label == "solver" and self.fallback_solver else available
            if not isinstance(name, str) or name.upper() not in ok:
                raise ValueError(
                    f"{label}={name!r} is not available; choose one of {sorted(available)}"
                )

    def _solve_once(
        self, comp: CompressedProblem, S_c: np.ndarray, alpha: float
    ) -> tuple[np.ndarray, dict]:
        """One solve at fixed α, with fallback; returns ``(F, info)``."""
        kernel = self._check_kernel()
        l2 = float(self.l2)
        solvers = [self.solver.upper()]
        if self.fallback_solver and self.fallback_solver.upper() != solvers[0]:
            solvers.append(self.fallback_solver.upper())
        failures: list[str] = []
        inaccurate: tuple[np.ndarray, str, str, int | None] | None = None
        installed = set(cp.installed_solvers())
        for name in solvers:
            if name != FISTA and name not in installed:
                failures.append(f"{name}: not installed")
                continue
            try:
                if name == FISTA:
                    kw: dict[str, Any] = {}
                    if self.max_iter is not None:
                        kw["max_iter"] = int(self.max_iter)
                    if self.tol is not None:
                        kw["tol"] = float(self.tol)
                    F, n_iter = fista_l1(comp, S_c, alpha, l2, **kw)
                    status = "optimal"
                else:
                    F, status, n_iter = solve_l1_cvxpy(
                        kernel,
                        S_c,
                        alpha,
                        l2=l2,
                        rtol=float(self.rtol),
                        solver=name,
                        max_iter=self.max_iter,
                        tol=self.tol,
                    )
            except (cp.error.SolverError, ValueError, ArithmeticError) as exc:
                failures.append(f"{name}: {type(exc).__name__}: {exc}")
                continue
            if F is not None and status == cp.OPTIMAL:
                return F, {
                    "solver": name,
                    "status": status,
                    "iterations": n_iter,
                    "fallback_from": failures or None,
                }
            # An iterate stopped by the iteration cap (user_limit) or an inaccurate one is
            # kept as a last resort and returned with a ConvergenceWarning.
            if (
                F is not None
                and status in (cp.OPTIMAL_INACCURATE, cp.USER_LIMIT)
                and inaccurate is None
            ):
                inaccurate = (F, name, status, n_iter)
            failures.append(f"{name}: status {status}")
        if inaccurate is not None:
            F, name, status, n_iter = inaccurate
            warnings.warn(
                f"L1Inverter: no solver reached 'optimal' ({'; '.join(failures)}); returning "
                f"the {name} solution with status {status!r}",
                ConvergenceWarning,
                stacklevel=4,
            )
            return F, {
                "solver": name,
                "status": status,
                "iterations": n_iter,
                "fallback_from": failures,
            }
        raise RuntimeError(
            "L1Inverter: every solver failed (" + "; ".join(failures) + "). Try another "
            "solver=..., fallback_solver=..., or solver='FISTA'."
        )

    def _discrepancy_alpha(
        self, comp: CompressedProblem, S: np.ndarray, S_c: np.ndarray
    ) -> tuple[np.ndarray, dict, float, dict]:
        """1D search over log α for RMS residual = factor × noise (residual grows with α)."""
        n = S.size
        oor2 = comp.out_of_range_norm(S) ** 2
        # the package's noise estimate (finest compression), as InversionResult uses
        sigma2 = estimate_noise(S, self._check_kernel()) ** 2
        # ‖S − fit‖² = ‖S̃ − K̃FK̃ᵀ‖² + ‖out of range‖², so the target on the compressed part is:
        target = float(np.sqrt(max(self.discrepancy_factor**2 * n * sigma2 - oor2, 1e-300)))
        alpha_max = float(max(comp.adjoint(S_c).max(), 1e-12))  # F = 0 is optimal above it
        if target >= float(np.linalg.norm(S_c)):
            F = np.zeros((comp.K1.shape[1], comp.K2.shape[1]))
            return (
                F,
                {"solver": "none", "status": "optimal", "iterations": 0},
                alpha_max,
                {
                    "noise_std": float(np.sqrt(sigma2)),
                    "target_residual": target,
                    "n_solves": 0,
                    "note": "noise exceeds the signal: zero map",
                },
            )

        cache: dict[float, tuple[np.ndarray, dict, float]] = {}

        def g(log_a: float) -> float:
            F, info = self._solve_once(comp, S_c, 10.0**log_a)
            res = float(np.linalg.norm(comp.forward(F) - S_c))
            cache[log_a] = (F, info, res)
            return np.log(max(res, 1e-300)) - np.log(target)

        # bracket, starting from GRIN's default and walking a decade at a time
        lo_lim, hi_lim = np.log10(alpha_max) - 10.0, np.log10(alpha_max)
        a = float(np.clip(-2.0, lo_lim, hi_lim))
        fa = g(a)
        step = -1.0 if fa > 0 else 1.0
        b, fb = a, fa
        while np.sign(fb) == np.sign(fa):
            a, fa = b, fb
            b = float(np.clip(b + step, lo_lim, hi_lim))
            if b == a:
                break
            fb = g(b)
        if np.sign(fb) != np.sign(fa):
            # Illinois regula falsi on log residual vs log α: smooth and monotone
            side = 0
            for _ in range(30):
                c = (a * fb - b * fa) / (fb - fa)
                fc = g(c)
                if abs(fc) < np.log(1.01) or abs(b - a) < 1e-3:
                    break
                if np.sign(fc) == np.sign(fb):
                    b, fb = c, fc
                    if side == -1:
                        fa /= 2
                    side = -1
                else:
                    a, fa = c, fc
                    if side == 1:
                        fb /= 2
                    side = 1
        else:
            warnings.warn(
                "alpha='discrepancy': the residual target could not be bracketed; using the "
                f"closest α (10^{b:.2f})",
                ConvergenceWarning,
                stacklevel=4,
            )
        best = min(cache, key=lambda k: abs(np.log(cache[k][2]) - np.log(target)))
        F, info, _ = cache[best]
        return (
            F,
            info,
            float(10.0**best),
            {
                "noise_std": float(np.sqrt(sigma2)),
                "target_residual": target,
                "n_solves": len(cache),
            },
        )

    def _invert_normalised(self, S: np.ndarray) -> tuple[np.ndarray, dict]:
        # One BLAS thread: small matrices gain nothing from threads, and threaded reductions
        # make two identical calls differ in the last bits.
        with threadpool_limits(1, user_api="blas"):
            return self._invert_single_thread(S)

    def _invert_single_thread(self, S: np.ndarray) -> tuple[np.ndarray, dict]:
        self._check_params()
        kernel = self._check_kernel()
        t0 = time.perf_counter()
        comp = kernel.compress(float(self.rtol))
        S_c = comp.project(S)
        l2 = float(self.l2)
        extra: dict[str, Any] = {}
        if isinstance(self.alpha, str):
            F, sinfo, alpha, disc = self._discrepancy_alpha(comp, S, S_c)
            extra["alpha_selection"] = "discrepancy"
            extra["discrepancy"] = disc
        else:
            alpha = float(self.alpha)
            F, sinfo = self._solve_once(comp, S_c, alpha)
        if not np.all(np.isfinite(F)):  # pragma: no cover - guarded in the solvers
            raise RuntimeError("L1Inverter: solver returned a non-finite map")
        primal, dual = duality_gap(comp, S_c, F, alpha, l2)
        info = {
            "method": "L1",
            "alpha": alpha,
            "l2": l2,
            **sinfo,
            "objective": primal,
            "duality_gap": max(primal - dual, 0.0),
            "compressed_shape": comp.shape,
            "time": time.perf_counter() - t0,
            **extra,
        }
        return F, info
