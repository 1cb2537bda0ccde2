"""Non-negative L1 (optionally elastic-net) inversion: solver choice with fallback, cvxpy model.

`solve_l1` tries the exact active-set method (`laplace_inv.solvers.l1_active`), cvxpy
solvers or FISTA in turn, on

    min_{F ≥ 0} ½‖K̃1 F K̃2ᵀ − S̃‖² + α‖F‖₁ + ½·l2·‖F‖²

on the SVD-compressed problem, with α in GRIN's convention (data normalised to max |S| = 1,
which the estimators already do, so the default α = 0.01 applies as is).

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
* **The compression.** `L1Inverter` defines the problem on the loss-free ``rtol = 1e-8``
  compression and solves on the per-axis ranks whose truncation error is below the noise
  (`laplace_inv.solvers.l1_rank`, passed here as ``ranks``); the functions here default to
  ``rtol = 1e-4`` for quick cross-checks.
* **Clarabel with its ``faer`` supernodal LDL on one thread** where the installed Clarabel has
  it (0.10+): about half the CPU time of its default QDLDL on this problem.
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections import OrderedDict
from typing import Any, Protocol

import cvxpy as cp
import numpy as np

from laplace_inv.operator import CompressedOperator
from laplace_inv.solvers.l1_active import ACTIVE_SET, l1_active_set
from laplace_inv.solvers.l1_fista import l1_fista
from laplace_inv.solvers.l1_rank import truncated
from laplace_inv.solvers.result import SolverResult


class Kernel2D(Protocol):
    """What the cvxpy model needs of a kernel: a cache key and its compression."""

    def fingerprint(self) -> str: ...

    def compress(self, rtol: float = ...) -> CompressedOperator: ...


__all__ = ["ACTIVE_SET", "FISTA", "solve_l1", "solve_l1_cvxpy"]

#: Solvers of this package (not cvxpy's), always available.
OWN_SOLVERS = (ACTIVE_SET, "FISTA")

FISTA = "FISTA"
"""Pseudo-solver name selecting :func:`~laplace_inv.classical.l1_fista.fista_l1`."""

_CACHE_SIZE = 8
_cache: OrderedDict[tuple, _L1Model] = OrderedDict()
_cache_lock = threading.Lock()


class _L1Model:
    """A cached, parametrised cvxpy problem for one compressed problem and one ``l2``."""

    def __init__(self, comp: CompressedOperator, l2: float, formulation: str) -> None:
        r1, r2 = comp.shape
        N1, N2 = comp.map_shape
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


def _compressed(kernel: Kernel2D, rtol: float, ranks: tuple[int, int] | None) -> CompressedOperator:
    comp = kernel.compress(rtol)
    return comp if ranks is None else truncated(comp, ranks)


def _get_model(
    kernel: Kernel2D,
    rtol: float,
    l2: float,
    formulation: str = "separable",
    ranks: tuple[int, int] | None = None,
) -> _L1Model:
    key = (kernel.fingerprint(), float(rtol), float(l2), formulation, ranks)
    with _cache_lock:
        model = _cache.get(key)
        if model is not None:
            _cache.move_to_end(key)
            return model
    model = _L1Model(_compressed(kernel, rtol, ranks), l2, formulation)
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
    ranks: tuple[int, int] | None = None,
) -> tuple[np.ndarray | None, str, int | None]:
    """Solve the compressed non-negative L1 problem once with a cvxpy solver.

    Parameters
    ----------
    kernel : Kernel2D
        The kernel (its compression at ``rtol`` is the problem).
    S_c : numpy.ndarray
        Compressed data ``kernel.compress(rtol).project(S)``.
    alpha : float
        L1 weight.
    l2 : float
        Ridge weight.
    rtol : float
        Compression threshold (must match the one ``S_c`` was projected with).
    solver : str
        A cvxpy solver name (``"CLARABEL"``, ``"SCS"``, ``"OSQP"``, ``"ECOS"``, ...).
    max_iter : int, optional
        Passed on under the solver's own option name; ``None`` keeps its default (SCS and
        OSQP get 100 000 / 20 000 iterations: their defaults are too few here).
    tol : float, optional
        Passed on under the solver's own option names; ``None`` keeps its default (SCS and
        OSQP get 1e-7: their defaults are too loose here).
    formulation : {"separable", "kron"}
        ``"kron"`` builds the dense Kronecker form (for benchmarking only: it is far slower).
    ranks : tuple of int, optional
        Per-axis ranks to cut the compression to (`laplace_inv.solvers.l1_rank`).

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
    >>> from laplace_inv.kernels import Kernel2D
    >>> k = Kernel2D.from_arrays(("T2", "T2"), np.geomspace(1e-3, 1, 12),
    ...                          np.geomspace(1e-3, 1, 16), n_grid=8)
    >>> comp = k.compress(1e-6)
    >>> F_true = np.zeros((8, 8)); F_true[3, 4] = 1.0
    >>> F, status, _ = solve_l1_cvxpy(k, comp.forward(F_true), 1e-3)
    >>> status, int(np.argmax(F))
    ('optimal', 28)
    """
    return solve_with_options(
        kernel,
        S_c,
        alpha,
        solver,
        _solver_options(solver.upper(), max_iter, tol),
        l2=l2,
        rtol=rtol,
        formulation=formulation,
        ranks=ranks,
    )


def solve_with_options(
    kernel: Kernel2D,
    S_c: np.ndarray,
    alpha: float,
    solver: str,
    options: dict,
    *,
    l2: float = 0.0,
    rtol: float = 1e-4,
    formulation: str = "separable",
    ranks: tuple[int, int] | None = None,
) -> tuple[np.ndarray | None, str, int | None]:
    """`solve_l1_cvxpy` with the solver's own options given as a dict."""
    model = _get_model(kernel, rtol, l2, formulation, ranks)
    return model.solve(np.asarray(S_c, dtype=float), alpha, solver.upper(), options)


