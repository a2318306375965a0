"""A manifest of videos, one source spec a line, split into shards of about equal duration.

Every shard of a batch (a process of a pool, a SLURM array task, a torchrun rank) reads
the same manifest and computes the same split, so the shards need no coordinator: shard I
of N runs only its own lines, and together the N shards run every line exactly once.
"""

from __future__ import annotations

import argparse
import heapq
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import cv2

from streamer_core.sources import SourceError
from streamer_core.sources.capture import positive_or_none
from streamer_core.sources.spec import parse_synthetic
from streamer_core.sources.stream import STREAM_SCHEMES

from .errors import CliError


@dataclass(frozen=True)
class ManifestEntry:
    line: int
    """1-based line number in the manifest, for messages"""
    spec: str
    """The source spec; a relative file path is taken from the manifest's folder"""
    duration: float | None
    """Seconds, where the file's header (or the synthetic spec) says"""
    name: str
    """Output file stem, unique over the whole manifest (the same in every shard)"""


def parse_shard(text: str) -> tuple[int, int]:
    """'I/N' -> (I, N), I counted from 0 as SLURM's array task ids."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not I/N (e.g. 0/4: the first of 4)")
    index, count = int(match[1]), int(match[2])
    if count < 1 or index >= count:
        raise argparse.ArgumentTypeError(f"shard {text!r}: I must be 0 to N-1 (N >= 1)")
    return index, count


def is_file_spec(spec: str) -> bool:
    """A spec naming a file path (not a camera, stream URL or the synthetic scene)."""
    if spec.isdigit() or spec.startswith("camera:") or spec.split(":")[0] == "synthetic":
        return False
    scheme = spec.split("://", 1)[0].lower() if "://" in spec else ""
    return scheme not in STREAM_SCHEMES


def read_manifest(path: str | Path) -> list[ManifestEntry]:
    """The manifest's videos in order; blank lines and lines starting with # are skipped."""
    path = Path(path)
    if not path.is_file():
        raise CliError(f"manifest not found: {path}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise CliError(f"cannot read manifest {path}: {err}") from None
    specs = []
    for number, text in enumerate(lines, start=1):
        spec = text.strip()
        if not spec or spec.startswith("#"):
            continue
        if is_file_spec(spec) and "://" not in spec and not Path(spec).is_absolute():
            spec = str(path.parent / spec)
        specs.append((number, spec))
    if not specs:
        raise CliError(f"manifest {path} names no video (one source spec a line)")
    names = unique_names([spec for _, spec in specs])
    return [ManifestEntry(number, spec, probe_duration(spec), name)
            for (number, spec), name in zip(specs, names)]


def probe_duration(spec: str) -> float | None:
    """Seconds from the file's header (OpenCV's frame count / fps) without decoding a frame,
    or the synthetic spec's length; None where unknown (a stream, a missing file)."""
    if spec.split(":")[0] == "synthetic":
        try:
            return parse_synthetic(spec)[1]
        except SourceError:  # the shard that runs the line says why
            return None
    file = urlsplit(spec).path if spec.startswith("file://") else spec
    if not is_file_spec(spec) or not Path(file).is_file():
        return None
    capture = cv2.VideoCapture(file)
    try:
        fps = positive_or_none(capture.get(cv2.CAP_PROP_FPS), 1000.0)
        frames = positive_or_none(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        capture.release()
    return frames / fps if frames and fps else None


def unique_stem(text: str, used: set[str]) -> str:
    """`text` as a safe file stem, with _2, _3 ... if `used` has it; added to `used`."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "video"
    name, n = stem, 2
    while name in used:
        name, n = f"{stem}_{n}", n + 1
    used.add(name)
    return name


def unique_names(specs: list[str]) -> list[str]:
    """A file stem per spec: the video's name (a stream's or scene's spec), made unique."""
    used: set[str] = set()
    return [unique_stem(Path(spec).stem if is_file_spec(spec) else spec, used)
            for spec in specs]


def shard_of(entries: list[ManifestEntry], index: int, count: int) -> list[ManifestEntry]:
    """Shard `index` of `count`, in manifest order. Longest video first onto the shard with
    the least duration so far (ties: the lower shard); a video of unknown duration counts
    as the mean of the known ones. Deterministic, so every shard agrees on the split."""
    known = [e.duration for e in entries if e.duration]
    typical = sum(known) / len(known) if known else 1.0
    order = sorted(range(len(entries)), key=lambda i: (-(entries[i].duration or typical), i))
    # Shards past the number of videos stay empty: each of the first videos goes to an
    # empty shard, the lowest, so only that many shards are drawn (--shard 0/10**20 too).
    loads = [(0.0, shard) for shard in range(min(count, len(entries)))]
    mine = []
    for i in order:
        load, shard = heapq.heappop(loads)
        if shard == index:
            mine.append(i)
        heapq.heappush(loads, (load + (entries[i].duration or typical), shard))
    return [entries[i] for i in sorted(mine)]
