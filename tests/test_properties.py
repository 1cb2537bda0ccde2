"""Property-based tests of the public API: every input gives a correct result or a clean error.

Each *entry point* (``Kernel2D``/``KernelAxis``, every inverter's ``fit``/``predict``/``invert``,
``simulate``, ``metrics`` and the CLI; the readers live in ``test_reader_fuzz.py``) is an
:class:`Entry`: a hypothesis strategy that draws a :class:`Case` (valid or deliberately
broken input, with the problem the error message must name) and a ``run`` function that calls
the API. :func:`outcome` accepts exactly two behaviours:

* a result that passes the entry's correctness checks (finite, non-negative maps of the right
  shape, residual no larger than the data, ...), or
* a ``ValueError``/``TypeError`` (or ``FileNotFoundError`` for a missing file) raised by
  ``laplace_inv`` itself whose message matches the case's ``expect`` pattern.

Anything else (a bare numpy/scipy/torch/cvxpy exception, NaN in a map, an invalid input
silently accepted) fails. ``scripts/reliability_report.py`` runs the same entries and counts.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _hypothesis_profiles import THOROUGH_EXAMPLES, n_examples
from hypothesis import given, settings
from hypothesis import strategies as st

from laplace_inv import Kernel2D, KernelAxis, TikhonovInverter
from laplace_inv import metrics as lm
from laplace_inv import simulate as sim
from laplace_inv.kernels import KINDS

# Exception types that only signal a clean, user-facing refusal.
CLEAN_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError)
# Modules whose own exception classes must never reach the user.
FOREIGN_MODULES = ("numpy", "scipy", "torch", "cvxpy", "safetensors", "skorch", "sklearn")


# ============================================================================================
# The machinery shared with scripts/reliability_report.py
# ============================================================================================


@dataclass
class Case:
    """One generated input.

    Attributes
    ----------
    label : str
        What kind of input this is (``"nan"``, ``"valid peaks"``...), for reports.
    args : dict
        The input itself.
    expect : str or None
        For a broken input, a regular expression the error message must match (it names the
        problem). ``None`` for a valid input, which must give a correct result.
    allow : str or None
        For a valid input, an error message pattern that is nevertheless an acceptable,
        documented refusal (e.g. "no degrees of freedom" when the data cannot give a noise
        estimate).
    """

    label: str
    args: dict = field(default_factory=dict)
    expect: str | None = None
    allow: str | None = None

    def __repr__(self) -> str:  # short, for hypothesis' falsifying-example output
        shapes = {k: getattr(v, "shape", type(v).__name__) for k, v in self.args.items()}
        return f"Case({self.label!r}, expect={self.expect!r}, args={shapes})"


class Unhandled(AssertionError):
    """An input the API did not handle correctly."""


def _is_foreign(exc: BaseException) -> bool:
    mod = type(exc).__module__ or ""
    return mod.split(".")[0] in FOREIGN_MODULES or mod.startswith("_") or mod.endswith("_rust")


def outcome(
    case: Case,
    fn: Callable[[], Any],
    check: Callable[[Any], None] | None = None,
    clean: tuple[type[BaseException], ...] = CLEAN_ERRORS,
) -> tuple[str, str]:
    """Call ``fn`` and judge the result against ``case``.

    Returns
    -------
    (str, str)
        ``("ok", "")`` for a correct result, ``("error", message)`` for a validated error.

    Raises
    ------
    Unhandled
        For a bare or foreign exception, an error whose message does not name the problem,
        an invalid input silently accepted, or a result failing ``check``.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fn()
    except clean as exc:
        msg = str(exc)
        if _is_foreign(exc):
            raise Unhandled(
                f"[{case.label}] foreign exception {type(exc).__module__}.{type(exc).__name__}: "
                f"{msg}"
            ) from exc
        if not msg.strip():
            raise Unhandled(f"[{case.label}] {type(exc).__name__} with an empty message") from exc
        pattern = case.expect if case.expect is not None else case.allow
        if pattern is None:
            raise Unhandled(
                f"[{case.label}] valid input refused: {type(exc).__name__}: {msg}"
            ) from exc
        if not re.search(pattern, msg, re.IGNORECASE):
            raise Unhandled(
                f"[{case.label}] message does not name the problem (wanted /{pattern}/): "
                f"{type(exc).__name__}: {msg}"
            ) from exc
        return "error", msg
    except Unhandled:
        raise
    except Exception as exc:
        raise Unhandled(
            f"[{case.label}] unhandled {type(exc).__module__}.{type(exc).__name__}: {exc}"
        ) from exc
    if case.expect is not None:
        raise Unhandled(
            f"[{case.label}] invalid input accepted (expected an error matching "
            f"/{case.expect}/), got {type(result).__name__}"
        )
    if check is not None:
        try:
            check(result)
        except AssertionError as exc:
            raise Unhandled(f"[{case.label}] wrong result: {exc}") from exc
    return "ok", ""


@dataclass
class Entry:
    """One public entry point under test: a case strategy and a runner.

    ``run(case)`` returns the :func:`outcome`; ``cost`` scales the number of examples (the
    inverters are slower than the validators).
    """

    name: str
    strategy: st.SearchStrategy
    run: Callable[[Case], tuple[str, str]]
    cost: float = 1.0
    known_bugs: dict[str, str] = field(default_factory=dict)
    """Case labels that hit a bug in a file owned by someone else (label → xfail test).
    The property skips them; the reliability report counts them as not handled."""


# ============================================================================================
# Strategies
# ============================================================================================

SCALES = (1e-300, 1e-150, 1e-12, 1.0, 1e12, 1e150, 1e300)
"""Data magnitudes every inverter must handle."""


def axis_values(kind: str, n: int, lo: float, span: float) -> np.ndarray:
    """A geometric acquisition axis (b-values in s/m² for ``D``)."""
    tau = np.geomspace(10.0**lo, 10.0 ** (lo + span), n)
    return tau * 1e9 if kind == "D" else tau


@st.composite
def tiny_kernels(draw: Callable, max_n: int = 7, max_grid: int = 6) -> Kernel2D:
    """Small random kernels of any pair of kinds (fast to invert)."""
    axes = []
    for _ in range(2):
        kind = draw(st.sampled_from(KINDS))
        n = draw(st.integers(2, max_n))
        lo = draw(st.floats(-4.0, -1.0))
        span = draw(st.floats(0.3, 3.0))
        n_grid = draw(st.integers(3, max_grid))
        axes.append(KernelAxis(kind, axis_values(kind, n, lo, span), n_grid=n_grid))
    return Kernel2D(*axes)


