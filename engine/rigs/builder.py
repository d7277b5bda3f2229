"""A small parametric API for authoring rigs: joints, chains, local-axis conventions, poses, a skin.

A rig is authored once as a *design*: joint names, parents and rest **world** offsets in metres
(Y up, +Z forward, the character's left at +X; glTF's frame). The design says nothing about local
axes. An :class:`AxisConvention` then turns the design into a :class:`~engine.skeleton.Skeleton`
with the local-axis habits of a real tool (Blender: local +Y along the bone, with a roll; Maya:
local +X along the bone; Unreal-like: +X along the bone, mirrored on the right side; or identity
rest rotations as in BVH). Every convention gives the same rest world positions.

Poses are authored convention-free as *design deltas*: per joint, the rotation relative to its
parent that an identity-rest copy of the rig would use (axes in the design frame). With ``R[j]`` the
rest world frame of joint ``j`` under a convention and ``d[j]`` a design delta, the local rotation
is ``L[j] = R[p]^T d[j] R[j]`` (root: ``d[root] R[root]``), which gives identical world positions for
every convention.

Example::

    b = RigBuilder("stick")
    b.joint("Hips", None, (0, 1.0, 0), radius=0.1)
    b.chain(["Spine", "Chest", "Head"], "Hips", direction=(0, 1, 0), lengths=[0.2, 0.2, 0.25], tip=0.2)
    design = b.design()
    skeleton = design.skeleton(BLENDER)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine import rotations as rot
from engine.rigs._skin import skin_mesh
from engine.rig import Clip, Rig, SourceInfo
from engine.skeleton import Skeleton

__all__ = [
    "AuthoredRig",
    "AxisConvention",
    "assemble",
    "BLENDER",
    "IDENTITY",
    "MAYA",
    "UNREAL",
    "Z_FORWARD",
    "JointSpec",
    "PoseBuilder",
    "RigBuilder",
    "RigDesign",
    "SheetPoint",
    "skin_mesh",
]

_MIRROR = np.diag([-1.0, 1.0, 1.0])  # reflection through the character's sagittal (YZ) plane
_AXES = {"+X": (0, 1.0), "-X": (0, -1.0), "+Y": (1, 1.0), "-Y": (1, -1.0), "+Z": (2, 1.0), "-Z": (2, -1.0)}


# %% conventions
@dataclass(frozen=True)
class AxisConvention:
    """How a rig's joint frames sit on its bones.

    Attributes:
        name: short label written into docs and file notes.
        method: ``"arc"`` (Blender: shortest arc from local ``primary`` to the bone, then ``roll``),
            ``"aim"`` (Maya / Unreal: ``primary`` along the bone, ``secondary`` toward ``hint``), or
            ``"identity"`` (every rest rotation is the identity, as in BVH).
        primary: local axis that points along the bone, e.g. ``"+Y"``.
        secondary: ``"aim"`` only: local axis turned toward the world ``hint``.
        hint: world direction for the secondary axis; ``fallback`` is used when the bone is
            (nearly) parallel to it.
        fallback: second-choice world direction.
        mirror_right: right-side joints get the mirror image of the left-side frame (Unreal and
            Mixamo habit: on the right, ``primary`` points from child to parent).
        roll_jitter: extra roll in radians, uniform in ``[-roll_jitter, roll_jitter]`` per joint,
            drawn from ``seed``: hand-made rigs rarely have tidy rolls.
        seed: seed of the roll jitter (keeps the build deterministic).
    """

    name: str
    method: str = "arc"
    primary: str = "+Y"
    secondary: str = "+Z"
    hint: tuple[float, float, float] = (0.0, 1.0, 0.0)
    fallback: tuple[float, float, float] = (0.0, 0.0, 1.0)
    mirror_right: bool = False
    roll_jitter: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in ("arc", "aim", "identity"):
            raise ValueError(f"convention {self.name!r}: unknown method {self.method!r}")
        if self.primary not in _AXES or self.secondary not in _AXES:
            raise ValueError(f"convention {self.name!r}: axes must be one of {list(_AXES)}")
        if _AXES[self.primary][0] == _AXES[self.secondary][0]:
            raise ValueError(f"convention {self.name!r}: primary and secondary axes must differ")


BLENDER = AxisConvention("blender", method="arc", primary="+Y")
MAYA = AxisConvention("maya", method="aim", primary="+X", secondary="+Y", hint=(0, 1, 0), fallback=(0, 0, 1))
UNREAL = AxisConvention(
    "unreal", method="aim", primary="+X", secondary="+Z", hint=(0, 0, 1), fallback=(0, 1, 0), mirror_right=True
)
Z_FORWARD = AxisConvention("z-forward", method="aim", primary="+Z", secondary="+Y", hint=(0, 1, 0), fallback=(1, 0, 0))
IDENTITY = AxisConvention("identity", method="identity")


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def _arc_frame(direction: np.ndarray, axis: str) -> np.ndarray:
    """Blender's roll-0 bone frame: shortest arc from the local axis onto ``direction``."""
    i, sign = _AXES[axis]
    local = np.zeros(3)
    local[i] = sign
    if float(local @ direction) < -1.0 + 1e-9:
        # Blender's special case for a bone pointing straight against the axis (vec_roll_to_mat3):
        # a half turn about the next axis instead of an arbitrary one.
        flip = np.zeros(3)
        flip[(i + 1) % 3] = 1.0  # +Y primary: a half turn about Z, Blender's diag(-1, -1, 1)
        return rot.axis_angle_to_matrix(flip * np.pi)
    return rot.quat_to_matrix(rot.quat_between(local, direction))


