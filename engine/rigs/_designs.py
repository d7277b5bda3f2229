"""Private helper of :mod:`engine.rigs.bundled`: the six bundled rig designs, poses and clips.

Every function authors one rig with :mod:`engine.rigs.builder` (metres, Y up, facing +Z, the
creature's left at +X) and returns an :class:`~engine.rigs.builder.AuthoredRig`. Poses are design
deltas (see :class:`~engine.rigs.builder.PoseBuilder`): rotations about design-frame axes, so
``rotate("LeftUpperArm", _Z, -40 deg)`` lowers the left arm whatever the rig's axis convention.
"""

from __future__ import annotations

import numpy as np

from engine.rigs.builder import (
    BLENDER,
    IDENTITY,
    MAYA,
    UNREAL,
    AuthoredRig,
    AxisConvention,
    PoseBuilder,
    RigBuilder,
    assemble,
)

__all__ = ["CONVENTIONS", "FPS", "bird", "dragon", "humanoid", "quadruped", "snake", "spider"]

FPS = 30.0
# Conventions of the shipped rigs, as real tools leave them (see resources/rigs/README.md).
DRAGON_AXES = AxisConvention("blender-rolled", method="arc", primary="+Y", roll_jitter=0.4, seed=7)
SPIDER_AXES = AxisConvention(
    "z-forward", method="aim", primary="+Z", secondary="+Y", hint=(0, 1, 0), fallback=(1, 0, 0), roll_jitter=0.3, seed=11
)
CONVENTIONS = {
    "humanoid": BLENDER,
    "quadruped": MAYA,
    "dragon": DRAGON_AXES,
    "bird": UNREAL,
    "snake": IDENTITY,
    "spider": SPIDER_AXES,
}
_X, _Y, _Z = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)


def _deg(a: float | np.ndarray) -> float | np.ndarray:
    return np.deg2rad(a)


def _times(seconds: float) -> np.ndarray:
    """``(T,)`` frame times for a clip of ``seconds`` at :data:`FPS` that loops (last frame excluded)."""
    return np.arange(int(round(seconds * FPS))) / FPS


# %% humanoid
_FINGERS = ("Thumb", "Index", "Middle", "Ring", "Little")
_FINGER_PARTS = ("Proximal", "Intermediate", "Distal")


