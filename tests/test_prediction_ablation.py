"""benchmarks/prediction_ablation.py: layer 0's prediction replaced inside the block only."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.prediction_ablation import prediction_replaced  # noqa: E402
from streamer_core.layer import StreamerLayer  # noqa: E402
from tests.core_helpers import run, scene_frames, small_model  # noqa: E402


@pytest.mark.parametrize("kind, flat", [("model", False), ("flat", True), ("noise", False)])
def test_layer_0_reads_the_replaced_prediction(kind, flat):
    model, _ = small_model(signal_space="features", demarcation_mode="change")
    original = StreamerLayer.predict
    with torch.no_grad(), prediction_replaced(kind):
        run(model, None, scene_frames(6))
        picture = model.streamer.context
    assert picture is not None and picture.dim() == 4
    assert (float(picture.std()) < 1e-6) is flat
    if kind == "noise":  # a fixed random picture in [0, 1), not the decoder's
        assert 0.0 <= float(picture.min()) and float(picture.max()) < 1.0
        assert float(picture.std()) == pytest.approx((1 / 12) ** 0.5, rel=0.05)
    assert StreamerLayer.predict is original  # restored after the block


def test_the_initial_weights_as_the_learned_ones_mark_what_the_model_marks(tmp_path, capsys):
    """Given the seed's own initial weights as the "learned" checkpoint, that row is the
    model's boundaries to the input, and the flat prediction is measured with them too.
    (12 s: in the first 6 s of this stream, its camera's sway held by the steady view,
    `live` marks nothing, so the rows would agree trivially.)"""
    from app.cli.model_setup import new_model, save_model
    from benchmarks.prediction_ablation import main

    checkpoint = tmp_path / "initial.pt"
    save_model(checkpoint, *new_model("live", [], None, "cpu", 0))
    assert main(["synthetic:3:12", "--seeds", "0", "--checkpoint", str(checkpoint)]) == 0
    rows = {line.split("  ")[1].strip(): line for line in capsys.readouterr().out.splitlines()
            if line.startswith("  ")}
    assert set(rows) == {"the model", "flat prediction", "noise prediction",
                         "learned weights", "learned, flat"}
    assert "(exact F1 1.00)" in rows["learned weights"]
    marked = int(rows["the model"].split()[2])
    assert rows["learned weights"].split()[2] == str(marked) and marked > 0