def _aim_frame(direction: np.ndarray, conv: AxisConvention) -> np.ndarray:
    """Maya-style aim frame: ``primary`` along ``direction``, ``secondary`` toward the hint."""
    a, sa = _AXES[conv.primary]
    b, sb = _AXES[conv.secondary]
    c = 3 - a - b
    hint = np.asarray(conv.hint, dtype=np.float64)
    if np.linalg.norm(np.cross(hint, direction)) < 0.2:
        hint = np.asarray(conv.fallback, dtype=np.float64)
    up = _unit(hint - (hint @ direction) * direction)
    cols = np.zeros((3, 3))
    cols[:, a] = sa * direction
    cols[:, b] = sb * up
    # Right-handed: e_c = e_a x e_b when (a, b, c) is a cyclic order of (0, 1, 2).
    cols[:, c] = np.cross(cols[:, a], cols[:, b]) if (b - a) % 3 == 1 else np.cross(cols[:, b], cols[:, a])
    return cols


# %% design
SheetPoint = tuple[str, tuple[float, float, float]]  # (joint it follows, world offset from it at rest, metres)


@dataclass(frozen=True)
class JointSpec:
    """One authored joint.

    Attributes:
        name: joint name.
        parent: parent name, ``None`` for the root.
        offset: ``(3,)`` metres, world offset from the parent at rest (root: world position).
        radius: half-thickness of the bone's mesh segment, metres.
        tip: ``(3,)`` world offset of an end site (leaf joints), or ``None``.
        roll: extra twist about the bone, radians (used by every convention but identity).
        aim: name of the joint this joint's frame aims at (default: along ``tip`` if set, else
            at its first child).
        side: ``"L"``, ``"R"`` or ``"C"`` (centre).
    """

    name: str
    parent: str | None
    offset: tuple[float, float, float]
    radius: float = 0.02
    tip: tuple[float, float, float] | None = None
    roll: float = 0.0
    aim: str | None = None
    side: str = "C"


