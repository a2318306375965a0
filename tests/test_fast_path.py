"""The fast path computes the straightforward path's gradients (within 1e-5 relative).

Compared in float64: in float32 the straightforward path's own rounding is already
~1e-3 relative on the first convolution's gradient (measured against float64), which
would hide any real difference. In float64 the two paths agree to ~1e-7 (the reference
sums the float32 reach weights to 1 +- 6e-8 for the predictor; the fast path uses 1).
"""

import pytest
import torch

from core_helpers import run, scene_frames, small_model
from streamer_core.checkpoint import checkpoint_dict


def _relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm().clamp_min(1e-12)).item()


def _accumulated_grads(fast_path: bool, frames, **overrides) -> tuple[dict, list]:
    model, optimizer = small_model(seed=11, optimize_every=10_000, fast_path=fast_path,
                                   **overrides)
    model.to(torch.float64)
    reports = run(model, optimizer, [x.to(torch.float64) for x in frames])
    model.finish_gradients()  # what the optimizer does before updating
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    return grads, reports


@pytest.mark.parametrize("overrides", [
    dict(init_layers=3, evolve_every=100, demarcation_mode="fixed", loss_threshold=0.9),
    dict(evolve_every=2, buffer_size=4, force_fixed_buffer=True),  # layers grow mid-run
], ids=["three-layers", "growing"])
def test_fast_path_gradients_equal_the_straightforward_ones(overrides):
    frames = scene_frames(14)
    slow, slow_reports = _accumulated_grads(False, frames, **overrides)
    fast, fast_reports = _accumulated_grads(True, frames, **overrides)
    assert [(r.layer, r.boundary) for r in fast_reports] == \
        [(r.layer, r.boundary) for r in slow_reports]
    assert max(r.layer for r in fast_reports) >= 1, "the test must cover several layers"
    assert set(fast) == set(slow)
    assert any(".above." in name for name in slow)
    for name in slow:
        assert _relative_error(fast[name], slow[name]) < 1e-5, name


def test_each_frame_is_encoded_once_and_its_backward_released(monkeypatch):
    model, optimizer = small_model(seed=3, optimize_every=10_000, buffer_size=3,
                                   evolve_every=100)
    encoder = model.streamer.f.encoder
    calls = []
    original = encoder.forward
    monkeypatch.setattr(encoder, "forward", lambda x: calls.append(x.shape[0]) or original(x))
    frames = scene_frames(20)
    run(model, optimizer, frames)
    assert calls == [1] * len(frames)  # one frame per call, once each
    pending = model.streamer.encoded_frames.pending
    # Only frames that a live graph or the buffer can still reach wait for their backward.
    assert len(pending) <= 2 * model.args.buffer_size


def test_not_learning_keeps_no_encoder_graphs():
    model, _ = small_model(seed=3)
    with torch.no_grad():
        run(model, None, scene_frames(6))
    assert model.streamer.encoded_frames.pending == []


def test_deferred_linear_gives_the_linear_gradients():
    from streamer_core.deferred_linear import DeferredWeightGrad

    torch.manual_seed(0)
    plain = torch.nn.Linear(6, 4).double()
    deferred = torch.nn.Linear(6, 4).double()
    deferred.load_state_dict(plain.state_dict())
    sink = DeferredWeightGrad(deferred, capacity=3)
    inputs = [torch.randn(1, 6, dtype=torch.float64, requires_grad=True) for _ in range(5)]
    for x in inputs:
        plain(x).pow(2).sum().backward()
        sink(x).pow(2).sum().backward()
    assert len(sink) == 2  # flushed once at capacity 3, two rows waiting
    sink.flush()
    torch.testing.assert_close(deferred.weight.grad, plain.weight.grad)
    torch.testing.assert_close(deferred.bias.grad, plain.bias.grad)


def test_fast_path_defers_the_large_linear_weight_gradients():
    model, optimizer = small_model(seed=3, optimize_every=10_000)
    run(model, optimizer, scene_frames(3))
    decoder_fc1 = model.streamer.p.decoder.fc1
    assert decoder_fc1.weight.grad is None  # waiting in its sink, not written per step
    assert len(model.streamer.p.decoder.fc1_deferred) == 2  # two losses so far
    model.finish_gradients()
    assert decoder_fc1.weight.grad is not None


def test_saving_mid_interval_does_not_change_the_accumulated_gradients():
    """Saving completes the gradients so far and keeps the graphs that later inputs add to."""
    frames = scene_frames(12)
    overrides = dict(init_layers=2, evolve_every=100, buffer_size=5)
    saved, optimizer = small_model(seed=5, optimize_every=10_000, **overrides)
    saved.to(torch.float64)
    plain, plain_optimizer = small_model(seed=5, optimize_every=10_000, **overrides)
    plain.to(torch.float64)
    frames = [x.to(torch.float64) for x in frames]
    run(saved, optimizer, frames[:6])
    checkpoint_dict(saved, optimizer)  # frames still buffered get more gradient below
    run(saved, optimizer, frames[6:])
    run(plain, plain_optimizer, frames)
    saved.finish_gradients()
    plain.finish_gradients()
    plain_grads = dict(plain.named_parameters())
    for name, param in saved.named_parameters():
        if param.grad is not None:
            assert _relative_error(param.grad, plain_grads[name].grad) < 1e-9, name


def test_an_upper_layer_representation_is_back_propagated_once():
    # Layer 0 marks a boundary only when its buffer of 6 is full: layer 1 gets one input.
    model, optimizer = small_model(seed=3, optimize_every=10_000, init_layers=2,
                                   evolve_every=100, demarcation_mode="fixed",
                                   loss_threshold=-2.0, buffer_size=6, force_fixed_buffer=True)
    upper = model.streamer.above
    reports = run(model, optimizer, scene_frames(11))
    assert [r.step for r in reports if r.layer == 1] == [6]
    assert sum(r.layer == 0 and r.step > 6 for r in reports) == 4  # losses that used it
    held = upper.deferred_representations.pending
    assert held[-1].grad is not None  # the layer-0 losses since then added to it...
    linear = upper.f.network.layers[0].linear1
    assert linear.weight.grad is None  # ...without a backward pass through layer 1's f
    model.finish_gradients()
    assert linear.weight.grad is not None
    assert upper.deferred_representations.pending == []

