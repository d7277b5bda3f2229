"""Streaming runtime: one causal step per frame with per-layer KV ring buffers (DESIGN §1, §4).

A session binds a model to one rig: the per-rig state (rig encoder output, FiLM, graph tensors)
is computed once at construction, the KV caches hold the last W frames of every temporal layer,
and :meth:`step` runs one frame. Shapes are static for the whole session, so a compiled step is
compiled once (first call) and never again; the frame counter is a tensor for the same reason.

Backends (``backend=``): ``"eager"``; ``"compile"`` (``torch.compile``, inductor; on CPU it needs
a C++ compiler, and any failure falls back to eager with a logged warning); ``"background"``
(steps run eager while a daemon thread compiles the step on copies of the inputs; the session
switches to the compiled step once it is ready, so a live app gets the compiled speed without
stalling at start); ``"tensorrt"`` (``torch_tensorrt``, CUDA only, imported lazily); ``"auto"``
picks tensorrt when CUDA and torch-tensorrt are present, else compile on CUDA, else
:data:`CPU_AUTO_BACKEND` (eager) on the CPU.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from engine.model.p2r import HINT_INPUTS, P2RModel, no_hints
from engine.model.rig_tensors import RigTensors, build_rig_tensors
from engine.model.v2p import V2PModel
from engine.skeleton import Skeleton

__all__ = ["BACKENDS", "CPU_AUTO_BACKEND", "resolve_device", "resolve_backend", "P2RSession", "V2PSession"]

logger = logging.getLogger(__name__)

BACKENDS = ("auto", "eager", "compile", "background", "tensorrt")
# `python main.py bench model` on the 2-core development CPU: the inductor-compiled step is about
# 2x faster than eager (fewer, fused kernels), but its first call compiles for 10-30 s per model
# and rig shape with a cold inductor cache (longer on a loaded machine). The live app must start
# in seconds and tests must stay fast, so "auto" stays eager on the CPU; pass
# backend="background" (CLI --backend background: eager until the compiled step is ready) or
# "compile" (stall once, then fast) for long sessions.
CPU_AUTO_BACKEND = "eager"
# Dynamo is not safe to run from two threads at once: background compiles take turns.
_BACKGROUND_COMPILE_LOCK = threading.Lock()


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else is passed to ``torch.device``."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_backend(backend: str, device: torch.device) -> str:
    """The concrete backend for ``backend`` (one of :data:`BACKENDS`) on ``device``."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend != "auto":
        if backend == "tensorrt" and device.type != "cuda":
            raise ValueError("the tensorrt backend needs a CUDA device")
        return backend
    if device.type == "cuda":
        return "tensorrt" if importlib.util.find_spec("torch_tensorrt") is not None else "compile"
    return CPU_AUTO_BACKEND


def _compile(fn: Callable[..., torch.Tensor], compiler: str) -> Callable[..., torch.Tensor]:
    """``torch.compile`` of a session's step: static shapes, and no guards on the model's modules.

    A session owns its model in eval mode and never changes its structure (weights are graph
    inputs, read on every call, so new values are still used); checking the module guards on
    every step cost about 0.15 ms of a 1.3 ms compiled P2R step at J = 100 on the CPU.
    """
    options = {"guard_filter_fn": torch.compiler.skip_guard_on_all_nn_modules_unsafe}
    return torch.compile(fn, backend=compiler, dynamic=False, options=options)


