"""The app's file mode: whole files segmented in the background by the CLI batch's function."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from source_helpers import write_video

from app.__main__ import main
from app.cli.model_setup import model_arguments
from app.gui.workers.file_segmentation import Cancelled, FileSegmentation, segment_files
from streamer_core.event_representations import read_representations

SETTINGS = ["feature_dim=16", "buffer_size=4", "evolve_every=4", "optimize_every=5",
            "window_size=3", "demarcation_mode=average"]


def test_files_get_the_json_the_cli_batch_writes(qtbot, tmp_path):
    clips = [write_video(tmp_path / f"clip{i}.avi", frames=15, fps=10.0) for i in range(2)]
    garbage = tmp_path / "garbage.avi"
    garbage.write_bytes(b"\x00junk" * 200)
    model_args, opt_args = model_arguments("paper", SETTINGS, device="cpu", seed=0)
    job = FileSegmentation()
    notes = []
    job.note.connect(lambda text, ms: notes.append(text))
    with qtbot.waitSignal(job.finished, timeout=120_000) as ended:
        assert job.start([str(clips[0]), str(garbage), str(clips[1])], str(tmp_path / "gui"),
                         model_args, opt_args)
    level, text = ended.args
    assert level == "warning" and text.startswith("2 of 3 videos segmented")
    assert "garbage.avi" in text and not job.running
    assert "Segmenting clip0.avi (1 of 3)…" in notes

    (tmp_path / "list.txt").write_text(f"{clips[0]}\n{clips[1]}\n")
    sets = [arg for setting in SETTINGS for arg in ("--set", setting)]
    assert main(["segment", "--manifest", str(tmp_path / "list.txt"), "--out-dir",
                 str(tmp_path / "cli"), "--preset", "paper", *sets, "--device", "cpu",
                 "--seed", "0", "--reset-per-video", "--representations", "--quiet"]) == 0
    for name in ("clip0.json", "clip1.json"):
        gui = json.loads((tmp_path / "gui" / name).read_text())
        assert gui["layers"] and gui == json.loads((tmp_path / "cli" / name).read_text())
        assert read_representations(gui)[0][0][2] is not None  # review lists similar ones
        tables = [np.load(tmp_path / side / name.replace(".json", ".npy"))
                  for side in ("gui", "cli")]
        assert tables[0].tobytes() == tables[1].tobytes()


def test_a_stop_request_ends_the_job_between_two_steps(tmp_path):
    clip = write_video(tmp_path / "clip.avi", frames=30, fps=10.0)
    model_args, opt_args = model_arguments("paper", SETTINGS, device="cpu", seed=0)
    stop = threading.Event()
    job = segment_files([str(clip)], tmp_path, model_args, opt_args, stop)
    assert next(job).startswith("Segmenting clip.avi")
    stop.set()
    with pytest.raises(Cancelled):
        next(job)
    assert not (tmp_path / "clip.json").exists()
