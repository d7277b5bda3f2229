"""``python main.py eval-live --probes | --video FILE | --gate``: what the live path carries onto each rig.

``--probes``: the bundled humanoid performs each authored probe motion
(:mod:`engine.evaluation.probe_motions`: head yaw / pitch / roll, torso twist, forearm pronation,
arm side and front raise, arms relaxed), is rendered offscreen (:mod:`tools.offscreen_render`, the
camera of ``eval-live``), and every frame goes through the whole live path -- MediaPipe
PoseLandmarker -> performer (the landmark V2P when its weights load, as in the app) -> retarget ->
solver -> One Euro filter, i.e. the processor :func:`streaming.processor.build_processor` builds --
onto each rig (default: humanoid, dragon, quadruped, bird, snake, spider). MediaPipe runs once per
probe; each rig replays its landmarks. Per probe and rig it reports where the probe is read
(:func:`engine.evaluation.probe_measures.probe_joints`), the gain, amplitude ratio, leakage into
the other axes, the largest frame-to-frame step of that reading, the count of frames where any
joint turns more than 90 degrees between frames, and on the humanoid the rotation error against
the authored motion (body joints, and the probed joint's reading). The JSON layout is documented
in README ("Probes: what reaches the rig").

``--video FILE --rig NAME``: a real video through the same path: detection rate, person-gate accept
rate, >90 degree jumps, rotation jitter (mean angular acceleration of the rig's local rotations).

``--gate``: the person gate's accept rate on every video of the video folder (``human_*`` should be
accepted, ``animal_*`` rejected).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.evaluation.probe_measures import count_jumps, probe_joints, probe_scores, relative_rotation, rest_scores, rotation_jitter_deg_s2
from engine.errors import AnyRigError
from engine.evaluation.probe_motions import PROBES, ProbeMotion, author_probe, probe_spec
from engine.perception.landmarks import LandmarkFrame
from engine.rig import Rig
from engine.perception.model_files import ModelFileError
from tools.eval_live import ReplayPerception
from tools.face_hands_replay import APP_SCHEDULE, FaceHandsRecording, record_face_hands, replay_stage

__all__ = ["PROBE_RIGS", "cmd_eval_live", "probe_targets", "ProbeRun", "drive_probe", "evaluate_probes", "evaluate_video", "probe_landmarks", "probe_table", "run_probes_command"]

logger = logging.getLogger(__name__)

PROBE_RIGS = ("humanoid", "dragon", "quadruped", "bird", "snake", "spider")
# Bump when the probe motions or the renderer change: cached probe landmarks carry it in their name.
PROBE_CACHE_VERSION = 2  # 2: the renderer draws palms and fingers (issue 13)
_IMAGE_SHAPE = (480, 640, 3)  # the renderer's frames (tools.offscreen_render.CameraSpec defaults)


@dataclass(frozen=True, eq=False)
class ProbeRun:
    """One probe, rendered and seen by MediaPipe.

    Attributes:
        motion: the authored probe on the bundled humanoid.
        landmarks: MediaPipe's landmarks of every rendered frame.
        image_shape: ``(H, W, 3)`` of the frames (root motion needs the image size).
        face_hands: what the face and hand landmarkers saw on them (None: body only).
    """

    motion: ProbeMotion
    landmarks: list[LandmarkFrame]
    image_shape: tuple[int, int, int]
    face_hands: FaceHandsRecording | None = None


def _save_landmarks(path: Path, landmarks: list[LandmarkFrame], fps: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, fps=fps, world=np.stack([f.world for f in landmarks]), image=np.stack([f.image for f in landmarks]),
             visibility=np.stack([f.visibility for f in landmarks]), presence=np.stack([f.presence for f in landmarks]),
             found=np.array([f.person_found for f in landmarks]), t_ms=np.array([f.t_ms for f in landmarks]))


def _load_landmarks(path: Path) -> tuple[list[LandmarkFrame], float]:
    z = np.load(path)
    frames = [LandmarkFrame(z["world"][t], z["image"][t], z["visibility"][t], z["presence"][t], bool(z["found"][t]), int(z["t_ms"][t]))
              for t in range(len(z["found"]))]
    return frames, float(z["fps"])


def probe_landmarks(name: str, frames: int, cache: Path | None = None, model_path: str | None = None,
                    face_hands: bool = True) -> ProbeRun:
    """Author probe ``name`` on the bundled humanoid, render it and run MediaPipe's pose (and, with
    ``face_hands``, its face and hand landmarkers; skipped with a warning when their model files
    are missing), or read what they saw from ``cache``."""
    from engine.rigs.bundled import build_rig
    from tools.eval_live import detect, render_clip

    authored = build_rig("humanoid")
    skeleton, bones = authored.rig.skeleton, dict(authored.rig.humanoid)
    motion = author_probe(skeleton, bones, name, frames)
    stem = f"probe_v{PROBE_CACHE_VERSION}_{name}_{frames}"
    cached = cache / f"{stem}.npz" if cache is not None else None
    cached_fh = cache / f"{stem}_face_hands.npz" if cache is not None else None
    landmarks = _load_landmarks(cached)[0] if cached is not None and cached.is_file() else None
    recording = FaceHandsRecording.load(cached_fh) if face_hands and cached_fh is not None and cached_fh.is_file() else None
    if landmarks is not None and (recording is not None or not face_hands):
        return ProbeRun(motion, landmarks, _IMAGE_SHAPE, recording)
    t0 = time.monotonic()
    rc = render_clip(f"probe:{name}", skeleton, bones, motion.clip, frames)
    if landmarks is None:
        landmarks = detect(rc.images, rc.fps, model_path)
        if cached is not None:
            _save_landmarks(cached, landmarks, rc.fps)
    if face_hands:
        try:
            recording = record_face_hands(rc.images, landmarks, rc.fps)
        except ModelFileError as e:
            logger.warning("probe %s: face and hands not measured (%s)", name, e)
        else:
            if cached_fh is not None:
                recording.save(cached_fh)
    logger.info("probe %s: rendered and detected %d frames in %.1f s", name, frames, time.monotonic() - t0)
    return ProbeRun(motion, landmarks, tuple(rc.images.shape[1:]), recording)


def live_processor(rig: Rig, solver: str = "analytic_ik", v2p_weights: str | None = None, arm_depth: bool = True):
    """The app's processor for ``rig`` (:func:`streaming.processor.build_processor`, CPU, eager), perception replaced later."""
    from streaming.processor import build_processor

    return build_processor(rig, perception="simulated", device="cpu", backend="eager", solver=solver, v2p_weights=v2p_weights,
                           arm_depth=arm_depth)


