"""`segment --manifest`: shards that cover the manifest, outputs written whole, --skip-done,
a job killed mid-video and its rerun, bad lines."""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from source_helpers import SMALL_MODEL, write_video

from app.__main__ import main
from app.cli.manifest import ManifestEntry, parse_shard, read_manifest, shard_of
from streamer_core.checkpoint import load_checkpoint
from streamer_core.event_representations import representation_table

REPO = Path(__file__).resolve().parents[1]
TINY = ["--set", "feature_dim=16", *SMALL_MODEL[2:], "--threads", "1", "--quiet"]


def entries(durations: list[float | None]) -> list[ManifestEntry]:
    return [ManifestEntry(i + 1, f"v{i}", d, f"v{i}") for i, d in enumerate(durations)]


def test_shards_cover_every_line_exactly_once_and_balance_durations():
    rng = random.Random(0)
    for trial in range(40):
        durations = [rng.choice([None, rng.uniform(1, 600)])
                     for _ in range(rng.randint(1, 40))]
        manifest = entries(durations)
        for count in (1, 2, 3, 5, 8, 50):
            shards = [shard_of(manifest, i, count) for i in range(count)]
            lines = [e.line for shard in shards for e in shard]
            assert sorted(lines) == [e.line for e in manifest], (trial, count)
            for shard in shards:  # each shard in manifest order
                assert [e.line for e in shard] == sorted(e.line for e in shard)
            known = [d for d in durations if d]
            typical = sum(known) / len(known) if known else 1.0
            loads = [sum(e.duration or typical for e in shard) for shard in shards]
            biggest = max(d or typical for d in durations)
            assert max(loads) - min(loads) <= biggest + 1e-9, (trial, count)


def test_manifest_lines_paths_durations_and_names(tmp_path):
    clip = write_video(tmp_path / "clip.avi", frames=25, fps=10.0)
    (tmp_path / "more").mkdir()
    write_video(tmp_path / "more" / "clip.avi", frames=10, fps=5.0)
    listing = tmp_path / "list.txt"
    listing.write_text(f"# videos\n\nclip.avi\n  more/clip.avi  \n{clip}\nsynthetic:3:7.5\n"
                       "missing.mp4\nhttp://127.0.0.1:9/x\n")
    found = read_manifest(listing)
    assert [e.line for e in found] == [3, 4, 5, 6, 7, 8]
    assert found[0].spec == str(tmp_path / "clip.avi") and found[2].spec == str(clip)
    assert [e.duration for e in found] == pytest.approx([2.5, 2.0, 2.5, 7.5, None, None])
    assert [e.name for e in found] == ["clip", "clip_2", "clip_3", "synthetic_3_7.5",
                                       "missing", "http_127.0.0.1_9_x"]


def test_bad_shard_and_empty_manifest_are_refused(tmp_path, capsys):
    assert parse_shard("1/4") == (1, 4) and parse_shard(" 0 / 1 ") == (0, 1)
    for text in ("4/4", "1", "-1/2", "a/b", "0/0"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_shard(text)
    (tmp_path / "empty.txt").write_text("# nothing\n\n")
    out = str(tmp_path / "out")
    for argv in (["--manifest", str(tmp_path / "empty.txt"), "--out-dir", out],
                 ["--manifest", str(tmp_path / "none.txt"), "--out-dir", out],
                 ["--manifest", str(tmp_path / "empty.txt")],
                 ["synthetic:1:1", "--shard", "0/2"],
                 ["synthetic:1:1", "--manifest", str(tmp_path / "empty.txt"), "--out-dir", out],
                 ["--manifest", str(tmp_path / "empty.txt"), "--out-dir", out, "--distributed"]):
        assert main(["segment", *argv]) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "error:" in err[0], (argv, err)


def run_batch(tmp_path: Path, *extra: str) -> int:
    return main(["segment", "--manifest", str(tmp_path / "list.txt"), "--out-dir",
                 str(tmp_path / "out"), *TINY, *extra])


def test_bad_lines_are_reported_and_the_rest_runs(tmp_path, capsys):
    (tmp_path / "list.txt").write_text("synthetic:1:1\nmissing.mp4\nsynthetic:1:zero\n"
                                       "synthetic:2:1\n")
    assert run_batch(tmp_path, "--trace") == 3
    err = capsys.readouterr().err
    assert f"{tmp_path / 'list.txt'} line 2 ({tmp_path / 'missing.mp4'}): Video file not " \
           "found" in err
    assert "line 3 (synthetic:1:zero)" in err
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "summary-0-of-1.json", "synthetic_1_1.json", "synthetic_1_1.trace.jsonl",
        "synthetic_2_1.json", "synthetic_2_1.trace.jsonl"]
    doc = json.loads((out / "synthetic_2_1.json").read_text())
    assert doc["duration"] == pytest.approx(1.0) and doc["file"] == "Synthetic (seed 2, 1 s)"
    rows = (out / "synthetic_2_1.trace.jsonl").read_text().splitlines()
    assert [json.loads(r)["step"] for r in rows if json.loads(r)["layer"] == 0] == [0, 1]
    summary = json.loads((out / "summary-0-of-1.json").read_text())
    assert summary["done"] == 2 and [f["line"] for f in summary["failed"]] == [2, 3]


def test_reset_per_video_gives_a_result_independent_of_the_shard(tmp_path):
    (tmp_path / "list.txt").write_text("synthetic:1:2\nsynthetic:2:2\n")
    assert run_batch(tmp_path, "--reset-per-video") == 0
    together = (tmp_path / "out" / "synthetic_2_2.json").read_text()
    (tmp_path / "out" / "synthetic_2_2.json").unlink()
    # The same video alone in its shard: the same weights at its start, the same result.
    assert run_batch(tmp_path, "--reset-per-video", "--shard", "1/2") == 0
    assert (tmp_path / "out" / "synthetic_2_2.json").read_text() == together