def humanoid() -> AuthoredRig:
    """A 1.72 m human, 52 joints, Unity ``HumanBodyBones`` names, T-pose, Blender axes.

    Clips: ``idle`` (3 s breathing), ``walk`` (2 s, two strides at 1.3 m/s), ``wave`` (2 s).
    Reference pose: A-pose (arms 40 degrees down, elbows and knees slightly bent, fingers curled).
    """
    b = RigBuilder("humanoid")
    b.joint("Hips", None, (0, 0.95, 0), radius=0.1)
    spine = ["Spine", "Chest", "UpperChest", "Neck", "Head"]
    b.chain(spine, "Hips", offsets=[(0, 0.10, -0.01), (0, 0.12, 0), (0, 0.13, 0.01), (0, 0.14, -0.01), (0, 0.10, 0.02)],
            radius=[0.1, 0.11, 0.1, 0.045, 0.085], tip=(0, 0.17, 0.0))
    b.joint("LeftShoulder", "UpperChest", (0.03, 0.09, 0.0), radius=0.045)
    b.chain(["LeftUpperArm", "LeftLowerArm", "LeftHand"], "LeftShoulder",
            offsets=[(0.14, 0.01, -0.01), (0.27, 0, 0), (0.25, 0, 0)], radius=[0.045, 0.035, 0.018])
    finger_base = {"Thumb": (0.025, -0.012, 0.025), "Index": (0.09, 0, 0.025), "Middle": (0.095, 0, 0.005),
                   "Ring": (0.09, 0, -0.015), "Little": (0.08, 0, -0.033)}
    finger_dir = {"Thumb": (0.6, -0.25, 0.75), "Index": _X, "Middle": _X, "Ring": _X, "Little": (1, 0, -0.1)}
    finger_len = {"Thumb": (0.04, 0.033, 0.028), "Index": (0.045, 0.026, 0.022), "Middle": (0.05, 0.03, 0.024),
                  "Ring": (0.046, 0.028, 0.022), "Little": (0.036, 0.022, 0.02)}
    for f in _FINGERS:
        d = np.asarray(finger_dir[f]) / np.linalg.norm(finger_dir[f])
        l1, l2, l3 = finger_len[f]
        b.chain([f"Left{f}{p}" for p in _FINGER_PARTS], "LeftHand", offsets=[finger_base[f], tuple(d * l1), tuple(d * l2)],
                radius=0.009, tip=tuple(d * l3))
    b.chain(["LeftUpperLeg", "LeftLowerLeg", "LeftFoot", "LeftToes"], "Hips",
            offsets=[(0.09, -0.06, 0), (0, -0.42, 0.01), (0, -0.39, -0.03), (0, -0.05, 0.12)],
            radius=[0.07, 0.05, 0.04, 0.025], tip=(0, 0, 0.06))
    b.aim("LeftHand", "LeftMiddleProximal")
    b.mirror()
    d = b.design()

    ref = PoseBuilder(d)
    ref.rotate_sym("LeftUpperArm", _Z, _deg(-40))
    ref.rotate_sym("LeftLowerArm", _Y, _deg(-15))
    ref.rotate_sym("LeftHand", _X, _deg(20))
    for f in _FINGERS[1:]:
        ref.rotate_sym(f"Left{f}Intermediate", _Z, _deg(-20))
    ref.rotate_sym("LeftUpperLeg", _X, _deg(-8))
    ref.rotate_sym("LeftLowerLeg", _X, _deg(12))
    ref.rotate("Head", _Y, _deg(15))

    t = _times(3.0)
    w = 2 * np.pi * t / 3.0  # one breath per clip, so it loops
    idle = PoseBuilder(d, len(t))
    idle.rotate_sym("LeftUpperArm", _Z, _deg(-72) + _deg(2) * np.sin(w))
    idle.rotate_sym("LeftLowerArm", _Y, _deg(-10))
    idle.rotate("Chest", _X, _deg(2.5) * np.sin(w))
    idle.rotate("UpperChest", _X, _deg(1.5) * np.sin(w))
    idle.rotate("Spine", _Z, _deg(1.5) * np.sin(w))
    idle.rotate("Head", _Y, _deg(12) * np.sin(w))
    idle.rotate("Head", _X, _deg(4) * np.sin(2 * w))
    idle.root_offsets[:, 0] = 0.012 * np.sin(w)

    t = _times(2.0)
    phase = 2 * np.pi * t  # one stride per second per leg
    walk = PoseBuilder(d, len(t))
    walk.root_offsets[:, 2] = 1.3 * t
    walk.root_offsets[:, 1] = 0.02 * np.cos(2 * phase) - 0.02
    walk.rotate("Hips", _Y, _deg(5) * np.sin(phase))
    walk.rotate("Chest", _Y, _deg(-8) * np.sin(phase))
    for side, s in (("Left", 1.0), ("Right", -1.0)):
        swing = np.clip(s * np.cos(phase), 0, 1)  # > 0 while this leg swings forward
        walk.rotate(f"{side}UpperLeg", _X, -s * _deg(25) * np.sin(phase))
        walk.rotate(f"{side}LowerLeg", _X, _deg(5) + _deg(55) * swing**2)
        walk.rotate(f"{side}Foot", _X, _deg(-12) * swing)
        walk.rotate(f"{side}UpperArm", _Z, s * _deg(-72))
        walk.rotate(f"{side}UpperArm", _X, s * _deg(20) * np.sin(phase))
        walk.rotate(f"{side}LowerArm", _Y, s * _deg(-15))

    wave = PoseBuilder(d, len(t))
    wave.rotate("LeftUpperArm", _Z, _deg(-72))
    wave.rotate("RightUpperArm", _Z, _deg(-50))
    wave.rotate("RightLowerArm", _Z, _deg(-60) + _deg(20) * np.sin(2 * np.pi * 2 * t))  # forearm about vertical
    wave.rotate("RightHand", _Y, _deg(-10))
    wave.rotate("Head", _Z, _deg(-6) * np.sin(np.pi * t) ** 2)
    wave.rotate("Chest", _X, _deg(2) * np.sin(np.pi * t))
    return assemble(d, CONVENTIONS["humanoid"], ref, {"idle": idle, "walk": walk, "wave": wave},
                    fps=FPS, humanoid={n: n for n in d.names})