def drive_probe(processor, landmarks: list[LandmarkFrame], image_shape: tuple[int, ...], fps: float,
                face_hands: FaceHandsRecording | None = None, segments: list | None = None,
                face_hand_states: list | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Replay ``landmarks`` (and the face and hands of ``face_hands``, on the app's default
    schedule but on the calling thread, so without the worker's frame or two of lag) through
    ``processor`` (reset first). ``segments`` and ``face_hand_states``, when given, collect each
    frame's segment turns and face and hands state (None where no result came).

    Returns local rotations ``(T, J, 4)`` (the reference pose where no result came), a ``(T,)``
    mask of frames with a result, and a ``(T,)`` mask of frames the person gate accepted (all True
    when the processor has no gate).
    """
    from streaming.frames import Frame

    processor.use_face_hands(None if face_hands is None else replay_stage(face_hands, APP_SCHEDULE))
    processor.reset()
    processor.perception = ReplayPerception(landmarks)
    rig = processor.rig
    J = rig.skeleton.num_joints
    stub = np.zeros(image_shape, dtype=np.uint8)
    rots = np.tile(rig.reference_rotations(), (len(landmarks), 1, 1))
    valid = np.zeros(len(landmarks), dtype=bool)
    accepted = np.ones(len(landmarks), dtype=bool)
    for t in range(len(landmarks)):
        result = processor.process(Frame(stub, int(t * 1e9 / fps), t, "eval-live"))
        if result is not None:
            rots[t] = np.asarray(result.rotations, dtype=np.float64).reshape(J, 4)
            valid[t] = True
        accepted[t] = _gate_accepts(processor)
        if segments is not None:
            segments.append(getattr(processor, "last_segments", None) if result is not None else None)
        if face_hand_states is not None:
            face_hand_states.append(processor.last_face_hands if result is not None else None)
    return rots, valid, accepted


def _gate_accepts(processor) -> bool:
    """Whether the processor's person gate accepted the last frame (True when it has no gate)."""
    verdict = getattr(processor, "person_verdict", None)
    return True if verdict is None else bool(verdict.accepted)


def _retarget_map(processor):
    from engine.retarget.mapping import suggest_map

    return getattr(processor.retarget, "map", None) or suggest_map(processor.rig.skeleton, processor.rig.name)


def score_probe(processor, run: ProbeRun, rots: np.ndarray, valid: np.ndarray, accepted: np.ndarray, is_authored_rig: bool) -> dict:
    """The report of one probe on one rig (see the module docstring and README)."""
    from engine import rotations as rot
    from engine.evaluation.live_metrics import rotation_error_deg
    from tools.eval_live import body_joint_indices

    rig = processor.rig
    sk, ref = rig.skeleton, rig.reference_rotations()
    spec = run.motion.spec
    rmap = _retarget_map(processor)
    jumps = count_jumps(rots, valid)
    out: dict = {"result_rate": float(valid.mean()), "gate_accept_rate": float(accepted.mean()),
                 "jumps_over_90": jumps["frames"], "max_joint_step_deg": jumps["max_deg"],
                 "jump_joints": {sk.names[j]: n for j, n in jumps["joints"].items()}}
    if is_authored_rig:
        gt = run.motion.clip.rotations
        out["rotation_error_deg"] = rotation_error_deg(rots, gt, body_joint_indices(sk), valid)["mean"]
    if spec.part == "none":
        return out | rest_scores(sk, rmap, rots, ref, valid)
    where = probe_joints(sk, rmap, ref, spec)
    if where is None:
        return out | {"joint": None, "note": f"no joint corresponds to the probe's {spec.part} on this rig"}
    delta = relative_rotation(sk, rots, ref, where.joint, where.base)
    out |= {"joint": sk.names[where.joint], "base": sk.names[where.base], "axes": list(where.axis_names)}
    out |= probe_scores(run.motion.angle_deg, delta, where.axes, where.axis_names, valid, where.bone)
    if is_authored_rig:
        truth = relative_rotation(sk, run.motion.clip.rotations, ref, where.joint, where.base)
        err = np.degrees(rot.quat_geodesic_angle(delta, truth))[valid]
        out["probe_joint_error_deg"] = float(err.mean()) if len(err) else None
    return out


def evaluate_probes(probes: list[str], rigs: list[str], frames: int, solver: str = "analytic_ik", v2p_weights: str | None = None,
                    cache: Path | None = None, model_path: str | None = None, face_hands: bool = True,
                    arm_depth: bool = True) -> list[dict]:
    """Every probe on every rig: a list of ``{"probe", "authored", "frames", "detection_rate",
    "face_rate", "rigs": {rig: report}}`` (``face_hands``: the face and hands stage runs too, as in
    the app)."""
    from engine.rigs.bundled import load_bundled_rig

    runs = [probe_landmarks(name, frames, cache, model_path, face_hands) for name in probes]
    rows = [{"probe": r.motion.spec.name, "part": r.motion.spec.part, "axis": r.motion.spec.axis,
             "amplitude_deg": r.motion.spec.amplitude_deg, "shape": r.motion.spec.shape, "frames": len(r.landmarks),
             "detection_rate": float(np.mean([lm.person_found for lm in r.landmarks])),
             "face_rate": None if r.face_hands is None else float(np.mean([o.found for o in r.face_hands.face.values()] or [0.0])),
             "rigs": {}} for r in runs]
    for rig_name in rigs:
        rig = load_bundled_rig(rig_name)
        processor = live_processor(rig, solver, v2p_weights, arm_depth)
        try:
            for run, row in zip(runs, rows):
                seen: list | None = [] if "perceived" not in row else None
                rots, valid, accepted = drive_probe(processor, run.landmarks, run.image_shape, run.motion.clip.fps, run.face_hands, seen)
                if seen is not None:
                    row["perceived"] = perceived_gains(run.motion, seen)
                row["rigs"][rig_name] = score_probe(processor, run, rots, valid, accepted, rig_name == "humanoid")
                logger.info("probe %s on %s: %s", run.motion.spec.name, rig_name, _brief(row["rigs"][rig_name]))
        finally:
            processor.close()
    return rows


def perceived_gains(motion: ProbeMotion, segments: list) -> dict | None:
    """For the head and torso probes: the gain of the performer's head, chest and pelvis segment
    turns (world, before retargeting) about the probe's axis, i.e. how much of the motion the
    perception delivered (neutral: the mean over frames with the authored angle within 3 degrees)."""
    from engine.evaluation.probe_motions import WORLD_AXES

    spec = motion.spec
    if spec.part not in ("head", "torso") or spec.axis not in WORLD_AXES:
        return None
    axis = np.asarray(WORLD_AXES[spec.axis], dtype=np.float64)
    keep = [t for t, s in enumerate(segments) if s is not None]
    authored = np.asarray(motion.angle_deg, dtype=np.float64)[keep]
    if len(keep) < 3 or not np.any(np.abs(authored) < 3.0) or authored @ authored < 1e-9:
        return None
    out = {}
    for name in ("head", "chest", "pelvis"):
        angle = np.array([_twist_deg(segments[t].turn(name), axis) for t in keep])
        angle -= angle[np.abs(authored) < 3.0].mean()
        out[name] = float(authored @ angle / (authored @ authored))
    return out


def _twist_deg(M: np.ndarray, axis: np.ndarray) -> float:
    """Angle of the twist of rotation matrix ``M`` about unit ``axis`` (swing-twist split), degrees."""
    along = float(axis @ np.array([M[2, 1] - M[1, 2], M[0, 2] - M[2, 0], M[1, 0] - M[0, 1]]))
    return float(np.degrees(2.0 * np.arctan2(along, 1.0 + np.trace(M))))


def probe_targets(rows: list[dict]) -> list[dict]:
    """The issue's probe targets checked on a probe report: ``[{"target", "rig", "value", "met"}]``.

    Humanoid head yaw / pitch / roll gain >= 0.7 with the probed joint's error <= 12 degrees; other
    heads: yaw gain >= 0.7 with roll leakage <= 0.2; torso twist gain >= 0.6 on every rig with a
    spine; humanoid pronation gain >= 0.5; front raise monotone (>= 95 % of the steps) with no step
    above 20 degrees. Probes or rigs not in the report are left out.
    """
    out: list[dict] = []

    def add(target: str, rig: str, value, met: bool) -> None:
        out.append({"target": target, "rig": rig, "value": value, "met": bool(met)})

    by_probe = {r["probe"]: r["rigs"] for r in rows}
    for axis in ("yaw", "pitch", "roll"):
        e = by_probe.get(f"head_{axis}", {}).get("humanoid")
        if e and e.get("gain") is not None:
            add(f"head {axis} gain >= 0.7", "humanoid", e["gain"], e["gain"] >= 0.7)
            add(f"head {axis} error <= 12 deg", "humanoid", e["probe_joint_error_deg"], e["probe_joint_error_deg"] <= 12.0)
    for rig, e in by_probe.get("head_yaw", {}).items():
        if rig != "humanoid" and e.get("gain") is not None:
            add("head yaw gain >= 0.7", rig, e["gain"], e["gain"] >= 0.7)
            add("head yaw roll leakage <= 0.2", rig, e["leakage"]["roll"], e["leakage"]["roll"] <= 0.2)
    for rig, e in by_probe.get("torso_twist", {}).items():
        if e.get("gain") is not None:
            add("torso twist gain >= 0.6", rig, e["gain"], e["gain"] >= 0.6)
    e = by_probe.get("forearm_pronation", {}).get("humanoid")
    if e and e.get("gain") is not None:
        add("forearm pronation gain >= 0.5", "humanoid", e["gain"], e["gain"] >= 0.5)
    for rig, e in by_probe.get("arm_front_raise", {}).items():
        if e.get("monotone_fraction") is not None:
            add("front raise monotone (>= 95 % of steps)", rig, e["monotone_fraction"], e["monotone_fraction"] >= 0.95)
            add("front raise no step > 20 deg", rig, e["max_step_deg"], e["max_step_deg"] <= 20.0)
    return out


def _brief(r: dict) -> str:
    keys = ("gain", "leakage_max", "max_step_deg", "jumps_over_90", "rotation_error_deg", "arm_lowest_below_feet_m")
    return ", ".join(f"{k} {_fmt(r.get(k))}" for k in keys if r.get(k) is not None)


def _fmt(v) -> str:
    return "-" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v))


