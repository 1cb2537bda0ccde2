"""The thread policy around a classical estimator's whole `invert` call."""

from __future__ import annotations

from typing import Any

from laplace_inv.batching import thread_limit


class WholeCallThreadLimit:
    """Mixin: `invert` runs its noise estimate, residual and fit check under the policy too.

    The base class limits threads around the solve only; the forward model, noise estimate
    and fit check after it are small matrix products that a second BLAS thread slows down
    several-fold on a loaded machine, so the same limit covers them.
    """

    def invert(self, S: Any, noise_std: float | None = None, *, check_fit: bool = True) -> Any:
        """Invert one dataset, as `laplace_inv.base.BaseInverter.invert`.

        Parameters
        ----------
        S : array_like, shape (n1, n2)
            Real decay data.
        noise_std : float, optional
            Known noise level in data units.
        check_fit : bool
            Run the fit check.

        Returns
        -------
        InversionResult
            The result.

        Examples
        --------
        >>> from laplace_inv import TikhonovInverter
        >>> from laplace_inv.simulate import cement_like
        >>> sc = cement_like(snr=200)
        >>> TikhonovInverter(sc.kernel, penalty="global").invert(sc.data).map.shape
        (64, 64)
        """
        with thread_limit(self, None):
            return super().invert(S, noise_std, check_fit=check_fit)  # type: ignore[misc]
