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
    "train": "engine.training.trainer:cmd_train",
    "bench model": "engine.evaluation.model_bench:cmd_bench_model",
    "bench live": "tools.bench_live:cmd_bench_live",
    "bench soak": "tools.bench_live:cmd_bench_soak",
}


def _add_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", default="synthetic", help="webcam[:N] | VIDEO_FILE | IMAGE_DIR | synthetic (default)")
    p.add_argument("--rig", default="dragon", help="rig file (BVH, GLB, glTF, VRM) or a bundled rig name (default: dragon)")
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

    p = sub.add_parser("train", help="train a model (P2R or V2P) on CPU or CUDA")
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
    p.add_argument("--max-minutes", type=float, default=None, help="stop (with a checkpoint) after this much wall time")

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
    p = bsub.add_parser("soak", help="memory and latency drift over a long run")
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--rig", default="dragon")
    p.add_argument("--json", dest="json_out", metavar="OUT")
    return parser


def _handler_key(args: argparse.Namespace) -> str:
    if args.command == "bench":
        return f"bench {args.bench_command}"
    return args.command or "gui"


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen sub-command; returns the process exit code."""
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv)
    commands = {key.split()[0] for key in HANDLERS}
    if not commands.intersection(argv) and not {"-h", "--help"}.intersection(argv):
        # No sub-command: the GUI is the default, and the app options may follow directly.
        top = [a for a in argv if a in ("-v", "--verbose")]
        argv = [*top, "gui", *[a for a in argv if a not in top]]
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    module_name, func_name = HANDLERS[_handler_key(args)].split(":")
    handler = getattr(importlib.import_module(module_name), func_name)
    try:
        return int(handler(args) or 0)
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early: not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