def _random_map(draw: Callable, shape: tuple[int, int]) -> np.ndarray:
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    F = rng.random(shape) * (rng.random(shape) < 0.4)
    if not F.any():
        F[shape[0] // 2, shape[1] // 2] = 1.0
    return F


@st.composite
def data_matrices(draw: Callable, kernel: Kernel2D) -> Case:
    """One dataset for ``kernel``: valid (any magnitude, constant, zero, negative, noise) or
    broken (NaN, inf, complex, wrong shape, transposed, empty, 1D, 3D, bool, text, None)."""
    n1, n2 = kernel.data_shape
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    scale = draw(st.sampled_from(SCALES))
    clean = kernel.forward(_random_map(draw, kernel.map_shape))
    clean = clean / max(np.abs(clean).max(), 1e-300)
    noisy = clean + 0.01 * rng.standard_normal(clean.shape)
    kind = draw(
        st.sampled_from(
            [
                "peaks",
                "peaks+noise",
                "constant",
                "zero",
                "negative",
                "noise only",
                "int dtype",
                "float32",
                "nested list",
                "nan",
                "inf",
                "complex",
                "wrong shape",
                "transposed",
                "empty",
                "1D",
                "3D",
                "bool",
                "text",
                "None",
                "ragged",
            ]
        )
    )
    S: Any
    expect = None
    if kind == "peaks":
        S = clean * scale
    elif kind == "peaks+noise":
        S = noisy * scale
    elif kind == "constant":
        S = np.full((n1, n2), scale)
    elif kind == "zero":
        S = np.zeros((n1, n2))
    elif kind == "negative":
        S = -noisy * scale
    elif kind == "noise only":
        S = rng.standard_normal((n1, n2)) * scale
    elif kind == "int dtype":
        S = np.round(noisy * 1000).astype(np.int64)
    elif kind == "float32":
        S = noisy.astype(np.float32)
    elif kind == "nested list":
        S = noisy.tolist()
    elif kind == "nan":
        S = noisy.copy()
        S[rng.integers(n1), rng.integers(n2)] = np.nan
        expect = "NaN"
    elif kind == "inf":
        S = noisy.copy()
        S[rng.integers(n1), rng.integers(n2)] = draw(st.sampled_from([np.inf, -np.inf]))
        expect = "infinite"
    elif kind == "complex":
        S = noisy * np.exp(1j * 0.3)
        expect = "complex"
    elif kind == "wrong shape":
        d1, d2 = draw(st.sampled_from([(1, 0), (0, 1), (-1, 0), (0, -1), (1, 1)]))
        if n1 + d1 < 1 or n2 + d2 < 1:
            d1, d2 = 1, 1
        S = np.ones((n1 + d1, n2 + d2))
        expect = r"shape|expects"
    elif kind == "transposed":
        if n1 == n2:
            S = np.ones((n1 + 1, n2))
            expect = r"shape|expects"
        else:
            S = noisy.T.copy()
            expect = "transposed"
    elif kind == "empty":
        S = np.ones((0, n2))
        expect = "empty"
    elif kind == "1D":
        S = noisy.ravel()
        expect = "1D"
    elif kind == "3D":
        S = noisy[None, None]
        expect = r"2D|shape"
    elif kind == "bool":
        S = noisy > 0
        expect = "boolean"
    elif kind == "text":
        S = np.full((n1, n2), "1.0")
        expect = "non-numeric"
    elif kind == "None":
        S = None
        expect = "None"
    else:  # ragged
        S = [[1.0] * n2, [1.0] * (n2 + 1)] + [[1.0] * n2] * (n1 - 2)
        expect = r"cannot be converted"
    return Case(kind, {"S": S, "scale": scale}, expect)


@st.composite
def data_batches(draw: Callable, kernel: Kernel2D) -> Case:
    """A batch for ``predict``: flat or 3D, or broken like :func:`data_matrices`."""
    n1, n2 = kernel.data_shape
    n = draw(st.integers(1, 3))
    layout = draw(st.sampled_from(["flat", "3D"]))
    cases = [draw(data_matrices(kernel)) for _ in range(n)]
    bad = [c for c in cases if c.expect is not None]
    if bad:  # one broken sample breaks the batch; test it alone, batched
        c = bad[0]
        S = c.args["S"]
        if c.label in ("None", "ragged"):
            return Case(c.label, {"X": S}, c.expect)
        arr = np.asarray(S)
        if c.label in ("nan", "inf", "complex", "bool", "text"):
            X = arr.reshape(1, -1) if layout == "flat" else arr[None]
            return Case(c.label, {"X": X}, c.expect)
        if c.label == "1D":
            return Case(c.label, {"X": arr}, "1D")
        if c.label == "3D":
            return Case("4D", {"X": arr[None]}, r"2D or 3D")
        if c.label == "empty":
            return Case("empty batch", {"X": np.ones((0, n1 * n2))}, "empty")
        # wrong shape / transposed samples (flattened, a same-size sample is undetectable)
        X = arr.reshape(1, -1) if layout == "flat" and arr.size != n1 * n2 else arr[None]
        return Case(c.label, {"X": X}, r"features|expects|shape")
    X = np.stack([np.asarray(c.args["S"], dtype=float) for c in cases])
    if layout == "flat":
        X = X.reshape(n, -1)
    return Case(f"batch of {n} ({layout}): " + ", ".join(c.label for c in cases), {"X": X})


# ============================================================================================
# Result checks
# ============================================================================================


def scaled_relative_residual(
    kernel: Kernel2D, S: np.ndarray, F: np.ndarray, offset: float = 0.0
) -> float:
    """``‖S − K1 F K2ᵀ − offset‖ / ‖S‖`` computed without overflow or underflow."""
    S = np.asarray(S, dtype=float)
    c = float(np.abs(S).max())
    if c == 0:
        return 0.0
    fit = kernel.K1 @ (F / c) @ kernel.K2.T + offset / c
    return float(np.linalg.norm(S / c - fit) / np.linalg.norm(S / c))


def check_map(kernel: Kernel2D, F: np.ndarray) -> None:
    """A map has the kernel's shape, is finite and non-negative."""
    assert F.shape == kernel.map_shape, f"map shape {F.shape} != {kernel.map_shape}"
    assert np.all(np.isfinite(F)), "non-finite values in the map"
    assert np.all(F >= 0), f"negative map values (min {F.min():g})"


def check_classical_result(
    kernel: Kernel2D, S: np.ndarray, F: np.ndarray, offset: float = 0.0
) -> None:
    """A non-negative regularised least-squares map: valid, and no worse than the zero map.

    ``F = 0`` is feasible with objective ``½‖S‖²``, so the minimiser's residual is at most
    ``‖S‖``; zero data give the zero map.
    """
    check_map(kernel, F)
    S = np.asarray(S, dtype=float)
    if not np.any(S):
        assert not np.any(F), "zero data must give the zero map"
        return
    rr = scaled_relative_residual(kernel, S, F, offset)
    assert np.isfinite(rr), "non-finite residual"
    assert rr <= 1.0 + 1e-6, f"relative residual {rr:g} exceeds that of the zero map"


# ============================================================================================
# Inverters
# ============================================================================================


def _l1_class() -> type | None:
    try:
        from laplace_inv.classical.l1 import L1Inverter
    except ImportError:
        return None
    return L1Inverter


@functools.lru_cache(maxsize=1)
def dlemlr_fixture() -> tuple[Any, Kernel2D] | None:
    """A tiny fitted DLEMLR model on a fixed 8 × 8-grid kernel (``None`` without torch)."""
    try:
        import torch

        from laplace_inv.dlemlr import DLEMLRInverter
    except ImportError:
        return None
    torch.set_num_threads(1)
    kernel = Kernel2D(
        KernelAxis("T1_IR", np.geomspace(1e-3, 3, 6), n_grid=8),
        KernelAxis("T2", np.geomspace(1e-3, 1, 12), n_grid=8),
    )
    prior = sim.PeakPrior(n_peaks=(1, 2), sigma=(0.15, 0.3), margin=0.3, min_separation=0.3)
    X, Y, _ = sim.make_training_set(kernel, 24, prior=prior, random_state=0)
    est = DLEMLRInverter(
        kernel=kernel,
        dim=8,
        depth=1,
        heads=1,
        patch=4,
        n_iter_phys=5,
        max_epochs=1,
        batch_size=12,
        valid_fraction=0.25,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, Y)
    return est, kernel


METHODS: dict[str, Callable[[Kernel2D], Any]] = {
    "tikhonov_global": lambda k: TikhonovInverter(k, penalty="global", alpha="gcv"),
    "upen": lambda k: TikhonovInverter(k, penalty="upen"),
    "l1": lambda k: _l1_class()(k),  # type: ignore[misc]
}
"""Classical inverters built for any kernel."""


def available_methods() -> list[str]:
    """Inverters importable here (``l1`` appears once ``classical/l1.py`` exists)."""
    names = ["tikhonov_global", "upen"]
    if _l1_class() is not None:
        names.append("l1")
    return names


NO_DOF = r"degrees of freedom"


def invert_entry(method: str) -> Entry:
    """``est.invert(S)`` on tiny random kernels with hostile data."""

    @st.composite
    def cases(draw: Callable) -> Case:
        kernel = draw(tiny_kernels())
        case = draw(data_matrices(kernel))
        case.args["kernel"] = kernel
        case.args["noise_std"] = draw(st.sampled_from([None, 0.01]))
        # a given noise level far above tiny data (scale 1e-300) is refused as "no signal"
        case.allow = NO_DOF if case.args["noise_std"] is None else rf"{NO_DOF}|no signal"
        return case

    def run(case: Case) -> tuple[str, str]:
        kernel = case.args["kernel"]
        est = METHODS[method](kernel)

        def check(res: Any) -> None:
            check_classical_result(kernel, res.data, res.map, res.info.get("offset", 0.0))
            assert res.data.shape == kernel.data_shape

        return outcome(
            case, lambda: est.invert(case.args["S"], noise_std=case.args["noise_std"]), check
        )

    return Entry(f"{method}.invert", cases(), run, cost=0.6)


def predict_entry(method: str) -> Entry:
    """``est.fit(X).predict(X)`` / ``transform`` on tiny random kernels with hostile batches."""

    @st.composite
    def cases(draw: Callable) -> Case:
        kernel = draw(tiny_kernels())
        case = draw(data_batches(kernel))
        case.args["kernel"] = kernel
        case.args["fit_first"] = draw(st.booleans())  # classical predict needs no fit
        if case.label == "ragged" and not case.args["fit_first"]:
            case.label = "ragged (predict)"
        return case

    def run(case: Case) -> tuple[str, str]:
        kernel = case.args["kernel"]
        est = METHODS[method](kernel)

        def call() -> np.ndarray:
            if case.args.get("fit_first", True):
                est.fit(case.args["X"])
            return est.predict(case.args["X"])

        def check(Y: np.ndarray) -> None:
            X = np.asarray(case.args["X"], dtype=float).reshape(-1, *kernel.data_shape)
            N1, N2 = kernel.map_shape
            assert Y.shape == (len(X), N1 * N2), f"predict shape {Y.shape}"
            for S, y in zip(X, Y, strict=True):
                check_classical_result(kernel, S, y.reshape(N1, N2))

        return outcome(case, call, check)

    return Entry(f"{method}.fit/predict", cases(), run, cost=0.6)


def dlemlr_entry() -> Entry:
    """A fitted DLEMLR model's ``predict`` and ``invert`` on its (fixed) kernel."""

    @st.composite
    def cases(draw: Callable) -> Case:
        fixture = dlemlr_fixture()
        kernel = fixture[1]
        if draw(st.booleans()):
            case = draw(data_matrices(kernel))
            case.args["api"] = "invert"
        else:
            case = draw(data_batches(kernel))
            case.args["api"] = "predict"
            if case.label == "ragged":
                case.label = "ragged (predict)"
        # a given noise level far above tiny data (scale 1e-300) is refused as "no signal"
        case.allow = rf"{NO_DOF}|no signal"
        return case

    def run(case: Case) -> tuple[str, str]:
        est, kernel = dlemlr_fixture()
        N1, N2 = kernel.map_shape
        if case.args["api"] == "invert":

            def check(res: Any) -> None:
                check_map(kernel, res.map)
                if not np.any(res.data):
                    assert not np.any(res.map), "zero data must give the zero map"

            return outcome(case, lambda: est.invert(case.args["S"], noise_std=0.01), check)

        def check_batch(Y: np.ndarray) -> None:
            n = np.asarray(case.args["X"]).shape[0]
            assert Y.shape == (n, N1 * N2)
            for y in Y:
                check_map(kernel, y.reshape(N1, N2))

        return outcome(case, lambda: est.predict(case.args["X"]), check_batch)

    return Entry("dlemlr.predict/invert", cases(), run, cost=0.5)


# ============================================================================================
# Kernels
# ============================================================================================


@st.composite
def axis_cases(draw: Callable) -> Case:
    """``KernelAxis(kind, tau, grid, n_grid=, efficiency=)`` with hostile arguments."""
    kind = draw(st.sampled_from(KINDS))
    n = draw(st.integers(1, 12))
    lo = draw(st.floats(-300.0, 300.0))
    hi = min(lo + draw(st.floats(0.5, 6.0)), 307.0)
    tau = np.geomspace(10.0**lo, 10.0**hi, n) if n > 1 else np.array([10.0**lo])
    args: dict[str, Any] = {"kind": kind, "tau": tau, "grid": None, "n_grid": 8, "efficiency": 1.0}
    label = draw(
        st.sampled_from(
            [
                "valid",
                "valid with zero",
                "explicit grid",
                "extreme magnitudes",
                "tau list",
                "unknown kind",
                "kind not str",
                "unsorted",
                "duplicate",
                "negative",
                "nan tau",
                "inf tau",
                "empty tau",
                "2D tau",
                "complex tau",
                "text tau",
                "None tau",
                "bool tau",
                "grid with zero",
                "grid one point",
                "grid unsorted",
                "n_grid 1",
                "n_grid float",
                "efficiency out of range",
                "efficiency on T2",
                "efficiency nan",
                "efficiency array",
                "grid far from acquisition",
            ]
        )
    )
    expect = None
    allow = None
    if label == "valid with zero":
        args["tau"] = np.concatenate([[0.0], tau * (1.0 + 1e-9)]) if tau[0] > 0 else tau
    elif label == "explicit grid":
        args["grid"] = np.geomspace(1e-6, 10.0, draw(st.integers(2, 10)))
        allow = r"numerically zero"  # a fixed grid far from the acquisition sees nothing
    elif label == "extreme magnitudes":
        args["tau"] = np.array([1e-300, 1e-150, 1e150, 1e300])
        args["grid"] = np.array([1e-300, 1.0, 1e300])
        allow = r"numerically zero"
    elif label == "tau list":
        args["tau"] = [float(v) for v in tau]
    elif label == "unknown kind":
        args["kind"] = draw(st.sampled_from(["T3", "t2", "", "T1"]))
        expect = "kind"
    elif label == "kind not str":
        args["kind"] = draw(st.sampled_from([None, 2, ("T2",)]))
        expect = "kind"
    elif label == "unsorted":
        args["tau"] = np.array([2.0, 1.0, 3.0]) * 10.0 ** min(lo, 100)
        expect = "increasing"
    elif label == "duplicate":
        args["tau"] = np.array([1.0, 2.0, 2.0]) * 10.0 ** min(lo, 100)
        expect = "duplicate"
    elif label == "negative":
        args["tau"] = np.array([-1.0, 1.0, 2.0])
        expect = "non-negative"
    elif label == "nan tau":
        args["tau"] = np.array([1.0, np.nan, 3.0])
        expect = "NaN"
    elif label == "inf tau":
        args["tau"] = np.array([1.0, 2.0, np.inf])
        expect = "infinite"
    elif label == "empty tau":
        args["tau"] = np.array([])
        expect = "empty"
    elif label == "2D tau":
        args["tau"] = np.ones((2, 2))
        expect = "1D"
    elif label == "complex tau":
        args["tau"] = tau.astype(complex)
        expect = "complex"
    elif label == "text tau":
        args["tau"] = ["0.1", "0.2"]
        expect = "non-numeric"
    elif label == "None tau":
        args["tau"] = None
        expect = "None"
    elif label == "bool tau":
        args["tau"] = np.array([False, True])
        expect = "boolean"
    elif label == "grid with zero":
        args["grid"] = np.array([0.0, 1e-3, 1e-2])
        expect = "positive"
    elif label == "grid one point":
        args["grid"] = np.array([1e-2])
        expect = r"at least 2"
    elif label == "grid unsorted":
        args["grid"] = np.array([1e-2, 1e-3, 1e-1])
        expect = "increasing"
    elif label == "n_grid 1":
        args["n_grid"] = draw(st.sampled_from([1, 0, -3]))
        expect = "n_grid"
    elif label == "n_grid float":
        args["n_grid"] = 8.5
        expect = "n_grid"
    elif label == "efficiency out of range":
        args["kind"] = "T1_IR"
        args["efficiency"] = draw(st.sampled_from([0.0, -1.0, 2.0]))
        expect = "efficiency"
    elif label == "efficiency on T2":
        args["kind"] = "T2"
        args["efficiency"] = 0.9
        expect = "efficiency"
    elif label == "efficiency nan":
        args["kind"] = "T1_IR"
        args["efficiency"] = float("nan")
        expect = r"efficiency"
    elif label == "efficiency array":
        args["kind"] = "T1_IR"
        args["efficiency"] = np.array([0.9, 1.0])
        expect = r"efficiency"
    elif label == "grid far from acquisition":
        args["kind"] = "T2"
        args["tau"] = np.array([1e3, 2e3, 4e3])
        args["grid"] = np.array([1e-9, 1e-8, 1e-7])
        expect = r"numerically zero"
    if label in ("valid", "valid with zero", "tau list") and np.asarray(args["tau"]).size:
        taus = np.asarray(args["tau"], dtype=float)
        positive = taus[taus > 0]
        # A default grid needs finite bounds and distinct values after rounding.
        if (
            positive.size == 0
            or not np.all(np.isfinite(3.0 * positive))
            or np.any(np.diff(taus) <= 0)
            or positive.min() / 5 == 0
        ):
            allow = r"grid|positive|duplicate|increasing|numerically zero"
    return Case(label, args, expect, allow)


def run_axis(case: Case) -> tuple[str, str]:
    """Build the axis; a valid one has a finite matrix of shape (n, N) and a sane grid."""
    a = case.args

    def check(ax: KernelAxis) -> None:
        K = ax.matrix
        assert K.shape == (ax.tau.size, ax.grid.size)
        assert np.all(np.isfinite(K)), "non-finite kernel entries"
        assert np.all(np.diff(ax.grid) > 0) and ax.grid[0] > 0
        assert np.abs(K).max() > 0, "all-zero kernel accepted"

    return outcome(
        case,
        lambda: KernelAxis(
            a["kind"], a["tau"], a["grid"], n_grid=a["n_grid"], efficiency=a["efficiency"]
        ),
        check,
    )


@st.composite
def operator_cases(draw: Callable) -> Case:
    """``Kernel2D`` construction, ``forward``, ``adjoint`` and ``compress`` with hostile input."""
    kernel = draw(tiny_kernels())
    N1, N2 = kernel.map_shape
    n1, n2 = kernel.data_shape
    label = draw(
        st.sampled_from(
            [
                "forward",
                "forward batch",
                "adjoint",
                "adjoint batch",
                "compress",
                "axis not KernelAxis",
                "forward wrong shape",
                "forward nan",
                "forward complex",
                "adjoint wrong shape",
                "adjoint 1D",
                "compress rtol 0",
                "compress rtol text",
                "compress rtol nan",
            ]
        )
    )
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    args: dict[str, Any] = {"kernel": kernel, "op": label.split()[0]}
    expect = None
    if label == "forward":
        args["x"] = rng.random((N1, N2))
    elif label == "forward batch":
        args["x"] = rng.random((3, N1, N2))
    elif label == "adjoint":
        args["x"] = rng.standard_normal((n1, n2))
    elif label == "adjoint batch":
        args["x"] = rng.standard_normal((2, n1, n2))
    elif label == "compress":
        args["x"] = draw(st.sampled_from([1e-12, 1e-8, 1e-3, 0.5]))
    elif label == "axis not KernelAxis":
        args["op"] = "construct"
        args["x"] = draw(st.sampled_from([None, np.ones(3), "T2"]))
        expect = "KernelAxis"
    elif label == "forward wrong shape":
        args["x"] = np.ones((N1 + 1, N2))
        expect = "shape"
    elif label == "forward nan":
        F = rng.random((N1, N2))
        F[0, 0] = np.nan
        args["x"] = F
        expect = "NaN"
    elif label == "forward complex":
        args["x"] = rng.random((N1, N2)) + 1j
        expect = "complex"
    elif label == "adjoint wrong shape":
        args["x"] = np.ones((n1, n2 + 1))
        expect = "shape"
    elif label == "adjoint 1D":
        args["x"] = np.ones(n1 * n2)
        expect = "shape"
    elif label == "compress rtol 0":
        args["x"] = draw(st.sampled_from([0.0, 1.0, -1e-3, 2.0]))
        expect = "rtol"
    elif label == "compress rtol text":
        args["x"] = "tight"
        expect = "rtol"
    else:
        args["x"] = float("nan")
        expect = "rtol"
    return Case(label, args, expect)


def run_operator(case: Case) -> tuple[str, str]:
    """Apply the operator; check shapes and finiteness (and the compression's accuracy)."""
    k: Kernel2D = case.args["kernel"]
    x = case.args["x"]
    op = case.args["op"]
    if op == "construct":
        return outcome(case, lambda: Kernel2D(k.axis1, x))
    if op == "forward":

        def check(out: np.ndarray) -> None:
            arr = np.asarray(x)
            assert out.shape == arr.shape[:-2] + k.data_shape
            assert np.all(np.isfinite(out))
            np.testing.assert_allclose(out, k.K1 @ arr @ k.K2.T)

        return outcome(case, lambda: k.forward(x), check)
    if op == "adjoint":

        def check_adj(out: np.ndarray) -> None:
            arr = np.asarray(x)
            assert out.shape == arr.shape[:-2] + k.map_shape
            assert np.all(np.isfinite(out))

        return outcome(case, lambda: k.adjoint(x), check_adj)

    def check_comp(comp: Any) -> None:
        r1, r2 = comp.shape
        assert 1 <= r1 <= min(k.K1.shape) and 1 <= r2 <= min(k.K2.shape)
        assert np.all(np.isfinite(comp.K1)) and np.all(np.isfinite(comp.K2))
        assert comp.lipschitz > 0
        F = np.ones(k.map_shape)
        full = k.forward(F)
        approx = comp.U1 @ comp.forward(F) @ comp.U2.T
        err = np.linalg.norm(full - approx) / max(np.linalg.norm(full), 1e-300)
        assert err <= 10 * float(x) + 1e-10, f"compression error {err:g} for rtol {x}"

    return outcome(case, lambda: k.compress(x), check_comp)


# ============================================================================================
# Simulation
# ============================================================================================


@st.composite
def simulate_cases(draw: Callable) -> Case:
    """``Peak``, ``simulate_decay``, ``add_noise``, ``make_training_set``, ``estimate_noise``."""
    kernel = draw(tiny_kernels(max_grid=8))
    label = draw(
        st.sampled_from(
            [
                "simulate_decay",
                "add_noise",
                "training set",
                "training set snr range",
                "estimate_noise",
                "estimate_noise scaled",
                "peak sigma 0",
                "peak sigma negative",
                "peak rho 1",
                "peak nan center",
                "peak negative weight",
                "snr 0",
                "snr negative",
                "snr nan",
                "snr range inverted",
                "n_samples 0",
                "n_samples float",
                "prior n_peaks inverted",
                "oversample 0",
                "add_noise nan",
                "add_noise complex",
            ]
        )
    )
    l1, l2 = kernel.axis1.log_grid, kernel.axis2.log_grid
    center = (float(l1.mean()), float(l2.mean()))
    args: dict[str, Any] = {
        "kernel": kernel,
        "op": "simulate_decay",
        "peaks": [sim.Peak(center, (0.1, 0.1), 1.0, 0.2)],
        "scale": draw(st.sampled_from(SCALES)),
    }
    expect = None
    allow = None
    if label in (
        "add_noise",
        "snr 0",
        "snr negative",
        "snr nan",
        "add_noise nan",
        "add_noise complex",
    ):
        args["op"] = "add_noise"
        args["S"] = np.ones(kernel.data_shape)
        args["snr"] = draw(st.floats(1.0, 1e6))
        if label == "snr 0":
            args["snr"] = 0.0
            expect = "snr"
        elif label == "snr negative":
            args["snr"] = -10.0
            expect = "snr"
        elif label == "snr nan":
            args["snr"] = float("nan")
            expect = "snr"
        elif label == "add_noise nan":
            args["S"] = np.full(kernel.data_shape, np.nan)
            expect = "NaN"
        elif label == "add_noise complex":
            args["S"] = np.ones(kernel.data_shape, complex)
            expect = "complex"
    elif label.startswith("training set") or label in (
        "n_samples 0",
        "n_samples float",
        "prior n_peaks inverted",
        "oversample 0",
        "snr range inverted",
    ):
        args["op"] = "training"
        args["n"] = draw(st.integers(1, 4))
        args["snr"] = (
            (10.0, 1000.0) if label == "training set snr range" else draw(st.floats(1.0, 1e4))
        )
        args["prior"] = sim.PeakPrior(n_peaks=(1, 2), margin=0.0, sigma=(0.05, 0.3))
        args["oversample"] = draw(st.sampled_from([1, 2]))
        if label == "n_samples 0":
            args["n"] = 0
            expect = "n_samples"
        elif label == "n_samples float":
            args["n"] = 2.5
            expect = "n_samples"
        elif label == "snr range inverted":
            args["snr"] = draw(st.sampled_from([(100.0, 10.0), (0.0, 10.0), (-1.0, 5.0)]))
            expect = "snr"
        elif label == "prior n_peaks inverted":
            args["prior"] = "inverted"
            expect = "n_peaks"
        elif label == "oversample 0":
            args["oversample"] = draw(st.sampled_from([0, -2]))
            allow = "oversample"  # treated as 1 (no oversampling) or refused, both fine
    elif label.startswith("estimate_noise"):
        args["op"] = "estimate_noise"
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        args["S"] = kernel.forward(np.ones(kernel.map_shape)) + 0.01 * rng.standard_normal(
            kernel.data_shape
        )
        allow = NO_DOF
    elif label.startswith("peak"):
        args["op"] = "peak"
        c, s, w, r = center, (0.1, 0.1), 1.0, 0.0
        if label == "peak sigma 0":
            s, expect = (0.0, 0.1), "sigma"
        elif label == "peak sigma negative":
            s, expect = (0.1, -0.2), "sigma"
        elif label == "peak rho 1":
            r, expect = draw(st.sampled_from([1.0, -1.0, 1.5])), "rho"
        elif label == "peak nan center":
            c, expect = (float("nan"), 0.0), "center"
        elif label == "peak negative weight":
            w, expect = -1.0, "weight"
        args["peak"] = (c, s, w, r)
    return Case(label, args, expect, allow)


def run_simulate(case: Case) -> tuple[str, str]:
    """Run one simulation call; outputs must be finite and of the right shape."""
    a = case.args
    kernel: Kernel2D = a["kernel"]
    op = a["op"]
    if op == "peak":

        def make() -> Any:
            p = sim.Peak(*a["peak"])
            return sim.simulate_decay(kernel, [p], oversample=1)

        return outcome(case, make)
    if op == "simulate_decay":

        def check(out: tuple) -> None:
            S, F = out
            assert S.shape == kernel.data_shape and F.shape == kernel.map_shape
            assert np.all(np.isfinite(S)) and np.all(np.isfinite(F)) and np.all(F >= 0)

        return outcome(case, lambda: sim.simulate_decay(kernel, a["peaks"], oversample=2), check)
    if op == "add_noise":

        def check_noise(out: tuple) -> None:
            noisy, sigma = out
            assert noisy.shape == kernel.data_shape and np.all(np.isfinite(noisy))
            assert sigma > 0 and np.isfinite(sigma)

        return outcome(case, lambda: sim.add_noise(a["S"], a["snr"], random_state=0), check_noise)
    if op == "training":
        prior = a["prior"]
        if prior == "inverted":
            return outcome(
                case,
                lambda: sim.make_training_set(
                    kernel, 2, prior=sim.PeakPrior(n_peaks=(3, 1)), random_state=0
                ),
            )

        def check_train(out: tuple) -> None:
            X, Y, sigma = out
            n = a["n"]
            assert X.shape == (n, kernel.data_shape[0] * kernel.data_shape[1])
            assert Y.shape == (n, kernel.map_shape[0] * kernel.map_shape[1])
            assert np.all(np.isfinite(X)) and np.all(np.isfinite(Y)) and np.all(Y >= 0)
            assert np.all(sigma > 0) and np.all(np.isfinite(sigma)), f"sigma {sigma}"

        return outcome(
            case,
            lambda: sim.make_training_set(
                kernel,
                a["n"],
                prior=prior,
                snr=a["snr"],
                oversample=a["oversample"],
                random_state=0,
            ),
            check_train,
        )

    c = a["scale"]

    def check_est(sigma: float) -> None:
        ref = sim.estimate_noise(a["S"], kernel)
        assert np.isfinite(sigma) and sigma >= 0
        assert np.isclose(sigma / c, ref, rtol=1e-6), f"σ(c·S)/c = {sigma / c:g} != σ(S) {ref:g}"

    return outcome(case, lambda: sim.estimate_noise(a["S"] * c, kernel), check_est)


# ============================================================================================
# Metrics
# ============================================================================================


@st.composite
def metric_cases(draw: Callable) -> Case:
    """``find_peaks``, ``projections``, ``compare_to_truth``, residual metrics."""
    N1, N2 = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    g1 = np.geomspace(1e-3, 1.0, N1) if N1 > 1 else np.array([1e-2])
    g2 = np.geomspace(1e-4, 10.0, N2) if N2 > 1 else np.array([1e-2])
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from(SCALES))
    F = rng.random((N1, N2)) * (rng.random((N1, N2)) < 0.5) * scale
    label = draw(
        st.sampled_from(
            [
                "find_peaks",
                "find_peaks smooth",
                "find_peaks zero map",
                "projections",
                "compare_to_truth",
                "relative_residual",
                "residual_to_noise",
                "map nan",
                "map complex",
                "map 1D",
                "map negative total",
                "map transposed",
                "grid unsorted",
                "grid zero",
                "min_fraction 1",
                "smooth negative",
                "residual shapes differ",
                "residual zero data",
                "noise_std 0",
                "noise_std nan",
                "projections 3D",
                "truth shape differs",
            ]
        )
    )
    args: dict[str, Any] = {
        "F": F,
        "g1": g1,
        "g2": g2,
        "op": "find_peaks",
        "kw": {},
        "scale": scale,
    }
    expect = None
    if label == "find_peaks smooth":
        args["kw"] = {"smooth": draw(st.floats(0.0, 3.0))}
    elif label == "find_peaks zero map":
        args["F"] = np.zeros((N1, N2))
    elif label == "projections":
        args["op"] = "projections"
    elif label == "compare_to_truth":
        args["op"] = "compare"
        args["T"] = rng.random((N1, N2)) * scale
    elif label == "relative_residual":
        args["op"] = "relres"
        args["S"] = rng.standard_normal((4, 5)) * scale
        args["fit"] = args["S"] + 0.1 * scale * rng.standard_normal((4, 5))
    elif label == "residual_to_noise":
        args["op"] = "rtn"
        args["S"] = rng.standard_normal((4, 5)) * scale
        args["fit"] = args["S"] + 0.1 * scale * rng.standard_normal((4, 5))
        args["noise"] = 0.1 * scale
    elif label == "map nan":
        F = F.copy()
        F.flat[0] = np.nan
        args["F"] = F
        expect = "NaN"
    elif label == "map complex":
        args["F"] = F + 1j
        expect = "complex"
    elif label == "map 1D":
        args["F"] = F.ravel()
        expect = "2D"
    elif label == "map negative total":
        args["F"] = -np.ones((N1, N2))
        expect = "negative"
    elif label == "map transposed":
        if N1 == N2:
            args["F"] = np.ones((N1 + 1, N2))
            expect = "shape"
        else:
            args["F"] = F.T.copy()
            expect = "transposed"
    elif label == "grid unsorted":
        args["g1"] = g1[::-1].copy() if N1 > 1 else np.array([-1.0])
        expect = r"increasing|positive"
    elif label == "grid zero":
        args["g2"] = np.concatenate([[0.0], g2[1:]]) if N2 > 1 else np.array([0.0])
        expect = "positive"
    elif label == "min_fraction 1":
        args["kw"] = {"min_fraction": draw(st.sampled_from([1.0, -0.1, float("nan")]))}
        expect = "min_fraction"
    elif label == "smooth negative":
        args["kw"] = {"smooth": draw(st.sampled_from([-1.0, float("inf")]))}
        expect = "smooth"
    elif label == "residual shapes differ":
        args["op"] = "relres"
        args["S"] = np.ones((4, 5))
        args["fit"] = np.ones((5, 4))
        expect = "shape"
    elif label == "residual zero data":
        args["op"] = "relres"
        args["S"] = np.zeros((4, 5))
        args["fit"] = np.ones((4, 5))
        expect = "zero"
    elif label in ("noise_std 0", "noise_std nan"):
        args["op"] = "rtn"
        args["S"] = np.ones((4, 5))
        args["fit"] = np.ones((4, 5))
        args["noise"] = 0.0 if label == "noise_std 0" else float("nan")
        expect = "noise_std"
    elif label == "projections 3D":
        args["op"] = "projections"
        args["F"] = np.ones((2, 2, 2))
        expect = "2D"
    elif label == "truth shape differs":
        args["op"] = "compare"
        args["T"] = np.ones((N1 + 1, N2))
        expect = "shape"
    return Case(label, args, expect)