# %% quadruped
def quadruped() -> AuthoredRig:
    """A dog-sized quadruped (0.9 m long), 29 joints, Maya axes (local +X along bones).

    Four legs of four joints, three spine joints, two neck joints, head, jaw and a 5-joint tail.
    Clip ``idle`` (3 s): breathing, tail wag, looking around. Reference pose: head raised and
    turned, tail up, left front paw lifted, hind legs crouched.
    """
    b = RigBuilder("quadruped")
    b.joint("Pelvis", None, (0, 0.57, -0.35), radius=0.08)
    b.chain(["Spine1", "Spine2", "Chest"], "Pelvis", offsets=[(0, 0.02, 0.15), (0, 0.02, 0.17), (0, 0.0, 0.18)],
            radius=[0.09, 0.095, 0.09])
    b.chain(["Neck1", "Neck2", "Head"], "Chest", offsets=[(0, 0.06, 0.08), (0, 0.08, 0.06), (0, 0.06, 0.04)],
            radius=[0.055, 0.05, 0.06], tip=(0, -0.03, 0.2))
    b.joint("Jaw", "Head", (0, -0.05, 0.02), radius=0.025, tip=(0, -0.02, 0.15))
    b.chain([f"Tail{i}" for i in range(1, 6)], "Pelvis", direction=(0, 0.25, -1), lengths=[0.09, 0.09, 0.08, 0.08, 0.07],
            bend=(-0.15, 0, 0), radius=[0.03, 0.025, 0.02, 0.016, 0.012], tip=0.06)
    b.chain(["LeftHindThigh", "LeftHindShin", "LeftHindMetatarsus", "LeftHindPaw"], "Pelvis",
            offsets=[(0.08, -0.04, 0.0), (0, -0.20, 0.07), (0, -0.17, -0.08), (0, -0.13, 0.01)],
            radius=[0.045, 0.03, 0.022, 0.02], tip=(0, -0.01, 0.05))
    b.chain(["LeftFrontScapula", "LeftFrontUpperArm", "LeftFrontForearm", "LeftFrontPaw"], "Chest",
            offsets=[(0.08, -0.03, 0.0), (0, -0.13, 0.04), (0, -0.17, -0.03), (0, -0.22, 0.0)],
            radius=[0.04, 0.032, 0.022, 0.02], tip=(0, -0.02, 0.05))
    b.mirror()
    d = b.design()

    ref = PoseBuilder(d)
    ref.rotate("Neck1", _X, _deg(-20))
    ref.rotate("Head", _Y, _deg(30))
    ref.rotate("Tail1", _X, _deg(35))
    ref.rotate("LeftFrontUpperArm", _X, _deg(-40))
    ref.rotate("LeftFrontForearm", _X, _deg(70))
    ref.rotate_sym("LeftHindThigh", _X, _deg(-15))
    ref.rotate_sym("LeftHindShin", _X, _deg(25))
    ref.rotate("Jaw", _X, _deg(15))

    t = _times(3.0)
    w = 2 * np.pi * t / 3.0
    idle = PoseBuilder(d, len(t))
    idle.rotate("Spine2", _X, _deg(2) * np.sin(2 * w))
    idle.rotate("Neck1", _Y, _deg(15) * np.sin(w))
    idle.rotate("Head", _X, _deg(6) * np.sin(2 * w))
    idle.rotate("Jaw", _X, _deg(8) * (1 + np.sin(3 * w)))
    for i in range(1, 6):
        idle.rotate(f"Tail{i}", _Y, _deg(12) * np.sin(4 * w - 0.6 * i))
    idle.root_offsets[:, 1] = 0.004 * np.sin(2 * w)
    return assemble(d, CONVENTIONS["quadruped"], ref, {"idle": idle}, fps=FPS)


