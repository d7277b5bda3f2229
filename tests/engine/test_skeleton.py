"""Skeleton invariants, graph matrices, sub-skeletons and normalisation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from engine.skeleton import MAX_HOP, EdgeType, Skeleton


def _y_skeleton() -> Skeleton:
    """root -> spine -> (left, right); plus a long tail chain from the root."""
    names = ("root", "spine", "left", "right", "tail1", "tail2", "tail3", "tail4", "tail5", "tail6", "tail7")
    parents = [-1, 0, 1, 1, 0, 4, 5, 6, 7, 8, 9]
    trans = [[0, 1, 0], [0, 0.5, 0], [0.3, 0, 0], [-0.3, 0, 0]] + [[0, 0, -0.2]] * 7
    rots = Rotation.random(11, random_state=0).as_quat()
    return Skeleton(names, np.array(parents), np.array(trans, float), rots, np.array([2]), np.array([[0.1, 0, 0]]))


def test_validation_errors_name_the_fault() -> None:
    ident = np.tile([0, 0, 0, 1.0], (2, 1))
    with pytest.raises(ValueError, match="parents must come first"):
        Skeleton(("a", "b"), np.array([1, -1]), np.zeros((2, 3)), ident)
    with pytest.raises(ValueError, match="duplicate joint names"):
        Skeleton(("a", "a"), np.array([-1, 0]), np.zeros((2, 3)), ident)
    with pytest.raises(ValueError, match="non-finite"):
        Skeleton(("a", "b"), np.array([-1, 0]), np.array([[0, 0, 0], [np.nan, 0, 0]]), ident)
    with pytest.raises(ValueError, match="at least one joint"):
        Skeleton((), np.zeros(0), np.zeros((0, 3)), np.zeros((0, 4)))


def test_arrays_are_read_only() -> None:
    s = _y_skeleton()
    with pytest.raises(ValueError):
        s.rest_translations[0, 0] = 5.0


def test_hop_distances_and_edge_types() -> None:
    s = _y_skeleton()
    hop = s.hop_distances(clip=None)
    assert hop[2, 3] == 2 and hop[0, 2] == 2 and hop[2, 10] == 9
    assert (s.hop_distances() <= MAX_HOP).all() and s.hop_distances()[2, 10] == MAX_HOP
    np.testing.assert_array_equal(hop, hop.T)
    e = s.edge_types()
    assert e[1, 0] == EdgeType.PARENT and e[0, 1] == EdgeType.CHILD
    assert e[2, 3] == EdgeType.SIBLING and e[2, 2] == EdgeType.SELF and e[2, 10] == EdgeType.OTHER
    assert e[1, 4] == EdgeType.SIBLING  # spine and tail1 share the root


def test_ancestor_mask_and_chain() -> None:
    s = _y_skeleton()
    assert s.chain_to_root(3) == [3, 1, 0]
    mask = s.ancestor_mask()
    assert mask[3].tolist() == [j in (0, 1, 3) for j in range(11)]
    assert s.children(1) == [2, 3] and s.roots == [0]


def test_subset_keeps_world_rest_positions() -> None:
    s = _y_skeleton()
    keep = [0, 2, 3, 5, 8, 10]
    sub = s.subset(keep)
    np.testing.assert_allclose(sub.rest_positions(), s.rest_positions()[keep], atol=1e-12)
    assert sub.names == tuple(s.names[k] for k in keep)
    assert list(sub.parents) == [-1, 0, 0, 0, 3, 4]
    assert list(sub.end_site_joints) == [1]


def test_height_normalisation_and_scaling() -> None:
    s = _y_skeleton()
    assert s.scaled(2.0).height == pytest.approx(2 * s.height)
    pos = s.rest_positions()
    norm = s.normalize_positions(pos)
    np.testing.assert_allclose(norm[0], 0.0)
    assert np.abs(norm).max() <= 1.0 + 1e-12
