from __future__ import annotations

import numpy as np
import torch

from engine import rotations as rot
from engine.model.sixd import geodesic_angle, matrix_to_sixd, sixd_to_matrix


def test_torch_sixd_matches_numpy_convention() -> None:
    rng = np.random.default_rng(0)
    q = rot.quat_normalize(rng.normal(size=(50, 4)))
    d6 = rot.quat_to_sixd(q) + rng.normal(0, 0.05, (50, 6))  # not exactly orthonormal
    m_np = rot.sixd_to_matrix(d6)
    m_t = sixd_to_matrix(torch.tensor(d6))
    torch.testing.assert_close(m_t, torch.tensor(m_np), atol=1e-10, rtol=0)
    torch.testing.assert_close(matrix_to_sixd(m_t), torch.tensor(rot.matrix_to_sixd(m_np)), atol=1e-12, rtol=0)


def test_geodesic_angle_matches_numpy() -> None:
    rng = np.random.default_rng(1)
    a, b = rot.quat_to_matrix(rng.normal(size=(20, 4))), rot.quat_to_matrix(rng.normal(size=(20, 4)))
    got = geodesic_angle(torch.tensor(a), torch.tensor(b)).numpy()
    np.testing.assert_allclose(got, rot.geodesic_angle(a, b), atol=2e-3)  # acos is clamped 1e-6 inside
