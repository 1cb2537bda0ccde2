"""The data-consistency step as a function of its settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from laplace_inv.dlemlr.compressed import problem
from laplace_inv.dlemlr.consistency import ConsistencySettings
from laplace_inv.dlemlr.features import project_tensor
from laplace_inv.dlemlr.inference import _consistency, consistency_step
from laplace_inv.simulate import Peak, cement_kernel, make_scenario


@pytest.fixture(scope="module")
def shifted_prior():
    """Noise-free cement data of one narrow peak, and that peak two pixels off as prior."""
    k = cement_kernel()
    peaks = [Peak((-1.0, -2.0), (0.06, 0.06), 1.0)]
    sc = make_scenario("one", k, peaks, snr=1e12, random_state=0)
    S = torch.from_numpy(np.asarray(sc.data, dtype=np.float64))[None]
    scales = S.abs().amax(dim=(1, 2))
    truth = torch.from_numpy(sc.truth)[None]
    prior = torch.roll(truth, 2, dims=2) / scales[:, None, None]
    prob = problem(k)
    return k, prob, S, scales, project_tensor(prob, S, scales), prior, truth


def _at(lam: float, iterations: int = 1500) -> ConsistencySettings:
    return ConsistencySettings(
        max_iter=iterations,
        lambda_start=lam,
        lambda_min=lam,
        stage_iterations=iterations,
        stagnation=0.0,
    )


def test_default_step_is_consistency_step_with_its_cap(shifted_prior):
    _, prob, S, scales, projected, prior, _ = shifted_prior
    maps, stats, stop = _consistency(prob, prior, S, scales, projected, 60)
    again, stats2, stop2 = consistency_step(
        prob, prior, S, scales, projected, ConsistencySettings(max_iter=60)
    )
    torch.testing.assert_close(maps, again)
    assert stop == stop2
    for key in ("lam", "iterations", "rn_before", "rn_after"):
        torch.testing.assert_close(stats[key], stats2[key])
    assert int(stats["iterations"][0]) <= 60


def test_smaller_lambda_moves_the_prior_towards_the_data(shifted_prior):
    k, prob, S, scales, projected, prior, truth = shifted_prior
    t2 = np.log10(k.grid2)

    def t2_centre(F: torch.Tensor) -> float:
        w = F[0].sum(dim=0).numpy()
        return float((w * t2).sum() / w.sum())

    moved, residual = [], []
    for lam in (1e-4, 1e-6, 1e-8):
        maps, stats, stop = consistency_step(prob, prior, S, scales, projected, _at(lam))
        # One stage at λ: the stage spends the whole cap.
        assert stop == ["cap"] and float(stats["lam"][0]) == pytest.approx(lam)
        moved.append(abs(t2_centre(maps) - t2_centre(truth)))
        residual.append(float(stats["rn_after"][0]))
    # Weaker priors let the data pull the peak back and lower the residual.
    assert moved[0] > moved[1] > moved[2]
    assert residual[0] > residual[1] > residual[2]
    assert moved[2] < 0.5 * abs(t2_centre(prior) - t2_centre(truth))