class _Runner:
    """Calls ``fn`` through the chosen backend; a compile failure on first use falls back to eager."""

    def __init__(self, fn: Callable[..., torch.Tensor], backend: str, compiler: str = "inductor") -> None:
        self._eager = fn
        self._name = type(getattr(fn, "__self__", fn)).__name__  # the model class, for log lines
        self.backend = backend
        self._compiler = compiler
        self._background: threading.Thread | None = None
        self.ready = threading.Event()  # set once the step runs compiled (background backend)
        if backend == "compile":
            self._fn = _compile(fn, compiler)
        elif backend == "tensorrt":
            import torch_tensorrt  # noqa: F401  (lazy: optional [gpu] extra; registers the backend)

            self._fn = _compile(fn, "tensorrt")
        else:
            self._fn = fn
        self._tried = backend in ("eager", "background")

    def __call__(self, *args: Any) -> torch.Tensor:
        if self.backend == "background" and self._background is None:
            self._start_background(args)
        if self._tried:
            return self._fn(*args)
        self._tried = True
        try:
            return self._fn(*args)
        except Exception as exc:  # compilers fail in many ways (missing compiler, unsupported op)
            # The step mutates the KV caches only after the outputs are computed in eager, but a
            # failed compile may have run part of the graph: callers reset() after a fallback.
            logger.warning("%s backend failed (%s: %s); falling back to eager", self.backend, type(exc).__name__, exc)
            self.backend = "eager"
            self._fn = self._eager
            raise _FellBack from exc

    def _start_background(self, args: tuple) -> None:
        """Compile on copies of the first call's inputs (the caches must not be touched) in a daemon thread."""
        copies = tuple(_copy_tensors(a) for a in args)
        compiled = _compile(self._eager, self._compiler)

        def work() -> None:
            t0 = time.monotonic()
            try:
                with _BACKGROUND_COMPILE_LOCK, torch.no_grad():
                    compiled(*copies)
            except Exception as exc:  # same as above: stay eager, say why
                logger.warning("%s: background compile failed (%s: %s); staying eager", self._name, type(exc).__name__, exc)
                return
            self._fn = compiled  # one attribute store: the next step picks it up
            self.backend = "compile"
            self.ready.set()
            logger.info("%s: compiled step ready after %.1f s in the background", self._name, time.monotonic() - t0)

        self._background = threading.Thread(target=work, name="anyrig-compile", daemon=True)
        self._background.start()


def _copy_tensors(x: Any) -> Any:
    """Deep copy of tensors inside lists / tuples / NamedTuples (other values are shared)."""
    if isinstance(x, torch.Tensor):
        return x.clone()
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*(_copy_tensors(v) for v in x))
    if isinstance(x, (list, tuple)):
        return type(x)(_copy_tensors(v) for v in x)
    return x


class _FellBack(Exception):
    """Internal: the compiled step failed and the runner switched to eager."""


