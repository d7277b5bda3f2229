"""Test-wide settings: offscreen Qt, where the shared data lives, a fast hypothesis profile."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Calibrations and edited retarget maps go to a throw-away folder, never the user's config.
os.environ["ANYRIG_CONFIG"] = tempfile.mkdtemp(prefix="anyrig-test-config-")

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "anyrig", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "anyrig"))

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """The ``shared/`` folder beside the checkout (``ANYRIG_SHARED`` overrides)."""
    env = os.environ.get("ANYRIG_SHARED")
    return Path(env) if env else REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests that need it skip cleanly when it is absent."""
    path = shared_dir() / "data"
    if not path.is_dir():
        pytest.skip(f"shared data folder not found at {path}")
    return path


@pytest.fixture(scope="session")
def shared_models() -> Path:
    path = shared_dir() / "models"
    if not path.is_dir():
        pytest.skip(f"shared models folder not found at {path}")
    return path


@pytest.fixture(scope="session")
def shared_video() -> Path:
    path = shared_dir() / "video"
    if not path.is_dir():
        pytest.skip(f"shared video folder not found at {path}")
    return path