@dataclass(frozen=True)
class RigDesign:
    """An authored rig before any local-axis convention: joints with world rest offsets.

    Attributes:
        name: rig name.
        joints: the joints, parents first.
        mirror: map from each sided joint name to its mirror-image joint name.
        sheets: thin skinned surfaces (wing membranes, feathers): each sheet is a tuple of rows of
            equal length, each row a tuple of :data:`SheetPoint`; consecutive rows are joined by
            quads.
    """

    name: str
    joints: tuple[JointSpec, ...]
    mirror: dict[str, str] = field(default_factory=dict)
    sheets: tuple[tuple[tuple[SheetPoint, ...], ...], ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.joints)

    @property
    def parents(self) -> np.ndarray:
        """``(J,)`` int64 parent indices."""
        index = {s.name: i for i, s in enumerate(self.joints)}
        return np.array([index[s.parent] if s.parent is not None else -1 for s in self.joints], dtype=np.int64)

    def index(self, name: str) -> int:
        """Index of joint ``name`` (``KeyError`` names it)."""
        for i, s in enumerate(self.joints):
            if s.name == name:
                return i
        raise KeyError(f"rig design {self.name!r} has no joint {name!r}")

    def rest_positions(self) -> np.ndarray:
        """``(J, 3)`` float64 designed world rest positions, metres."""
        pos = np.zeros((len(self.joints), 3))
        for j, (s, p) in enumerate(zip(self.joints, self.parents)):
            pos[j] = np.asarray(s.offset) + (pos[p] if p >= 0 else 0.0)
        return pos

    def bone_directions(self) -> np.ndarray:
        """``(J, 3)`` unit world direction each joint's frame aims along at rest.

        Toward ``aim`` if set, else along the end site if the joint has one (a head with a jaw
        child still points along the head), else toward the first child; otherwise it continues
        its parent's bone, and a lone root aims up.
        """
        pos = self.rest_positions()
        parents = self.parents
        out = np.zeros_like(pos)
        for j, s in enumerate(self.joints):
            children = [c for c in range(len(self.joints)) if parents[c] == j]
            if s.aim is not None:
                v = pos[self.index(s.aim)] - pos[j]
            elif s.tip is not None:
                v = np.asarray(s.tip, dtype=np.float64)
            elif children:
                v = pos[children[0]] - pos[j]
            elif parents[j] >= 0:
                v = np.asarray(s.offset, dtype=np.float64)
            else:
                v = np.array([0.0, 1.0, 0.0])
            out[j] = _unit(v)
        return out

    def rest_frames(self, convention: AxisConvention) -> np.ndarray:
        """``(J, 3, 3)`` world rest rotation of every joint under ``convention``."""
        J = len(self.joints)
        if convention.method == "identity":
            return np.broadcast_to(np.eye(3), (J, 3, 3)).copy()
        jitter = np.random.default_rng(convention.seed).uniform(-1.0, 1.0, J) * convention.roll_jitter
        frames = np.zeros((J, 3, 3))
        for j, (s, d) in enumerate(zip(self.joints, self.bone_directions())):
            mirrored = convention.mirror_right and s.side == "R"
            dd = _MIRROR @ d if mirrored else d
            f = _arc_frame(dd, convention.primary) if convention.method == "arc" else _aim_frame(dd, convention)
            f = rot.axis_angle_to_matrix(dd * (s.roll + jitter[j])) @ f
            frames[j] = _MIRROR @ f @ _MIRROR if mirrored else f
        return frames

    def skeleton(self, convention: AxisConvention) -> Skeleton:
        """The rig's :class:`Skeleton` under ``convention`` (same rest world positions for all)."""
        frames = self.rest_frames(convention)
        parents = self.parents
        trans = np.zeros((len(self.joints), 3))
        local = np.zeros_like(frames)
        for j, (s, p) in enumerate(zip(self.joints, parents)):
            parent_frame = frames[p] if p >= 0 else np.eye(3)
            trans[j] = parent_frame.T @ np.asarray(s.offset, dtype=np.float64)
            local[j] = parent_frame.T @ frames[j]
        ends = [j for j, s in enumerate(self.joints) if s.tip is not None]
        end_offsets = np.array([frames[j].T @ np.asarray(self.joints[j].tip) for j in ends]).reshape(-1, 3)
        return Skeleton(
            names=self.names,
            parents=parents,
            rest_translations=trans,
            rest_rotations=rot.matrix_to_quat(local),
            end_site_joints=np.array(ends, dtype=np.int64),
            end_site_offsets=end_offsets,
        )

    def local_rotations(self, deltas: np.ndarray, convention: AxisConvention) -> np.ndarray:
        """Local rotations ``(..., J, 4)`` under ``convention`` for design deltas ``(..., J, 4)``.

        ``L[j] = R[p]^T d[j] R[j]`` with ``R`` the rest frames (root: ``d[root] R[root]``).
        """
        frames = self.rest_frames(convention)
        parents = self.parents
        parent_frames = np.where((parents >= 0)[:, None, None], frames[np.maximum(parents, 0)], np.eye(3))
        d = rot.quat_to_matrix(deltas)  # (..., J, 3, 3)
        local = np.swapaxes(parent_frames, -1, -2) @ d @ frames
        return rot.matrix_to_quat(local)

    def clip(self, pose: PoseBuilder, convention: AxisConvention, name: str, fps: float = 30.0) -> Clip:
        """A :class:`Clip` of ``pose`` under ``convention``; root translation = rest + pose offset."""
        skeleton = self.skeleton(convention)
        T = pose.num_frames
        trans = np.broadcast_to(skeleton.rest_translations, (T, len(self.joints), 3)).copy()
        roots = np.flatnonzero(self.parents < 0)
        trans[:, roots, :] += pose.root_offsets[:, None, :]
        return Clip(name, fps, self.local_rotations(pose.deltas, convention), trans)


