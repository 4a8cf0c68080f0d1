"""Fixtures of the phantom tests."""

from __future__ import annotations

import pytest

from echo_cxr.phantom import PhantomConfig

ROUND_TRIP_STUDIES = 2000


@pytest.fixture(scope="session")
def plain_config() -> PhantomConfig:
    """512 px frontal views without nuisance: canonical geometry, no noise."""
    return PhantomConfig(nuisance=0.0, lateral_prob=0.0)