# %% dragon
def dragon() -> AuthoredRig:
    """A dragon (7.4 m wingspan), 62 joints, Blender axes with irregular rolls.

    Four legs, two wings (shoulder, upper arm, forearm, hand, four 2-bone fingers), 6-joint neck,
    head and jaw, 9-joint tail. Clip ``idle`` (3 s): two wing beats, tail sway, neck bob, jaw.
    Reference pose: wings half folded, neck raised, tail curled left, right front leg lifted.
    """
    b = RigBuilder("dragon")
    b.joint("Pelvis", None, (0, 1.3, -0.8), radius=0.28)
    b.chain(["Spine1", "Spine2", "Spine3", "Chest"], "Pelvis", direction=(0, 0.05, 1), lengths=[0.35] * 4,
            radius=[0.3, 0.32, 0.32, 0.3])
    b.chain([f"Neck{i}" for i in range(1, 7)], "Chest", direction=(0, 0.8, 0.6), lengths=[0.28] * 6, bend=(0.1, 0, 0),
            radius=[0.16, 0.14, 0.12, 0.11, 0.1, 0.1])
    b.joint("Head", "Neck6", (0, 0.05, 0.2), radius=0.14, tip=(0, -0.05, 0.55))
    b.joint("Jaw", "Head", (0, -0.12, 0.05), radius=0.07, tip=(0, -0.04, 0.48))
    tail_len = [0.45, 0.42, 0.4, 0.38, 0.35, 0.32, 0.3, 0.27, 0.25]
    b.chain([f"Tail{i}" for i in range(1, 10)], "Pelvis", direction=(0, -0.25, -1), lengths=tail_len, bend=(0.035, 0, 0),
            radius=list(np.linspace(0.2, 0.04, 9)), tip=0.3)
    b.chain(["LeftHindUpperLeg", "LeftHindLowerLeg", "LeftHindFoot", "LeftHindToes"], "Pelvis",
            offsets=[(0.28, -0.1, 0.05), (0, -0.45, 0.25), (0, -0.42, -0.25), (0, -0.3, 0.1)],
            radius=[0.16, 0.1, 0.07, 0.06], tip=(0, -0.02, 0.25))
    b.chain(["LeftFrontUpperLeg", "LeftFrontLowerLeg", "LeftFrontFoot", "LeftFrontToes"], "Chest",
            offsets=[(0.25, -0.15, 0.0), (0, -0.45, -0.1), (0, -0.5, 0.1), (0, -0.2, 0.12)],
            radius=[0.13, 0.09, 0.06, 0.05], tip=(0, -0.03, 0.2))
    b.chain(["LeftWingShoulder", "LeftWingUpperArm", "LeftWingForearm", "LeftWingHand"], "Chest",
            offsets=[(0.15, 0.2, -0.05), (0.2, 0.08, 0.0), (0.7, 0.2, -0.1), (0.9, 0.0, 0.3)],
            radius=[0.1, 0.08, 0.06, 0.05])
    fingers = {1: ((0.7, 0.05, 0.5), (0.8, 0.6)), 2: ((1, 0, -0.25), (1.0, 0.8)),
               3: ((0.6, 0, -0.8), (0.9, 0.7)), 4: ((0.1, -0.05, -1), (0.7, 0.5))}
    for k, (direction, lengths) in fingers.items():
        b.chain([f"LeftWingFinger{k}_1", f"LeftWingFinger{k}_2"], "LeftWingHand", direction=direction,
                lengths=list(lengths), radius=0.03, tip=0.4)
    # Wing membrane: between consecutive fingers, and from the last finger back to the body.
    rows = [["LeftWingHand", f"LeftWingFinger{k}_1", f"LeftWingFinger{k}_2", f"LeftWingFinger{k}_2.tip"] for k in range(1, 5)]
    b.sheet(rows + [["LeftWingHand", "LeftWingForearm", "LeftWingUpperArm", ("Spine2", (0.2, 0.1, 0.0))]])
    b.mirror()
    d = b.design()

    ref = PoseBuilder(d)
    ref.rotate_sym("LeftWingUpperArm", _Z, _deg(20))
    ref.rotate_sym("LeftWingForearm", _Y, _deg(60))
    ref.rotate_sym("LeftWingHand", _Y, _deg(50))
    for k in range(1, 5):
        ref.rotate_sym(f"LeftWingFinger{k}_1", _Y, _deg(25))
    ref.rotate("Neck1", _X, _deg(-15))
    ref.rotate("Head", _X, _deg(20))
    ref.rotate("Jaw", _X, _deg(20))
    for i in range(1, 10):
        ref.rotate(f"Tail{i}", _Y, _deg(-12))
    ref.rotate("RightFrontUpperLeg", _X, _deg(-45))
    ref.rotate("RightFrontLowerLeg", _X, _deg(60))

    t = _times(3.0)
    w = 2 * np.pi * t / 3.0
    flap = 2 * w  # two wing beats per clip
    idle = PoseBuilder(d, len(t))
    idle.rotate_sym("LeftWingUpperArm", _Z, _deg(30) * np.sin(flap))
    idle.rotate_sym("LeftWingForearm", _Z, _deg(15) * np.sin(flap - 0.6))
    idle.rotate_sym("LeftWingHand", _Y, _deg(10) + _deg(10) * np.sin(flap - 1.2))
    for k in range(1, 5):
        idle.rotate_sym(f"LeftWingFinger{k}_1", _Z, _deg(8) * np.sin(flap - 1.5))
    for i in range(1, 10):
        idle.rotate(f"Tail{i}", _Y, _deg(6) * np.sin(w - 0.5 * i))
    for i in range(1, 7):
        idle.rotate(f"Neck{i}", _X, _deg(3) * np.sin(flap + 0.3 * i))
    idle.rotate("Jaw", _X, _deg(10) * (1 - np.cos(w)))
    idle.root_offsets[:, 1] = 0.05 * np.sin(flap + np.pi)
    return assemble(d, CONVENTIONS["dragon"], ref, {"idle": idle}, fps=FPS)


