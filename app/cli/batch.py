"""`segment --manifest`: one shard of a manifest, one JSON (and trace) per video, each
written whole, so that a killed job loses only the video it was on.

The same loop runs a process of a local pool, a SLURM array task and a torchrun rank
(`distributed.py` adds the weight averaging). A bad line or a missing video is reported
with its line number and the other videos still run; the exit code then says so.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from streamer_core import StreamerModel, StreamerOptimizer
from streamer_core.atomic_file import atomic_file, write_json
from streamer_core.event_representations import npy_path, representation_table, write_table
from streamer_core.sources import FrameSource, SourceError, SyntheticSource, VideoFileSource
from streamer_core.sources.spec import open_source

from .errors import EXIT_INCOMPLETE, EXIT_OK, CliError
from .interrupts import Interrupted, Interrupts
from .manifest import ManifestEntry, shard_of
from .model_setup import save_model
from .pipeline import Segmenter, segment_video, snippet_too_short
from .progress import Progress

ModelFactory = Callable[[], tuple[StreamerModel, StreamerOptimizer]]


@dataclass
class VideoOutputs:
    """Where one manifest line's results go: NAME.json, NAME.trace.jsonl and NAME.npy (the
    events' representations) if asked."""

    json: Path
    trace: Path | None
    table: Path | None = None

    @classmethod
    def of(cls, out_dir: Path, entry: ManifestEntry, trace: bool,
           representations: bool = False) -> VideoOutputs:
        json_path = out_dir / f"{entry.name}.json"
        return cls(json_path, out_dir / f"{entry.name}.trace.jsonl" if trace else None,
                   npy_path(json_path) if representations else None)

    def done(self) -> bool:
        """Every output exists and loads (a file cut short by a crash does not)."""
        try:
            doc = json.loads(self.json.read_text(encoding="utf-8"))
            if not isinstance(doc, dict) or not isinstance(doc.get("layers"), list):
                return False
            if self.trace is not None:
                with open(self.trace, encoding="utf-8") as rows:
                    for row in rows:
                        json.loads(row)
            if self.table is not None:
                np.load(self.table, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return False
        return True


@dataclass
class ShardSummary:
    """What a shard did; rank 0 of a distributed run gathers one per rank."""

    shard: str
    videos: int = 0
    done: int = 0
    skipped: int = 0
    failed: list[dict] = field(default_factory=list)
    """{"line", "video", "reason"} for each video that failed or ended early"""
    steps: int = 0
    video_seconds: float = 0.0
    wall_seconds: float = 0.0

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "steps_per_second": round(self.steps_per_second, 3)}

    def line(self) -> str:
        return (f"shard {self.shard}: {self.done} of {self.videos} videos done, "
                f"{self.skipped} skipped, {len(self.failed)} failed; {self.steps} steps "
                f"({self.video_seconds:.1f} s of video) in {self.wall_seconds:.1f} s, "
                f"{self.steps_per_second:.2f} steps/s")


def open_entry(entry: ManifestEntry) -> FrameSource:
    """The line's source, checked (a file decodes its first frame); SourceError if not."""
    source = open_source(entry.spec)
    if source.is_live and not isinstance(source, SyntheticSource):
        raise SourceError(f"{entry.spec} is live (a camera): a manifest names videos, "
                          "streams or synthetic scenes that end")
    if isinstance(source, VideoFileSource):
        source.open()
        source.close()
    if isinstance(source, SyntheticSource):
        source.realtime = False  # as fast as it renders
    return source


def say(message: str) -> None:
    print(f"segment: {message}", file=sys.stderr, flush=True)


