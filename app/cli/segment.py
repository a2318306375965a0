"""`streamer-studio segment`: run STREAMER over videos, write the event hierarchy."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from streamer_core.atomic_file import write_json
from streamer_core.device import DEVICE_CHOICES
from streamer_core.event_representations import npy_path, representation_table, write_table
from streamer_core.presets import PRESETS
from streamer_core.sources import (
    SPEC_HELP,
    FrameSource,
    SourceError,
    SyntheticSource,
    VideoFileSource,
    open_source,
)

from .batch import run_shard
from .distributed import run_rank
from .errors import EXIT_INCOMPLETE, EXIT_OK, CliError
from .files import check_distinct_outputs, check_not_an_input, check_writable, trace_output
from .interrupts import Interrupted, Interrupts
from .manifest import parse_shard, read_manifest, unique_stem
from .model_setup import MAX_THREADS, model_for, save_model, torch_threads
from .pipeline import Segmenter, segment_video, snippet_too_short
from .progress import Progress

TRACE_PER_VIDEO = ""
"""--trace without a file name (--manifest: a trace beside each video's JSON)"""


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def thread_count(text: str) -> int:
    """torch crashes (a segfault, not an error) on absurd counts such as 100000."""
    value = positive_int(text)
    if value > MAX_THREADS:
        raise argparse.ArgumentTypeError(f"{text!r} is more threads than makes sense here "
                                         f"(at most {MAX_THREADS})")
    return value


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by segment and bench."""
    parser.add_argument("--set", dest="settings", action="append", default=[],
                        metavar="KEY=VALUE",
                        help="override any model or optimizer argument by name "
                             "(e.g. feature_dim=64, optimize_every=10); repeatable")
    parser.add_argument("--snippet", type=positive_float, default=None, metavar="S",
                        help="seconds of video per model input (default: the preset's, 0.5)")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto",
                        help="where the model runs (default: auto = CUDA if present)")
    parser.add_argument("--seed", type=int, default=None, metavar="N",
                        help="seed for the initial weights of a new model")
    parser.add_argument("--threads", type=thread_count, default=None, metavar="N",
                        help="CPU threads for torch (default: torch's choice); 1 is often "
                             "faster on a machine busy with other work")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "segment", help="run the model over videos and write the event hierarchy",
        description="Run STREAMER over one or more videos, in order, as one stream (learning "
                    "unless --no-learn), and write the hierarchy JSON. With --manifest, a "
                    "batch: one JSON per video in --out-dir, split into shards for a process "
                    "pool, a scheduler's array jobs or torchrun ranks (docs/scale.md).")
    parser.add_argument("videos", nargs="*", metavar="VIDEO", help=SPEC_HELP)
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--checkpoint", metavar="PATH",
                       help="continue from a saved model instead of a new one")
    start.add_argument("--preset", choices=PRESETS, default=None,
                       help="settings of a new model (default: live)")
    add_model_options(parser)
    parser.add_argument("--no-learn", action="store_true",
                        help="only segment; leave the weights as they are")
    parser.add_argument("--reset-per-video", action="store_true",
                        help="treat each video as its own stream (one JSON per video); with "
                             "--manifest, each video also starts from the initial weights, so "
                             "that no result depends on the shard that ran it")
    parser.add_argument("--max-steps", type=positive_int, default=None, metavar="N",
                        help="stop after N model inputs")
    parser.add_argument("-o", "--out", metavar="OUT.json",
                        help="hierarchy JSON (default: stdout); with --reset-per-video and "
                             "several videos, a folder for one VIDEO.json each")
    parser.add_argument("--trace", metavar="TRACE.jsonl", nargs="?", const=TRACE_PER_VIDEO,
                        help="one JSON line per step and layer: step, time, signal, "
                             "threshold, boundary (escalating upper layers: the surprise "
                             "and the class split as signal and threshold); with --manifest, "
                             "no file name: NAME.trace.jsonl beside each NAME.json")
    parser.add_argument("--representations", action="store_true",
                        help="write each event's representation into its 'representation' "
                             "slot of the JSON, and all of them, with layer, index, start "
                             "and end, into a .npy beside it (needs --out, or --manifest: "
                             "NAME.npy beside each NAME.json)")
    parser.add_argument("--save-checkpoint", metavar="PATH",
                        help="save the model here at the end (also when interrupted)")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    add_batch_options(parser)
    parser.set_defaults(run=run)


def add_batch_options(parser: argparse.ArgumentParser) -> None:
    batch = parser.add_argument_group(
        "batch (docs/scale.md)", "A new model's --seed is 0 by default here, so that every "
        "shard and rank starts from the same weights.")
    batch.add_argument("--manifest", metavar="LIST",
                       help="a text file naming one VIDEO a line (# comments; relative paths "
                            "from its folder) instead of VIDEO arguments")
    batch.add_argument("--shard", type=parse_shard, default=None, metavar="I/N",
                       help="run only shard I (0 to N-1) of N, balanced by duration; the N "
                            "shards run every line once")
    batch.add_argument("--out-dir", metavar="DIR",
                       help="folder for NAME.json per video (written whole) and the summary")
    batch.add_argument("--skip-done", action="store_true",
                       help="skip videos whose outputs already exist and load")
    batch.add_argument("--distributed", action="store_true",
                       help="under torchrun: each rank takes its own shard and the ranks "
                            "average their weights every --average-every inputs; rank 0 "
                            "saves --save-checkpoint and DIR/summary.json")
    batch.add_argument("--average-every", type=positive_int, default=None, metavar="K",
                       help="inputs between two averagings of the ranks' weights (the "
                            "optimizer's average_every: default the checkpoint's, or "
                            "1000, the reference's)")
    batch.add_argument("--dist-timeout", type=positive_float, default=1800.0, metavar="S",
                       help="seconds a rank waits for the others before the job ends "
                            "(default 1800)")


def prepare_sources(specs: list[str]) -> list[FrameSource]:
    """Every VIDEO named and checked before the first step, so typos fail fast."""
    sources = []
    for spec in specs:
        source = open_source(spec)
        if isinstance(source, VideoFileSource):
            source.open()  # decodes the first frame: unreadable files fail here
            source.close()
        if isinstance(source, SyntheticSource):
            source.realtime = False  # as fast as it renders
        sources.append(source)
    return sources


def output_name(source: FrameSource, used: set[str]) -> str:
    stem = Path(source.description).stem if isinstance(source, VideoFileSource) else \
        source.description
    return f"{unique_stem(stem, used)}.json"


def run(args: argparse.Namespace) -> int:
    with torch_threads(args.threads):
        return segment(args)


def segment(args: argparse.Namespace) -> int:
    check_batch_options(args)
    if args.manifest:
        return segment_manifest(args)
    per_video = args.reset_per_video and len(args.videos) > 1
    out_dir = None
    if args.out and per_video:
        out_dir = Path(args.out)
        if out_dir.exists() and not out_dir.is_dir():
            raise CliError(f"--out {out_dir} must be a folder with --reset-per-video")
        check_writable(out_dir / "x.json" if out_dir.is_dir() else out_dir, "--out")
    elif args.out:
        check_writable(args.out, "--out")
    if args.trace:
        check_writable(args.trace, "--trace", stream=True)
    if args.representations and not args.out:
        raise CliError("--representations needs --out: the .npy is written beside the JSON")
    if args.representations and out_dir is None:
        if npy_path(args.out) == Path(args.out):
            raise CliError("--out must not be a .npy file: the representations go there")
        check_writable(npy_path(args.out), "--representations")
    if args.save_checkpoint:
        check_writable(args.save_checkpoint, "--save-checkpoint")
    inputs = [v for v in args.videos if os.path.exists(v)]
    inputs += [args.checkpoint] if args.checkpoint else []
    for option, path in (("--out", args.out if out_dir is None else None),
                         ("--trace", args.trace),
                         ("--representations", npy_path(args.out)
                          if args.representations and out_dir is None else None)):
        if path:
            check_not_an_input(path, option, inputs)
    if args.save_checkpoint:
        check_not_an_input(args.save_checkpoint, "--save-checkpoint", args.videos)
    check_distinct_outputs([("--out", args.out), ("--trace", args.trace),
                            ("--representations", npy_path(args.out)
                             if args.representations and out_dir is None else None),
                            ("--save-checkpoint", args.save_checkpoint)])

    with Interrupts() as interrupts:
        return segment_with(args, per_video, out_dir, interrupts)


def check_batch_options(args: argparse.Namespace) -> None:
    """VIDEO arguments or a --manifest, and the options that go with each."""
    if args.manifest is None:
        if not args.videos:
            raise CliError("give one or more VIDEO, or --manifest LIST")
        given = [name for name, on in (("--shard", args.shard), ("--out-dir", args.out_dir),
                                       ("--skip-done", args.skip_done),
                                       ("--distributed", args.distributed),
                                       ("--average-every", args.average_every)) if on]
        if given:
            raise CliError(f"{given[0]} goes with --manifest LIST")
        if args.trace == TRACE_PER_VIDEO:
            raise CliError("--trace needs a file name (TRACE.jsonl)")
        return
    if args.videos:
        raise CliError("give VIDEO arguments or --manifest LIST, not both")
    if not args.out_dir:
        raise CliError("--manifest needs --out-dir DIR (one JSON per video goes there)")
    for name, on in (("--out", args.out), ("--max-steps", args.max_steps)):
        if on:
            raise CliError(f"{name} does not go with --manifest (each video's JSON goes to "
                           "--out-dir; a video runs to its end)")
    if args.trace not in (None, TRACE_PER_VIDEO):
        raise CliError("with --manifest, --trace takes no file name (NAME.trace.jsonl goes "
                       "beside each NAME.json)")
    if args.distributed and args.shard:
        raise CliError("--distributed shards by rank; --shard is for independent jobs")
    if not args.distributed and args.average_every:
        raise CliError("--average-every goes with --distributed")
    if args.save_checkpoint and args.reset_per_video:
        raise CliError("--save-checkpoint does not go with --reset-per-video (each video "
                       "starts afresh: there is no model of the whole shard to save)")


def segment_manifest(args: argparse.Namespace) -> int:
    """A shard of the manifest (--shard I/N, or the whole), or this torchrun rank's share."""
    if args.seed is None and not args.checkpoint:
        args.seed = 0  # every shard and rank from the same weights
    if args.save_checkpoint:
        check_writable(args.save_checkpoint, "--save-checkpoint")
    entries = read_manifest(args.manifest)
    if args.save_checkpoint:
        check_not_an_input(args.save_checkpoint, "--save-checkpoint",
                           [e.spec for e in entries])
    if args.distributed:
        return run_rank(args, entries, lambda: model_for(args))
    return run_shard(args, entries, args.shard or (0, 1), lambda: model_for(args))


def segment_with(args: argparse.Namespace, per_video: bool, out_dir: Path | None,
                 interrupts: Interrupts) -> int:
    """The run itself; SIGINT and SIGTERM stop it between steps, never inside one."""

    try:
        sources = prepare_sources(args.videos)
    except SourceError as err:
        raise CliError(str(err)) from None

    model, optimizer = model_for(args)
    for source in sources:
        if (reason := snippet_too_short(model.args.snippet_size, source)) is not None:
            raise CliError(reason)

    total = args.max_steps
    if all(s.duration for s in sources):
        inputs = sum(math.ceil(s.duration / model.args.snippet_size - 1e-9) for s in sources)
        total = min(total or inputs, inputs)
    progress = Progress("segment", total=total, enabled=not args.quiet)
    with contextlib.ExitStack() as stack:
        trace = stack.enter_context(trace_output(args.trace)) if args.trace else None
        segmenter = Segmenter(model, optimizer, learn=not args.no_learn,
                              max_steps=args.max_steps, trace=trace, progress=progress,
                              atomic=interrupts.atomic, warn=warn,
                              representations=args.representations)
        outcome = feed(segmenter, sources, per_video)
        with interrupts.held():  # a second Ctrl-C must not cut the results short
            return finish(args, segmenter, outcome, sources, out_dir)


def warn(message: str) -> None:
    print(f"segment: warning: {message}", file=sys.stderr, flush=True)


def finish(args: argparse.Namespace, segmenter: Segmenter, outcome: Outcome,
           sources: list[FrameSource], out_dir: Path | None) -> int:
    """Writes what was done and says how the run ended (the exit code)."""
    if segmenter.steps == 0:  # nothing to write; say why
        if outcome.failure is not None:
            raise outcome.failure
        if outcome.interrupted is not None:
            return outcome.interrupted.exit_code
        reasons = "; ".join(s.end_reason for s in sources if s.end_reason)
        raise CliError(f"no frames came from {' + '.join(args.videos)}"
                       + (f" ({reasons})" if reasons else ""))
    try:
        write_results(outcome.results, args.out, out_dir, args.representations)
    finally:  # results that cannot be written (a full disk) do not cost the learned model
        if args.save_checkpoint:
            save_model(args.save_checkpoint, segmenter.model, segmenter.optimizer)
    if not args.quiet and not args.no_learn:
        print(f"segment: {segmenter.learning.summary()}", file=sys.stderr)
    if outcome.failure is not None:
        raise outcome.failure
    if outcome.interrupted is not None:
        what = "interrupted" if outcome.interrupted.signum == signal.SIGINT else \
            f"stopped by {outcome.interrupted.args[0]}"
        print(f"segment: {what}; results so far were written", file=sys.stderr)
        return outcome.interrupted.exit_code
    if outcome.ended_early:
        print(f"segment: error: {'; '.join(outcome.ended_early)}; the results cover the "
              f"{segmenter.seconds:.1f} s read before it and were written", file=sys.stderr)
        return EXIT_INCOMPLETE
    return EXIT_OK


@dataclass
class Outcome:
    results: list[tuple[str, dict]] = field(default_factory=list)
    """(file name for --reset-per-video, hierarchy doc)"""
    interrupted: Interrupted | None = None
    failure: CliError | None = None
    ended_early: list[str] = field(default_factory=list)
    """Why each source that died before its end (a damaged file, a stopped stream) died"""


def feed(segmenter: Segmenter, sources: list[FrameSource], per_video: bool) -> Outcome:
    """All sources through the model; Ctrl-C or a source failing mid-way keeps what was done."""
    outcome = Outcome()
    model = segmenter.model
    used: set[str] = set()
    names: list[str] = []
    unfinished: FrameSource | None = None  # the video being read when we stopped
    try:
        for number, source in enumerate(sources):
            if segmenter.done:
                break
            names.append(source.description)
            unfinished = source
            result = segment_video(segmenter, source, video=number,
                                   reset_model=number == 0 or per_video,
                                   ends_stream=per_video or number == len(sources) - 1)
            unfinished = None
            if result.ended_early:
                outcome.ended_early.append(result.ended_early)
            if per_video and result.hierarchy is not None:
                outcome.results.append((output_name(source, used), result.hierarchy))
    except KeyboardInterrupt as interrupt:
        outcome.interrupted = as_interrupted(interrupt)
    except SourceError as err:
        outcome.failure = CliError(str(err))
    if segmenter.steps:
        try:  # stopped early, the stream ends here (where it ended already, nothing happens)
            segmenter.end_stream(video=len(names) - 1)
        except KeyboardInterrupt as interrupt:  # raised as its block ended: its work is done
            outcome.interrupted = outcome.interrupted or as_interrupted(interrupt)
        segmenter.show_progress(final=True)
    if not per_video and segmenter.steps:
        outcome.results.append(("", segmenter.hierarchy(" + ".join(names))))
    elif unfinished is not None and model.base_counter > 0:
        outcome.results.append((output_name(unfinished, used),
                                segmenter.hierarchy(unfinished.description)))
    return outcome


def as_interrupted(interrupt: KeyboardInterrupt) -> Interrupted:
    """A signal held until a step ended is Interrupted; a bare KeyboardInterrupt is Ctrl-C."""
    return interrupt if isinstance(interrupt, Interrupted) else Interrupted(signal.SIGINT)


def write_results(results: list[tuple[str, dict]], out: str | None,
                  out_dir: Path | None, representations: bool = False) -> None:
    """With `representations`, each JSON gets its table of representations beside it."""
    if out_dir is not None:
        out_dir.mkdir(exist_ok=True)
        for name, doc in results:
            write_json(out_dir / name, doc)
            if representations:
                write_table(npy_path(out_dir / name), representation_table(doc))
    elif out:
        write_json(out, results[0][1] if len(results) == 1 else [doc for _, doc in results])
        if representations:
            write_table(npy_path(out), representation_table(results[0][1]))
    else:
        payload = results[0][1] if len(results) == 1 else [doc for _, doc in results]
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