def probe_table(rows: list[dict]) -> str:
    """A text table: per probe and rig, gain / worst leakage / >90 degree jump frames (humanoid: + rotation error)."""
    rigs = list(rows[0]["rigs"]) if rows else []
    lines = ["probes: gain / leakage (worst other axis) / jumps>90 [/ rot err deg on the humanoid]",
             f"{'probe':<19}" + "".join(f"{r:>24}" for r in rigs)]
    for row in rows:
        cells = []
        for r in rigs:
            e = row["rigs"][r]
            if row["part"] == "none":
                cell = f"below {_fmt(e.get('arm_lowest_below_feet_m'))}m / {e['jumps_over_90']}"
            elif e.get("joint") is None:
                cell = "n/a"
            else:
                cell = f"{_fmt(e.get('gain'))} / {_fmt(e.get('leakage_max'))} / {e['jumps_over_90']}"
            if "rotation_error_deg" in e:
                cell += f" / {_fmt(e['rotation_error_deg'])}"
            cells.append(f"{cell:>24}")
        lines.append(f"{row['probe']:<19}" + "".join(cells))
    return "\n".join(lines)


def _video_face_hands(path: Path, landmarks: list[LandmarkFrame], fps: float, max_frames: int | None,
                      cache: Path | None) -> FaceHandsRecording | None:
    """What the face and hand landmarkers see in a video (cached beside its pose landmarks); None
    (with a warning) when their model files are missing."""
    import cv2

    cached = cache / f"{path.stem}_{max_frames or 'all'}_face_hands.npz" if cache is not None else None
    if cached is not None and cached.is_file():
        return FaceHandsRecording.load(cached)
    cap = cv2.VideoCapture(str(path))
    images = []
    while len(images) < len(landmarks):
        ok, image = cap.read()
        if not ok:
            break
        images.append(image)
    cap.release()
    try:
        recording = record_face_hands(images, landmarks[:len(images)], fps)
    except ModelFileError as e:
        logger.warning("%s: face and hands not measured (%s)", path.name, e)
        return None
    if cached is not None:
        recording.save(cached)
    return recording


