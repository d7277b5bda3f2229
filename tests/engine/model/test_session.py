from __future__ import annotations

import importlib.util
import os
import time
from dataclasses import replace

import numpy as np
import pytest
import torch

from engine.model.p2r import P2RModel
from engine.model.rig_tensors import build_rig_tensors, collate_rigs
from engine.model.session import P2RSession, V2PSession, resolve_backend
from engine.model.v2p import V2PModel

from .conftest import TINY_P2R, TINY_V2P, randomize


def test_p2r_session_matches_the_full_forward_and_resets(skeletons) -> None:
    model = randomize(P2RModel(TINY_P2R))
    rig = build_rig_tensors(skeletons[1])
    T = 3 * TINY_P2R.window + 1
    pos = torch.randn(T, rig.num_joints, 3) * 0.3
    session = P2RSession(model, rig, backend="eager")
    first = torch.stack([session.step(p.numpy()) for p in pos])
    assert session.frames_seen == T
    with torch.no_grad():
        full = model(pos[None], model.prepare(rig))[0]
    torch.testing.assert_close(first, full, atol=1e-4, rtol=0)
    session.reset()
    again = torch.stack([session.step(p) for p in pos])
    torch.testing.assert_close(again, first, atol=0, rtol=0)  # reset forgets everything
    other = P2RSession.from_skeleton(model, skeletons[1], backend="eager")  # rest pose as reference
    torch.testing.assert_close(other.step(pos[0]), first[0], atol=0, rtol=0)


def test_shorter_session_window_equals_forward_with_that_window(skeletons) -> None:
    model = randomize(P2RModel(TINY_P2R))
    rig = build_rig_tensors(skeletons[0])
    pos = torch.randn(15, rig.num_joints, 3)
    session = P2RSession(model, rig, window=3, backend="eager")
    stepped = torch.stack([session.step(p) for p in pos])
    with torch.no_grad():
        full = model(pos[None], model.prepare(rig), window=3)[0]
    torch.testing.assert_close(stepped, full, atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="window"):
        P2RSession(model, rig, window=TINY_P2R.window + 1)


def test_v2p_session_batched_rigs_with_padding(skeletons) -> None:
    model = randomize(V2PModel(TINY_V2P))
    batch = collate_rigs([build_rig_tensors(s) for s in skeletons])
    T = 2 * TINY_V2P.window + 2
    tokens = torch.randn(3, T, TINY_V2P.num_token_ids, TINY_V2P.token_dim)
    mask = torch.rand(3, T, TINY_V2P.num_token_ids) > 0.2
    session = V2PSession(model, batch, backend="eager")
    stepped = torch.stack([session.step(tokens[:, t], mask[:, t]) for t in range(T)], dim=1)
    with torch.no_grad():
        full = model(tokens, mask, model.prepare(batch))
    valid = batch.joint_mask[:, None, :, None].expand_as(full)
    assert (stepped - full)[valid].abs().max() <= 1e-4
    with pytest.raises(ValueError, match="expected"):
        session.step(tokens[:, 0, :, :3])


def test_backend_resolution() -> None:
    cpu = torch.device("cpu")
    assert resolve_backend("eager", cpu) == "eager"
    assert resolve_backend("background", cpu) == "background"
    assert resolve_backend("auto", cpu) in ("eager", "compile")
    with pytest.raises(ValueError, match="CUDA"):
        resolve_backend("tensorrt", cpu)
    with pytest.raises(ValueError, match="backend"):
        resolve_backend("onnx", cpu)


# Inductor builds C++ kernels: 40-100 s on the 2-core development machine, beyond the test budget,
# so the inductor variant is opt-in (ANYRIG_TEST_INDUCTOR=1); `bench model` also reports the
# eager-vs-compiled difference. aot_eager traces and partitions the very same graph, quickly.
_COMPILERS = ["aot_eager"] + (["inductor"] if os.environ.get("ANYRIG_TEST_INDUCTOR") == "1" else [])


@pytest.mark.slow
@pytest.mark.parametrize("compiler", _COMPILERS)
def test_compiled_step_equals_eager_and_compiles_once(skeletons, compiler: str) -> None:
    """Compiled vs eager: atol 1e-4 (float32, fused kernels reorder sums); one graph per session."""
    from torch._dynamo.utils import counters

    cfg = replace(TINY_P2R, layers=1)  # one block keeps inductor's C++ compile short
    model = randomize(P2RModel(cfg))
    rig = build_rig_tensors(skeletons[2])
    pos = torch.randn(2 * cfg.window, rig.num_joints, 3)
    eager = P2RSession(model, rig, backend="eager")
    compiled = P2RSession(model, rig, backend="compile", compiler=compiler)
    torch._dynamo.reset()
    counters.clear()
    out_e, out_c = [], []
    for t, p in enumerate(pos):
        out_e.append(eager.step(p))
        out_c.append(compiled.step(p))
        if t == 0:
            graphs_after_first = counters["stats"]["unique_graphs"]
    if compiled.backend != "compile":
        pytest.skip("torch.compile is unavailable here (no C++ compiler?); the session fell back to eager")
    assert graphs_after_first >= 1
    assert counters["stats"]["unique_graphs"] == graphs_after_first  # later steps never recompile
    torch.testing.assert_close(torch.stack(out_c), torch.stack(out_e), atol=1e-4, rtol=1e-4)
    # A warm compiled step is fast (no compile work hidden in it).
    t0 = time.perf_counter()
    compiled.step(pos[0])
    assert time.perf_counter() - t0 < 0.5


@pytest.mark.slow
def test_background_backend_runs_eager_then_switches_to_the_compiled_step(skeletons) -> None:
    """The first steps answer at once (eager); the compile happens on copies, so the live caches
    stay exact: the whole sequence equals an eager session's."""
    cfg = replace(TINY_P2R, layers=1)
    model = randomize(P2RModel(cfg))
    rig = build_rig_tensors(skeletons[2])
    pos = torch.randn(3 * cfg.window, rig.num_joints, 3)
    eager = P2RSession(model, rig, backend="eager")
    background = P2RSession(model, rig, backend="background", compiler="aot_eager")
    assert background.backend == "background"
    out_e, out_b = [eager.step(pos[0])], [background.step(pos[0])]
    assert background.wait_compiled(timeout=120), "the background compile did not finish"
    assert background.backend == "compile"
    for p in pos[1:]:
        out_e.append(eager.step(p))
        out_b.append(background.step(p))
    torch.testing.assert_close(torch.stack(out_b), torch.stack(out_e), atol=1e-4, rtol=1e-4)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available() or importlib.util.find_spec("torch_tensorrt") is None, reason="needs CUDA and torch-tensorrt")
def test_tensorrt_step_matches_eager(skeletons) -> None:
    model = randomize(P2RModel(TINY_P2R))
    rig = build_rig_tensors(skeletons[0])
    pos = np.random.default_rng(0).normal(size=(8, rig.num_joints, 3)).astype(np.float32)
    eager = P2RSession(model, rig, device="cuda", backend="eager")
    trt = P2RSession(model, rig, device="cuda", backend="tensorrt")
    for p in pos:
        torch.testing.assert_close(trt.step(p), eager.step(p), atol=1e-3, rtol=1e-3)
