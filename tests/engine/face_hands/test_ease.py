"""Hold between observations, ease to rest when lost."""

from __future__ import annotations

import numpy as np
import pytest

from engine.face_hands.ease import EaseToRest


def test_observed_held_then_eased() -> None:
    ease = EaseToRest(np.zeros(2), tau_ms=100.0)
    assert ease.update(0, np.array([1.0, 0.5]), True).tolist() == [1.0, 0.5] and ease.found
    assert ease.update(50, None, False).tolist() == [1.0, 0.5]  # scheduled off: held
    value = ease.update(150, None, True)  # looked, not found: eases
    assert not ease.found and value[0] == pytest.approx(np.exp(-1.0))
    value = ease.update(250, None, False)  # still lost, not looked at: keeps easing
    assert value[0] == pytest.approx(np.exp(-2.0))
    for t in range(300, 2000, 33):
        value = ease.update(t, None, False)
    assert np.abs(value).max() < 1e-5  # at rest, not frozen mid-blink


def test_bad_time_constant() -> None:
    with pytest.raises(ValueError, match="tau_ms"):
        EaseToRest(np.zeros(1), tau_ms=0)


def test_following_turns_sparse_observations_into_a_smooth_curve() -> None:
    """With ``follow_ms`` the value eases toward each observation, also over the frames between
    observations; without it, it jumps. A loss still eases to rest."""
    import math

    jump, follow = EaseToRest(np.zeros(1)), EaseToRest(np.zeros(1), follow_ms=60.0)
    for ease in (jump, follow):
        ease.update(0.0, np.zeros(1), True)
    assert jump.update(33.0, np.ones(1), True)[0] == 1.0
    assert follow.update(33.0, np.ones(1), True)[0] == pytest.approx(1.0 - math.exp(-33.0 / 60.0))
    held = [follow.update(33.0 + 33.0 * k, None, False)[0] for k in range(1, 4)]  # scheduled off: keeps following
    assert held == sorted(held) and held[-1] == pytest.approx(1.0 - math.exp(-132.0 / 60.0))
    lost = follow.update(200.0, None, True)[0]  # looked, not found: toward rest
    assert lost < held[-1]