def evaluate_video(path: Path, rig_name: str, solver: str = "analytic_ik", v2p_weights: str | None = None, max_frames: int | None = None,
                   cache: Path | None = None, face_hands: bool = True, arm_depth: bool = True) -> dict:
    """A real video through the live path onto ``rig_name``: detection, gate accept rate, jumps,
    jitter (``face_hands``: with the face and hands stage, as the app runs by default)."""
    import cv2

    from streaming.headless import load_rig_spec
    from tools.eval_live import _video_landmarks

    if not path.is_file():
        raise FileNotFoundError(f"--video: no file {path}")
    rig = load_rig_spec(rig_name)
    landmarks, fps = _video_landmarks(path, max_frames, cache)
    cap = cv2.VideoCapture(str(path))
    shape = (int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), 3)
    cap.release()
    recording = _video_face_hands(path, landmarks, fps, max_frames, cache) if face_hands else None
    processor = live_processor(rig, solver, v2p_weights, arm_depth)
    states: list = []
    try:
        rots, valid, accepted = drive_probe(processor, landmarks, shape, fps, recording, face_hand_states=states)
    finally:
        processor.close()
    palm_rate = None if recording is None else {side: float(np.mean([s is not None and side in s.palms for s in states]))
                                                for side in ("left", "right")}
    jumps = count_jumps(rots, valid)
    found = np.array([lm.person_found for lm in landmarks])
    face_rate = None if recording is None else float(np.mean([o.found for o in recording.face.values()] or [0.0]))
    return {"video": path.name, "rig": rig.name, "frames": len(landmarks), "fps": fps, "face_rate": face_rate, "palm_rate": palm_rate,
            "detection_rate": float(found.mean()),
            "result_rate": float(valid.mean()), "person_gate_accept_rate": float(accepted.mean()),
            "jumps_over_90": jumps["frames"], "max_joint_step_deg": jumps["max_deg"],
            "jump_joints": {rig.skeleton.names[j]: n for j, n in jumps["joints"].items()},
            "rotation_jitter_deg_s2": rotation_jitter_deg_s2(rots, valid, fps)}


