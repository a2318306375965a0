"""How well the frames between two inputs tell a cut from motion (frames_between).

For each montage (`bench --moving-camera --stream-seed N` builds the same one) every input
interval is read as layer 0 reads it, with the first blocks a new `live` model starts
from: the largest frame-to-frame step's share of the interval's steps, and the phase
correlation's peak between the two frames of that step. Intervals holding one of the
truth's cuts are counted apart from the rest, and the rule's verdict (CUT_SHARE and
SAME_VIEW_PEAK) is scored on both. The model's other condition, most of the picture
changed, is not applied here: this is the frames' own evidence.

    .venv/bin/python benchmarks/frames_between_cuts.py --montages 95 96 97 110
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.cli.model_setup import new_model  # noqa: E402
from app.cli.scene_montage import build_scene_montage  # noqa: E402
from streamer_core.frames_between import CUT_SHARE, SAME_VIEW_PEAK, FramesBetween  # noqa: E402
from streamer_core.sources import SnippetSampler, VideoFileSource, preprocess_frame  # noqa: E402


def read_intervals(video: Path, cuts: list[float], convolutions: tuple) -> list[tuple]:
    """(holds a cut, largest step's share, peak, called a cut by the model's rule, the
    input's time) for every interval between two inputs."""
    frames, sampler, rows = FramesBetween(), SnippetSampler(0.5), []
    last_input = None
    with VideoFileSource(video) as source:
        for frame in source:
            x = preprocess_frame(frame.image)
            if not sampler.offer(frame):
                frames.pass_over(x)
                continue
            frames.take_input(x)
            reading = frames.read(convolutions)
            if reading is not None and last_input is not None:
                holds_cut = any(last_input < cut <= frame.timestamp for cut in cuts)
                rows.append((holds_cut, reading.share, reading.peak, reading.is_cut,
                             frame.timestamp))
            last_input = frame.timestamp
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--montages", type=int, nargs="+", default=[95, 96, 97, 110])
    parser.add_argument("--seconds", type=float, default=300.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model, _ = new_model("live", [], seed=0, device="cpu")
    convolutions = model.streamer.f.encoder.first_convolutions()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for seed in args.montages:
            video = Path(folder) / f"montage{seed}.avi"
            truth = build_scene_montage(video, args.seconds, seed, moving_camera=True)
            cuts = [event["start"] for event in truth["layers"][0]["annots"][1:]]
            found = [(*row, seed) for row in read_intervals(video, cuts, convolutions)]
            print(f"montage {seed}: {len(found)} intervals, {sum(r[0] for r in found)} with a cut")
            rows += found
    cut_rows = [r for r in rows if r[0]]
    other_rows = [r for r in rows if not r[0]]
    print(f"\nall: {len(cut_rows)} intervals with a cut, {len(other_rows)} without")
    print("largest step's share, cuts, lowest 6:  ",
          [round(r[1], 2) for r in sorted(cut_rows, key=lambda r: r[1])[:6]])
    print("largest step's share, others, highest 6:",
          [round(r[1], 2) for r in sorted(other_rows, key=lambda r: -r[1])[:6]])
    for name, group in (("cuts", cut_rows), ("others", other_rows)):
        held = [r for r in group if r[1] >= CUT_SHARE]
        peaks = [r[2] for r in held]
        print(f"{name} with share >= {CUT_SHARE}: {len(held)}; their peak "
              f"{min(peaks, default=math.nan):.3f} to {max(peaks, default=math.nan):.3f}")
    called = [r for r in rows if r[3]]
    hits = sum(r[0] for r in called)
    print(f"\nthe rule (share >= {CUT_SHARE}, peak < {SAME_VIEW_PEAK}): {len(called)} intervals "
          f"called cuts, {hits} of them hold one (precision {hits / max(1, len(called)):.2f}); "
          f"{hits} of {len(cut_rows)} cuts (recall {hits / max(1, len(cut_rows)):.2f})")
    wrong = [r for r in rows if r[0] != r[3]]
    for holds_cut, share, peak, _, time, seed in wrong:
        print(f"  montage {seed} at {time:.1f} s: {'a cut missed' if holds_cut else 'no cut'}"
              f" (share {share:.2f}, peak {peak:.3f})")


if __name__ == "__main__":
    main()