# %% authoring
class RigBuilder:
    """Collects :class:`JointSpec` entries; :meth:`design` freezes them into a :class:`RigDesign`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._joints: list[JointSpec] = []
        self._mirror: dict[str, str] = {}
        self._sheets: list[tuple[tuple[SheetPoint, ...], ...]] = []

    def joint(
        self,
        name: str,
        parent: str | None,
        offset: tuple[float, float, float] | np.ndarray,
        *,
        radius: float = 0.02,
        tip: tuple[float, float, float] | np.ndarray | None = None,
        roll: float = 0.0,
        aim: str | None = None,
        side: str = "C",
    ) -> str:
        """Add one joint at world ``offset`` (metres) from ``parent``; returns its name."""
        if any(s.name == name for s in self._joints):
            raise ValueError(f"rig {self.name!r}: joint {name!r} declared twice")
        if parent is not None and not any(s.name == parent for s in self._joints):
            raise ValueError(f"rig {self.name!r}: parent {parent!r} of {name!r} is not declared yet")
        as_tuple = lambda v: tuple(float(x) for x in np.asarray(v, dtype=np.float64).reshape(3))  # noqa: E731
        self._joints.append(
            JointSpec(name, parent, as_tuple(offset), float(radius), None if tip is None else as_tuple(tip), float(roll), aim, side)
        )
        return name

    def chain(
        self,
        names: list[str],
        parent: str,
        *,
        direction: tuple[float, float, float] | None = None,
        lengths: list[float] | None = None,
        offsets: list[tuple[float, float, float]] | None = None,
        radius: float | list[float] = 0.02,
        tip: float | tuple[float, float, float] | None = None,
        side: str = "C",
        bend: tuple[float, float, float] | None = None,
    ) -> list[str]:
        """Add a chain of joints, each the child of the previous one.

        Args:
            names: joint names, root of the chain first.
            parent: the joint the chain hangs from.
            direction: world direction of the chain (with ``lengths``), or give ``offsets``.
            lengths: metres per joint, the offset of each joint from the previous one.
            offsets: explicit world offsets per joint instead of ``direction``/``lengths``.
            radius: mesh half-thickness, one value or one per joint.
            tip: end site of the last joint: a length along the last segment or a world offset.
            side: ``"L"``, ``"R"`` or ``"C"``.
            bend: rotation vector (radians, world) applied cumulatively to the direction after
                each joint, so chains can curl (tails, necks, fingers).

        Returns:
            The names, for convenience.
        """
        if offsets is None:
            if direction is None or lengths is None or len(lengths) != len(names):
                raise ValueError(f"rig {self.name!r}: chain {names[0]!r} needs offsets, or direction and one length per joint")
            step = rot.axis_angle_to_matrix(np.asarray(bend if bend is not None else (0, 0, 0), dtype=np.float64))
            d = _unit(np.asarray(direction, dtype=np.float64))
            offsets = []
            for length in lengths:
                offsets.append(tuple(d * length))
                d = step @ d
        radii = radius if isinstance(radius, list) else [radius] * len(names)
        previous = parent
        for i, (name, off) in enumerate(zip(names, offsets)):
            last = i == len(names) - 1
            end = None
            if last and tip is not None:
                end = _unit(np.asarray(offsets[-1], dtype=np.float64)) * tip if np.isscalar(tip) else tip
            previous = self.joint(name, previous, off, radius=radii[i], tip=end, side=side)
        return list(names)

    def aim(self, joint: str, target: str) -> None:
        """Make ``joint``'s frame aim at ``target`` (e.g. a hand at its middle finger)."""
        names = [s.name for s in self._joints]
        if joint not in names or target not in names:
            raise ValueError(f"rig {self.name!r}: cannot aim {joint!r} at {target!r}: unknown joint")
        k = names.index(joint)
        s = self._joints[k]
        self._joints[k] = JointSpec(s.name, s.parent, s.offset, s.radius, s.tip, s.roll, target, s.side)

    def sheet(self, rows: list[list[str | tuple[str, tuple[float, float, float]]]]) -> None:
        """Add a thin skinned surface (a wing membrane, a feather fan) spanning ``rows``.

        Args:
            rows: two or more rows of equal length; consecutive rows are joined by quads. A point
                is a joint name (its rest position), ``"Joint.tip"`` (its end site) or
                ``(joint, offset)``: a point ``offset`` metres (world, at rest) from the joint,
                moving rigidly with it.
        """
        names = {s.name: s for s in self._joints}
        out = []
        for row in rows:
            points = []
            for point in row:
                if isinstance(point, str):
                    joint, _, tip = point.partition(".")
                    if joint in names and tip == "tip" and names[joint].tip is None:
                        raise ValueError(f"rig {self.name!r}: sheet point {point!r}: the joint has no end site")
                    offset = names[joint].tip if tip == "tip" and joint in names else (0.0, 0.0, 0.0)
                else:
                    joint, offset = point
                if joint not in names:
                    raise ValueError(f"rig {self.name!r}: sheet point refers to unknown joint {joint!r}")
                points.append((joint, tuple(float(x) for x in offset)))
            out.append(tuple(points))
        if len(out) < 2 or len({len(r) for r in out}) != 1 or len(out[0]) < 2:
            raise ValueError(f"rig {self.name!r}: a sheet needs two or more rows of equal length (2 points or more)")
        self._sheets.append(tuple(out))

    def mirror(self, left_prefix: str = "Left", right_prefix: str = "Right") -> None:
        """Add the mirror image (x -> -x) of every joint whose name starts with ``left_prefix``.

        Left joints are marked ``side="L"``, their copies ``side="R"``; rolls are negated so the
        copies are true mirror images.
        """
        lefts = [s for s in self._joints if s.name.startswith(left_prefix)]
        if not lefts:
            raise ValueError(f"rig {self.name!r}: no joint starts with {left_prefix!r}")
        rename = lambda n: (right_prefix + n[len(left_prefix):]) if n and n.startswith(left_prefix) else n  # noqa: E731
        flip = lambda v: None if v is None else (-v[0], v[1], v[2])  # noqa: E731
        for k, s in enumerate(self._joints):
            if s.name.startswith(left_prefix):
                self._joints[k] = JointSpec(s.name, s.parent, s.offset, s.radius, s.tip, s.roll, s.aim, "L")
        for s in lefts:
            copy = JointSpec(rename(s.name), rename(s.parent), flip(s.offset), s.radius, flip(s.tip), -s.roll, rename(s.aim), "R")
            self._joints.append(copy)
            self._mirror[s.name] = copy.name
            self._mirror[copy.name] = s.name
        for sheet in list(self._sheets):
            if any(joint.startswith(left_prefix) for row in sheet for joint, _ in row):
                self._sheets.append(tuple(tuple((rename(j), flip(o)) for j, o in row) for row in sheet))

    def design(self) -> RigDesign:
        """The frozen design, joints reordered so every parent precedes its children."""
        children: dict[str | None, list[JointSpec]] = {}
        for s in self._joints:
            children.setdefault(s.parent, []).append(s)
        ordered: list[JointSpec] = []
        stack = list(reversed(children.get(None, [])))
        while stack:  # depth-first, keeping declaration order among siblings
            s = stack.pop()
            ordered.append(s)
            stack.extend(reversed(children.get(s.name, [])))
        return RigDesign(self.name, tuple(ordered), dict(self._mirror), tuple(self._sheets))


