"""Body plans of procedural skeletons: joints placed in world space with labels.

Each plan function fills a :class:`Builder` with joints (parent index, world position in metres,
Y up, the creature facing +Z, and a :class:`~engine.synthetic.naming.JointLabel`), drawing limb
counts, chain lengths and proportions from the builder's random generator. Sizes here are about
one metre; :func:`engine.synthetic.skeletons.random_rig` rescales.
"""

from __future__ import annotations

import numpy as np

from engine.synthetic.naming import JointLabel

__all__ = ["Builder", "PLANS"]

_UP = np.array([0.0, 1.0, 0.0])
_FWD = np.array([0.0, 0.0, 1.0])


class Builder:
    """Accumulates joints in world space: parent index, position and label."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.parents: list[int] = []
        self.pos: list[np.ndarray] = []
        self.labels: list[JointLabel] = []

    def add(self, parent: int, pos: np.ndarray, label: JointLabel) -> int:
        self.parents.append(parent)
        self.pos.append(np.asarray(pos, dtype=np.float64))
        self.labels.append(label)
        return len(self.parents) - 1

    def chain(
        self,
        parent: int,
        start: np.ndarray,
        direction: np.ndarray,
        length: float,
        n: int,
        part: str,
        side: str = "",
        group: int = 0,
        curl: np.ndarray | None = None,
        wobble: float = 0.15,
    ) -> list[int]:
        """Add ``n`` joints from ``start`` along ``direction`` (bending by ``curl`` per segment).

        The first joint sits at ``start``; the chain's total reach beyond it is ``length``. Returns
        the new joint indices (the last one is the chain's tip).
        """
        rng = self.rng
        d = np.asarray(direction, dtype=np.float64)
        d = d / np.linalg.norm(d)
        seg = rng.uniform(0.6, 1.4, size=max(n - 1, 1))
        seg = seg / seg.sum() * length
        idx = [self.add(parent, start, JointLabel(part, side, 0, n, group))]
        p = np.asarray(start, dtype=np.float64)
        for k in range(1, n):
            if curl is not None:
                d = d + curl
            d = d + rng.normal(0.0, wobble, 3)
            d = d / np.linalg.norm(d)
            p = p + d * seg[k - 1]
            idx.append(self.add(idx[-1], p, JointLabel(part, side, k, n, group)))
        return idx


def _mirror(v: np.ndarray, side: str) -> np.ndarray:
    """``v`` given for the left side (+X); the right side mirrors X."""
    v = np.array(v, dtype=np.float64)
    if side == "R":
        v[0] = -v[0]
    return v


def _fingers(b: Builder, hand: int, side: str, direction: np.ndarray, size: float) -> None:
    rng = b.rng
    count = int(rng.choice([1, 2, 3, 4, 5], p=[0.1, 0.1, 0.3, 0.2, 0.3]))
    hand_pos = b.pos[hand]
    for f in range(count):
        spread = (f - (count - 1) / 2) * 0.35
        d = direction + np.array([0.0, 0.0, spread]) + rng.normal(0, 0.1, 3)
        start = hand_pos + direction * size * 0.5 + np.array([0.0, 0.0, spread * size * 0.5])
        b.chain(hand, start, d, size * rng.uniform(0.6, 1.2), int(rng.integers(2, 5)), "finger", side, f)


def _head(b: Builder, neck_top: int, forward: np.ndarray, size: float) -> int:
    rng = b.rng
    head = b.add(
        neck_top, b.pos[neck_top] + (forward * 0.3 + _UP) / np.linalg.norm(forward * 0.3 + _UP) * size * 0.5,
        JointLabel("head")
    )
    if rng.random() < 0.5:
        b.chain(
            head, b.pos[head] + forward * size * 0.3, forward - _UP * 0.3, size * 0.6, int(rng.integers(1, 3)), "jaw"
        )
    if rng.random() < 0.3:
        for side in "LR":
            b.chain(
                head, b.pos[head] + _mirror([size * 0.3, size * 0.4, 0], side), _mirror([0.4, 1, -0.2], side),
                size * 0.5, int(rng.integers(1, 4)), "ear", side
            )
    if rng.random() < 0.2:
        for side in "LR":
            b.add(head, b.pos[head] + _mirror([size * 0.2, size * 0.2, size * 0.4], side), JointLabel("eye", side))
    if rng.random() < 0.1:
        b.add(head, b.pos[head] + _UP * size, JointLabel("head", "", 1, 2))
    return head


def _tail(b: Builder, parent: int, size: float, n_range: tuple[int, int] = (1, 10)) -> None:
    rng = b.rng
    n = int(rng.integers(n_range[0], n_range[1] + 1))
    droop = rng.uniform(-0.15, 0.1)
    b.chain(
        parent, b.pos[parent] - _FWD * size * 0.1, -_FWD + _UP * rng.uniform(-0.5, 0.5), size * rng.uniform(0.3, 1.5),
        n, "tail", curl=_UP * droop
    )


def _spine(b: Builder, root: int, direction: np.ndarray, length: float, n: int, part: str = "spine") -> list[int]:
    return b.chain(
        root, b.pos[root] + direction / np.linalg.norm(direction) * length / (n + 1), direction, length, n, part,
        wobble=0.05
    )


def _plan_biped(b: Builder, tail_p: float = 0.25, wings: bool = False) -> None:
    rng = b.rng
    leg = rng.uniform(0.35, 0.55)
    lean = rng.choice([0.0, rng.uniform(0.0, 1.5)], p=[0.6, 0.4])  # >0: dinosaur-like forward lean
    hips = b.add(-1, [0.0, leg, 0.0], JointLabel("hips"))
    spine = _spine(b, hips, np.array([0.0, 1.0, lean]), rng.uniform(0.2, 0.35), int(rng.integers(1, 5)))
    top = spine[-1]
    n_neck = int(rng.choice([1, 2, 3, int(rng.integers(4, 9))], p=[0.5, 0.2, 0.15, 0.15]))
    neck = b.chain(
        top, b.pos[top] + np.array([0.0, 0.04, 0.02 * lean]), np.array([0.0, 1.0, 0.3 * lean]),
        rng.uniform(0.05, 0.05 * n_neck + 0.1), n_neck, "neck", wobble=0.05
    )
    _head(b, neck[-1], _FWD, rng.uniform(0.08, 0.16))
    arm_len = rng.uniform(0.25, 0.5) * (rng.uniform(0.3, 0.7) if lean > 0.7 else 1.0)
    droop = rng.uniform(-1.2, 0.3)  # T-pose at 0, A-pose below
    for side in "LR":
        shoulder = b.pos[top] + _mirror([rng.uniform(0.03, 0.08), -0.02, 0.0], side)
        n_arm = int(rng.choice([3, 4, 5], p=[0.3, 0.6, 0.1]))
        arm = b.chain(
            top, shoulder, _mirror([1.0, droop, rng.uniform(-0.3, 0.3)], side), arm_len, n_arm, "arm", side,
            wobble=0.08
        )
        if rng.random() < 0.5:
            _fingers(b, arm[-1], side, _mirror([1.0, droop, 0.0], side) / np.hypot(1.0, droop), arm_len * 0.2)
        hip = b.pos[hips] + _mirror([rng.uniform(0.05, 0.12), -0.03, 0.0], side)
        n_leg = int(rng.choice([3, 4, 5], p=[0.3, 0.6, 0.1]))
        leg_idx = b.chain(
            hips, hip, [0.0, -1.0, rng.uniform(-0.1, 0.1)], leg * 0.9, n_leg - 1, "leg", side, wobble=0.05
        )
        b.add(
            leg_idx[-1], b.pos[leg_idx[-1]] + np.array([0.0, -0.02, rng.uniform(0.05, 0.15)]),
            JointLabel("leg", side, n_leg - 1, n_leg)
        )
        if wings:
            w = b.chain(
                top, b.pos[top] + _mirror([0.05, 0.05, -0.05], side),
                _mirror([1.0, rng.uniform(0.0, 0.8), -0.3], side), rng.uniform(0.4, 1.2), int(rng.integers(3, 6)),
                "wing", side, wobble=0.1
            )
            if rng.random() < 0.6:
                for f in range(int(rng.integers(2, 5))):
                    b.chain(
                        w[-1], b.pos[w[-1]], _mirror([1.0, -0.3 * f, -0.5 * f], side), rng.uniform(0.2, 0.6),
                        int(rng.integers(1, 4)), "finger", side, f
                    )
    if rng.random() < tail_p or lean > 0.7:
        _tail(b, hips, 1.0)


def _plan_quadruped(b: Builder, wings: bool = False) -> None:
    rng = b.rng
    leg = rng.uniform(0.25, 0.7)
    body = rng.uniform(0.4, 1.0)
    hips = b.add(-1, [0.0, leg, -body / 2], JointLabel("hips"))
    spine = _spine(b, hips, np.array([0.0, rng.uniform(-0.1, 0.2), 1.0]), body, int(rng.integers(1, 6)))
    chest = spine[-1]
    long_neck = rng.random() < 0.25
    n_neck = int(rng.integers(4, 10)) if long_neck else int(rng.integers(1, 4))
    neck = b.chain(
        chest, b.pos[chest] + np.array([0.0, 0.03, 0.05]), [0.0, rng.uniform(0.3, 1.5), 1.0],
        rng.uniform(0.1, 0.3) * (3 if long_neck else 1), n_neck, "neck", wobble=0.05
    )
    _head(b, neck[-1], _FWD, rng.uniform(0.08, 0.2))
    front_part = "arm" if rng.random() < 0.5 else "leg"
    for side in "LR":
        for attach, part, group in ((chest, front_part, 0), (hips, "leg", 1 if front_part == "leg" else 0)):
            n = int(rng.choice([3, 4, 5], p=[0.3, 0.5, 0.2]))
            start = b.pos[attach] + _mirror([rng.uniform(0.05, 0.15), -0.05, 0.0], side)
            idx = b.chain(
                attach, start, [0.0, -1.0, rng.uniform(-0.2, 0.2)], leg * 0.95, n, part, side, group, wobble=0.12
            )
            if rng.random() < 0.2:
                b.add(idx[-1], b.pos[idx[-1]] + np.array([0.0, -0.01, 0.06]), JointLabel("toe", side, 0, 1, group))
        if wings:
            w = b.chain(
                chest, b.pos[chest] + _mirror([0.08, 0.1, 0.0], side),
                _mirror([1.0, rng.uniform(0.0, 1.0), -0.2], side), rng.uniform(0.5, 1.5), int(rng.integers(3, 6)),
                "wing", side, wobble=0.1
            )
            if rng.random() < 0.6:
                for f in range(int(rng.integers(2, 5))):
                    b.chain(
                        w[-1], b.pos[w[-1]], _mirror([1.0, -0.2 * f, -0.6 * f], side), rng.uniform(0.3, 0.8),
                        int(rng.integers(1, 4)), "finger", side, f
                    )
    if rng.random() < 0.85:
        _tail(b, hips, body, (1, 12))


def _plan_bird(b: Builder) -> None:
    rng = b.rng
    leg = rng.uniform(0.15, 0.5)
    hips = b.add(-1, [0.0, leg, 0.0], JointLabel("hips"))
    spine = _spine(
        b, hips, np.array([0.0, rng.uniform(0.2, 1.0), 1.0]), rng.uniform(0.15, 0.3), int(rng.integers(1, 3))
    )
    n_neck = int(rng.integers(1, 9))
    neck = b.chain(
        spine[-1], b.pos[spine[-1]] + np.array([0.0, 0.03, 0.03]), [0.0, 1.0, rng.uniform(0.0, 1.0)],
        rng.uniform(0.05, 0.5), n_neck, "neck", wobble=0.08
    )
    _head(b, neck[-1], _FWD, rng.uniform(0.04, 0.1))
    for side in "LR":
        w = b.chain(
            spine[-1], b.pos[spine[-1]] + _mirror([0.05, 0.02, 0.0], side),
            _mirror([1.0, rng.uniform(-0.3, 0.5), -0.2], side), rng.uniform(0.3, 1.0), int(rng.integers(3, 5)), "wing",
            side, wobble=0.1
        )
        if rng.random() < 0.4:
            for f in range(int(rng.integers(2, 6))):
                b.chain(
                    w[-1], b.pos[w[-1]], _mirror([0.6, 0.0, -1.0], side), rng.uniform(0.1, 0.3),
                    int(rng.integers(1, 3)), "finger", side, f
                )
        idx = b.chain(
            hips, b.pos[hips] + _mirror([0.05, -0.02, 0.0], side), [0.0, -1.0, 0.1], leg * 0.9,
            int(rng.integers(3, 5)), "leg", side, wobble=0.15
        )
        for f in range(int(rng.choice([0, 3, 4]))):
            b.chain(
                idx[-1], b.pos[idx[-1]], [(f - 1.5) * 0.4, -0.1, 1.0 if f < 3 else -1.0], leg * 0.15, 2, "toe", side,
                f
            )
    _tail(b, hips, 0.4, (1, 4))


def _plan_multileg(b: Builder) -> None:
    rng = b.rng
    height = rng.uniform(0.1, 0.4)
    body = b.add(-1, [0.0, height, 0.0], JointLabel("body"))
    if rng.random() < 0.7:
        b.chain(
            body, b.pos[body] - _FWD * 0.05, -_FWD + _UP * rng.uniform(-0.3, 0.3), rng.uniform(0.1, 0.4),
            int(rng.integers(1, 4)), "tail", wobble=0.05
        )
    head = b.chain(
        body, b.pos[body] + _FWD * 0.08, _FWD, rng.uniform(0.05, 0.15), int(rng.integers(1, 3)), "head", wobble=0.05
    )[-1]
    if rng.random() < 0.5:
        for side in "LR":
            b.chain(
                head, b.pos[head] + _mirror([0.02, 0.01, 0.02], side), _mirror([0.4, 0.5, 1.0], side),
                rng.uniform(0.05, 0.3), int(rng.integers(2, 6)), "antenna", side, curl=-_UP * 0.05
            )
    pairs = int(rng.choice([2, 3, 4, 5, 6], p=[0.1, 0.3, 0.35, 0.15, 0.1]))
    reach = rng.uniform(0.15, 0.6)
    for side in "LR":
        for k in range(pairs):
            z = 0.08 - 0.16 * k / max(pairs - 1, 1)
            n = int(rng.integers(3, 6))
            b.chain(
                body, b.pos[body] + _mirror([0.04, 0.0, z], side), _mirror([1.0, 0.8, z * 4], side), reach, n, "leg",
                side, k, curl=-_UP * rng.uniform(0.2, 0.6), wobble=0.08
            )
        if rng.random() < 0.3:
            claw = b.chain(
                body, b.pos[body] + _mirror([0.03, 0.0, 0.1], side), _mirror([0.5, 0.2, 1.0], side), reach * 0.6,
                int(rng.integers(2, 4)), "claw", side
            )
            for f in range(2):
                b.chain(
                    claw[-1], b.pos[claw[-1]], _mirror([0.3 * (2 * f - 1), 0.0, 1.0], side), reach * 0.2, 2, "finger",
                    side, f
                )


def _plan_snake(b: Builder) -> None:
    rng = b.rng
    n = int(rng.integers(6, 31))
    length = rng.uniform(0.5, 3.0)
    fish = rng.random() < 0.4
    root = b.add(-1, [0.0, 0.1, -length / 2], JointLabel("root" if rng.random() < 0.5 else "hips"))
    body = b.chain(root, b.pos[root] + _FWD * length / n, _FWD, length, n, "spine", wobble=0.03 if fish else 0.2)
    if rng.random() < 0.7:
        _head(b, body[-1], _FWD, length / n * 1.5)
    if fish:
        for side in "LR":
            b.chain(
                body[len(body) // 2], b.pos[body[len(body) // 2]] + _mirror([0.05, 0, 0], side),
                _mirror([1, -0.3, -0.5], side), length * 0.15, int(rng.integers(1, 4)), "fin", side
            )
        if rng.random() < 0.5:
            b.chain(
                body[len(body) // 3], b.pos[body[len(body) // 3]] + _UP * 0.05, _UP - _FWD * 0.5, length * 0.1,
                int(rng.integers(1, 3)), "fin", "", 1
            )
    if rng.random() < 0.5:
        _tail(b, root, length * 0.3, (1, 5))


def _plan_tentacles(b: Builder) -> None:
    rng = b.rng
    root = b.add(-1, [0.0, 0.5, 0.0], JointLabel("body"))
    _spine(b, root, _UP + _FWD * rng.uniform(-0.5, 0.5), rng.uniform(0.1, 0.4), int(rng.integers(1, 4)), "head")
    k = int(rng.integers(3, 9))
    for t in range(k):
        a = 2 * np.pi * t / k
        d = np.array([np.cos(a), -rng.uniform(0.2, 1.5), np.sin(a)])
        side = "L" if np.cos(a) > 1e-6 else "R" if np.cos(a) < -1e-6 else ""
        b.chain(
            root, b.pos[root] + d * 0.05, d, rng.uniform(0.3, 1.0), int(rng.integers(3, 11)), "tentacle", side, t,
            wobble=0.15
        )


def _plan_tree(b: Builder) -> None:
    rng = b.rng
    n = int(rng.integers(3, 60))
    b.add(-1, [0.0, 0.5, 0.0], JointLabel("root"))
    chains: dict[int, int] = {}
    for j in range(1, n):
        # Prefer extending a recent joint, so the tree has chains and occasional branches.
        parent = j - 1 if rng.random() < 0.6 else int(rng.integers(j))
        group = chains.setdefault(parent, len(chains))
        d = rng.normal(0, 1, 3)
        b.add(
            parent, b.pos[parent] + d / np.linalg.norm(d) * rng.uniform(0.03, 0.3),
            JointLabel("bone", "", j, n, group)
        )


def _plan_blob(b: Builder) -> None:
    rng = b.rng
    root = b.add(-1, [0.0, 0.0, 0.0], JointLabel("root"))
    body = b.add(root, [0.0, rng.uniform(0.1, 0.5), 0.0], JointLabel("body"))
    for k in range(int(rng.integers(0, 5))):
        d = rng.normal(0, 1, 3)
        b.chain(body, b.pos[body] + d * 0.1, d, rng.uniform(0.1, 0.4), int(rng.integers(1, 3)), "bone", "", k)


PLANS = {
    "biped": _plan_biped,
    "quadruped": _plan_quadruped,
    "winged": lambda b: _plan_quadruped(b, wings=True) if b.rng.random() < 0.5 else _plan_biped(b, 0.7, wings=True),
    "bird": _plan_bird,
    "multileg": _plan_multileg,
    "snake": _plan_snake,
    "tentacles": _plan_tentacles,
    "tree": _plan_tree,
    "blob": _plan_blob,
}
