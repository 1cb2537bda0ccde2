"""Hypothesis profiles shared by the property, invariant and fuzz tests.

``default`` keeps the default suite within its time budget (few examples, no deadline: the
machine running the suite may be loaded). ``thorough`` runs many more examples; select it with
``HYPOTHESIS_PROFILE=thorough python -m pytest tests/test_properties.py ...``. Tests marked
``slow`` (deselected by default, run with ``-m slow``) also run every entry point with
:data:`THOROUGH_EXAMPLES` examples whatever the profile.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

DEFAULT_EXAMPLES = 20
"""Examples per property in the default suite."""

THOROUGH_EXAMPLES = 300
"""Examples per property under the ``thorough`` profile and in ``slow`` tests."""

_COMMON = dict(
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
    print_blob=True,
)

settings.register_profile("default", max_examples=DEFAULT_EXAMPLES, **_COMMON)
settings.register_profile("thorough", max_examples=THOROUGH_EXAMPLES, **_COMMON)
settings.register_profile("ci", max_examples=DEFAULT_EXAMPLES, derandomize=True, **_COMMON)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "default")
if PROFILE not in ("default", "thorough", "ci"):
    PROFILE = "default"
settings.load_profile(PROFILE)


def n_examples(scale: float = 1.0) -> int:
    """Examples for one property under the active profile, scaled (at least 3).

    Expensive entry points (inverters) use ``scale < 1`` so that the default suite stays fast.
    """
    return max(3, round(settings.default.max_examples * scale))
