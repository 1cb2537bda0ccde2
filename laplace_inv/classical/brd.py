"""Old import path of the BRD solver (now `laplace_inv.solvers.brd`)."""

from __future__ import annotations

from laplace_inv.operator import CompressedOperator, PairProblem
from laplace_inv.solvers.brd import brd_solve
from laplace_inv.solvers.result import SolverResult as BRDResult

__all__ = ["BRDResult", "PairProblem", "brd_solve", "pair_problem"]


def pair_problem(comp: CompressedOperator, eps: float = 1e-8) -> PairProblem:
    """The operator's Kronecker-pair form (``comp.pairs(eps)``, cached on the operator)."""
    return comp.pairs(eps)