# %% bird
def bird() -> AuthoredRig:
    """A crow-sized bird (0.6 m wingspan), 44 joints, Unreal-like axes (+X along, mirrored right).

    Legs of thigh, shin, tarsus and foot with four 2-bone toes (toe 1 = hallux, backwards); wings of
    humerus, forearm, hand and a primary-feather tip; 3-joint neck, head, upper and lower beak,
    3-joint tail. Clip ``idle`` (2 s): four wing beats with a lag along the wing, tail and head bob.
    Reference pose: wings folded along the body, head turned, tail raised.
    """
    b = RigBuilder("bird")
    b.joint("Pelvis", None, (0, 0.16, -0.03), radius=0.035)
    b.chain(["Spine", "Chest"], "Pelvis", offsets=[(0, 0.02, 0.04), (0, 0.015, 0.05)], radius=[0.045, 0.04])
    b.chain(["Neck1", "Neck2", "Neck3", "Head"], "Chest", offsets=[(0, 0.035, 0.025), (0, 0.03, 0.01), (0, 0.03, 0.005), (0, 0.02, 0.01)],
            radius=[0.02, 0.017, 0.016, 0.022])
    b.joint("UpperBeak", "Head", (0, -0.002, 0.03), radius=0.008, tip=(0, -0.006, 0.035))
    b.joint("LowerBeak", "Head", (0, -0.012, 0.025), radius=0.006, tip=(0, -0.002, 0.03))
    b.chain(["Tail1", "Tail2", "TailFeathers"], "Pelvis", offsets=[(0, 0.005, -0.04), (0, 0.0, -0.04), (0, -0.005, -0.04)],
            radius=[0.02, 0.015, 0.012], tip=(0, -0.01, -0.07))
    b.chain(["LeftThigh", "LeftShin", "LeftTarsus", "LeftFoot"], "Pelvis",
            offsets=[(0.025, -0.02, 0.015), (0, -0.03, 0.03), (0, -0.045, -0.03), (0, -0.055, 0.005)],
            radius=[0.014, 0.008, 0.005, 0.005])
    toes = {1: ((0, -0.1, -1), (0.012, 0.01)), 2: ((0.35, -0.05, 1), (0.02, 0.015)),
            3: ((0, -0.05, 1), (0.022, 0.018)), 4: ((-0.35, -0.05, 1), (0.018, 0.014))}
    for k, (direction, lengths) in toes.items():
        b.chain([f"LeftToe{k}_1", f"LeftToe{k}_2"], "LeftFoot", direction=direction, lengths=list(lengths), radius=0.003, tip=0.01)
    b.aim("LeftFoot", "LeftToe3_1")
    b.chain(["LeftWingHumerus", "LeftWingForearm", "LeftWingHand", "LeftWingTip"], "Chest",
            offsets=[(0.025, 0.01, 0.0), (0.07, 0, -0.005), (0.085, 0, 0.005), (0.045, 0, 0)],
            radius=[0.014, 0.01, 0.008, 0.006], tip=(0.1, 0, -0.02))
    # Flight feathers: a sheet from the wing's leading edge back to its trailing edge.
    leading = ["LeftWingHumerus", "LeftWingForearm", "LeftWingHand", "LeftWingTip", "LeftWingTip.tip"]
    trailing = [("LeftWingHumerus", (0, 0, -0.05)), ("LeftWingForearm", (0, 0, -0.08)), ("LeftWingHand", (0, 0, -0.09)),
                ("LeftWingTip", (0, 0, -0.08)), ("LeftWingTip", (0.06, 0, -0.07))]
    b.sheet([leading, trailing])
    b.mirror()
    # Tail fan: a sheet spread across the tail feathers.
    b.sheet([[("TailFeathers", (x, 0, 0)), ("TailFeathers", (1.8 * x, -0.01, -0.07))] for x in (-0.02, 0.0, 0.02)])
    d = b.design()

    ref = PoseBuilder(d)
    ref.rotate_sym("LeftWingHumerus", _Y, _deg(80))
    ref.rotate_sym("LeftWingHumerus", _Z, _deg(-15))
    ref.rotate_sym("LeftWingForearm", _Y, _deg(-150))
    ref.rotate_sym("LeftWingHand", _Y, _deg(150))
    ref.rotate("Head", _Y, _deg(30))
    ref.rotate("Tail1", _X, _deg(-20))
    ref.rotate("LowerBeak", _X, _deg(15))

    t = _times(2.0)
    beat = 2 * np.pi * 2 * t  # 2 beats per second
    idle = PoseBuilder(d, len(t))
    idle.rotate_sym("LeftWingHumerus", _Z, _deg(45) * np.sin(beat))
    idle.rotate_sym("LeftWingForearm", _Z, _deg(15) * np.sin(beat - 0.7))
    idle.rotate_sym("LeftWingHand", _Z, _deg(10) * np.sin(beat - 1.4))
    idle.rotate_sym("LeftWingHand", _X, _deg(10) * np.cos(beat))  # feather pitch
    idle.rotate("Tail1", _X, _deg(8) * np.sin(beat + 0.5))
    idle.rotate("Neck1", _X, _deg(5) * np.sin(beat))
    idle.rotate("Head", _X, _deg(-5) * np.sin(beat))
    idle.rotate_sym("LeftThigh", _X, _deg(30))
    idle.rotate_sym("LeftShin", _X, _deg(-60))
    idle.root_offsets[:, 1] = 0.01 * np.sin(beat + np.pi / 2)
    return assemble(d, CONVENTIONS["bird"], ref, {"idle": idle}, fps=FPS)