# Clips with a person AND an animal in frame (../shared/video/README.md): the gate is also measured
# with the person masked out, i.e. on the animal alone.
TWO_SUBJECT_CLIPS = ("animal_dog_fetch_sam2.mp4",)


def gate_rates(landmarks: list[LandmarkFrame]) -> dict:
    """Detection and person-gate accept rates of a landmark sequence (one :class:`PersonGate`, frames in order)."""
    from engine.perception.person_gate import PersonGate

    gate = PersonGate()
    accepted = np.array([gate.update(lm).accepted for lm in landmarks])
    found = np.array([lm.person_found for lm in landmarks])
    return {"frames": len(landmarks), "detection_rate": float(found.mean()) if len(found) else 0.0,
            "accept_rate": float(accepted.mean()) if len(accepted) else 0.0, "reject_rate": float(1.0 - accepted.mean()) if len(accepted) else 0.0}


def _person_masked_landmarks(path: Path, landmarks: list[LandmarkFrame], fps: float, cache: Path | None, margin: float = 0.25) -> list[LandmarkFrame]:
    """MediaPipe on the video with the region of each frame's first detection (its landmarks' box,
    widened by ``margin`` of its size per side) filled with the frame's median colour."""
    import cv2

    from tools.eval_live import detect

    cached = cache / f"{path.stem}_person_masked.npz" if cache is not None else None
    if cached is not None and cached.is_file():
        return _load_landmarks(cached)[0]
    cap = cv2.VideoCapture(str(path))
    images = []
    for lm in landmarks:
        ok, img = cap.read()
        if not ok:
            break
        if lm.person_found:
            h, w = img.shape[:2]
            xy = lm.image[:, :2] * [w, h]
            lo, hi = xy.min(0), xy.max(0)
            pad = margin * (hi - lo)
            x0, y0 = np.clip(lo - pad, 0, [w, h]).astype(int)
            x1, y1 = np.clip(hi + pad, 0, [w, h]).astype(int)
            img[y0:y1, x0:x1] = np.median(img.reshape(-1, 3), axis=0).astype(np.uint8)
        images.append(img)
    cap.release()
    masked = detect(images, fps)
    if cached is not None:
        _save_landmarks(cached, masked, fps)
    return masked