class PoseBuilder:
    """Design deltas for ``frames`` frames, edited joint by joint (see the module docstring).

    Attributes:
        deltas: ``(T, J, 4)`` float64 x y z w design-frame rotations relative to the parent.
        root_offsets: ``(T, 3)`` metres, world offset of the root(s) from their rest position.
    """

    def __init__(self, design: RigDesign, frames: int = 1) -> None:
        self.design = design
        self.deltas = rot.quat_identity((frames, len(design.joints)))
        self.root_offsets = np.zeros((frames, 3))

    @property
    def num_frames(self) -> int:
        return int(self.deltas.shape[0])

    def rotate(self, joint: str, axis: tuple[float, float, float], angle: float | np.ndarray) -> None:
        """Rotate ``joint`` by ``angle`` radians (scalar or ``(T,)``) about a design-frame ``axis``.

        The rotation is applied after (on top of) what the joint already has.
        """
        j = self.design.index(joint)
        angle = np.broadcast_to(np.asarray(angle, dtype=np.float64), (self.num_frames,))
        q = rot.axis_angle_to_quat(_unit(np.asarray(axis, dtype=np.float64))[None, :] * angle[:, None])
        self.deltas[:, j] = rot.quat_multiply(q, self.deltas[:, j])

    def rotate_sym(self, joint: str, axis: tuple[float, float, float], angle: float | np.ndarray) -> None:
        """:meth:`rotate` ``joint`` and the mirror image of it on its mirror joint."""
        self.rotate(joint, axis, angle)
        self.rotate(self.design.mirror[joint], (axis[0], -axis[1], -axis[2]), angle)


