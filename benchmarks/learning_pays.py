"""Whether learning pays: a stream replayed with learning on, against the same model frozen.

Issue 15 asks that, replaying a stream 3 times with learning on, the last pass scores at
least the first pass and at least the same run with `--no-learn`. For each stream and
model seed a new `live` model learns over `--passes` replays of the stream (the weights
go on from pass to pass, and each pass is segmented and scored on its own, as `segment V
V V --reset-per-video` does), and a new model drawn with the same seed segments the
stream once without learning. Printed per run: layer 0's boundary F1 (precision, recall)
on each pass and frozen, and the uniform chance level of the last pass (as many events,
any phase); then the mean of each column over the seeds and whether the goal holds.

Streams: `vtest` (OpenCV's still street camera, scored against the hand annotation of
people entering and leaving, app/cli/still_camera.py), a synthetic spec
(`synthetic:SEED:SECONDS`, scored against its object visits), or a video file with its
truth beside it (NAME.json, as benchmarks/whole_clips_montage.py writes it: scored
against its first layer, there the cuts and events).

    .venv/bin/python benchmarks/learning_pays.py --seeds 0 1 2
    .venv/bin/python benchmarks/learning_pays.py --streams synthetic:119:120 --passes 8 --seeds 0
    .venv/bin/python benchmarks/learning_pays.py --streams u6.avi --seeds 0   # u6.json beside it
    .venv/bin/python benchmarks/learning_pays.py --streams u6.avi --set block_lr=1e-12  # a variant

`--set KEY=VALUE` (as `segment` takes it) changes the `live` settings of every model, the
learning ones and the frozen one alike.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.cli.errors import CliError  # noqa: E402
from app.cli.evaluate import read_truth  # noqa: E402
from app.cli.model_setup import model_arguments, new_model  # noqa: E402
from app.cli.pipeline import Segmenter, segment_video  # noqa: E402
from app.cli.still_camera import VTEST, still_camera_truth  # noqa: E402
from streamer_core.evaluation import (  # noqa: E402
    BoundaryScore,
    HierarchyFormatError,
    boundary_scores,
    check_hierarchy,
    layer_boundaries,
    uniform_chance,
)
from streamer_core.sources import (  # noqa: E402
    FrameSource,
    SourceError,
    SyntheticSource,
    open_source,
)

LAYER = 0
"""Layer 0's events: object visits, people entering or leaving"""
TOLERANCE = 1.0


@dataclass(frozen=True)
class Run:
    """One stream and seed: a score per learning pass, the frozen model's, and chance."""

    passes: list[BoundaryScore]
    frozen: BoundaryScore
    uniform: float


def open_stream(spec: str) -> FrameSource:
    """A fresh source for one pass (vtest: OpenCV's still street camera)."""
    source = open_source(str(VTEST) if spec == "vtest" else spec)
    if isinstance(source, SyntheticSource):
        source.realtime = False  # as fast as it renders
    return source


def truth_beside(video: str) -> Path:
    """Where a video file's truth lies: NAME.json beside it."""
    return Path(video).with_suffix(".json")


def truth_of(spec: str) -> dict:
    if spec == "vtest":
        return still_camera_truth()
    source = open_stream(spec)
    if isinstance(source, SyntheticSource):
        return source.ground_truth()
    return read_truth(str(truth_beside(spec)))


def hierarchies(spec: str, seed: int, passes: int, learn: bool,
                settings: list[str] | None = None) -> list[dict]:
    """The hierarchy of each pass of one new model over the stream (`settings`: --set)."""
    model, optimizer = new_model("live", settings or [], seed=seed)
    segmenter = Segmenter(model, optimizer, learn=learn)
    return [segment_video(segmenter, open_stream(spec), video=number, reset_model=True
                          ).hierarchy for number in range(passes)]


def score(hierarchy: dict, truth: dict) -> BoundaryScore:
    return boundary_scores(layer_boundaries(hierarchy, LAYER),
                           layer_boundaries(truth, LAYER), TOLERANCE)


def measure(spec: str, seed: int, passes: int, settings: list[str] | None = None) -> Run:
    truth = truth_of(spec)
    learned = hierarchies(spec, seed, passes, learn=True, settings=settings)
    frozen = hierarchies(spec, seed, 1, learn=False, settings=settings)[0]
    chance = next(row["f1"] for row in uniform_chance(learned[-1], truth, TOLERANCE)
                  if row["pred_layer"] == LAYER and row["gt_layer"] == LAYER)
    return Run([score(h, truth) for h in learned], score(frozen, truth), chance)


def cell(s: BoundaryScore) -> str:
    return f"{s.f1:.2f} (P {s.precision:.2f} R {s.recall:.2f})"


def report(spec: str, runs: dict[int, Run], settings: list[str] | None = None) -> None:
    count = len(next(iter(runs.values())).passes)
    variant = f", live with {' '.join(settings)}" if settings else ""
    print(f"\n{spec}: layer {LAYER}, boundary F1 at +-{TOLERANCE:g} s{variant}")
    print("seed | " + " | ".join(f"pass {n + 1}" for n in range(count))
          + " | frozen | uniform (last pass)")
    for seed, run in runs.items():
        print(f"{seed} | " + " | ".join(cell(s) for s in run.passes)
              + f" | {cell(run.frozen)} | {run.uniform:.2f}")
    table = np.array([[s.f1 for s in run.passes] + [run.frozen.f1] for run in runs.values()])
    means = table.mean(axis=0)
    print("mean | " + " | ".join(f"{m:.3f}" for m in means)
          + f" | {np.mean([r.uniform for r in runs.values()]):.3f}")
    last, first, frozen = means[count - 1], means[0], means[count]
    print(f"the last pass {'at least' if last >= first else 'below'} the first"
          f" and {'at least' if last >= frozen else 'below'} the frozen run")


def _opened(spec: str, parser: argparse.ArgumentParser) -> FrameSource:
    try:
        return open_stream(spec)
    except (ValueError, SourceError) as err:
        parser.error(f"{spec}: {err}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", nargs="+", default=["vtest", "synthetic:119:120"],
                        help="vtest, synthetic:SEED:SECONDS or a video with NAME.json beside "
                             "it (default: the first two)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--set", dest="settings", action="append", default=[],
                        metavar="KEY=VALUE", help="change a `live` setting of every model "
                        "(as segment's --set); repeatable")
    args = parser.parse_args(argv)
    if args.passes < 1:
        parser.error("--passes must be at least 1")
    try:
        model_arguments("live", args.settings)
    except CliError as err:
        parser.error(str(err))
    for spec in args.streams:
        if spec == "vtest" or isinstance(_opened(spec, parser), SyntheticSource):
            continue
        truth = truth_beside(spec)
        if not truth.is_file():
            parser.error(f"{spec}: a stream here is vtest, synthetic:SEED:SECONDS or a video "
                         f"with its truth beside it ({truth.name} is missing)")
        try:
            check_hierarchy(read_truth(str(truth)), str(truth))
        except (CliError, HierarchyFormatError) as err:
            parser.error(str(err))
    if "vtest" in args.streams and not VTEST.is_file():
        parser.error(f"{VTEST} is missing (Debian package opencv-doc)")
    torch.set_num_threads(args.threads)
    for spec in args.streams:
        report(spec, {seed: measure(spec, seed, args.passes, args.settings)
                      for seed in args.seeds}, args.settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