def gate_report(video_dir: Path, max_frames: int | None = None, cache: Path | None = None) -> list[dict]:
    """The person gate on every ``*.mp4`` of ``video_dir``: ``human_*`` should be accepted (>= 98 %),
    ``animal_*`` rejected (>= 95 %); two-subject clips also with the person masked out."""
    from tools.eval_live import _video_landmarks

    rows = []
    for path in sorted(video_dir.glob("*.mp4")):
        landmarks, fps = _video_landmarks(path, max_frames, cache)
        kind = "animal" if path.name.startswith("animal_") else "human" if path.name.startswith("human_") else "other"
        row = {"video": path.name, "subject": kind} | gate_rates(landmarks)
        if path.name in TWO_SUBJECT_CLIPS:
            row["note"] = "a person is in frame with the animal; whole frame: MediaPipe tracks the person"
            row["person_masked"] = gate_rates(_person_masked_landmarks(path, landmarks, fps, cache))
        rows.append(row)
        logger.info("gate %-36s %-6s detected %.3f accepted %.3f%s", path.name, kind, row["detection_rate"], row["accept_rate"],
                    f" (person masked: detected {row['person_masked']['detection_rate']:.3f}, accepted {row['person_masked']['accept_rate']:.3f})"
                    if "person_masked" in row else "")
    return rows


