"""AnyRig: live motion capture onto any skeleton.

The single entry point. With no sub-command it opens the desktop app (or, on a machine with no
display, runs the headless pipeline briefly and says so). Heavy modules are imported only by the
sub-command that needs them, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

__all__ = ["build_parser", "main"]

# sub-command -> "module:function"; each function takes the parsed args and returns an exit code.
HANDLERS = {
    "gui": "app.launch:cmd_gui",
    "run": "streaming.headless:cmd_run",
    "info": "engine.formats.rig_summary:cmd_info",
    "convert": "engine.formats.rig_summary:cmd_convert",
    "eval": "engine.evaluation.solver_eval:cmd_eval",
    "eval-live": "tools.live_probes:cmd_eval_live",
    "eval-face-hands": "tools.eval_face_hands:cmd_eval_face_hands",
    "train": "engine.training.trainer:cmd_train",
    "capture": "streaming.batch_capture:cmd_capture",
    "bench model": "engine.evaluation.model_bench:cmd_bench_model",
    "bench live": "tools.bench_live:cmd_bench_live",
    "bench soak": "tools.bench_live:cmd_bench_soak",
    "bench joints": "tools.bench_joints:cmd_bench_joints",
    "takes recover": "streaming.takes:cmd_takes_recover",
}


def _add_run_args(p: argparse.ArgumentParser) -> None:
    # No argparse defaults for choices the app also saves: a value the user typed always wins over the
    # saved one, even when it equals the default (None = not given; `run` then uses the default).
    p.add_argument("--source", default=None, help="webcam[:N] | VIDEO_FILE | IMAGE_DIR | synthetic (default: synthetic; the app: the last one)")
    p.add_argument("--rig", default=None, help="rig file (BVH, GLB, glTF, VRM) or a bundled rig name (default: dragon; the app: the last one)")
    p.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=None,
                   help="mirror the motion left <-> right (the app: on unless turned off; `run`: off)")
    p.add_argument("--upper-body", action=argparse.BooleanOptionalAction, default=None,
                   help="seated / upper-body mode: legs held at rest, the root stays in place")
    p.add_argument("--vmc", metavar="HOST:PORT", help="send VMC humanoid bones (Unity names, normalised: identity in the T-pose) to HOST:PORT")
    p.add_argument("--vmc-raw", action="store_true", help="with --vmc: send the rig's own local rotations (rest included) instead of normalised ones")
    p.add_argument("--humanoid-map", metavar="FILE", help="JSON object Unity bone -> joint name that fixes or completes the rig's humanoid map (null removes a bone)")
    p.add_argument("--vmc-generic", metavar="HOST:PORT", help="send VMC bones with the rig's own names to HOST:PORT")
    p.add_argument("--vmc-prefix", metavar="PREFIX", default=None,
                   help="with --vmc-generic: put PREFIX before every bone name (default: 'anyrig:' only when a name collides with a Unity humanoid bone; '' for none)")
    p.add_argument("--osc", metavar="HOST:PORT", help="send plain OSC, one message per joint, to HOST:PORT")
    p.add_argument("--record", metavar="PATH", help="record a take to PATH (.bvh, .glb or .npz)")
    p.add_argument("--seconds", type=float, default=None, help="stop after N seconds (default: run until Ctrl-C)")
    p.add_argument("--stats", metavar="JSON", help="write run statistics (fps, drops, latency percentiles) to JSON")
    p.add_argument("--device", default="auto", help="model device: auto | cpu | cuda")
    p.add_argument("--backend", default="auto", help="model backend: auto | eager | compile | background (eager until compiled in a thread) | tensorrt")
    p.add_argument(
        "--solver",
        default="analytic_ik",
        choices=["analytic_ik", "p2r"],
        help="rotation solver: analytic_ik (default) or the learned p2r (better on noisy positions only so far, see README)",
    )
    _add_face_hands_args(p)


def _add_face_hands_args(p: argparse.ArgumentParser) -> None:
    face = p.add_argument_group("face and hands (MediaPipe face / hand landmarkers on crops placed by the body)")
    face.add_argument("--no-face", action="store_true", help="no face tracking (no blendshapes, jaw or eyes)")
    face.add_argument("--no-hands", action="store_true", help="no hand tracking (fingers stay at rest)")
    face.add_argument("--face-every", type=int, default=None, metavar="N", help="run the face on every N-th frame (default 1)")
    face.add_argument("--hands-every", type=int, default=None, metavar="N", help="run the hands on every N-th frame (default 2)")
    face.add_argument("--alternate-hands", choices=["on", "off"], default=None,
                      help="on a hands frame run one hand, left and right in turn (default on)")
    face.add_argument("--face-hands-thread", choices=["on", "off"], default="on",
                      help="run face and hands on a thread of their own, a frame or two behind the body (default on), "
                      "or on the inference thread, which then waits for them (off)")
    face.add_argument("--blendshapes", choices=["vrm0", "arkit", "off"], default="vrm0",
                      help="VMC blendshape names: vrm0 (A I U E O Blink_L Blink_R Joy Angry Sorrow Fun, default), "
                      "arkit (the 52 Perfect Sync names) or off")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The command-line interface: ``python main.py [SUB-COMMAND] ...`` (``argv`` picks lazy options)."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="AnyRig: drive any rig (humanoid, quadruped, dragon, bird, snake, spider) from a webcam, "
        "stream its joint rotations over VMC/OSC, or record takes. With no sub-command the desktop app opens.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("gui", help="open the desktop app (the default)")
    _add_run_args(p)
    p.add_argument("--screenshot", metavar="PNG", help="with --seconds: save the window as PNG just before it closes")

    p = sub.add_parser("run", help="run the live pipeline without a window (headless)")
    _add_run_args(p)

    p = sub.add_parser("info", help="describe a rig or motion file: joints, hierarchy, clips, units, humanoid map")
    p.add_argument("path", help="BVH, GLB, glTF or VRM file")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")

    p = sub.add_parser("convert", help="convert a rig and its clips between BVH and GLB")
    p.add_argument("input", help="source file (BVH, GLB, glTF, VRM)")
    p.add_argument("output", help="destination file (.bvh or .glb)")
    p.add_argument("--clip", help="convert only the clip with this name (default: all; BVH output takes the first)")
    p.add_argument("--fps", type=float, help="resample clips to this frame rate")

    p = sub.add_parser("eval", help="measure learned P2R against the analytic IK baseline on a folder of rigs")
    p.add_argument("--data", required=True, help="folder searched recursively for BVH/GLB files")
    p.add_argument("--json", dest="json_out", metavar="OUT", help="write the report as JSON to OUT")
    p.add_argument("--noise", type=float, default=0.0, help="Gaussian position noise as a fraction of skeleton height")
    p.add_argument("--weights", help="P2R weights (default: the shipped resources/weights/p2r)")
    p.add_argument("--max-frames", type=int, default=300, help="frames evaluated per clip (default 300)")
    p.add_argument("--split", help="evaluate only the skeletons listed as held out in this split file")

    p = sub.add_parser("eval-live", help="measure the live path end to end on rendered humanoids and real videos (no camera)")
    if "eval-live" in argv:  # its options live with the renderer; importing it is slow, so only when asked
        from tools.eval_live import add_eval_live_args

        add_eval_live_args(p)

    p = sub.add_parser("eval-face-hands", help="measure face and hand tracking on real videos and rendered hands")
    if "eval-face-hands" in argv:
        from tools.eval_face_hands import add_eval_face_hands_args

        add_eval_face_hands_args(p)

    p = sub.add_parser("train", help="train a model (P2R or V2P) on CPU or CUDA; runs unchanged under torchrun (DDP)")
    p.add_argument(
        "model",
        choices=["p2r", "v2p", "v2p-landmarks"],
        help="p2r: pose-to-rotation; v2p: rig-conditioned video-to-pose; v2p-landmarks: the live landmark V2P",
    )
    p.add_argument("--out", required=True, help="run folder for checkpoints and logs")
    p.add_argument("--steps", type=int, default=20000, help="optimisation steps")
    p.add_argument("--batch", type=int, default=16, help="batch size")
    p.add_argument("--lr", type=float, default=3e-4, help="learning rate")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--data", default=None, help="folder of real motions to mix in (only freely licensed files are used)")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--config", help="JSON model config overriding the defaults")
    p.add_argument("--init", default=None, help="start from these weights (e.g. resources/weights/p2r): inputs the new config adds start at zero")
    p.add_argument("--max-minutes", type=float, default=None, help="stop (with a checkpoint) after this much wall time")
    p.add_argument("--threads", type=int, default=1, help="torch threads of the model step on the CPU (default 1: faster than 2 here, README)")
    p.add_argument("--data-workers", type=int, default=1, help="processes building batches ahead (0: in the training process)")

    p = sub.add_parser("capture", help="process video files (one, or a folder of them) into takes (GLB/BVH), one process per video")
    p.add_argument("input", help="a video file, or a folder of video files")
    p.add_argument("--rig", required=True, help="rig file (BVH, GLB, glTF, VRM) or a bundled rig name")
    p.add_argument("--out", required=True, help="folder for the takes and capture_manifest.json (a rerun resumes)")
    p.add_argument("--formats", default="glb,bvh", help="take files per video, comma-separated: glb, bvh, npz (default glb,bvh)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per core)")
    p.add_argument("--solver", default="analytic_ik", choices=["analytic_ik", "p2r"], help="rotation solver, as in run")
    p.add_argument("--max-frames", type=int, default=None, help="only the first N frames of each video")
    p.add_argument("--device", default="auto", help="model device: auto | cpu | cuda")
    p.add_argument("--backend", default="auto", help="model backend: auto | eager | compile")

    bench = sub.add_parser("bench", help="benchmarks: model step latency, live path latency, soak")
    bsub = bench.add_subparsers(dest="bench_command", metavar="WHAT", required=True)
    p = bsub.add_parser("model", help="per-frame step latency of P2R and V2P at J=25/60/100")
    p.add_argument("--json", dest="json_out", metavar="OUT", help="write results as JSON to OUT")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--iters", type=int, default=200, help="timed steps per configuration")
    p = bsub.add_parser("live", help="latency of the live path per stage on this machine")
    p.add_argument("--json", dest="json_out", metavar="OUT")
    p.add_argument("--rig", default="dragon")
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--solver", default="analytic_ik", choices=["analytic_ik", "p2r"], help="rotation solver")
    _add_face_hands_args(p)
    p = bsub.add_parser("joints", help="per-frame latency and fps of the live path against the rig's joint count")
    p.add_argument("--joints", default="62,100,200,300,500", help="comma-separated joint counts (default 62,100,200,300,500)")
    p.add_argument("--frames", type=int, default=150, help="frames of back-to-back work per joint count")
    p.add_argument("--seconds", type=float, default=10.0, help="seconds of threaded pipeline per joint count")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--json", dest="json_out", metavar="OUT")
    p = bsub.add_parser("soak", help="memory and latency drift over a long run")
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--rig", default="dragon")
    p.add_argument("--json", dest="json_out", metavar="OUT")
    takes = sub.add_parser("takes", help="take files: recover the takes a crash left unfinished")
    tsub = takes.add_subparsers(dest="takes_command", metavar="WHAT", required=True)
    p = tsub.add_parser("recover", help="turn unfinished take journals (*.partial) into take files")
    p.add_argument("path", nargs="?", default=".", help="a folder (default: here), a .partial journal or the take it belongs to")
    return parser


def _handler_key(args: argparse.Namespace) -> str:
    if args.command == "bench":
        return f"bench {args.bench_command}"
    if args.command == "takes":
        return f"takes {args.takes_command}"
    return args.command or "gui"


def with_default_command(argv: list[str]) -> list[str]:
    """``argv`` with ``gui`` put in when it names no sub-command: the app is the default, and its
    options may follow ``main.py`` directly (``python main.py --rig dragon``)."""
    commands = {key.split()[0] for key in HANDLERS}
    if commands.intersection(argv) or {"-h", "--help"}.intersection(argv):
        return list(argv)
    top = [a for a in argv if a in ("-v", "--verbose")]
    return [*top, "gui", *[a for a in argv if a not in top]]


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen sub-command; returns the process exit code."""
    if argv is None:
        argv = sys.argv[1:]
    argv = with_default_command(argv)
    args = build_parser(argv).parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from streaming.quiet_logs import quiet_native_logs

    quiet_native_logs()  # OpenCV's camera probes and MediaPipe's start-up lines (kept with -v)
    module_name, func_name = HANDLERS[_handler_key(args)].split(":")
    handler = getattr(importlib.import_module(module_name), func_name)
    try:
        return int(handler(args) or 0)
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early: not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