# %% assembly
@dataclass(frozen=True)
class AuthoredRig:
    """A built rig together with the design and convention it came from.

    Attributes:
        design: the convention-free design (rest world positions, mirror map).
        convention: the local-axis convention the skeleton uses.
        rig: the :class:`~engine.rig.Rig`: skeleton, mesh, clips and ``reference_pose``.
    """

    design: RigDesign
    convention: AxisConvention
    rig: Rig

    def reference_clip(self) -> Clip:
        """The reference pose as a one-frame clip named ``"reference"`` (how files store it)."""
        sk = self.rig.skeleton
        return Clip("reference", self.rig.clips[0].fps if self.rig.clips else 30.0, self.rig.reference_rotations()[None], sk.rest_translations[None].copy())

    def file_clips(self) -> list[Clip]:
        """Every clip a bundled file stores: ``reference`` first, then the animations."""
        return [self.reference_clip(), *self.rig.clips]


def assemble(
    design: RigDesign,
    convention: AxisConvention,
    reference: PoseBuilder,
    clips: dict[str, PoseBuilder],
    *,
    fps: float = 30.0,
    humanoid: dict[str, str] | None = None,
) -> AuthoredRig:
    """Build the skeleton, skin and clips of ``design`` under ``convention``.

    Args:
        design: the authored joints.
        convention: local-axis convention of the built skeleton.
        reference: one-frame pose stored as ``rig.reference_pose``.
        clips: animation name -> pose track, sampled at ``fps``.
        fps: frame rate of every clip.
        humanoid: Unity ``HumanBodyBones`` name -> joint name, for humanoid rigs.
    """
    if reference.num_frames != 1:
        raise ValueError(f"rig {design.name!r}: the reference pose must have one frame, got {reference.num_frames}")
    skeleton = design.skeleton(convention)
    rig = Rig(
        name=design.name,
        skeleton=skeleton,
        clips=[design.clip(pose, convention, name, fps) for name, pose in clips.items()],
        mesh=skin_mesh(design),
        humanoid=dict(humanoid or {}),
        reference_pose=design.local_rotations(reference.deltas, convention)[0],
        source=SourceInfo(format="generated", notes=[f"authored by AnyRig, axis convention: {convention.name}"]),
    )
    return AuthoredRig(design, convention, rig)