def cmd_eval_live(args: argparse.Namespace) -> int:
    """Handler of ``main.py eval-live``: the probe / single-video / gate reports here, else :func:`tools.eval_live.cmd_eval_live`."""
    if not (args.probes or isinstance(args.video, str) or args.gate):
        from tools.eval_live import cmd_eval_live as rendered_and_videos

        return rendered_and_videos(args)
    import torch

    torch.set_num_threads(1)  # as eval-live: one intra-op thread (two were ~15x slower on the loaded 2-core machine)
    return run_probes_command(args)


def run_probes_command(args: argparse.Namespace) -> int:
    """``eval-live --probes`` / ``--video FILE`` / ``--gate``."""
    cache = Path(args.landmark_cache) if args.landmark_cache else None
    face_hands = not getattr(args, "body_only", False)
    arm_depth = not getattr(args, "no_arm_depth", False)
    report: dict = {"solver": args.solver, "face_hands": face_hands, "arm_depth": arm_depth}
    if args.probes:
        names = args.probe_names.split(",") if args.probe_names else [p.name for p in PROBES]
        rigs = args.probe_rigs.split(",") if args.probe_rigs else list(PROBE_RIGS)
        try:
            for n in names:
                probe_spec(n)
            from engine.rigs.bundled import bundled_rig_path

            for r in rigs:
                bundled_rig_path(r)
        except (KeyError, ValueError, FileNotFoundError) as e:
            logger.error("eval-live --probes: %s", e.args[0] if e.args else e)
            return 2
        rows = evaluate_probes(names, rigs, args.probe_frames, args.solver, args.v2p_weights, cache, face_hands=face_hands,
                               arm_depth=arm_depth)
        report["probes"] = rows
        report["targets"] = probe_targets(rows)
        for line in probe_table(rows).splitlines():
            logger.info("%s", line)
        met = [t for t in report["targets"] if t["met"]]
        logger.info("issue targets met: %d of %d; missed: %s", len(met), len(report["targets"]),
                    "; ".join(f"{t['rig']} {t['target']} ({_fmt(t['value'])})" for t in report["targets"] if not t["met"]) or "none")
    if isinstance(args.video, str):
        if not Path(args.video).is_file():
            logger.error("eval-live --video: no file %s", args.video)
            return 2
        try:
            row = evaluate_video(Path(args.video), args.rig, args.solver, args.v2p_weights, args.video_frames, cache, face_hands, arm_depth)
        except (AnyRigError, FileNotFoundError) as e:
            logger.error("eval-live --video --rig %s: %s", args.rig, e)
            return 2
        report["video"] = row
        logger.info("video %s on %s: %s", row["video"], row["rig"], json.dumps({k: v for k, v in row.items() if k not in ("video", "rig")}))
    if args.gate:
        from tools.eval_live import SHARED

        video_dir = Path(args.video_dir) if args.video_dir else SHARED / "video"
        if not video_dir.is_dir():
            logger.error("eval-live --gate: no folder %s", video_dir)
            return 2
        report["gate"] = gate_report(video_dir, args.video_frames, cache)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(_finite(report), indent=2))
        logger.info("wrote %s", args.json_out)
    return 0


def _finite(value):
    """``value`` with every NaN or infinite float replaced by ``None`` (strict JSON has neither)."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