def run_metric(case: Case) -> tuple[str, str]:
    """Run one metric; results must be finite where defined and scale-invariant."""
    a = case.args
    op = a["op"]
    if op == "find_peaks":

        def check(peaks: list) -> None:
            F = np.asarray(a["F"], dtype=float)
            if not F.any():
                assert peaks == []
            total = 0.0
            for p in peaks:
                assert all(np.isfinite(p.log_position)) and np.isfinite(p.mass)
                assert 0 < p.fraction <= 1 + 1e-9
                total += p.fraction
            assert total <= 1 + 1e-9

        return outcome(case, lambda: lm.find_peaks(a["F"], a["g1"], a["g2"], **a["kw"]), check)
    if op == "projections":

        def check_proj(out: tuple) -> None:
            p1, p2 = out
            assert np.all(np.isfinite(p1)) and np.all(np.isfinite(p2))

        return outcome(case, lambda: lm.projections(a["F"]), check_proj)
    if op == "compare":

        def check_cmp(res: Any) -> None:
            assert np.isfinite(res.position_error) and 0 <= res.tv_distance <= 1 + 1e-9

        return outcome(
            case, lambda: lm.compare_to_truth(a["F"], a["T"], a["g1"], a["g2"]), check_cmp
        )
    c = a["scale"]
    if op == "relres":

        def check_rr(value: float) -> None:
            ref = np.linalg.norm(a["S"] / c - a["fit"] / c) / np.linalg.norm(a["S"] / c)
            assert np.isclose(value, ref, rtol=1e-9), f"{value} != {ref} at scale {c:g}"

        return outcome(case, lambda: lm.relative_residual(a["S"], a["fit"]), check_rr)

    def check_rtn(value: float) -> None:
        ref = np.sqrt(np.mean((a["S"] / c - a["fit"] / c) ** 2)) / (a["noise"] / c)
        assert np.isclose(value, ref, rtol=1e-9), f"{value} != {ref} at scale {c:g}"

    return outcome(case, lambda: lm.residual_to_noise(a["S"], a["fit"], a["noise"]), check_rtn)


