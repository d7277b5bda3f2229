"""A user's humanoid bone map as a JSON file: fixes or completes the map found by names and hierarchy.

The file is one JSON object, Unity ``HumanBodyBones`` name -> joint name (the direction of
:attr:`engine.rig.Rig.humanoid`), e.g. ``{"LeftHand": "hand_L", "UpperChest": "spine_03",
"Jaw": null}``. Entries override the found map, ``null`` removes a bone; ``"_replace": true``
ignores the found map altogether.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from engine.errors import AnyRigError
from engine.humanoid_bones import HUMAN_BODY_BONES
from engine.skeleton import Skeleton

__all__ = ["HumanoidMapError", "read_humanoid_map", "merge_humanoid_map", "write_humanoid_map"]


class HumanoidMapError(AnyRigError):
    """A humanoid map file that cannot be used: names the file and what is wrong."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path, self.reason = str(path), reason
        super().__init__(f"humanoid map {self.path}: {reason}")


def read_humanoid_map(path: str | Path, skeleton: Skeleton) -> tuple[dict[str, str | None], bool]:
    """The entries of a humanoid map file checked against ``skeleton``, and its ``_replace`` flag.

    Raises:
        HumanoidMapError: unreadable JSON, not an object, an unknown Unity bone name, a joint the
            skeleton lacks, or one joint given two bones.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise HumanoidMapError(path, f"cannot read it as JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise HumanoidMapError(path, "must be a JSON object of Unity bone name -> joint name")
    replace = bool(data.pop("_replace", False))
    known = set(HUMAN_BODY_BONES)
    bad = sorted(k for k in data if k not in known)
    if bad:
        raise HumanoidMapError(path, f"not Unity HumanBodyBones names: {bad[:5]}")
    wrong = sorted(k for k, v in data.items() if v is not None and not isinstance(v, str))
    if wrong:
        raise HumanoidMapError(path, f"joint names must be strings or null: {wrong[:5]}")
    absent = sorted(v for v in data.values() if v is not None and v not in skeleton.names)
    if absent:
        raise HumanoidMapError(path, f"the rig has no joints named {absent[:5]}")
    return dict(data), replace


def merge_humanoid_map(found: Mapping[str, str], entries: Mapping[str, str | None], replace: bool = False) -> dict[str, str]:
    """``found`` with ``entries`` applied (``None`` removes a bone); a joint named by an entry
    leaves any bone the found map gave it, so no joint is sent twice."""
    out = {} if replace else dict(found)
    for bone, joint in entries.items():
        out.pop(bone, None)
        if joint is not None:
            out = {b: j for b, j in out.items() if j != joint}  # the file's choice wins for that joint
            out[bone] = joint
    return {b: out[b] for b in HUMAN_BODY_BONES if b in out}


def write_humanoid_map(path: str | Path, bones: Mapping[str, str]) -> None:
    """Write ``bones`` (Unity name -> joint name) as a complete map file (``_replace``: true)."""
    ordered = {b: bones[b] for b in HUMAN_BODY_BONES if b in bones}
    Path(path).write_text(json.dumps({"_replace": True, **ordered}, indent=2) + "\n", encoding="utf-8")
