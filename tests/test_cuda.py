"""The CUDA path: same results as the CPU path, and no host synchronisation it can avoid.

Skipped without a CUDA device (CI has none); `make gpu-check` runs them on a GPU machine.
Parity is compared in float64: in float32 CUDA convolutions use TF32 by default
(~1e-3 relative), which says nothing about the code. In float64 the two devices differ
only in the order of float operations.
"""

import warnings

import pytest
import torch

from core_helpers import run, scene_frames, small_model
from streamer_core.checkpoint import load_checkpoint, save_checkpoint
from streamer_core.device import to_device
from streamer_core.sparse_change import WINDOW

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

CONFIGS = {
    # 3 layers from the start, boundaries at every layer.
    "three-layers": dict(init_layers=3, evolve_every=100, demarcation_mode="fixed",
                         loss_threshold=0.9),
    # Layers grown mid-run: built on the CPU (seeded draws), then moved to the GPU.
    "growing": dict(evolve_every=2, buffer_size=4, force_fixed_buffer=True),
    # The live preset's rules: `change` over 4 x 4 regions, escalation above layer 0.
    "live-rules": dict(init_layers=3, evolve_every=100, demarcation_mode="change",
                       signal_regions=4, z_threshold=1.0, min_window=2,
                       upper_demarcation="escalate"),
}


def _relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm().clamp_min(1e-12)).item()


def _learn(device: str, overrides: dict, frames: list, fast_path: bool = True,
           optimize_every: int = 10_000):
    model, optimizer = small_model(seed=11, optimize_every=optimize_every, device=device,
                                   fast_path=fast_path, **overrides)
    model.to(torch.float64)
    reports = run(model, optimizer, [x.to(torch.float64) for x in frames])
    model.finish_gradients()
    grads = {name: p.grad.cpu() for name, p in model.named_parameters() if p.grad is not None}
    weights = {name: p.detach().cpu() for name, p in model.named_parameters()}
    return model, optimizer, reports, grads, weights


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "straightforward"])
@pytest.mark.parametrize("config", CONFIGS)
def test_cuda_gives_the_cpu_boundaries_and_gradients(config, fast_path):
    frames = scene_frames(16)
    cpu_model, _, cpu_reports, cpu_grads, _ = _learn("cpu", CONFIGS[config], frames, fast_path)
    gpu_model, _, gpu_reports, gpu_grads, _ = _learn("cuda", CONFIGS[config], frames, fast_path)
    assert gpu_model.device.type == "cuda"
    assert all(layer.device.type == "cuda" for layer in gpu_model.layers())
    assert [(r.layer, r.step, r.boundary) for r in gpu_reports] == \
        [(r.layer, r.step, r.boundary) for r in cpu_reports]
    assert max(r.layer for r in cpu_reports) >= 1, "the test must cover several layers"
    for cpu, gpu in zip(cpu_reports, gpu_reports):
        if cpu.signal is not None:
            assert gpu.signal == pytest.approx(cpu.signal, rel=1e-6, abs=1e-9)
    assert gpu_model.extract_rep() == cpu_model.extract_rep()
    assert set(gpu_grads) == set(cpu_grads)
    for name in cpu_grads:
        assert _relative_error(gpu_grads[name], cpu_grads[name]) < 1e-6, name


def test_cuda_weights_after_adam_steps_match_the_cpu_ones():
    frames = scene_frames(16)
    overrides = CONFIGS["three-layers"]
    _, cpu_opt, cpu_reports, _, cpu_weights = _learn("cpu", overrides, frames, optimize_every=3)
    _, gpu_opt, gpu_reports, _, gpu_weights = _learn("cuda", overrides, frames,
                                                     optimize_every=3)
    assert gpu_opt.optimizer_steps == cpu_opt.optimizer_steps >= 2
    assert [r.boundary for r in gpu_reports] == [r.boundary for r in cpu_reports]
    for name in cpu_weights:
        assert _relative_error(gpu_weights[name], cpu_weights[name]) < 1e-6, name