# %% snake
def snake() -> AuthoredRig:
    """A 1.9 m snake, 26 joints (24 spine, head, jaw), identity rest rotations (BVH-like).

    The root ``Spine01`` sits behind the head; the spine runs backwards along -Z. Clip ``idle``
    (3 s): a slither wave travelling down the body while the head stays steady. Reference pose:
    an S-curve with the head raised and the jaw open.
    """
    n = 24
    b = RigBuilder("snake")
    radii = list(np.linspace(0.035, 0.01, n))
    b.joint("Spine01", None, (0, 0.04, 0.9), radius=radii[0])
    b.chain([f"Spine{i:02d}" for i in range(2, n + 1)], "Spine01", direction=(0, 0, -1), lengths=[0.075] * (n - 1),
            radius=radii[1:], tip=0.06)
    b.joint("Head", "Spine01", (0, 0.002, 0.04), radius=0.03, tip=(0, 0, 0.07))
    b.joint("Jaw", "Head", (0, -0.012, 0.01), radius=0.012, tip=(0, -0.002, 0.06))
    d = b.design()

    ref = PoseBuilder(d)
    for i in range(2, n + 1):
        ref.rotate(f"Spine{i:02d}", _Y, _deg(22) * np.sin(2 * np.pi * i / 12))
    ref.rotate("Head", _X, _deg(-25))
    ref.rotate("Jaw", _X, _deg(25))

    t = _times(3.0)
    idle = PoseBuilder(d, len(t))
    travel = 2 * np.pi * t / 1.5  # one wave every 1.5 s
    for i in range(2, n + 1):
        idle.rotate(f"Spine{i:02d}", _Y, _deg(18) * np.sin(travel - 2 * np.pi * i / 10))
    idle.rotate("Head", _Y, _deg(-10) * np.sin(travel))
    idle.rotate("Head", _X, _deg(-8))
    idle.rotate("Jaw", _X, _deg(6) * np.clip(np.sin(2 * travel), 0, 1))
    idle.root_offsets[:, 0] = 0.04 * np.sin(travel)
    return assemble(d, CONVENTIONS["snake"], ref, {"idle": idle}, fps=FPS)


