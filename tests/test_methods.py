"""Building a method by name: defaults, overrides and clear errors."""

from __future__ import annotations

import pytest

from laplace_inv.methods import METHODS, make_inverter
from laplace_inv.simulate import cement_kernel


def test_every_classical_name_builds_its_estimator() -> None:
    kernel = cement_kernel()
    built = {
        name: type(make_inverter(name, kernel)).__name__ for name in ("upen", "tikhonov", "l1")
    }
    assert built == {"upen": "TikhonovInverter", "tikhonov": "TikhonovInverter", "l1": "L1Inverter"}
    assert set(METHODS) == {"upen", "tikhonov", "l1", "dlemlr"}


def test_overrides_replace_defaults_and_keep_the_rest() -> None:
    default = make_inverter("tikhonov", cement_kernel())
    custom = make_inverter("tikhonov", cement_kernel(), alpha="gcv")
    assert custom.alpha == "gcv" and default.alpha != "gcv"
    assert custom.penalty == default.penalty == "global"


def test_unknown_name_and_unknown_parameter_are_named() -> None:
    with pytest.raises(ValueError, match="unknown method 'tikhonv'"):
        make_inverter("tikhonv", cement_kernel())
    with pytest.raises(ValueError, match=r"no parameter\(s\) \['alhpa'\]"):
        make_inverter("tikhonov", cement_kernel(), alhpa=1.0)