def _synchronisations(action) -> int:
    """How many times `action` made the host wait for the GPU (torch's sync debug mode)."""
    torch.cuda.synchronize()
    previous = torch.cuda.get_sync_debug_mode()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            action()
        finally:
            torch.cuda.set_sync_debug_mode(previous)
    return sum("synchronizing" in str(w.message) for w in caught)


@pytest.mark.parametrize("optimize_every", [10_000, 3], ids=["accumulating", "adam-steps"])
def test_one_host_synchronisation_per_layer_input(optimize_every):
    """The boundary decision needs the signal on the host: one wait per layer that got an
    input (a fresh start compares nothing and waits for nothing). Frames come from the
    CPU, as from a camera: their upload must not wait."""
    model, optimizer = small_model(seed=11, optimize_every=optimize_every, device="cuda",
                                   **CONFIGS["three-layers"])
    frames = scene_frames(14)
    run(model, optimizer, frames[:2])  # first calls: lazy CUDA set-up
    reports = []
    syncs = _synchronisations(lambda: reports.extend(run(model, optimizer, frames[2:])))
    compared = sum(r.signal is not None for r in reports)
    assert any(r.layer > 0 and r.signal is not None for r in reports)
    if optimize_every < 10_000:
        assert optimizer.optimizer_steps >= 1
    assert syncs == compared


def test_frames_are_uploaded_from_pinned_memory_without_waiting():
    frame = scene_frames(1)[0]
    uploaded = []
    assert _synchronisations(lambda: uploaded.append(to_device(frame, "cuda"))) == 0
    assert uploaded[0].device.type == "cuda"
    assert torch.equal(uploaded[0].cpu(), frame)
    assert to_device(uploaded[0], "cuda") is uploaded[0]


def test_a_cuda_checkpoint_loads_on_the_cpu_and_back(tmp_path):
    frames = scene_frames(20)
    model, optimizer = small_model(seed=1, optimize_every=3, device="cuda",
                                   **CONFIGS["three-layers"])
    for i, x in enumerate(frames):  # saved just after an update: every layer starts afresh
        model(x)
        if optimizer.step():
            rest = frames[i + 1:]
            break
    else:
        raise AssertionError("no parameter update happened")
    path = tmp_path / "gpu.pt"
    save_checkpoint(path, model, optimizer)
    on_cpu, _ = load_checkpoint(path, device="cpu")
    assert on_cpu.device.type == "cpu"
    for (name, a), (_, b) in zip(model.named_parameters(), on_cpu.named_parameters()):
        assert torch.equal(a.detach().cpu(), b), name
    again, again_optimizer = load_checkpoint(path, device="cuda")
    assert all(layer.device.type == "cuda" for layer in again.layers())
    expected = run(model, optimizer, rest)
    got = run(again, again_optimizer, rest)
    assert [(r.layer, r.boundary) for r in got] == [(r.layer, r.boundary) for r in expected]
    for a, b in zip(got, expected):
        if b.signal is not None:
            assert a.signal == pytest.approx(b.signal, rel=1e-4, abs=1e-5)


def test_segment_cli_runs_on_cuda(tmp_path, capsys):
    from app.__main__ import main

    out = tmp_path / "out.json"
    code = main(["segment", "synthetic:1:20", "--device", "cuda", "--set", "feature_dim=32",
                 "--set", "buffer_size=4", "--max-steps", "12", "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert out.stat().st_size > 0


def test_live_first_blocks_learn_on_cuda():
    """`block_objective` sparse_change: the first blocks' copy learns beside the stream on
    the model's device (it once stayed on the CPU and the first update failed)."""
    model, optimizer = small_model(seed=11, optimize_every=3, device="cuda",
                                   block_objective="sparse_change")
    learner = model.streamer.block_learner
    assert learner is not None
    run(model, optimizer, scene_frames(WINDOW + 12))
    learner.hand_over()
    assert learner.last_loss is not None
    assert all(p.device.type == "cuda" for p in learner.training_copy.parameters())
