"""Checkpoints in the app under faults: bad files are refused and the running model stays
as it was; failed saves leave the previous file; closing mid-save, mid-load or mid-step is
quick and leaves no half-written file."""

from __future__ import annotations

import errno
import io
import os
import threading
import time

import pytest
import torch
from gui_helpers import SLOW, open_window, quiesce, wait_steps

from streamer_core.checkpoint import load_checkpoint

SOURCE = "synthetic:2:600"


def _weights(window) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in window.learner.worker.model.state_dict().items()}


def _temp_files(folder) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def _saved_checkpoint(qtbot, window, path) -> bytes:
    window.action_save.trigger()  # scripted dialogs answer `path`
    qtbot.waitUntil(lambda: window.learner.last_saved == str(path), timeout=SLOW)
    return path.read_bytes()


def _damaged(kind: str, good: bytes, path) -> str:
    """Writes a damaged variant of the good checkpoint to `path`; the reason to expect."""
    if kind == "corrupt":
        path.write_bytes(b"\x89garbage" * 500)
        return "not a readable checkpoint"
    if kind == "truncated":
        path.write_bytes(good[: len(good) // 3])
        return "not a readable checkpoint"
    data = torch.load(io.BytesIO(good), weights_only=True)
    if kind == "newer version":
        data["studio"]["format_version"] = 99
        expected = "newer Streamer Studio"
    elif kind == "other architecture":
        data["model_args"]["feature_dim"] = 64  # the weights are 32-d
        expected = "does not fit"
    else:  # a model that had diverged
        next(iter(data["weights"].values())).fill_(float("nan"))
        expected = "NaN"
    torch.save(data, path)
    return expected


def test_bad_checkpoints_are_refused_with_the_reason_and_the_model_is_unchanged(qtbot,
                                                                                tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE)
    path = tmp_path / "model.pt"
    wait_steps(qtbot, window, 3)
    good = _saved_checkpoint(qtbot, window, path)
    quiesce(qtbot, window)  # no step after this (even a segmenting step changes weights)
    model, info = window.learner.worker.model, window.session.model_info
    before = _weights(window)
    for kind in ("corrupt", "truncated", "newer version", "other architecture", "diverged"):
        expected = _damaged(kind, good, path)
        said = len(window.notifier.messages)
        window.action_load.trigger()
        qtbot.waitUntil(lambda said=said: len(window.notifier.messages) > said, timeout=SLOW)
        message = window.notifier.last
        assert message.title == "Checkpoint not loaded", kind
        assert expected in message.text and str(path) in message.text, (kind, message.text)
        assert "unchanged" in message.text
    assert window.learner.worker.model is model and window.session.model_info is info
    after = _weights(window)
    assert after.keys() == before.keys()
    assert [k for k in before if not torch.equal(before[k], after[k])] == []
    window.start()
    wait_steps(qtbot, window, 1)  # and it goes on learning


def test_a_save_that_fails_keeps_the_previous_file_and_says_why(qtbot, tmp_path, monkeypatch):
    window = open_window(qtbot, tmp_path, SOURCE)
    path = tmp_path / "model.pt"
    wait_steps(qtbot, window, 2)
    previous = _saved_checkpoint(qtbot, window, path)
    wait_steps(qtbot, window, 2)

    def full_disk(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full_disk)
    window.action_save.trigger()
    qtbot.waitUntil(lambda: window.notifier.last is not None, timeout=SLOW)
    monkeypatch.undo()
    assert window.notifier.last.title == "Checkpoint not saved"
    assert "No space left" in window.notifier.last.text
    assert "previous file is unchanged" in window.notifier.last.text
    assert path.read_bytes() == previous and _temp_files(tmp_path) == []

    def read_only(*args, **kwargs):
        raise PermissionError(errno.EROFS, os.strerror(errno.EROFS))

    said = len(window.notifier.messages)
    monkeypatch.setattr("tempfile.mkstemp", read_only)
    window.files.autosave_path = lambda: path  # an autosave into the same folder
    window.files.autosave()
    qtbot.waitUntil(lambda: len(window.notifier.messages) > said, timeout=SLOW)
    monkeypatch.undo()
    assert window.notifier.last.title == "Autosave failed"
    assert "Read-only file system" in window.notifier.last.text
    assert path.read_bytes() == previous
    wait_steps(qtbot, window, 1)  # and learning goes on


# --- closing the window while the learner is busy -----------------------------------------

class SlowWrites:
    """torch.save that writes in 10 pieces, `pause` seconds apart, signalling the first."""

    def __init__(self, monkeypatch, pause: float):
        self.started = threading.Event()
        self.pause = pause
        real_save = torch.save

        def slow_save(obj, f, *args, **kwargs):
            buffer = io.BytesIO()
            real_save(obj, buffer, *args, **kwargs)
            data = buffer.getvalue()
            piece = len(data) // 10 + 1
            for i in range(0, len(data), piece):
                f.write(data[i:i + piece])
                self.started.set()
                time.sleep(self.pause)

        monkeypatch.setattr(torch, "save", slow_save)


def _close_timed(window) -> float:
    started = time.monotonic()
    window.close()
    took = time.monotonic() - started
    assert not window.threads_running()
    return took


@pytest.mark.parametrize("why", ["save", "autosave"])
def test_closing_during_a_save_is_quick_and_leaves_a_whole_file(qtbot, tmp_path, monkeypatch,
                                                                why):
    window = open_window(qtbot, tmp_path, SOURCE)
    path = tmp_path / "model.pt"
    wait_steps(qtbot, window, 2)
    previous = _saved_checkpoint(qtbot, window, path)
    wait_steps(qtbot, window, 1)
    # A user's save is finished before the window goes (0.04 s a piece: about 0.4 s in
    # all, well inside the 2 s on a loaded machine); an autosave is abandoned (1 s a piece
    # would take 10 s).
    slow = SlowWrites(monkeypatch, pause=0.04 if why == "save" else 1.0)
    window.learner.requests.save.emit(str(path), why)
    assert slow.started.wait(SLOW / 1000)
    assert _temp_files(tmp_path), "the save should be under way"
    took = _close_timed(window)
    assert took < 2.0, f"closing took {took:.2f} s"
    assert _temp_files(tmp_path) == []
    monkeypatch.undo()
    if why == "save":
        assert path.read_bytes() != previous  # the new model, complete
    else:
        assert path.read_bytes() == previous  # the old one, untouched
    load_checkpoint(path, device="cpu")


def test_closing_right_after_asking_to_save_still_writes_the_file(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE)
    path = tmp_path / "model.pt"
    wait_steps(qtbot, window, 2)
    window.learner.requests.save.emit(str(path), "save")  # queued behind the step in flight
    took = _close_timed(window)
    assert took < 2.0, f"closing took {took:.2f} s"
    assert _temp_files(tmp_path) == []
    load_checkpoint(path, device="cpu")


def test_closing_during_a_load_is_quick(qtbot, tmp_path, monkeypatch):
    window = open_window(qtbot, tmp_path, SOURCE)
    path = tmp_path / "model.pt"
    wait_steps(qtbot, window, 2)
    saved = _saved_checkpoint(qtbot, window, path)
    loading = threading.Event()
    real_load = torch.load

    def slow_load(*args, **kwargs):
        loading.set()
        time.sleep(0.5)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", slow_load)
    window.action_load.trigger()
    assert loading.wait(SLOW / 1000)
    took = _close_timed(window)
    assert took < 2.0, f"closing took {took:.2f} s"
    assert path.read_bytes() == saved and _temp_files(tmp_path) == []


def test_closing_while_the_learner_is_mid_step_is_quick(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE)
    wait_steps(qtbot, window, 1)
    model = window.learner.worker.model
    in_step = threading.Event()
    real_forward = model.forward

    def slow_forward(x, picture=None):
        in_step.set()
        time.sleep(0.5)  # a big model's step on a slow CPU
        return real_forward(x, picture)

    model.forward = slow_forward
    assert in_step.wait(SLOW / 1000)
    optimizer_steps = window.learner.worker.optimizer.optimizer_steps
    took = _close_timed(window)
    assert took < 2.0, f"closing took {took:.2f} s"
    assert window.learner.worker.optimizer.optimizer_steps == optimizer_steps  # step abandoned
