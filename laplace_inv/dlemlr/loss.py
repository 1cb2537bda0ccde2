"""The DLEMLR dual loss: data-driven map error plus physics-driven data misfit.

    L = w_data · mean_b ‖f_b − F_b‖² / ‖F_b‖²  +  w_phys · mean_b ‖K̃1 f_b K̃2ᵀ − S̃_b‖² / ‖S̃_b‖²

(``relative=True``, the default). Both terms are relative squared errors per sample, so they
are O(1), independent of the map normalisation and of the layout, and comparable with each
other. The earlier absolute form (``relative=False``: mean squared errors as in the paper's
code, the map term averaged over the ``N1·N2`` bins and the physics term over the ``n1·n2``
data points, times ``LOSS_SCALE``) depends on the map normalisation: with maps of unit mass
(bin values ~1e-3) the weighted map term was about a tenth of the physics term at the
physics input channel (0.4·48 vs 206 on 256 training pairs), and the physics term does not
distinguish a sharp map from a blurred one with the same in-range data, so the shipped
network learned no correction (its map error equalled the physics channel's).

The physics term is computed on the compressed problem (``K̃i`` and ``S̃`` zero-padded,
`laplace_inv.dlemlr.features`): ``‖K̃1 f K̃2ᵀ − S̃‖ = ‖U1U1ᵀ(K1 f K2ᵀ − S)U2U2ᵀ‖``, the
part of the full residual that any map can change; the rest is a constant (noise outside the
kernels' range). Maps and data are the per-sample normalised ones (``max|S| = 1``).

During training ``S̃`` is the compressed *noise-free* decay by default (as the paper does;
``physics_target="noisy"`` in the estimator uses the noisy data instead). At test time
(``refine=True``) only the measured, noisy data exist.

An optional third term, `region_mass_error` (weight ``w_mass``, 0 by default and in the
paper), compares the mass of each true peak's region: the pixel loss barely notices mass moved
between two neighbouring peaks, which is what the mass-fraction figure measures.

The paper's weights are ``w_data = 0.4`` and ``w_phys = 1.0`` (the defaults). A global
``scale`` (default 1, or ``LOSS_SCALE = 1e6`` with ``relative=False``) multiplies both terms;
it does not change the minimiser.
"""

from __future__ import annotations

import torch

#: Global factor on the loss (both terms); keeps values O(1) with maps of unit mass.
LOSS_SCALE = 1e6


def physics_residual(
    f: torch.Tensor, K1: torch.Tensor, K2: torch.Tensor, S: torch.Tensor
) -> torch.Tensor:
    """``K̃1 f K̃2ᵀ − S̃`` for a batch (kernels shared or per sample)."""
    return K1 @ f @ K2.transpose(-1, -2) - S


def dual_loss(
    f: torch.Tensor,
    F: torch.Tensor,
    K1: torch.Tensor,
    K2: torch.Tensor,
    S: torch.Tensor,
    npts: torch.Tensor | float,
    w_data: float = 0.4,
    w_phys: float = 1.0,
    scale: float | None = None,
    return_terms: bool = False,
    relative: bool = True,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The dual loss (module docstring).

    Parameters
    ----------
    f : torch.Tensor, shape (n, N1, N2)
        Predicted maps.
    F : torch.Tensor, shape (n, N1, N2) or (n, N1*N2)
        True maps.
    K1 : torch.Tensor
        Compressed (padded) kernel of axis 1, ``(r1, N1)`` or per sample.
    K2 : torch.Tensor
        Compressed (padded) kernel of axis 2, ``(r2, N2)`` or per sample.
    S : torch.Tensor, shape (n, r1, r2)
        Compressed (padded) target data.
    npts : torch.Tensor or float
        Number of data points ``n1·n2`` of each sample (``(n,)``) or of all.
    w_data : float
        Weight of the map (data-driven) term.
    w_phys : float
        Weight of the physics term.
    scale : float, optional
        Global factor (default 1 with ``relative``, else `LOSS_SCALE`).
    return_terms : bool
        Also return the two unweighted, scaled terms.
    relative : bool
        Relative squared errors per sample (default) or the absolute mean squared errors.

    Examples
    --------
    >>> f = torch.ones(1, 2, 2); F = torch.zeros(1, 2, 2)
    >>> K = torch.eye(2); S = torch.zeros(1, 2, 2)
    >>> round(float(dual_loss(f, F, K, K, S, npts=4.0, scale=1.0, relative=False)), 4)
    1.4
    >>> F = torch.full((1, 2, 2), 0.5); S = K @ F @ K.T
    >>> round(float(dual_loss(f, F, K, K, S, npts=4.0)), 4)  # 0.4 * 1 + 1.0 * 1
    1.4
    """
    F = F.reshape(f.shape)
    res = physics_residual(f, K1, K2, S)
    if relative:
        scale = 1.0 if scale is None else scale
        tiny = torch.finfo(f.dtype).tiny
        data = ((f - F) ** 2).flatten(1).sum(dim=1) / (F**2).flatten(1).sum(dim=1).clamp_min(tiny)
        phys = (res**2).flatten(1).sum(dim=1) / (S**2).flatten(1).sum(dim=1).clamp_min(tiny)
    else:
        scale = LOSS_SCALE if scale is None else scale
        data = ((f - F) ** 2).flatten(1).mean(dim=1)
        npts_t = torch.as_tensor(npts, dtype=f.dtype, device=f.device)
        phys = (res**2).flatten(1).sum(dim=1) / npts_t
    data_term = scale * data.mean()
    phys_term = scale * phys.mean()
    total = w_data * data_term + w_phys * phys_term
    if return_terms:
        return total, data_term, phys_term
    return total


def region_mass_error(f: torch.Tensor, F: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per sample ``Σ_j (Σ_{x∈R_j} f − Σ_{x∈R_j} F)² / (Σ F)²`` over the peak regions ``R_j``.

    Parameters
    ----------
    f : torch.Tensor
        Predicted maps ``(n, N1, N2)``.
    F : torch.Tensor
        True maps (that shape or flattened).
    labels : torch.Tensor, shape (n, N1*N2) or (n, N1, N2)
        Region index of every bin (integers stored in any dtype): the true peak with the
        largest weighted density there (``make_training_set(..., return_labels=True)``).

    Returns
    -------
    torch.Tensor, shape (n,)

    Examples
    --------
    >>> F = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    >>> f = torch.tensor([[[0.5, 0.5], [0.0, 1.0]]])  # half of peak 0 moved into region 1
    >>> labels = torch.tensor([[0, 1, 1, 1]])
    >>> float(region_mass_error(f, F, labels))  # (0.5² + 0.5²) / 2²
    0.125
    """
    n = f.shape[0]
    diff = (f - F.reshape(f.shape)).reshape(n, -1)
    lab = labels.reshape(n, -1).long()
    masses = torch.zeros(n, int(lab.max()) + 1, dtype=diff.dtype, device=diff.device)
    masses.scatter_add_(1, lab, diff)
    total = F.reshape(n, -1).sum(dim=1).clamp_min(torch.finfo(f.dtype).tiny)
    return (masses**2).sum(dim=1) / total**2
