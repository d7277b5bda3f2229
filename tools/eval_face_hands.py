"""``python main.py eval-face-hands``: face and hand tracking measured on real videos and on rendered hands.

Two parts (neither needs a camera):

1. **real videos** (``../shared/video/human_*.mp4``, no face or hand ground truth): the pose
   landmarks place the crops, the face and both hands run on every frame (the quality ceiling of
   any schedule). Per clip: detection rates of the face and each hand (of the frames where the
   crop could be placed), blendshape activity (``jawOpen`` and blink percentiles), blendshape
   jitter (median over still frame pairs, head turned < 1 degree, of the mean absolute change of
   the 51 shapes, and of ``jawOpen`` alone), finger curl ranges, and the cost of one face and one
   hand call (wall and process CPU milliseconds: MediaPipe computes on its own threads, so the
   process CPU time, not the calling thread's, is its cost; crops resized to at most 256 px);
2. **rendered hands with ground truth**: the bundled humanoid's left hand, drawn by
   :mod:`tools.offscreen_render` (palm + 15 finger segments) from a camera 0.5 m off the palm,
   with authored curls on every long-finger joint; the hand landmarker runs on the 256 px frame,
   and :func:`engine.face_hands.fingers.finger_pose` turns its landmarks into curls, compared
   with the authored ones (mean absolute error, and the gain: slope of measured vs authored).

A budget table combines the measured per-call CPU costs with the schedules (face every N frames,
hands every M frames, one or both hands per hands frame).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["add_eval_face_hands_args", "cmd_eval_face_hands", "evaluate_video", "evaluate_rendered_hands", "budget_table"]

SHARED = Path(__file__).resolve().parents[2] / "shared"
JAW = "jawOpen"


def _percentiles(values: list[float] | np.ndarray, qs: tuple[int, ...] = (5, 50, 95)) -> dict[str, float]:
    v = np.asarray(values, dtype=np.float64)
    return {f"p{q}": round(float(np.percentile(v, q)), 4) for q in qs} if v.size else {}


def _timed(detect: Any, crop: np.ndarray, t_ms: int, *, cost: dict[str, list[float]], key: str) -> Any:
    """``detect(crop, t_ms)``, adding its wall and process CPU milliseconds to ``cost[key + "_wall_ms" / "_cpu_ms"]``."""
    w0, c0 = time.perf_counter_ns(), time.process_time_ns()
    out = detect(crop, t_ms)
    cost[f"{key}_wall_ms"].append((time.perf_counter_ns() - w0) / 1e6)
    cost[f"{key}_cpu_ms"].append((time.process_time_ns() - c0) / 1e6)
    return out


def evaluate_video(path: Path, models: Path, max_frames: int | None = None) -> dict[str, Any]:
    """Detection, activity, jitter and cost of face and hands on one real clip (every frame, both hands)."""
    import cv2

    from engine.face_hands.fingers import finger_pose
    from engine import rotations as rot
    from engine.perception.crops import cut, hand_box, head_box, view_rotation
    from engine.perception.face_landmarker import BLENDSHAPE_NAMES, FaceLandmarkerAdapter
    from engine.perception.hand_landmarker import HandLandmarkerAdapter
    from engine.perception.pose_landmarker import PoseLandmarkerAdapter
    from engine.performer.segments import SegmentTracker
    from streaming.face_hands_stage import FACE_CROP_MAX, HAND_CROP_MAX, FaceHandsConfig
    from streaming.one_euro import VectorOneEuro

    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    pose = PoseLandmarkerAdapter(models / "pose_landmarker_full.task")
    face = FaceLandmarkerAdapter(models / "face_landmarker.task", allow_download=False)
    hands = {s: HandLandmarkerAdapter(models / "hand_landmarker.task", allow_download=False) for s in ("left", "right")}
    n = persons = face_boxes = faces = 0
    hand_boxes = {"left": 0, "right": 0}
    hands_found = {"left": 0, "right": 0}
    blend: list[np.ndarray | None] = []
    heads: list[np.ndarray | None] = []
    fits: list[np.ndarray | None] = []  # the body path's head turn (2D face fit), for comparison with the face's
    tracker = SegmentTracker()
    curls: list[np.ndarray] = []
    palms = {side: {"readings": 0, "clearly_side": 0, "used": 0, "continues_forearm_deg": [], "mirror_continues_forearm_deg": []}
             for side in ("left", "right")}
    cost = {"face_wall_ms": [], "face_cpu_ms": [], "hand_wall_ms": [], "hand_cpu_ms": [], "pose_cpu_ms": []}
    try:
        while max_frames is None or n < max_frames:
            ok, image = capture.read()
            if not ok:
                break
            t_ms = int(n * 1000 / fps)
            n += 1
            c0 = time.process_time_ns()
            landmarks = pose.detect(image, t_ms)
            cost["pose_cpu_ms"].append((time.process_time_ns() - c0) / 1e6)
            blend.append(None)
            heads.append(None)
            fits.append(None)
            if not landmarks.person_found:
                continue
            persons += 1
            H, W = image.shape[:2]
            fits[-1] = tracker(landmarks, (W, H)).turn("head")
            box = head_box(landmarks, W, H)
            if box is not None:
                face_boxes += 1
                seen = _timed(face.detect, cut(image, box, FACE_CROP_MAX), t_ms, cost=cost, key="face")
                if seen.found:
                    faces += 1
                    # In the camera's axes, as the live stage turns it (engine.perception.crops.view_rotation).
                    blend[-1], heads[-1] = seen.blendshapes, rot.matrix_to_quat(view_rotation(box, W, H) @ rot.quat_to_matrix(seen.head_rotation))
            for side, adapter in hands.items():
                hbox = hand_box(landmarks, side, W, H)
                if hbox is None:
                    continue
                hand_boxes[side] += 1
                seen_hand = _timed(adapter.detect, cut(image, hbox, HAND_CROP_MAX), t_ms, cost=cost, key="hand")
                if seen_hand.found:
                    hands_found[side] += 1
                    curls.append(np.degrees(finger_pose(seen_hand.world).curl))
                    _check_palm(palms[side], side, landmarks, seen_hand.world, view_rotation(hbox, W, H))
    finally:
        capture.release()
        pose.close()
        face.close()
        for adapter in hands.values():
            adapter.close()
    jaw_i = BLENDSHAPE_NAMES.index(JAW)
    blink = [BLENDSHAPE_NAMES.index("eyeBlinkLeft"), BLENDSHAPE_NAMES.index("eyeBlinkRight")]
    found = [b for b in blend if b is not None]
    # The live stage's blendshape filter over the same values (restarted after a frame without a face).
    smoother = VectorOneEuro(FaceHandsConfig().blendshape_filter)
    filtered: list[np.ndarray | None] = []
    for k, b in enumerate(blend):
        if b is None:
            smoother.reset()
        filtered.append(None if b is None else smoother(b, k / fps))
    still_all, still_jaw, still_filtered = [], [], []
    for k in range(1, len(blend)):
        if _still(blend, heads, k):
            b0, b1, f0, f1 = blend[k - 1], blend[k], filtered[k - 1], filtered[k]
            still_all.append(float(np.mean(np.abs(b1[1:] - b0[1:]))))
            still_jaw.append(abs(float(b1[jaw_i] - b0[jaw_i])))
            still_filtered.append(float(np.mean(np.abs(f1[1:] - f0[1:]))))
    curl = np.array(curls) if curls else np.zeros((0, 5, 3))
    return {
        "video": path.name,
        "frames": n,
        "frames_with_person": persons,
        "face": {"crops": face_boxes, "found": faces, "rate": round(faces / max(face_boxes, 1), 3)},
        "hands": {s: {"crops": hand_boxes[s], "found": hands_found[s], "rate": round(hands_found[s] / max(hand_boxes[s], 1), 3)}
                  for s in hands},
        "jaw_open": _percentiles([b[jaw_i] for b in found], (5, 50, 95, 100)),
        "blink": _percentiles([float(np.mean(b[blink])) for b in found], (5, 50, 95, 100)),
        "jitter_still": {"pairs": len(still_all), "mean_abs_change_median": round(float(np.median(still_all)), 4) if still_all else None,
                         "jaw_open_change_median": round(float(np.median(still_jaw)), 4) if still_jaw else None,
                         "filtered_mean_abs_change_median": round(float(np.median(still_filtered)), 4) if still_filtered else None},
        "jaw_open_filtered": _percentiles([f[jaw_i] for f in filtered if f is not None], (5, 50, 95, 100)),
        "head_face_vs_fit": _head_comparison(heads, fits),
        "palm": {side: _palm_summary(v) for side, v in palms.items()},
        "finger_curl_deg": {"proximal": _percentiles(curl[:, 1:, 0].ravel()), "intermediate": _percentiles(curl[:, 1:, 1].ravel()),
                            "distal": _percentiles(curl[:, 1:, 2].ravel())},
        "cost_ms": {k: round(float(np.median(v)), 2) if v else None for k, v in cost.items()},
    }


def _check_palm(acc: dict, side: str, landmarks: Any, world: np.ndarray, view: np.ndarray) -> None:
    """Count a hand reading that is clearly ``side``'s hand, and one the live stage uses for the palm
    (it also continues the forearm); for the first, where the forearm points into the depth, how
    far the reading's hand direction and that of its depth mirror are from continuing the pose's forearm."""
    from engine.face_hands.hand_orientation import DEPTH_FOREARM, clearly_side, continues_forearm, forearm_direction, hand_direction

    acc["readings"] += 1
    if not clearly_side(world, side):
        return
    acc["clearly_side"] += 1
    forearm = forearm_direction(landmarks, side)
    acc["used"] += int(continues_forearm(world, view, forearm))
    if abs(forearm[2]) < DEPTH_FOREARM:
        return
    for key, mirrored in (("continues_forearm_deg", False), ("mirror_continues_forearm_deg", True)):
        cos = float(hand_direction(world, view, mirrored) @ forearm)
        acc[key].append(float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))))


def _palm_summary(acc: dict) -> dict[str, Any]:
    seen, mirror = acc["continues_forearm_deg"], acc["mirror_continues_forearm_deg"]
    return {"readings": acc["readings"], "clearly_side": acc["clearly_side"],
            "clearly_side_rate": round(acc["clearly_side"] / max(acc["readings"], 1), 3), "used": acc["used"],
            "in_depth": len(seen),
            "hand_to_forearm_median_deg": round(float(np.median(seen)), 1) if seen else None,
            "mirror_hand_to_forearm_median_deg": round(float(np.median(mirror)), 1) if mirror else None}


def _still(blend: list, heads: list, k: int) -> bool:
    """Frames ``k - 1`` and ``k`` both have a face, and the head turned less than 1 degree between them."""
    from engine import rotations as rot

    b0, b1, h0, h1 = blend[k - 1], blend[k], heads[k - 1], heads[k]
    if b0 is None or b1 is None or h0 is None or h1 is None:
        return False
    return float(np.degrees(rot.quat_geodesic_angle(h0, h1))) < 1.0


def _yaw_pitch_deg(R: np.ndarray) -> tuple[float, float]:
    """Yaw about the vertical and pitch about the sideways axis (Y-X order) of a head turn, degrees."""
    return float(np.degrees(np.arctan2(R[0, 2], R[2, 2]))), float(np.degrees(np.arcsin(-np.clip(R[1, 2], -1.0, 1.0))))


def _head_comparison(heads: list, fits: list) -> dict[str, Any]:
    """The face landmarker's head rotation against the body path's face fit, on frames with both.

    Correlation and slope (face on fit) of yaw; mean pitch difference (face - fit); median angle
    between the two. No ground truth: this says whether they agree, not which is right.
    """
    from engine import rotations as rot

    pairs = [(rot.quat_to_matrix(h), f) for h, f in zip(heads, fits) if h is not None and f is not None]
    if len(pairs) < 3:
        return {"frames": len(pairs)}
    face = np.array([_yaw_pitch_deg(a) for a, _ in pairs])
    fit = np.array([_yaw_pitch_deg(b) for _, b in pairs])
    angle = [float(np.degrees(rot.geodesic_angle(a, b))) for a, b in pairs]
    spread = float(fit[:, 0].std())
    return {"frames": len(pairs), "angle_median_deg": round(float(np.median(angle)), 1),
            "yaw_correlation": round(float(np.corrcoef(fit[:, 0], face[:, 0])[0, 1]), 2) if spread > 1e-6 and face[:, 0].std() > 1e-6 else None,
            "yaw_slope_face_on_fit": round(float(np.polyfit(fit[:, 0], face[:, 0], 1)[0]), 2) if spread > 1e-6 else None,
            "pitch_mean_difference_deg": round(float(np.mean(face[:, 1] - fit[:, 1])), 1)}


def evaluate_rendered_hands(models: Path, curls_deg: tuple[float, ...] = (0, 15, 30, 45, 60, 75),
                            picture: Path | None = None) -> dict[str, Any]:
    """Authored finger curls on the rendered humanoid hand vs what the hand landmarker + finger_pose measure."""
    from engine import rotations as rot
    from engine.face_hands.fingers import FingerPose, finger_pose
    from engine.face_hands.rig_targets import face_hand_offsets, find_face_hand_targets, offset_rotations
    from engine.kinematics import forward_kinematics
    from engine.perception.hand_landmarker import HandLandmarkerAdapter
    from engine.rigs.bundled import build_rig
    from tools.offscreen_render import CameraSpec, OffscreenBodyRenderer, build_body

    rig = build_rig("humanoid").rig
    sk = rig.skeleton
    targets = find_face_hand_targets(rig)
    ref = rig.reference_rotations()
    _, ref_pos = forward_kinematics(sk.parents, rot.quat_to_matrix(ref), sk.rest_translations)
    names = sk.names
    hand = ref_pos[names.index("LeftHand")]
    knuckles = ref_pos[names.index("LeftMiddleProximal")]
    along = (knuckles - hand) / np.linalg.norm(knuckles - hand)
    across = ref_pos[names.index("LeftIndexProximal")] - ref_pos[names.index("LeftLittleProximal")]
    across = across - np.dot(across, along) * along
    across /= np.linalg.norm(across)
    palm = np.cross(along, across)  # the left palm's facing side (engine.face_hands.rig_targets)
    centre = hand + 0.1 * along
    camera = CameraSpec(position=tuple(centre + 0.5 * palm + np.array([0.0, 0.0, 1e-3])), target=tuple(centre), fov_deg=35.0,
                        width=256, height=256)
    rows = []
    images = []
    with OffscreenBodyRenderer(build_body(sk, rig.humanoid), camera) as renderer, \
            HandLandmarkerAdapter(models / "hand_landmarker.task", allow_download=False) as detector:
        for k, curl in enumerate(curls_deg):
            authored = np.zeros((5, 3))
            authored[1:] = np.radians(curl)
            pose = FingerPose(authored, np.zeros(5), 0.0)
            rotations = offset_rotations(ref, face_hand_offsets(targets, hands={"left": pose}))
            R, p = forward_kinematics(sk.parents, rot.quat_to_matrix(rotations), sk.rest_translations)
            image = renderer.render(R, p)
            images.append(image)
            seen = detector.detect(image, k * 100)
            row: dict[str, Any] = {"authored_deg": curl, "found": seen.found}
            if seen.found:
                measured = np.degrees(finger_pose(seen.world).curl[1:])  # (4, 3) long fingers
                row["measured_deg"] = [round(float(v), 1) for v in measured.mean(axis=0)]
                row["abs_error_deg"] = round(float(np.mean(np.abs(measured - curl))), 2)
            rows.append(row)
    if picture is not None:
        import cv2

        picture.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(picture), np.concatenate(images, axis=1))
    found = [r for r in rows if r["found"]]
    report: dict[str, Any] = {"rows": rows, "detected": f"{len(found)}/{len(rows)}"}
    if len(found) >= 2:
        x = np.array([r["authored_deg"] for r in found], dtype=np.float64)
        y = np.array([float(np.mean(r["measured_deg"])) for r in found])
        report["gain"] = round(float(np.polyfit(x, y, 1)[0]), 3)
        report["mean_abs_error_deg"] = round(float(np.mean([r["abs_error_deg"] for r in found])), 2)
    return report


def budget_table(pose_cpu_ms: float, face_cpu_ms: float, hand_cpu_ms: float, other_ms: float) -> list[dict[str, Any]]:
    """Mean CPU milliseconds per frame of each schedule: pose + face / face_every + hands per frame x hand call + rest."""
    rows = []
    for face_every, hands_every, hands_per_run, label in (
        (0, 0, 0, "body only"), (1, 1, 2, "face + both hands every frame"), (1, 2, 1, "face every frame, one hand every 2nd (default)"),
        (2, 2, 1, "face every 2nd, one hand every 2nd (other frame)"), (1, 0, 0, "face every frame, no hands"),
        (2, 4, 1, "face every 2nd, one hand every 4th"),
    ):
        face = face_cpu_ms / face_every if face_every else 0.0
        hands = hand_cpu_ms * hands_per_run / hands_every if hands_every else 0.0
        total = pose_cpu_ms + face + hands + other_ms
        rows.append({"schedule": label, "cpu_ms_per_frame": round(total, 1), "fits_33ms": total <= 33.3,
                     "each_hand_every_n_frames": (hands_every * (2 // max(hands_per_run, 1)) if hands_every else None)})
    return rows


def add_eval_face_hands_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--video-dir", default=str(SHARED / "video"), help="folder of human_*.mp4 clips (default ../shared/video)")
    p.add_argument("--models", default=str(SHARED / "models"), help="folder with the three .task files (default ../shared/models)")
    p.add_argument("--max-frames", type=int, default=None, help="frames per clip (default: all)")
    p.add_argument("--picture", default=None, help="write the rendered hands (one per authored curl) to this PNG")
    p.add_argument("--json", dest="json_out", metavar="OUT", help="write the report as JSON to OUT")


def cmd_eval_face_hands(args: argparse.Namespace) -> int:
    """Run both parts and print a summary table."""
    models = Path(args.models)
    videos = sorted(Path(args.video_dir).glob("human_*.mp4"))
    if not videos or not (models / "face_landmarker.task").is_file():
        logger.error("need human_*.mp4 in %s and the .task files in %s", args.video_dir, models)
        return 2
    results = [evaluate_video(v, models, args.max_frames) for v in videos]
    rendered = evaluate_rendered_hands(models, picture=Path(args.picture) if args.picture else None)
    cost = {k: float(np.median([r["cost_ms"][k] for r in results if r["cost_ms"][k] is not None]))
            for k in ("pose_cpu_ms", "face_cpu_ms", "hand_cpu_ms")}
    budget = budget_table(cost["pose_cpu_ms"], cost["face_cpu_ms"], cost["hand_cpu_ms"], other_ms=5.0)
    print("| clip | face found | left hand | right hand | jawOpen p5/p50/p95 | jitter (still, mean / jaw) | curl p5-p95 (°) |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        fj, jit, curl = r["jaw_open"], r["jitter_still"], r["finger_curl_deg"]["intermediate"]
        print(f"| {r['video']} | {r['face']['found']}/{r['face']['crops']} | {r['hands']['left']['found']}/{r['hands']['left']['crops']} | "
              f"{r['hands']['right']['found']}/{r['hands']['right']['crops']} | "
              f"{fj.get('p5', '-')}/{fj.get('p50', '-')}/{fj.get('p95', '-')} | {jit['mean_abs_change_median']} / {jit['jaw_open_change_median']} | "
              f"{curl.get('p5', '-')}-{curl.get('p95', '-')} |")
    print("| clip | jitter (still) raw / filtered | jawOpen p95 raw / filtered | head: face vs fit, frames / median angle / yaw r / yaw slope / pitch diff |")
    print("|---|---|---|---|")
    for r in results:
        jit, hv = r["jitter_still"], r["head_face_vs_fit"]
        print(f"| {r['video']} | {jit['mean_abs_change_median']} / {jit['filtered_mean_abs_change_median']} | "
              f"{r['jaw_open'].get('p95', '-')} / {r['jaw_open_filtered'].get('p95', '-')} | {hv['frames']} / {hv.get('angle_median_deg', '-')}° / "
              f"{hv.get('yaw_correlation', '-')} / {hv.get('yaw_slope_face_on_fit', '-')} / {hv.get('pitch_mean_difference_deg', '-')}° |")
    print("| clip | palm: readings clearly that side's hand / also continuing the forearm (used), left; right | "
          "those clearly that side's, forearm in depth: hand -> forearm median, reading / its mirror (left; right) |")
    print("|---|---|---|")
    for r in results:
        pl, pr = r["palm"]["left"], r["palm"]["right"]
        print(f"| {r['video']} | {pl['clearly_side']} / {pl['used']} of {pl['readings']}; {pr['clearly_side']} / {pr['used']} of {pr['readings']} | "
              f"{pl['hand_to_forearm_median_deg']}° / {pl['mirror_hand_to_forearm_median_deg']}° (n={pl['in_depth']}); "
              f"{pr['hand_to_forearm_median_deg']}° / {pr['mirror_hand_to_forearm_median_deg']}° (n={pr['in_depth']}) |")
    print(f"rendered hands: detected {rendered['detected']}, gain {rendered.get('gain')}, mean abs curl error {rendered.get('mean_abs_error_deg')} deg")
    print(f"median CPU per call: pose {cost['pose_cpu_ms']:.1f} ms, face {cost['face_cpu_ms']:.1f} ms, one hand {cost['hand_cpu_ms']:.1f} ms")
    for row in budget:
        print(f"  {row['schedule']}: {row['cpu_ms_per_frame']} ms/frame ({'fits' if row['fits_33ms'] else 'over'} 33 ms)")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"videos": results, "rendered_hands": rendered, "cost_ms": cost,
                                                   "budget": budget}, indent=2) + "\n")
    return 0
