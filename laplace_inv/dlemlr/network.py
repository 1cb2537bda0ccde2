"""The DLEMLR vision transformer: Tokenizer → TransformerEncoder → Projector.

The three parts follow the paper at a CPU-friendly size: the input is the
stack of output-grid feature channels of `laplace_inv.dlemlr.features` (not a resampled
decay), cut into ``patch × patch`` patches, one token each (64 tokens for a 64 × 64 grid and
patch 8). The patch embedding is a strided convolution (no patch copy); the kernel channels
(Gram images) have their own embedding, computed once per acquisition and shared by every
sample of a batch at inference; the per-sample scalars (noise level, kernel scale) add one
learned vector to every token. The default size (dim 64, depth 4, 2 heads, MLP ×4, 0.24 M
parameters) is set by CPU throughput: about 0.4 ms per map in 64-map batches on two cores,
where the 128-wide, 0.6 M-parameter predecessor took 1.7 ms. Instead of mean-pooling the tokens
into one giant linear layer (80 M parameters in the paper), the projector maps every token back
to its own patch, so the parameter count does not grow with the grid. There it mixes the
non-negative Tikhonov input channels pixel by pixel (sharp where peaks are close, smooth
where they are broad) and adds a correction; ``abs`` keeps the map non-negative, as in the
paper.
"""

from __future__ import annotations

import torch
from torch import nn

from laplace_inv.dlemlr.features import (
    N_DATA_CHANNELS,
    N_KERNEL_CHANNELS,
    N_SCALARS,
)

#: Internal map units: maps (mass per bin, sum ≈ 1 after normalisation) are multiplied by this
#: inside the network so that activations are O(1).
MAP_SCALE = 100.0