KILLED_RUN = """
import os, signal, sys
from app.__main__ import main
from app.cli.pipeline import Segmenter
real_step = Segmenter.step
def step(self, image, video=0):
    if self.model.args.seed == 0 and STATE["videos"] == 2 and self.steps == 1:
        os.kill(os.getpid(), signal.SIGKILL)  # killed mid-video: no clean-up at all
    return real_step(self, image, video)
STATE = {"videos": 0}
real_start = Segmenter.start_video
def start_video(self, reset_model):
    STATE["videos"] += 1
    return real_start(self, reset_model)
Segmenter.step, Segmenter.start_video = step, start_video
sys.exit(main(sys.argv[1:]))
"""


def test_a_killed_job_loses_only_its_current_video_and_skip_done_redoes_it(tmp_path):
    (tmp_path / "list.txt").write_text("synthetic:1:1\nsynthetic:2:1\nsynthetic:3:1\n")
    argv = ["segment", "--manifest", str(tmp_path / "list.txt"), "--out-dir",
            str(tmp_path / "out"), *TINY, "--trace"]
    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, *argv], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    out = tmp_path / "out"
    visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert visible == ["synthetic_1_1.json", "synthetic_1_1.trace.jsonl"]  # no half files
    first = (out / "synthetic_1_1.json").stat().st_mtime_ns
    (out / "synthetic_3_1.json").write_text('{"file": "cut sho')  # as a non-atomic writer

    assert main(argv + ["--skip-done"]) == 0
    summary = json.loads((out / "summary-0-of-1.json").read_text())
    assert summary["skipped"] == 1 and summary["done"] == 2 and summary["steps"] == 4
    assert (out / "synthetic_1_1.json").stat().st_mtime_ns == first
    for name in ("synthetic_1_1", "synthetic_2_1", "synthetic_3_1"):
        assert json.loads((out / f"{name}.json").read_text())["layers"]
        assert (out / f"{name}.trace.jsonl").read_text().count("\n") >= 2


def test_an_interrupt_writes_no_output_for_the_video_it_cut(tmp_path, monkeypatch):
    from app.cli.interrupts import Interrupted
    from app.cli.pipeline import Segmenter

    real_step = Segmenter.step

    def step(self, image, video=0):
        if self.steps == 1 and self.model.base_counter == 1 and step.videos == 2:
            raise Interrupted(15)  # SIGTERM: a scheduler's pre-emption
        return real_step(self, image, video)

    step.videos = 0
    real_start = Segmenter.start_video

    def start_video(self, reset_model):
        step.videos += 1
        return real_start(self, reset_model)

    monkeypatch.setattr(Segmenter, "step", step)
    monkeypatch.setattr(Segmenter, "start_video", start_video)
    (tmp_path / "list.txt").write_text("synthetic:1:1\nsynthetic:2:1\n")
    model = tmp_path / "model.pt"
    assert run_batch(tmp_path, "--trace", "--save-checkpoint", str(model)) == 143
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "synthetic_1_1.json", "synthetic_1_1.trace.jsonl"]
    load_checkpoint(model, device="cpu")  # saved, as the help says: "also when interrupted"


def test_a_batch_in_which_no_video_ran_leaves_the_checkpoint_file_alone(tmp_path, capsys):
    (tmp_path / "list.txt").write_text("missing1.mp4\nmissing2.mp4\n")
    model = tmp_path / "model.pt"
    model.write_bytes(b"a model the user trained")
    assert run_batch(tmp_path, "--save-checkpoint", str(model)) == 3
    assert model.read_bytes() == b"a model the user trained"
    assert f"no video ran: {model} was not written" in capsys.readouterr().err


def test_a_shard_count_past_the_videos_leaves_the_shards_past_them_empty():
    manifest = entries([5.0, 1.0, None])  # the longest first: lines 1, 3 (typical), 2
    assert [[e.line for e in shard_of(manifest, i, 10**20)] for i in range(3)] == [[1], [3], [2]]
    assert shard_of(manifest, 3, 10**20) == [] and shard_of(manifest, 10**19, 10**20) == []


def test_a_video_whose_frames_are_longer_than_a_snippet_is_refused_in_a_batch(tmp_path,
                                                                                capsys):
    (tmp_path / "list.txt").write_text("synthetic:1:1\n")  # 10 frames a second
    assert run_batch(tmp_path, "--snippet", "0.05") == 3
    assert "a snippet of 0.05 s is shorter than one frame of" in capsys.readouterr().err
    assert not (tmp_path / "out" / "synthetic_1_1.json").exists()


def test_a_manifest_writes_each_videos_representations_beside_its_json(tmp_path):
    """As `segment --representations` for one video: the slots and NAME.npy; a table cut
    short makes --skip-done run the video again."""
    (tmp_path / "list.txt").write_text("synthetic:1:2\nsynthetic:2:2\n")
    assert run_batch(tmp_path, "--representations") == 0
    out = tmp_path / "out"
    for name in ("synthetic_1_2", "synthetic_2_2"):
        doc = json.loads((out / f"{name}.json").read_text())
        table = np.load(out / f"{name}.npy", allow_pickle=False)
        assert len(table) and table.tobytes() == representation_table(doc).tobytes()
    (out / "synthetic_2_2.npy").write_bytes(b"\x93NUMPY")
    assert run_batch(tmp_path, "--representations", "--skip-done") == 0
    summary = json.loads((out / "summary-0-of-1.json").read_text())
    assert summary["skipped"] == 1 and summary["done"] == 1
    assert len(np.load(out / "synthetic_2_2.npy", allow_pickle=False))