class Batch:
    """Runs a shard's videos through a model; `after_step` runs after each learning step."""

    def __init__(self, args: argparse.Namespace, out_dir: Path, interrupts: Interrupts,
                 make_model: ModelFactory, after_step: Callable[[], None] | None = None):
        self.args = args
        self.out_dir = out_dir
        self.interrupts = interrupts
        self.make_model = make_model
        self.after_step = after_step
        self.model, self.optimizer = make_model()
        self.model_used = False  # with --reset-per-video, a used model is built anew
        self.current: ManifestEntry | None = None

    def run(self, entries: list[ManifestEntry], summary: ShardSummary) -> None:
        """Every entry in turn; an interrupt (Ctrl-C, SIGTERM) propagates, the output of
        the video it cut is not written."""
        started = time.monotonic()
        summary.videos = len(entries)
        try:
            for number, entry in enumerate(entries, start=1):
                self.current = entry
                self._one(entry, f"[{number}/{len(entries)}] {entry.name}", summary)
            self.current = None
        finally:
            summary.wall_seconds = time.monotonic() - started

    def _one(self, entry: ManifestEntry, label: str, summary: ShardSummary) -> None:
        args = self.args
        outputs = VideoOutputs.of(self.out_dir, entry, trace=args.trace is not None,
                                  representations=args.representations)
        if args.skip_done and outputs.done():
            summary.skipped += 1
            return
        try:
            source = open_entry(entry)
            if (reason := snippet_too_short(self.model.args.snippet_size, source)):
                raise SourceError(reason)
        except SourceError as err:
            self._failed(entry, str(err), summary)
            return
        if args.reset_per_video and self.model_used:
            self.model, self.optimizer = self.make_model()  # every video from the same start
        self.model_used = True
        segmenter = Segmenter(self.model, self.optimizer, learn=not args.no_learn,
                              progress=Progress(label, enabled=not args.quiet),
                              atomic=self.interrupts.atomic, after_step=self.after_step,
                              warn=lambda message: say(f"{entry.name}: warning: {message}"),
                              representations=args.representations)
        try:
            with (atomic_file(outputs.trace) if outputs.trace else
                  contextlib.nullcontext()) as trace:
                segmenter.trace = trace
                result = segment_video(segmenter, source)
                if result.hierarchy is None:  # nothing to write: the temp trace goes too
                    raise SourceError(f"no frames came from {entry.spec}")
        except SourceError as err:
            summary.steps += segmenter.steps
            self._failed(entry, str(err), summary)
            return
        segmenter.show_progress(final=True)
        with self.interrupts.held():  # the JSON says the video is done: written whole, last
            if outputs.table is not None:
                write_table(outputs.table, representation_table(result.hierarchy))
            write_json(outputs.json, result.hierarchy)
        summary.steps += result.steps
        summary.video_seconds += segmenter.seconds
        summary.done += 1
        if result.ended_early:  # written (a damaged file will not get better), but said
            self._failed(entry, f"ended early: {result.ended_early}", summary)

    def _failed(self, entry: ManifestEntry, reason: str, summary: ShardSummary) -> None:
        say(f"error: {self.args.manifest} line {entry.line} ({entry.spec}): {reason}")
        summary.failed.append({"line": entry.line, "video": entry.spec, "reason": reason})


def exit_code(summary: ShardSummary) -> int:
    return EXIT_INCOMPLETE if summary.failed else EXIT_OK


def interrupted_message(batch: Batch, interrupt: KeyboardInterrupt) -> int:
    """Says which video was cut (its outputs are not written) and returns the exit code."""
    code = interrupt.exit_code if isinstance(interrupt, Interrupted) else 130
    where = f" during {batch.current.spec}, whose outputs were not written" \
        if batch.current else ""
    say(f"interrupted{where}; the videos finished before it are written (--skip-done "
        "goes on from there)")
    return code


def prepare_out_dir(path: str) -> Path:
    out_dir = Path(path)
    if out_dir.exists() and not out_dir.is_dir():
        raise CliError(f"--out-dir {out_dir} is a file; give a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CliError(f"cannot create --out-dir {out_dir}: {err.strerror or err}") from None
    return out_dir


def run_shard(args: argparse.Namespace, entries: list[ManifestEntry], shard: tuple[int, int],
              make_model: ModelFactory) -> int:
    """A shard on its own (a pool process, an array task): its videos, then its summary,
    DIR/summary-I-of-N.json, and the model if --save-checkpoint."""
    out_dir = prepare_out_dir(args.out_dir)
    index, count = shard
    summary = ShardSummary(shard=f"{index}/{count}")
    with Interrupts() as interrupts:
        batch = Batch(args, out_dir, interrupts, make_model)
        try:
            batch.run(shard_of(entries, index, count), summary)
        except KeyboardInterrupt as interrupt:
            with interrupts.held():
                save_learned_model(args, batch)
            return interrupted_message(batch, interrupt)
        with interrupts.held():
            write_json(out_dir / f"summary-{index}-of-{count}.json", summary.as_dict())
            save_learned_model(args, batch)
    say(summary.line())
    return exit_code(summary)


def save_learned_model(args: argparse.Namespace, batch: Batch) -> None:
    """--save-checkpoint, also when interrupted, as a single video's run; not when no
    video ran, which would put an untrained model over the file a user had there."""
    if not args.save_checkpoint:
        return
    if batch.model_used:
        save_model(args.save_checkpoint, batch.model, batch.optimizer)
    else:
        say(f"no video ran: {args.save_checkpoint} was not written")