def sincos_2d(h: int, w: int, dim: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Fixed 2D sine-cosine positional encoding, shape ``(h*w, dim)``.

    Half of the channels encode the row, half the column, each with ``dim/4`` frequencies.

    Examples
    --------
    >>> sincos_2d(8, 8, 128).shape
    torch.Size([64, 128])
    """
    if dim % 4:
        raise ValueError(f"dim must be divisible by 4 for the 2D sin-cos encoding, got {dim}")
    q = dim // 4
    f32 = torch.float32
    omega = 1.0 / (10000.0 ** (torch.arange(q, dtype=f32, device=device) / q))
    rows = torch.arange(h, dtype=f32, device=device)
    yy, xx = torch.meshgrid(rows, torch.arange(w, dtype=f32, device=device), indexing="ij")
    y = yy.reshape(-1, 1) * omega[None]
    x = xx.reshape(-1, 1) * omega[None]
    return torch.cat([y.sin(), y.cos(), x.sin(), x.cos()], dim=1)


class Tokenizer(nn.Module):
    """Patch embedding (a strided convolution) → LayerNorm, plus a fixed 2D sin-cos encoding.

    The per-sample data channels and the kernel-description channels are embedded by two
    convolutions whose outputs add up (together, one linear map of each patch). The kernel
    channels (the Gram images) may carry a batch dimension of 1, in which case their embedding
    is computed once and shared by the whole batch — the common case at inference, where one
    acquisition serves every sample. Per-sample scalars, when given, add a linear embedding to
    every token.

    Parameters
    ----------
    in_channels : int
        Number of per-sample data channels.
    grid : tuple of int
        ``(N1, N2)``, both divisible by ``patch``.
    patch : int
        Patch side.
    dim : int
        Token dimension.
    kernel_channels : int
        Number of kernel-description channels (0: none).
    n_scalars : int
        Number of per-sample scalars (0: none).

    Examples
    --------
    >>> tok = Tokenizer(4, (64, 64), 8, 128)
    >>> tok(torch.zeros(2, 4, 64, 64)).shape
    torch.Size([2, 64, 128])
    >>> tok = Tokenizer(4, (64, 64), 8, 128, kernel_channels=2)
    >>> tok(torch.zeros(2, 4, 64, 64), torch.zeros(1, 2, 64, 64)).shape
    torch.Size([2, 64, 128])
    """

    def __init__(
        self,
        in_channels: int,
        grid: tuple[int, int],
        patch: int,
        dim: int,
        kernel_channels: int = 0,
        n_scalars: int = 0,
    ) -> None:
        super().__init__()
        N1, N2 = grid
        if N1 % patch or N2 % patch:
            raise ValueError(f"grid {grid} is not divisible by the patch size {patch}")
        self.patch = patch
        self.hw = (N1 // patch, N2 // patch)
        self.embed = nn.Conv2d(in_channels, dim, patch, stride=patch)
        self.embed_kernel = (
            nn.Conv2d(kernel_channels, dim, patch, stride=patch, bias=False)
            if kernel_channels
            else None
        )
        self.embed_scalars = nn.Linear(n_scalars, dim, bias=False) if n_scalars else None
        self.norm_out = nn.LayerNorm(dim)
        self.register_buffer("pos", sincos_2d(*self.hw, dim), persistent=False)

    def forward(
        self,
        x: torch.Tensor,
        kernel_x: torch.Tensor | None = None,
        scalars: torch.Tensor | None = None,
    ) -> torch.Tensor:
        z = self.embed(x)
        if self.embed_kernel is not None:
            if kernel_x is None:
                raise ValueError("this tokenizer needs the kernel channels")
            z = z + self.embed_kernel(kernel_x)
        tokens = z.flatten(2).transpose(1, 2)  # (n, h*w, dim)
        if self.embed_scalars is not None:
            if scalars is None:
                raise ValueError("this tokenizer needs the per-sample scalars")
            tokens = tokens + self.embed_scalars(scalars.to(tokens.dtype))[:, None, :]
        return self.norm_out(tokens) + self.pos


class EncoderBlock(nn.Module):
    """One pre-norm transformer block: ``x + MHA(LN(x))`` then ``x + MLP(LN(x))``."""

    def __init__(self, dim: int, heads: int, mlp_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, mlp_dim),
            nn.GELU(approximate="tanh"),
            nn.Dropout(dropout),
            nn.Linear(mlp_dim, dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))


class TransformerEncoder(nn.Module):
    """A stack of pre-norm multi-head-attention + MLP blocks with a final LayerNorm.

    Examples
    --------
    >>> enc = TransformerEncoder(64, depth=2, heads=4, mlp_dim=128)
    >>> enc(torch.zeros(3, 16, 64)).shape
    torch.Size([3, 16, 64])
    """

    def __init__(
        self, dim: int, depth: int, heads: int, mlp_dim: int, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            [EncoderBlock(dim, heads, mlp_dim, dropout) for _ in range(depth)]
        )
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.norm(x)


class Projector(nn.Module):
    """Tokens → the full ``N1 × N2`` map: LayerNorm → Linear per token, folded into patches.

    For every pixel of its patch a token yields a correction ``Δ`` and, with ``n_candidates``
    candidate maps (the physics channels), one mixing logit per candidate. The output is
    ``|Σ_c softmax(logits)_c · candidate_c + Δ|``: a per-pixel choice among the candidates
    plus a correction, non-negative with ``abs`` as in the paper; without candidates it is
    ``|Δ|``. The linear layer starts at zero: an untrained projector returns the candidates'
    mean.

    Examples
    --------
    >>> proj = Projector(128, (64, 64), 8)
    >>> m = proj(torch.randn(2, 64, 128))
    >>> m.shape, bool((m >= 0).all())
    (torch.Size([2, 64, 64]), True)
    >>> proj = Projector(32, (16, 16), 4, n_candidates=3)
    >>> cand = torch.rand(2, 3, 16, 16)
    >>> bool(torch.allclose(proj(torch.randn(2, 16, 32), cand), cand.mean(dim=1)))
    True
    """

    def __init__(self, dim: int, grid: tuple[int, int], patch: int, n_candidates: int = 0) -> None:
        super().__init__()
        self.grid = tuple(grid)
        self.patch = patch
        self.n_candidates = int(n_candidates)
        self.hw = (grid[0] // patch, grid[1] // patch)
        self.norm = nn.LayerNorm(dim)
        self.linear = nn.Linear(dim, patch * patch * (1 + self.n_candidates))
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, tokens: torch.Tensor, candidates: torch.Tensor | None = None) -> torch.Tensor:
        n = tokens.shape[0]
        h, w = self.hw
        p = self.patch
        k = 1 + self.n_candidates
        out = self.linear(self.norm(tokens))  # (n, h*w, p*p*k)
        out = out.reshape(n, h, w, k, p, p).permute(0, 3, 1, 4, 2, 5).reshape(n, k, *self.grid)
        delta = out[:, 0]
        if self.n_candidates == 0:
            return torch.abs(delta)
        if candidates is None or candidates.shape[1] != self.n_candidates:
            raise ValueError(f"this projector mixes {self.n_candidates} candidate maps")
        weights = torch.softmax(out[:, 1:], dim=1)
        return torch.abs((weights * candidates).sum(dim=1) + delta)


class DLEMLRNet(nn.Module):
    """Tokenizer + TransformerEncoder + Projector on the feature channels.

    ``forward`` takes the input of `compute_inputs` (or an
    item batch of `FeatureSet`) as keyword arguments
    (extra keys such as the physics-loss operands are ignored) and returns maps in
    normalised units (mass per bin, the scale of the normalised data), shape ``(n, N1, N2)``.

    Parameters
    ----------
    grid : tuple of int
        Output grid ``(N1, N2)``.
    patch : int
        Patch side.
    dim : int
        Token dimension.
    depth : int
        Transformer blocks.
    heads : int
        Attention heads.
    mlp_ratio : int
        MLP width relative to ``dim``.
    dropout : float
        Dropout in attention and MLP.

    Examples
    --------
    >>> net = DLEMLRNet((16, 16), patch=4, dim=32, depth=1, heads=2)
    >>> z = torch.rand(2, 16, 16)
    >>> net(nnt=torch.rand(2, 3, 16, 16), bp=z, scalars=torch.zeros(2, 2), gram1=z,
    ...     gram2=z).shape
    torch.Size([2, 16, 16])
    """

    def __init__(
        self,
        grid: tuple[int, int] = (64, 64),
        patch: int = 8,
        dim: int = 64,
        depth: int = 4,
        heads: int = 4,
        mlp_ratio: int = 4,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.grid: tuple[int, int] = (int(grid[0]), int(grid[1]))
        self.tokenizer = Tokenizer(
            N_DATA_CHANNELS,
            self.grid,
            patch,
            dim,
            kernel_channels=N_KERNEL_CHANNELS,
            n_scalars=N_SCALARS,
        )
        self.encoder = TransformerEncoder(dim, depth, heads, mlp_ratio * dim, dropout)
        self.projector = Projector(dim, self.grid, patch, n_candidates=N_DATA_CHANNELS - 1)

    def forward(
        self,
        nnt: torch.Tensor,
        bp: torch.Tensor,
        scalars: torch.Tensor,
        gram1: torch.Tensor,
        gram2: torch.Tensor,
        **_: torch.Tensor,
    ) -> torch.Tensor:
        nnt = nnt * MAP_SCALE
        # The maps enter the tokens on a log-compressed scale (their dynamic range is large);
        # the projector mixes them exactly.
        x = torch.cat([torch.log1p(nnt), bp[:, None]], dim=1)
        # Gram images: one per sample (mixed layouts in training) or one shared (inference).
        g = torch.stack([gram1.reshape(-1, *self.grid), gram2.reshape(-1, *self.grid)], dim=1)
        tokens = self.encoder(self.tokenizer(x, g.to(x.dtype), scalars))
        return self.projector(tokens, nnt) / MAP_SCALE


def n_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