# %% spider
_SPIDER_LEGS = {  # leg -> (outward direction in the ground plane, length factor, attach z)
    1: ((0.45, 0, 0.9), 1.2, 0.03),
    2: ((0.85, 0, 0.5), 1.05, 0.012),
    3: ((0.95, 0, -0.2), 0.9, -0.006),
    4: ((0.6, 0, -0.8), 1.15, -0.024),
}
_SPIDER_SEGMENTS = ("Coxa", "Femur", "Patella", "Tibia", "Tarsus")
_SPIDER_PROFILE = ((0.015, 0), (0.07, 50), (0.025, -10), (0.065, -45), (0.06, -70))  # (length m, elevation deg)


def spider() -> AuthoredRig:
    """A large spider (0.5 m leg span), 52 joints, +Z-along-bone axes with irregular rolls.

    Cephalothorax (root) and abdomen, 8 legs of 5 segments (coxa, femur, patella, tibia, tarsus),
    2 pedipalps of 3, 2 chelicerae with fangs. Clip ``idle`` (2 s): an alternating-tetrapod step
    in place with the abdomen bobbing. Reference pose: front legs raised (threat), abdomen up,
    pedipalps spread.
    """
    b = RigBuilder("spider")
    b.joint("Cephalothorax", None, (0, 0.105, 0.02), radius=0.03)
    b.joint("Abdomen", "Cephalothorax", (0, 0.01, -0.045), radius=0.05, tip=(0, 0.005, -0.11))
    for k, (h, scale, z) in _SPIDER_LEGS.items():
        h = np.asarray(h) / np.linalg.norm(h)
        vecs = [(length * scale) * (np.cos(_deg(e)) * h + np.sin(_deg(e)) * np.asarray(_Y)) for length, e in _SPIDER_PROFILE]
        offsets = [(0.022, -0.004, z)] + [tuple(v) for v in vecs[:-1]]
        tip = vecs[-1] + 0.03 * scale * (np.cos(_deg(-80)) * h + np.sin(_deg(-80)) * np.asarray(_Y))
        b.chain([f"LeftLeg{k}{s}" for s in _SPIDER_SEGMENTS], "Cephalothorax", offsets=offsets,
                radius=[0.008, 0.007, 0.006, 0.005, 0.004], tip=tuple(tip))
    b.chain(["LeftPedipalpFemur", "LeftPedipalpTibia", "LeftPedipalpTarsus"], "Cephalothorax",
            offsets=[(0.012, -0.005, 0.035), (0.006, 0.006, 0.02), (0.004, -0.004, 0.018)], radius=0.004, tip=(0.002, -0.008, 0.012))
    b.joint("LeftChelicera", "Cephalothorax", (0.007, -0.01, 0.04), radius=0.006)
    b.joint("LeftFang", "LeftChelicera", (0.0, -0.015, 0.006), radius=0.004, tip=(-0.003, -0.008, -0.004))
    b.mirror()
    d = b.design()

    ref = PoseBuilder(d)
    for k in (1,):
        h = np.asarray(_SPIDER_LEGS[k][0], dtype=np.float64)
        lift_axis = tuple(np.cross(h, _Y) / np.linalg.norm(np.cross(h, _Y)))
        ref.rotate_sym(f"LeftLeg{k}Femur", lift_axis, _deg(35))
        ref.rotate_sym(f"LeftLeg{k}Tibia", lift_axis, _deg(25))
    ref.rotate("Abdomen", _X, _deg(-20))
    ref.rotate_sym("LeftPedipalpFemur", _Y, _deg(20))
    ref.rotate_sym("LeftFang", _X, _deg(-30))

    t = _times(2.0)
    phase = 2 * np.pi * 2 * t  # two steps per second
    idle = PoseBuilder(d, len(t))
    for k, (h, _, _) in _SPIDER_LEGS.items():
        h = np.asarray(h, dtype=np.float64)
        lift_axis = tuple(np.cross(h, _Y) / np.linalg.norm(np.cross(h, _Y)))
        for side, group in (("Left", k % 2), ("Right", (k + 1) % 2)):
            p = phase + np.pi * group  # alternating tetrapod: L1 R2 L3 R4 move together
            axis = lift_axis if side == "Left" else (lift_axis[0], -lift_axis[1], -lift_axis[2])
            idle.rotate(f"{side}Leg{k}Coxa", _Y, (1 if side == "Left" else -1) * _deg(12) * np.cos(p))
            idle.rotate(f"{side}Leg{k}Femur", axis, _deg(18) * np.clip(np.sin(p), 0, 1))
    idle.rotate("Abdomen", _X, _deg(4) * np.sin(2 * phase))
    idle.rotate_sym("LeftFang", _X, _deg(-8) * np.clip(np.sin(phase / 2), 0, 1))
    idle.root_offsets[:, 1] = 0.002 * np.sin(2 * phase)
    return assemble(d, CONVENTIONS["spider"], ref, {"idle": idle}, fps=FPS)
