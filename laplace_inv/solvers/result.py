"""The one result type every solver returns, and the warning it emits at its iteration cap."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SolverResult:
    """What a solver found.

    Attributes
    ----------
    map : Any
        The solution ``F`` (a numpy array, or a torch tensor for torch input).
    iterations : int
        Iterations (or factorisations, or solver steps) performed.
    converged : bool
        Whether the stopping rule was met before the iteration cap.
    info : dict
        Solver-specific figures (objective, dual variable, degrees of freedom, ...).

    Examples
    --------
    >>> SolverResult(map=[0.0], iterations=3, converged=True).info
    {}
    """

    map: Any
    iterations: int
    converged: bool
    info: dict[str, Any] = field(default_factory=dict)


def warn_not_converged(solver: str, n_iter: int, tol: float) -> None:
    """Emit the ``ConvergenceWarning`` every solver raises when it hits its iteration cap.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     warn_not_converged("demo", 5, 1e-6)
    >>> w[0].category.__name__
    'ConvergenceWarning'
    """
    from sklearn.exceptions import ConvergenceWarning

    warnings.warn(
        f"{solver} stopped at its iteration cap ({n_iter}) before reaching tol={tol:g}; "
        "increase max_iter or loosen tol",
        ConvergenceWarning,
        stacklevel=3,
    )
