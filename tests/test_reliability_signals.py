"""Ctrl-C and SIGTERM at any moment, even inside a learning step: the results and the
checkpoint promised at exit are written, and the checkpoint loads and learns on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch

from app.cli.interrupts import Interrupted, Interrupts
from app.cli.pipeline import Segmenter
from core_helpers import scene_frames, small_model
from streamer_core.checkpoint import load_checkpoint, save_checkpoint

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name != "posix",
                                reason="POSIX signals")


def learns_one_more_update(path: Path) -> None:
    """Loads `path` and feeds frames until the optimizer updates the weights once."""
    model, optimizer = load_checkpoint(path, device="cpu")
    optimizer.args.optimize_clock = "base"  # an update within a few inputs
    for x in scene_frames(12, seed=3):
        model(x)
        if optimizer.step():
            break
    else:
        pytest.fail("no weight update within 12 inputs")
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())


SIGNAL_POINTS = {  # where inside a step the signal arrives: right after the Nth call of
    "a layer's forward": ("streamer_core.layer", "StreamerLayer", "forward", 7),
    "a loss's backward": ("streamer_core.optimizer", "StreamerOptimizer", "_accumulate", 7),
    "a deferred backward": ("streamer_core.deferred_backward", None, "_run_backward", 3),
    "the weight update": ("streamer_core.layer", "StreamerLayer", "optimize_layer", 1),
}


@pytest.mark.parametrize("point", list(SIGNAL_POINTS))
def test_a_signal_inside_a_step_waits_for_the_step_to_end(tmp_path, monkeypatch, point):
    """A real SIGINT sent to this process from inside a step (right after one of its
    parts): the step finishes first, so every input is counted once by
    every layer, no gradient is half sent, and the model saves and learns on. Before the
    signal was held, it cut the step there ('Trying to backward through the graph a
    second time' when saving)."""
    module_name, class_name, name, nth = SIGNAL_POINTS[point]
    owner = __import__(module_name, fromlist=["_"])
    owner = getattr(owner, class_name) if class_name else owner
    original = getattr(owner, name)
    calls = []

    def signalling(*args, **kwargs):
        result = original(*args, **kwargs)
        calls.append(1)
        if len(calls) == nth:
            os.kill(os.getpid(), signal.SIGINT)
        return result

    monkeypatch.setattr(owner, name, signalling)
    images = [((x[0].permute(1, 2, 0) + 1) * 127.5).byte().numpy() for x in scene_frames(40)]
    model, optimizer = small_model(optimize_every=2, evolve_every=2)
    with Interrupts() as interrupts:
        segmenter = Segmenter(model, optimizer, atomic=interrupts.atomic)
        with pytest.raises(Interrupted):
            for image in images:
                segmenter.step(image)
    monkeypatch.setattr(owner, name, original)
    assert len(calls) >= nth
    assert model.base_counter == segmenter.steps
    assert model.layers()[0].last_base_counter == model.base_counter - 1
    assert not any(layer.objective_ready for layer in model.layers())
    save_checkpoint(tmp_path / "m.pt", model, optimizer)
    learns_one_more_update(tmp_path / "m.pt")


def _segment(tmp_path: Path, name: str) -> tuple[subprocess.Popen, Path, Path]:
    out, checkpoint = tmp_path / f"{name}.json", tmp_path / f"{name}.pt"
    command = [sys.executable, "-m", "app", "segment", "synthetic:1:600", "--set",
               "feature_dim=32", "--set", "optimize_every=2", "--set", "evolve_every=3",
               "--set", "buffer_size=4", "--device", "cpu", "--seed", "0", "--threads", "1",
               "--out", str(out), "--save-checkpoint", str(checkpoint)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    return process, out, checkpoint


@pytest.mark.parametrize("signum, delays", [(signal.SIGINT, (0.0, 0.13, 0.4)),
                                            (signal.SIGTERM, (0.07,))])
def test_a_real_segment_run_stopped_by_a_signal_writes_everything(tmp_path, signum, delays):
    """`python -m app segment` as a user runs it, stopped after its first step at several
    delays (most fall inside a step): exit code 128 + signal, the JSON and a checkpoint
    that agree on how far it got, and the checkpoint learns one more update."""
    for number, delay in enumerate(delays):
        process, out, checkpoint = _segment(tmp_path, f"run{number}")
        try:
            first = process.stderr.readline()  # the first progress line: learning has begun
            assert "segment" in first, first + process.stderr.read()
            threading.Event().wait(delay)
            process.send_signal(signum)
            errors = process.stderr.read()
            assert process.wait(timeout=120) == 128 + signum, errors
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stderr.close()
        assert "results so far were written" in errors and "Traceback" not in errors, errors
        doc = json.loads(out.read_text())
        model, _ = load_checkpoint(checkpoint, device="cpu")
        assert doc["duration"] == pytest.approx(model.base_counter * 0.5)
        learns_one_more_update(checkpoint)
