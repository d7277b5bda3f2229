"""How ``--vmc`` picks its stream: humanoid maps from files, loud fallbacks to generic, raw vs normalised."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.retarget.humanoid_map_file import HumanoidMapError, merge_humanoid_map, read_humanoid_map, write_humanoid_map
from engine.rig import Rig
from engine.skeleton import Skeleton
from streaming.headless import VmcOptions, make_sender_output, run_summary

REPO = Path(__file__).resolve().parents[2]


def _renamed_humanoid() -> Rig:
    """The bundled humanoid with both hands renamed to words no convention knows, and no map of its own."""
    from engine.rigs.bundled import build_rig

    rig = build_rig("humanoid").rig
    sk = rig.skeleton
    names = tuple({"LeftHand": "paw_a", "RightHand": "paw_b"}.get(n, n) for n in sk.names)
    skeleton = Skeleton(names, sk.parents, sk.rest_translations, sk.rest_rotations, sk.end_site_joints, sk.end_site_offsets)
    return Rig("renamed", skeleton, [])


def test_humanoid_looking_rig_sent_as_generic_is_reported_loudly() -> None:
    rig = _renamed_humanoid()
    out = make_sender_output("vmc", "127.0.0.1:9", rig)
    try:
        assert out.info["mode"] == "generic" and "LeftHand" in out.info["warning"] and "--humanoid-map" in out.info["warning"]
        report = {"duration_s": 1.0, "frames": {"captured": 1, "processed": 1, "dropped": 0}, "fps": {"processed": 1.0},
                  "senders": {"vmc": out.info}}
        assert "WARNING: rig renamed looks humanoid but is sent as a GENERIC VMC stream" in run_summary(report)
    finally:
        out.close()


def test_humanoid_map_file_completes_the_map(tmp_path: Path) -> None:
    rig = _renamed_humanoid()
    path = tmp_path / "map.json"
    path.write_text(json.dumps({"LeftHand": "paw_a", "RightHand": "paw_b", "Jaw": None}))
    out = make_sender_output("vmc", "127.0.0.1:9", rig, VmcOptions(humanoid_map=str(path)))
    try:
        assert out.info == {"mode": "humanoid", "convention": "normalized", "bones": 52}
        layout = out.sender.layout_for(rig.skeleton)
        assert layout.names[layout.names.index("LeftHand")] == "LeftHand" and rig.skeleton.names[layout.joints[layout.names.index("LeftHand")]] == "paw_a"
    finally:
        out.close()
    raw = make_sender_output("vmc", "127.0.0.1:9", rig, VmcOptions(raw=True, humanoid_map=str(path)))
    raw.close()
    assert raw.info["convention"] == "raw"


@pytest.mark.parametrize(
    ("content", "message"),
    [("{nope", "cannot read it as JSON"), ("[1]", "must be a JSON object"), ('{"LeftPaw": "x"}', "not Unity HumanBodyBones names"),
     ('{"LeftHand": "wing"}', "the rig has no joints named"), ('{"LeftHand": 3}', "strings or null")],
)
def test_bad_humanoid_map_files_name_the_fault(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "map.json"
    path.write_text(content)
    with pytest.raises(HumanoidMapError, match=message):
        read_humanoid_map(path, _renamed_humanoid().skeleton)


def test_map_entries_override_remove_and_replace(tmp_path: Path) -> None:
    found = {"Hips": "a", "Spine": "b", "Jaw": "c"}
    assert merge_humanoid_map(found, {"Jaw": None, "Chest": "b"}) == {"Hips": "a", "Chest": "b"}  # b leaves Spine
    assert merge_humanoid_map(found, {"Head": "d"}, replace=True) == {"Head": "d"}
    path = tmp_path / "full.json"
    write_humanoid_map(path, {"Spine": "b", "Hips": "a"})
    sk = Skeleton(("a", "b"), np.array([-1, 0]), np.zeros((2, 3)), np.tile([0.0, 0, 0, 1], (2, 1)))
    assert read_humanoid_map(path, sk) == ({"Hips": "a", "Spine": "b"}, True)


def test_non_humanoid_falls_back_quietly_with_a_note() -> None:
    from engine.rigs.bundled import build_rig

    out = make_sender_output("vmc", "127.0.0.1:9", build_rig("snake").rig)
    out.close()
    assert out.info["mode"] == "generic" and "warning" not in out.info and "not a humanoid" in out.info["note"]


def test_cli_rejects_a_bad_map_file_with_exit_code_2(tmp_path: Path) -> None:
    path = tmp_path / "map.json"
    path.write_text('{"LeftPaw": "x"}')
    proc = subprocess.run([sys.executable, "main.py", "run", "--rig", "humanoid", "--vmc", "127.0.0.1:9", "--humanoid-map", str(path),
                           "--seconds", "0.1"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "not Unity HumanBodyBones names: ['LeftPaw']" in proc.stderr
