"""The command line with hostile paths and inputs: saves that replace only what they
should, truncated files and dead streams reported as such, one-line errors."""

from __future__ import annotations

import errno
import json
import os
import stat

import pytest
from source_helpers import SMALL_MODEL, MjpegServer, write_video

from app.__main__ import main
from app.cli import segment as segment_command
from core_helpers import small_model
from streamer_core.atomic_file import atomic_file
from streamer_core.checkpoint import load_checkpoint, save_checkpoint

QUICK = [*SMALL_MODEL, "--max-steps", "2", "--quiet"]


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "error:" in lines[0] and "Traceback" not in err, err
    return lines[0]


# --- case 7: saves -----------------------------------------------------------------

def test_a_save_through_a_symbolic_link_replaces_its_target_and_keeps_the_link(tmp_path):
    target, link = tmp_path / "real.json", tmp_path / "link.json"
    target.write_text("{}")
    link.symlink_to(target)
    assert main(["segment", "synthetic:1:3", *QUICK, "--out", str(link)]) == 0
    assert link.is_symlink() and json.loads(target.read_text())["layers"]
    model, optimizer = small_model(seed=1)
    ckpt_target, ckpt_link = tmp_path / "real.pt", tmp_path / "link.pt"
    ckpt_link.symlink_to(ckpt_target)
    save_checkpoint(ckpt_link, model, optimizer)
    assert ckpt_link.is_symlink() and load_checkpoint(ckpt_link, device="cpu")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_a_device_or_the_input_video_is_never_replaced(tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    video = write_video(tmp_path / "clip.avi", frames=20)
    before = video.read_bytes()
    for out in (fifo, video):
        assert main(["segment", str(video), *QUICK, "--out", str(out)]) == 2, out
        assert str(out) in one_line_error(capsys)
    assert main(["segment", str(video), *QUICK, "--save-checkpoint", str(video)]) == 2
    one_line_error(capsys)
    assert stat.S_ISFIFO(fifo.stat().st_mode) and video.read_bytes() == before


def test_saved_files_get_the_umask_mode_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        out, ckpt = tmp_path / "p.json", tmp_path / "m.pt"
        assert main(["segment", "synthetic:1:3", *QUICK, "--out", str(out),
                     "--save-checkpoint", str(ckpt)]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert stat.S_IMODE(ckpt.stat().st_mode) == 0o644
    os.chmod(out, 0o640)  # a file that is replaced keeps its own mode
    assert main(["segment", "synthetic:1:3", *QUICK, "--out", str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


# --- case 10: inputs that end early ---------------------------------------------------

def test_a_truncated_file_is_not_reported_as_success(tmp_path, capsys):
    video = write_video(tmp_path / "clip.avi", frames=60)
    data = video.read_bytes()
    video.write_bytes(data[: len(data) // 3])  # the header still counts 60 frames
    out = tmp_path / "p.json"
    rc = main(["segment", str(video), *SMALL_MODEL, "--snippet", "0.5", "--quiet",
               "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 3, err
    assert "could not decode past frame" in err and "Traceback" not in err
    assert json.loads(out.read_text())["duration"] < 6.0  # what was read, written


def test_a_stream_that_dies_is_not_reported_as_success(tmp_path, capsys):
    out = tmp_path / "p.json"
    with MjpegServer(frames=30, fps=30.0) as server:
        rc = main(["segment", server.url, *SMALL_MODEL, "--snippet", "0.2", "--quiet",
                   "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 3, err
    assert "stopped" in err and json.loads(out.read_text())["layers"]


# --- case 11: one line, not a traceback ------------------------------------------------

def test_hostile_arguments_get_one_line(tmp_path, capsys):
    deep, digits = tmp_path / "deep.json", tmp_path / "digits.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    digits.write_text('{"duration": ' + "9" * 5001 + "}")
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"duration": 1.0, "layers": []}))
    cases = [
        ["segment", "http://[::1"],
        ["segment", "synthetic:1:2", "--set", "init_ckpt=/etc/passwd", "--device", "cpu"],
        ["evaluate", str(deep), str(good)],
        ["evaluate", str(digits), str(good)],
        ["segment", "synthetic:1:2", "--threads", "100000"],
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        one_line_error(capsys)


def test_duration_is_the_sources_not_steps_times_snippet(tmp_path):
    out = tmp_path / "p.json"
    assert main(["segment", "synthetic:1:5", *SMALL_MODEL, "--snippet", "1e9", "--quiet",
                 "--out", str(out)]) == 0
    assert json.loads(out.read_text())["duration"] == pytest.approx(5.0)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="making a device node needs root")
def test_a_device_node_is_refused_not_replaced(tmp_path, capsys):
    """As root, a save used to replace /dev/full with a checkpoint. A node of our own
    (the same device), so that a regression cannot damage the machine's /dev."""
    full = tmp_path / "full"
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    assert main(["segment", "synthetic:1:2", *QUICK, "--save-checkpoint", str(full)]) == 2
    assert "device" in one_line_error(capsys)
    assert main(["segment", "synthetic:1:2", *QUICK, "--out", str(full)]) == 2
    one_line_error(capsys)
    assert stat.S_ISCHR(full.stat().st_mode)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_a_folder_where_no_file_can_be_made_is_refused_before_the_run(capsys):
    """/proc passes os.access(W_OK) for root, yet no file can be made in it: the run used
    to learn to the end and then fail on a temp file's name."""
    assert main(["segment", "synthetic:1:2", *QUICK, "--out", "/proc/x.json"]) == 2
    assert "cannot write in /proc" in one_line_error(capsys)
    with pytest.raises(OSError) as raised, atomic_file("/proc/x.json"):
        pass
    assert raised.value.filename == "/proc/x.json"  # the file asked for, not the temp


def test_results_that_cannot_be_written_keep_the_learned_model(tmp_path, monkeypatch,
                                                               capsys):
    def disk_full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "a.json"))

    monkeypatch.setattr(segment_command, "write_results", disk_full)
    ckpt = tmp_path / "model.pt"
    assert main(["segment", "synthetic:1:2", *QUICK, "--out", str(tmp_path / "a.json"),
                 "--save-checkpoint", str(ckpt)]) == 2
    assert "No space left" in one_line_error(capsys)
    assert load_checkpoint(ckpt, device="cpu")

def test_runs_tracing_to_the_same_file_never_interleave_and_a_failed_run_keeps_its_trace(
        tmp_path):
    """Two runs used to write the same --trace file at once, their lines mixed. Each now
    traces to its own file beside it, renamed into place when it ends."""
    from app.cli.files import trace_output

    path = tmp_path / "trace.jsonl"
    with trace_output(path) as first, trace_output(path) as second:
        for step in range(2000):  # more than any write buffer holds
            first.write(json.dumps({"run": 1, "step": step}) + "\n")
            second.write(json.dumps({"run": 2, "step": step}) + "\n")
        first.flush()
        second.flush()
        assert not path.exists()  # nobody reads half a trace
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(rows) == 2000 and {r["run"] for r in rows} == {1}  # the last to end, whole
    assert [r["step"] for r in rows] == list(range(2000))

    with pytest.raises(RuntimeError), trace_output(path) as trace:
        trace.write('{"step": 0}\n')
        raise RuntimeError("the source died")
    assert path.read_text() == '{"step": 0}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trace.jsonl"]  # no temp left

    with pytest.raises(RuntimeError), trace_output(path):
        raise RuntimeError("no video arrived within 10 s")  # before its first step
    assert path.read_text() == '{"step": 0}\n'  # the trace a user had is not emptied
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trace.jsonl"]