# ============================================================================================
# Command line
# ============================================================================================


@st.composite
def cli_cases(draw: Callable) -> Case:
    """``laplace-inv invert`` on small valid and broken .npz files and bad arguments."""
    n1, n2 = draw(st.integers(3, 6)), draw(st.integers(7, 12))  # n1 != n2: transposable
    tau1 = np.geomspace(1e-3, 1.0, n1)
    tau2 = np.geomspace(1e-3, 1.0, n2)
    k = Kernel2D(KernelAxis("T1_IR", tau1, n_grid=4), KernelAxis("T2", tau2, n_grid=4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    data = k.forward(rng.random((4, 4))) + 0.01 * rng.standard_normal((n1, n2))
    label = draw(
        st.sampled_from(
            [
                "valid",
                "nan data",
                "transposed data",
                "unsorted tau1",
                "bad kinds",
                "missing key",
                "missing file",
                "not npz",
                "bad grid",
                "unknown method",
            ]
        )
    )
    contents: dict[str, Any] = {
        "data": data,
        "tau1": tau1,
        "tau2": tau2,
        "kinds": np.array(["T1_IR", "T2"]),
    }
    argv_extra = ["--grid", "4", "--method", "tikhonov"]
    expect = None
    if label == "nan data":
        contents["data"] = data.copy()
        contents["data"][1, 1] = np.nan
        expect = "NaN"
    elif label == "transposed data":
        contents["data"] = data.T.copy()
        expect = "transposed"
    elif label == "unsorted tau1":
        contents["tau1"] = tau1[::-1].copy()
        expect = "increasing"
    elif label == "bad kinds":
        contents["kinds"] = np.array(["T1", "T2"])
        expect = "kind"
    elif label == "missing key":
        del contents["tau2"]
        expect = r"missing key.*tau2"
    elif label == "missing file":
        expect = r"no such file|not found"
    elif label == "not npz":
        expect = r"not a readable \.npz"
    elif label == "bad grid":
        argv_extra = ["--grid", str(draw(st.sampled_from([1, 0, -4]))), "--method", "tikhonov"]
        expect = r"n_grid|grid"
    elif label == "unknown method":
        argv_extra = ["--method", "magic"]
        expect = r"invalid choice"
    return Case(label, {"contents": contents, "argv": argv_extra}, expect)


def run_cli(case: Case, workdir: Path) -> tuple[str, str]:
    """Run ``laplace_inv.cli.main``: exit 0 with outputs, or exit 2 with a one-line error."""
    import contextlib
    import io as _io

    from laplace_inv.cli import main

    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "acq.npz"
    if case.label == "not npz":
        path.write_bytes(b"PK\x03\x04 this is not a zip archive")
    elif case.label != "missing file":
        np.savez(path, **case.args["contents"])
    out_dir = workdir / "out"
    argv = ["invert", str(path), "--out", str(out_dir), *case.args["argv"]]
    stdout, stderr = _io.StringIO(), _io.StringIO()

    def call() -> tuple[int, str]:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse usage errors
                code = int(exc.code or 0)
        return code, stderr.getvalue()

    def judged() -> tuple[int, str]:
        code, err = call()
        if code != 0:
            assert code == 2, f"exit code {code}"
            assert "Traceback" not in err, "traceback printed"
            raise ValueError(err.strip() or "<no message>")
        return code, err

    def check(res: tuple[int, str]) -> None:
        assert (out_dir / "acq_map.npz").is_file(), "no map written"
        from laplace_inv.io import load_result_npz

        F = load_result_npz(out_dir / "acq_map.npz")["map"]
        assert np.all(np.isfinite(F)) and np.all(F >= 0)

    return outcome(case, judged, check)


# ============================================================================================
# The table of entry points
# ============================================================================================


def entries() -> list[Entry]:
    """Every entry point checked here (the CLI needs a work folder: see :func:`cli_entry`)."""
    out = [
        Entry("KernelAxis", axis_cases(), run_axis),
        Entry("Kernel2D", operator_cases(), run_operator),
        Entry("simulate", simulate_cases(), run_simulate),
        Entry("metrics", metric_cases(), run_metric),
    ]
    for method in available_methods():
        out.append(invert_entry(method))
        out.append(predict_entry(method))
    return out


def cli_entry(workdir: Path) -> Entry:
    """The CLI entry, writing its files under ``workdir``."""
    counter = iter(range(10**9))
    return Entry(
        "cli invert",
        cli_cases(),
        lambda case: run_cli(case, workdir / f"run{next(counter)}"),
        cost=0.4,
    )


def run_entry(entry: Entry, max_examples: int | None = None) -> None:
    """Run ``entry`` under hypothesis (raises on the first unhandled input)."""
    n = max_examples if max_examples is not None else n_examples(entry.cost)

    @settings(max_examples=n)
    @given(entry.strategy)
    def prop(case: Case) -> None:
        if case.label in entry.known_bugs:  # covered by an xfail test
            return
        entry.run(case)

    prop()


# ============================================================================================
# Tests
# ============================================================================================

ENTRY_NAMES = [e.name for e in entries()]


@pytest.mark.parametrize("name", ENTRY_NAMES)
def test_entry_point_handles_every_input(name: str) -> None:
    entry = next(e for e in entries() if e.name == name)
    run_entry(entry)


def test_dlemlr_handles_every_input() -> None:
    if dlemlr_fixture() is None:
        pytest.skip("torch not available")
    run_entry(dlemlr_entry())


def test_cli_handles_every_input(tmp_path: Path) -> None:
    run_entry(cli_entry(tmp_path))


@pytest.mark.slow
@pytest.mark.parametrize("name", ENTRY_NAMES)
def test_entry_point_thorough(name: str) -> None:
    entry = next(e for e in entries() if e.name == name)
    run_entry(entry, THOROUGH_EXAMPLES)


@pytest.mark.slow
def test_cli_thorough(tmp_path: Path) -> None:
    run_entry(cli_entry(tmp_path), THOROUGH_EXAMPLES // 3)


def test_outcome_rejects_bare_and_foreign_exceptions() -> None:
    """The judge itself: the failure modes it must catch."""
    case = Case("x", expect="NaN")
    with pytest.raises(Unhandled, match="unhandled"):
        outcome(case, lambda: 1 / 0)
    with pytest.raises(Unhandled, match="foreign"):
        outcome(case, lambda: np.linalg.cholesky(-np.eye(2)))
    with pytest.raises(Unhandled, match="does not name"):
        outcome(case, lambda: (_ for _ in ()).throw(ValueError("something else")))
    with pytest.raises(Unhandled, match="accepted"):
        outcome(case, lambda: 1)
    assert outcome(case, lambda: (_ for _ in ()).throw(ValueError("has NaN")))[0] == "error"
    assert outcome(Case("ok"), lambda: 1) == ("ok", "")


# --------------------------------------------------------------------------------------------
# Regression tests for bugs found by these properties (fixed in base.py)
# --------------------------------------------------------------------------------------------


def _kernel() -> Kernel2D:
    return Kernel2D(
        KernelAxis("T1_IR", np.geomspace(1e-3, 3, 6), n_grid=6),
        KernelAxis("T2", np.geomspace(1e-3, 1, 10), n_grid=6),
    )


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_result_relative_residual_is_scale_safe(scale: float) -> None:
    k = _kernel()
    S = k.forward(np.random.default_rng(0).random(k.map_shape))
    S = S + 1e-3 * np.random.default_rng(1).standard_normal(S.shape)
    est = TikhonovInverter(k, penalty="global", alpha=1e-3)
    ref = est.invert(S, noise_std=1e-3).relative_residual
    res = est.invert(S * scale, noise_std=1e-3 * scale)
    assert np.isfinite(res.relative_residual)
    assert res.relative_residual == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_score_is_scale_safe(scale: float) -> None:
    k = _kernel()
    S = k.forward(np.random.default_rng(0).random(k.map_shape))[None]
    S = S + 1e-3 * np.random.default_rng(1).standard_normal(S.shape)
    est = TikhonovInverter(k, penalty="global", alpha=1e-3)
    assert est.score(S * scale) == pytest.approx(est.score(S), rel=1e-6)


@pytest.mark.parametrize("noise_std", [-1.0, float("nan"), float("inf"), "abc"])
def test_invert_rejects_bad_noise_std(noise_std: Any) -> None:
    k = _kernel()
    S = k.forward(np.ones(k.map_shape))
    with pytest.raises((ValueError, TypeError), match="noise_std"):
        TikhonovInverter(k, penalty="global", alpha=1e-3).invert(S, noise_std=noise_std)


def test_predict_rejects_ragged_lists_cleanly() -> None:
    k = _kernel()
    n = k.data_shape[0] * k.data_shape[1]
    ragged = [[1.0] * n, [1.0] * (n - 1)]
    case = Case("ragged (predict)", expect="cannot be converted")
    outcome(case, lambda: TikhonovInverter(k, penalty="global").predict(ragged))
