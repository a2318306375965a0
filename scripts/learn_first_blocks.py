"""Makes streamer_core/data/first_blocks.pt, where `live`'s layer 0 starts (first_blocks).

One `live` session with drawn first blocks (seed 0) over the built-in synthetic scene
(synthetic:5, 300 s, no footage, no labels): its first blocks learn sparse change at the
rate drawn blocks need (block_lr 1e-3; `live` fine-tunes the learned ones at 1e-4), and
what they hold at the end is written. Run from the repository root:

    .venv/bin/python scripts/learn_first_blocks.py [--out PATH]

A few minutes on one CPU thread; docs/quality.md (session twenty-two) measured the file
it wrote.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.cli.model_setup import new_model  # noqa: E402
from app.cli.pipeline import Segmenter, segment_video  # noqa: E402
from streamer_core.first_blocks import LEARNED_BLOCKS, save_blocks  # noqa: E402
from streamer_core.sources import open_source  # noqa: E402

STREAM = "synthetic:5:300"
SEED = 0
DRAWN_BLOCKS = ["first_blocks=drawn", "block_lr=1e-3"]
"""The session the file was made with (session twenty-two's `live` had block_lr 1e-3)"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=LEARNED_BLOCKS)
    args = parser.parse_args()
    torch.set_num_threads(1)  # the file measured was made on one thread
    model, optimizer = new_model("live", DRAWN_BLOCKS, seed=SEED, device="cpu")
    segmenter = Segmenter(model, optimizer)
    result = segment_video(segmenter, open_source(STREAM))
    model.stop_background_learning()  # a learning not handed over yet is not kept
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_blocks(model.streamer.f.encoder.first_convolutions(), args.out)
    print(f"{result.steps} inputs of {STREAM}; first blocks written to {args.out}")


if __name__ == "__main__":
    main()
