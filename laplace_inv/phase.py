"""Phase correction of complex NMR decays and the noise level of the phased data.

`phase_correct` applies one zero-order phase to the whole array. `phase_rows` gives each row
of a 2D acquisition its own phase (the phase of a PFG or inversion-recovery series drifts
from row to row), keeps the phases continuous from row to row so that a row's physical sign
survives, and reports rows that stay negative. `noise_from_phased` estimates the noise from a
region that carries no signal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from laplace_inv.robust_statistics import robust_std

__all__ = ["PhaseResult", "noise_from_phased", "phase_correct", "phase_rows"]

LONG_SERIES = 64
"""Points from which a series counts as an echo train for `noise_from_phased`."""


def _as_complex(S: Any) -> np.ndarray:
    z = np.asarray(S)
    if z.size == 0:
        raise ValueError("S is empty")
    if not np.iscomplexobj(z):
        if not np.issubdtype(z.dtype, np.number):
            raise TypeError(f"S must be numeric, got dtype {z.dtype}")
        z = z.astype(np.complex128)
    if not np.all(np.isfinite(z)):
        raise ValueError("S contains NaN or infinite values")
    return z


def noise_from_phased(real: Any, imag: Any) -> tuple[float | None, str]:
    """Noise standard deviation from the parts of phased data that carry no signal.

    Long echo trains (at least `LONG_SERIES` points): the imaginary channel of the late half
    holds noise only once the data are phased; early echoes can still carry signal there
    (echo-to-echo oscillations). Short series (a recovery curve of a few tens of delays): the
    imaginary channel often keeps a slow trend (a residual phase that changes with the
    delay, a baseline), so its second differences are used, ``σ = std(Δ²y)/√6``, which
    cancel any slowly varying part. When the imaginary channel is zero (below 1e-9 of the
    largest real value: data phased before export), the late real tail's second differences
    are used instead. All use the median absolute deviation, so a few spikes do not inflate
    the estimate.

    Parameters
    ----------
    real : array_like
        Phased real channel, the last axis running along the echoes (or delays).
    imag : array_like
        Phased imaginary channel, same shape.

    Returns
    -------
    noise_std : float or None
        ``None`` when neither region varies at all (noise-free or constant data).
    source : str
        ``"late imaginary"``, ``"imaginary second differences"``,
        ``"late real second differences"`` or ``"none"``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> decay = 100 * np.exp(-np.arange(2000) / 300)
    >>> sigma, where = noise_from_phased(decay + rng.normal(0, 2, 2000), rng.normal(0, 2, 2000))
    >>> bool(abs(sigma - 2) < 0.2), where
    (True, 'late imaginary')
    >>> sigma, where = noise_from_phased(decay + rng.normal(0, 2, 2000), np.zeros(2000))
    >>> bool(abs(sigma - 2) < 0.2), where
    (True, 'late real second differences')
    """
    re_part = np.atleast_2d(np.asarray(real, dtype=np.float64))
    im_part = np.atleast_2d(np.asarray(imag, dtype=np.float64))
    n = re_part.shape[-1]
    scale = float(np.max(np.abs(re_part))) if re_part.size else 0.0
    if n >= LONG_SERIES:
        sigma, source = robust_std(im_part[..., n // 2 :]), "late imaginary"
    elif n >= 4:
        sigma = robust_std(np.diff(im_part, n=2, axis=-1)) / np.sqrt(6.0)
        source = "imaginary second differences"
    else:
        sigma, source = robust_std(im_part), "imaginary"
    if sigma > 1e-9 * scale:  # below that, rounding of a rotation of real data
        return sigma, source
    tail = re_part[..., (3 * n) // 4 :] if n >= 16 else re_part
    if tail.shape[-1] >= 4:
        sigma = robust_std(np.diff(tail, n=2, axis=-1)) / np.sqrt(6.0)
        if sigma > 0:
            return sigma, "late real second differences"
    return None, "none"


def phase_correct(S: Any) -> tuple[np.ndarray, float, float]:
    """Rotate complex data so that the signal lies in the real channel (one global phase).

    The zero-order phase φ maximises the energy of the real channel,
    ``φ = ½·arg Σ z²``, with the sign chosen so that the largest-magnitude point is
    positive. The noise comes from `noise_from_phased` (0.0 when the data do not vary).

    Parameters
    ----------
    S : array_like of complex
        Complex decay data of any shape.

    Returns
    -------
    real : numpy.ndarray
        The phased real channel.
    phase : float
        The applied phase in radians (``real = Re(S·exp(-i·phase))``).
    noise_std : float
        Noise standard deviation of the phased data.

    Examples
    --------
    >>> z = np.exp(-np.arange(5.0)) * np.exp(1j * 0.7)
    >>> real, phase, noise = phase_correct(z)
    >>> round(phase, 6), bool(np.allclose(real, np.exp(-np.arange(5.0))))
    (0.7, True)
    """
    z = _as_complex(S)
    phase = 0.5 * float(np.angle(np.sum(z * z)))
    rotated = z * np.exp(-1j * phase)
    peak = rotated.real.flat[int(np.argmax(np.abs(rotated.real)))]
    if peak < 0:
        phase = phase + np.pi if phase <= 0 else phase - np.pi
        rotated = -rotated
    noise, _ = noise_from_phased(rotated.real, rotated.imag)
    return rotated.real.copy(), float(phase), float(noise or 0.0)


@dataclass
class PhaseResult:
    """What `phase_rows` did.

    Attributes
    ----------
    real : numpy.ndarray
        The phased real channel, the shape of the input.
    phases : numpy.ndarray
        The phase applied to each row (radians, ``real = Re(z·exp(-i·phase))``).
    phase : float
        The phase of the reference row (the strongest one).
    noise_std : float or None
        From `noise_from_phased`; ``None`` when the data do not vary.
    noise_source : str
        Where the noise estimate came from.
    negative_rows : list of int
        Rows (0-based) whose signal stays clearly negative after phasing although the
        physics says they should be positive.
    reliable : numpy.ndarray
        Whether each row had enough signal for its own phase (others take the nearest
        reliable row's phase).
    """

    real: np.ndarray
    phases: np.ndarray
    phase: float
    noise_std: float | None
    noise_source: str
    negative_rows: list[int] = field(default_factory=list)
    reliable: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def report(self) -> dict[str, Any]:
        """The phases and noise as plain JSON-able values, for an acquisition's metadata."""
        return {
            "phase": self.phase,
            "row_phases": [round(float(p), 6) for p in self.phases],
            "phase_reliable_rows": [bool(r) for r in self.reliable],
            "negative_rows": list(self.negative_rows),
            "noise_source": self.noise_source,
        }


def _continuous(phases: np.ndarray, reliable: np.ndarray, ref: int) -> np.ndarray:
    """Shift row phases by π where needed so they vary continuously from the reference row."""
    out = phases.copy()
    n = out.size
    for order in (range(ref + 1, n), range(ref - 1, -1, -1)):
        previous = out[ref]
        for i in order:
            if not reliable[i]:
                out[i] = previous
                continue
            diff = np.angle(np.exp(1j * (out[i] - previous)))
            if abs(diff) > np.pi / 2:
                out[i] = out[i] + np.pi
            out[i] = previous + np.angle(np.exp(1j * (out[i] - previous)))
            previous = out[i]
    return out


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    if width <= 1:
        return x
    return np.convolve(x, np.ones(width) / width, mode="same")


def _difference_noise(z: np.ndarray) -> float:
    """Noise of complex data from point-to-point differences of the late half (real part)."""
    late = z[:, z.shape[1] // 2 :].real
    if late.shape[1] < 3:
        late = z.real
    if late.shape[1] < 2:
        return 0.0
    return robust_std(np.diff(late, axis=1)) / np.sqrt(2.0)


def _row_phases(z: np.ndarray, sign_at: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Raw row phases (mod π), their signal-to-noise ratios and the reference row."""
    n_rows, n_cols = z.shape
    head = max(1, n_cols // 10)
    ref = int(np.argmax(np.sum(np.abs(z[:, :head]) ** 2, axis=1)))
    if n_rows == 1 and sign_at == "end":
        return np.array([0.5 * float(np.angle(np.sum(z * z)))]), np.array([np.inf]), 0
    mag = _smooth(np.abs(z[ref]), max(1, n_cols // 200))
    floor = float(np.median(mag[-max(1, n_cols // 4) :])) if n_cols >= 8 else 0.0
    w = np.clip(mag - floor, 0.0, None)
    if not np.any(w > 0):
        w = mag
    amplitude = z @ w
    sigma = _difference_noise(z)
    norm = sigma * float(np.sqrt(np.sum(w**2)))
    with np.errstate(divide="ignore", invalid="ignore"):
        snr = np.abs(amplitude) / norm if norm > 0 else np.full(n_rows, np.inf)
    return np.angle(amplitude), np.nan_to_num(snr, nan=0.0), ref


def _row_sign_scores(real: np.ndarray, sigma: float | None) -> np.ndarray:
    """Mean of each row's first tenth of points in units of its standard error."""
    head = real[:, : max(1, real.shape[1] // 10)]
    scale = (sigma or 1.0) / np.sqrt(head.shape[1])
    return head.mean(axis=1) / scale


def phase_rows(
    S: Any,
    *,
    sign_row: int = 0,
    sign_at: str = "start",
    rows_positive: bool = True,
    min_snr: float = 5.0,
) -> PhaseResult:
    """Phase each row of a complex 2D acquisition (rows: indirect axis, columns: echoes).

    Each row gets the zero-order phase of its matched-filter sum ``A_i = Σ_j w_j z_ij``,
    with ``w`` the smoothed magnitude of the strongest row (its decay shape, noise floor
    removed): unlike ``Σ z²`` this is not upset by echo-to-echo oscillations of the
    imaginary channel, and its noise grows only linearly. The phase is used modulo π.
    (A single recovery curve, which changes sign, uses ``½·arg Σ z²`` instead.) Rows are
    then made continuous: starting
    from the strongest row, each row's phase is shifted by π when that brings it closer to
    its neighbour's, so that a row whose signal is really negative (an inversion-recovery row
    before the zero crossing, or an artefact) stays negative instead of being flipped. Rows
    whose ``|A_i|`` is below ``min_snr`` times its noise (noise only) take the nearest
    reliable row's phase. Finally the whole array is turned by π if needed so that
    row ``sign_row`` starts positive (0 for T2 or D rows, -1 for inversion or saturation
    recovery, whose last row is at equilibrium).

    Parameters
    ----------
    S : array_like of complex
        Shape ``(n_rows, n_echoes)``; a 1D array is one row.
    sign_row : int
        Row whose start (or end) must be positive after phasing.
    sign_at : str
        ``"start"`` (a decay: its first tenth must be positive) or ``"end"`` (a 1D recovery
        curve: its last tenth, at equilibrium, must be positive).
    rows_positive : bool
        Whether every row should be positive (true except for inversion recovery); rows that
        stay negative by more than 5 standard errors are then listed in ``negative_rows``.
    min_snr : float
        A row whose matched-filter amplitude is below ``min_snr`` noise standard deviations
        takes the nearest reliable row's phase.

    Returns
    -------
    PhaseResult

    Examples
    --------
    >>> t = np.arange(1, 201) * 1e-3
    >>> rows = np.exp(-np.outer([0.0, 1.0, 2.0], [1.0] * 200)) * np.exp(-t / 0.05)
    >>> z = rows * np.exp(1j * np.array([0.3, 0.5, 0.7]))[:, None]
    >>> res = phase_rows(z)
    >>> [round(float(p), 3) for p in res.phases], bool(np.allclose(res.real, rows))
    ([0.3, 0.5, 0.7], True)
    """
    z = _as_complex(S)
    one_d = z.ndim == 1
    z2 = np.atleast_2d(z)
    if z2.ndim != 2:
        raise ValueError(f"S must be 1D or 2D, got shape {z.shape}")
    n_rows, n_cols = z2.shape
    raw, snr, ref = _row_phases(z2, sign_at)
    reliable = snr > min_snr
    reliable[ref] = True
    phases = _continuous(raw, reliable, ref)
    rotated = z2 * np.exp(-1j * phases)[:, None]
    if sign_at not in ("start", "end"):
        raise ValueError(f"sign_at must be 'start' or 'end', got {sign_at!r}")
    tenth = max(1, n_cols // 10)
    row = rotated.real[sign_row]
    head = row[:tenth] if sign_at == "start" else row[-tenth:]
    if head.sum() < 0:
        phases = phases + np.pi
        rotated = -rotated
    phases = np.angle(np.exp(1j * phases))
    noise, source = noise_from_phased(rotated.real, rotated.imag)
    negative: list[int] = []
    if rows_positive and n_rows > 1:
        scores = _row_sign_scores(rotated.real, noise)
        negative = [int(i) for i in np.flatnonzero((scores < -5.0) & reliable)]
    real = rotated.real[0].copy() if one_d else rotated.real.copy()
    return PhaseResult(
        real=real,
        phases=phases,
        phase=float(phases[ref]),
        noise_std=noise,
        noise_source=source,
        negative_rows=negative,
        reliable=reliable,
    )