class _Session:
    """Shared machinery of the P2R and V2P sessions."""

    def __init__(self, model: P2RModel | V2PModel, rig: RigTensors, window: int | None, device: str | torch.device, backend: str, compiler: str) -> None:
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.window = model.cfg.window if window is None else int(window)
        if not 1 <= self.window <= model.cfg.window:
            raise ValueError(f"window must be in [1, {model.cfg.window}] for this model, got {window}")
        with torch.no_grad():
            self.state = self.model.prepare(rig.to(self.device))
        self.batch_size = rig.batch_size
        self.num_joints = rig.num_joints
        self._runner = _Runner(self.model.step, resolve_backend(backend, self.device), compiler)
        self.reset()

    @classmethod
    def from_skeleton(cls, model, skeleton: Skeleton, ref_positions: np.ndarray | None = None, ref_rotations: np.ndarray | None = None, **kwargs: Any):
        """A session for ``skeleton`` with its reference pose (world metres, local x y z w; default rest)."""
        return cls(model, build_rig_tensors(skeleton, ref_positions, ref_rotations), **kwargs)

    @property
    def backend(self) -> str:
        """The backend in use (``"eager"`` after a failed compile)."""
        return self._runner.backend

    def wait_compiled(self, timeout: float | None = None) -> bool:
        """Block until a ``"background"`` compile has finished (True) or ``timeout`` passed (False)."""
        return self._runner.ready.wait(timeout)

    @property
    def frames_seen(self) -> int:
        return int(self._t)

    def reset(self) -> None:
        """Forget the history: zero the KV caches and the frame counter (the rig state stays)."""
        self.caches = self.model.empty_cache(self.state, self.window)
        self._t = torch.zeros((), dtype=torch.int64, device=self.device)

    def _run(self, *inputs: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            try:
                out = self._runner(*inputs, self.state, self.caches, self._t)
            except _FellBack:
                snapshot = int(self._t)
                self.reset()
                self._t.fill_(snapshot)
                out = self._runner(*inputs, self.state, self.caches, self._t)
            self._t += 1
        return out

    def _as_batch(self, x: np.ndarray | torch.Tensor, tail: int) -> tuple[torch.Tensor, bool]:
        """``(J|N, tail)`` or ``(B, J|N, tail)`` -> ``(B, 1, J|N, tail)`` float32 on the device."""
        x = torch.as_tensor(x, dtype=torch.float32, device=self.device)
        single = x.dim() == 2
        if single:
            x = x[None]
        if x.shape[0] != self.batch_size or x.shape[-1] != tail:
            raise ValueError(f"expected ({self.batch_size},) N x {tail} input, got {tuple(x.shape)}")
        return x[:, None], single


class P2RSession(_Session):
    """Causal P2R on one rig (or a fixed batch of rigs), one frame per :meth:`step`.

    Args:
        model: a :class:`P2RModel`.
        rig: the rig tensors (joint count fixed for the session).
        window: attended frames W (default the model's; at most the model's).
        device: ``"auto"``, ``"cpu"``, ``"cuda"``...
        backend: one of :data:`BACKENDS`.
        compiler: the ``torch.compile`` backend of ``backend="compile"`` (default inductor;
            tests use ``"aot_eager"``, which traces the same graph without a C++ build).
    """

    def __init__(self, model: P2RModel, rig: RigTensors, *, window: int | None = None, device: str | torch.device = "cpu", backend: str = "auto", compiler: str = "inductor") -> None:
        super().__init__(model, rig, window, device, backend, compiler)

    def step(self, positions: np.ndarray | torch.Tensor, hints: np.ndarray | torch.Tensor | None = None) -> torch.Tensor:
        """Local 6D rotations ``(J, 6)`` (or ``(B, J, 6)``) from model-space positions ``(J, 3)`` (or batched).

        Positions are root-relative and divided by the rig height, world frame
        (:func:`engine.model.rig_tensors.normalize_positions`). ``hints``: ``(J, 7)`` (or batched)
        orientation hints (world 6D and weight: :func:`engine.model.p2r.hint_correction`), for a model with
        ``orientation_cue``; None hints nothing. Other models ignore them.
        """
        pos, single = self._as_batch(positions, 3)
        if pos.shape[2] != self.num_joints:
            raise ValueError(f"expected {self.num_joints} joints, got {pos.shape[2]}")
        cue = None
        if self.model.cfg.orientation_cue:  # always a tensor: a compiled step keeps one graph
            cue = no_hints(pos.shape[:3], self.device) if hints is None else self._as_batch(hints, HINT_INPUTS)[0]
        out = self._run(pos, self.state.fit_plan(pos), cue)[:, 0]  # (B, J, 6)
        return out[0] if single else out


class V2PSession(_Session):
    """Causal V2P on one rig, one frame of perception tokens per :meth:`step` (args as :class:`P2RSession`)."""

    def __init__(self, model: V2PModel, rig: RigTensors, *, window: int | None = None, device: str | torch.device = "cpu", backend: str = "auto", compiler: str = "inductor") -> None:
        super().__init__(model, rig, window, device, backend, compiler)

    def step(self, tokens: np.ndarray | torch.Tensor, token_mask: np.ndarray | torch.Tensor | None = None) -> torch.Tensor:
        """Model-space positions ``(J, 3)`` from one frame of tokens ``(N, token_dim)`` (or batched).

        ``token_mask`` ``(N,)`` bool marks valid tokens (default all valid).
        """
        tok, single = self._as_batch(tokens, self.model.cfg.token_dim)
        if token_mask is None:
            mask = torch.ones(tok.shape[:3], dtype=torch.bool, device=self.device)
        else:
            mask = torch.as_tensor(token_mask, dtype=torch.bool, device=self.device).reshape(tok.shape[:3])
        out = self._run(tok, mask)[:, 0]  # (B, J, 3)
        return out[0] if single else out
