"""What layer 0's boundaries owe to its prediction and to what the model learned.

Issue 15 asks for boundaries that come from the model's own prediction, not from a
hand-made pixel-statistics detector. This segments one stream with frozen weights
(`--no-learn`) several ways and compares the layer-0 boundaries with those of the model
as it is:

- **flat prediction**: layer 0's decoded prediction, wherever it is read, replaced by a
  flat picture (its own mean everywhere);
- **noise prediction**: replaced by a fixed random picture;
- **learned weights** (with --checkpoint): the weights saved after learning on another
  stream, against the same model seed's initial weights; and those weights with the
  flat prediction, against them ("learned, flat").

If a row's boundaries are the model's, to the input, the prediction (or the learning)
decided none of them. With --truth, each row's F1 against it too.

    python benchmarks/prediction_ablation.py vtest.avi --seeds 0 1 2 [--truth T.json]
    python benchmarks/prediction_ablation.py synthetic:74:300 --seeds 0 --checkpoint L.pt
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.cli.model_setup import new_model  # noqa: E402
from app.cli.pipeline import Segmenter, segment_video  # noqa: E402
from streamer_core.checkpoint import load_checkpoint  # noqa: E402
from streamer_core.evaluation import (  # noqa: E402
    boundary_scores,
    layer_boundaries,
    match_boundaries,
)
from streamer_core.layer import StreamerLayer  # noqa: E402
from streamer_core.sources import open_source  # noqa: E402

PREDICTIONS = ("model", "flat", "noise")


@contextlib.contextmanager
def prediction_replaced(kind: str) -> Iterator[None]:
    """Layer 0's decoded prediction replaced by `kind` ("flat" or "noise") wherever it is
    read, for as long as the block runs; "model" leaves it as it is."""
    if kind == "model":
        yield
        return
    original = StreamerLayer.predict

    def predict(layer: StreamerLayer, inputs: list[torch.Tensor] | None = None) -> None:
        original(layer, inputs)
        picture = layer.context
        if layer.layer_num == 0 and picture is not None and picture.dim() == 4:
            if kind == "flat":
                layer.context = torch.full_like(picture, float(picture.mean()))
            else:
                noise = torch.rand(picture.shape, generator=torch.Generator().manual_seed(0))
                layer.context = noise.to(picture)

    StreamerLayer.predict = predict
    try:
        yield
    finally:
        StreamerLayer.predict = original


def layer_0_boundaries(stream: str, seed: int, prediction: str,
                       checkpoint: Path | None = None) -> list[float]:
    """A frozen run of `live` (or of the checkpoint's model) over the stream."""
    if checkpoint is None:
        model, optimizer = new_model("live", [], None, "cpu", seed)
    else:
        model, optimizer = load_checkpoint(checkpoint, device="cpu")
    segmenter = Segmenter(model, optimizer, learn=False)
    with prediction_replaced(prediction):  # a new stream for the model, as `segment` starts
        result = segment_video(segmenter, open_source(stream))
    return layer_boundaries(result.hierarchy, 0) if result.hierarchy else []


def row(name: str, boundaries: list[float], model: list[float], truth: list[float] | None
        ) -> str:
    same = match_boundaries(boundaries, model, 0.0)
    text = (f"  {name:<18} {len(boundaries):>4} boundaries, {same:>4} of them the model's "
            f"(exact F1 {boundary_scores(boundaries, model, 0.0).f1:.2f})")
    if truth is not None:
        text += f", F1 against the truth {boundary_scores(boundaries, truth).f1:.2f}"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stream", help="a video file or synthetic:SEED:SECONDS")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="model seeds (initial weights)")
    parser.add_argument("--truth", type=Path, help="a hierarchy JSON to score layer 0 against")
    parser.add_argument("--checkpoint", type=Path, nargs="*", default=[],
                        help="learned weights, one per seed, in the order of --seeds")
    args = parser.parse_args(argv)
    if args.checkpoint and len(args.checkpoint) != len(args.seeds):
        parser.error("give one --checkpoint per seed")
    truth = (layer_boundaries(json.loads(args.truth.read_text()), 0)
             if args.truth else None)
    torch.set_num_threads(1)
    for i, seed in enumerate(args.seeds):
        print(f"{args.stream}, model seed {seed}, frozen:", flush=True)
        model = layer_0_boundaries(args.stream, seed, "model")
        print(row("the model", model, model, truth), flush=True)
        for kind in PREDICTIONS[1:]:
            print(row(f"{kind} prediction", layer_0_boundaries(args.stream, seed, kind),
                      model, truth), flush=True)
        if args.checkpoint:
            learned = layer_0_boundaries(args.stream, seed, "model", args.checkpoint[i])
            print(row("learned weights", learned, model, truth), flush=True)
            # Does learning make the prediction take part? The same replacement, learned.
            flat = layer_0_boundaries(args.stream, seed, "flat", args.checkpoint[i])
            print(row("learned, flat", flat, learned, truth), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