def solve_l1(
    kernel: Kernel2D,
    S_c: np.ndarray,
    alpha: float,
    *,
    l2: float = 0.0,
    rtol: float = 1e-4,
    solvers: tuple[str, ...] = (ACTIVE_SET, "CLARABEL"),
    max_iter: int | None = None,
    tol: float | None = None,
    ranks: tuple[int, int] | None = None,
) -> SolverResult:
    """Solve the compressed non-negative L1 problem, trying ``solvers`` in turn.

    A solver that is not installed, raises, or ends without an "optimal" status hands over
    to the next. An "optimal_inaccurate" or iteration-capped solution is kept as a last
    resort and returned with a ``ConvergenceWarning``; when nothing is usable a
    ``RuntimeError`` lists every failure.

    Parameters
    ----------
    kernel : Kernel2D
        The kernel (its compression at ``rtol`` is the problem).
    S_c : numpy.ndarray
        Compressed data.
    alpha : float
        L1 weight.
    l2 : float
        Ridge weight.
    rtol : float
        Compression threshold.
    solvers : tuple of str
        cvxpy solver names, ``"ACTIVE_SET"`` for `l1_active_set` or ``"FISTA"`` for
        `l1_fista`, in order of preference.
    max_iter : int, optional
        Iteration cap under each solver's own option name.
    tol : float, optional
        Tolerance under each solver's own option names.
    ranks : tuple of int, optional
        Per-axis ranks to cut the ``rtol`` compression to (``S_c`` must match them).

    Returns
    -------
    SolverResult
        ``info`` holds ``solver``, ``status`` and ``fallback_from`` (the failures before).

    Examples
    --------
    >>> from laplace_inv.kernels import Kernel2D
    >>> k = Kernel2D.from_arrays(("T2", "T2"), np.geomspace(1e-3, 1, 12),
    ...                          np.geomspace(1e-3, 1, 16), n_grid=8)
    >>> F = np.zeros((8, 8)); F[3, 4] = 1.0
    >>> res = solve_l1(k, k.compress(1e-4).forward(F), 1e-3, solvers=("CLARABEL",))
    >>> res.info["status"], int(np.argmax(res.map))
    ('optimal', 28)
    """
    comp = _compressed(kernel, rtol, ranks)
    failures: list[str] = []
    inaccurate: tuple[np.ndarray, str, str, int | None] | None = None
    installed = set(cp.installed_solvers())
    for name in solvers:
        if name not in OWN_SOLVERS and name not in installed:
            failures.append(f"{name}: not installed")
            continue
        try:
            F, status, n_iter = _solve_with(
                name, kernel, comp, S_c, alpha, l2, rtol, max_iter, tol, ranks
            )
        except (cp.error.SolverError, ValueError, ArithmeticError) as exc:
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        if F is not None and status == cp.OPTIMAL:
            info = {"solver": name, "status": status, "fallback_from": failures or None}
            return SolverResult(F, n_iter or 0, True, {**info, "iterations": n_iter})
        # An iterate stopped by the iteration cap (user_limit) or an inaccurate one is kept
        # as a last resort and returned with a ConvergenceWarning.
        if (
            F is not None
            and status in (cp.OPTIMAL_INACCURATE, cp.USER_LIMIT)
            and inaccurate is None
        ):
            inaccurate = (F, name, status, n_iter)
        failures.append(f"{name}: status {status}")
    if inaccurate is not None:
        from sklearn.exceptions import ConvergenceWarning

        F, name, status, n_iter = inaccurate
        warnings.warn(
            f"L1Inverter: no solver reached 'optimal' ({'; '.join(failures)}); returning "
            f"the {name} solution with status {status!r}",
            ConvergenceWarning,
            stacklevel=5,
        )
        info = {"solver": name, "status": status, "fallback_from": failures}
        return SolverResult(F, n_iter or 0, False, {**info, "iterations": n_iter})
    raise RuntimeError(
        "L1Inverter: every solver failed (" + "; ".join(failures) + "). Try another "
        "solver=..., fallback_solver=..., or solver='FISTA'."
    )


def _solve_with(
    name: str,
    kernel: Kernel2D,
    comp: CompressedOperator,
    S_c: np.ndarray,
    alpha: float,
    l2: float,
    rtol: float,
    max_iter: int | None,
    tol: float | None,
    ranks: tuple[int, int] | None,
) -> tuple[np.ndarray | None, str, int | None]:
    if name == ACTIVE_SET:
        res = l1_active_set(comp, S_c, alpha, l2, max_iter=max_iter)
        return res.map, "optimal" if res.converged else cp.USER_LIMIT, res.iterations
    if name == FISTA:
        kw: dict[str, Any] = {}
        if max_iter is not None:
            kw["max_iter"] = int(max_iter)
        if tol is not None:
            kw["tol"] = float(tol)
        res = l1_fista(comp, S_c, alpha, l2, **kw)
        return res.map, "optimal", res.iterations
    return solve_l1_cvxpy(
        kernel,
        S_c,
        alpha,
        l2=l2,
        rtol=float(rtol),
        solver=name,
        max_iter=max_iter,
        tol=tol,
        ranks=ranks,
    )
