"""Hypothesis profiles for the suite.

``repro`` (the default) runs hundreds of examples per property; ``slow`` runs
thousands (``HYPOTHESIS_PROFILE=slow pytest tests -m slow`` or any selection).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "repro", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "slow", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repro"))
