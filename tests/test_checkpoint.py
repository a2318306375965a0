"""Checkpoints: exact resume, reference-only files, refusals, atomic saves."""

import io
import os
import shutil
import subprocess
import threading
import time

import pytest
import torch

from core_helpers import run, scene_frames, small_model
from streamer_core.checkpoint import (
    REFERENCE_KEYS,
    STALE_TEMP_SECONDS,
    CheckpointError,
    checkpoint_dict,
    load_checkpoint,
    save_checkpoint,
)


def _learn_until_update(model, optimizer, frames):
    """Feeds frames until the optimizer has just updated; returns the rest."""
    for i, x in enumerate(frames):
        model(x)
        if optimizer.step():
            return frames[i + 1:]
    raise AssertionError("no parameter update happened")


def test_save_load_resumes_identically(tmp_path):
    frames = scene_frames(20)
    model, optimizer = small_model(seed=1, optimize_every=3, evolve_every=100)
    rest = _learn_until_update(model, optimizer, frames)
    rest = _learn_until_update(model, optimizer, rest)  # Adam has state now
    path = tmp_path / "session.pt"
    save_checkpoint(path, model, optimizer)
    loaded, loaded_opt = load_checkpoint(path, device="cpu")
    assert loaded.base_counter == model.base_counter
    assert loaded_opt.optimizer_steps == optimizer.optimizer_steps == 2
    expected = run(model, optimizer, rest)
    got = run(loaded, loaded_opt, rest)
    assert got == expected
    assert loaded.extract_rep() == model.extract_rep()
    for (name, a), (_, b) in zip(model.named_parameters(), loaded.named_parameters()):
        assert torch.equal(a, b), name


@pytest.mark.parametrize("event_representation", ["features", "motion"])
def test_a_checkpoint_keeps_the_first_block_events_are_read_with(tmp_path, event_representation):
    model, optimizer = small_model(seed=1, optimize_every=3, evolve_every=100,
                                   event_representation=event_representation)
    frozen = model.frozen_first_block.state()
    _learn_until_update(model, optimizer, scene_frames(20))
    learned = model.streamer.f.encoder.conv1.weight.detach()
    assert not torch.equal(learned, frozen["weight"])
    path = _saved(tmp_path, model, optimizer)
    loaded, _ = load_checkpoint(path, device="cpu")
    assert all(torch.equal(value, frozen[name])
               for name, value in loaded.frozen_first_block.state().items())
    # A file saved before the block was kept: the block as loaded, from then on.
    data = torch.load(path, weights_only=True)
    del data["studio"]["first_block_as_drawn"]
    torch.save(data, tmp_path / "older.pt")
    older, _ = load_checkpoint(tmp_path / "older.pt", device="cpu")
    assert torch.equal(older.frozen_first_block.state()["weight"], learned)
    data["studio"]["first_block_as_drawn"] = {"weight": torch.zeros(2), "bias": torch.zeros(2)}
    torch.save(data, tmp_path / "damaged.pt")
    with pytest.raises(CheckpointError, match="frozen first block"):
        load_checkpoint(tmp_path / "damaged.pt", device="cpu")


def test_reference_keys_only_file_loads_with_the_same_outputs(tmp_path):
    model, _ = small_model(seed=2, init_layers=2, evolve_every=100)
    full = torch.load(_saved(tmp_path, model), weights_only=True)
    reference_only = {key: full[key] for key in REFERENCE_KEYS}
    path = tmp_path / "reference.pth"
    torch.save(reference_only, path)
    loaded, _ = load_checkpoint(path, device="cpu")
    assert loaded.get_num_layers() == 2
    with torch.no_grad():
        frames = scene_frames(6)
        assert run(loaded, None, frames) == run(model, None, frames)


def _saved(tmp_path, model, optimizer=None, name="model.pt"):
    path = tmp_path / name
    save_checkpoint(path, model, optimizer)
    return path


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "foreign", "not-a-dict"])
def test_damaged_files_are_refused_with_the_reason(tmp_path, damage):
    model, _ = small_model(seed=3)
    path = _saved(tmp_path, model)
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"\x00not a checkpoint" * 100)
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "foreign":
        torch.save({"state_dict": {"w": torch.zeros(2)}}, path)
    else:
        torch.save([1, 2, 3], path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, device="cpu")
    assert str(path) in str(err.value) and err.value.reason


def test_code_in_a_file_is_not_executed(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"model_args": {}, "num_layers": 1, "weights": {}, "x": os.getcwd}, path)
    with pytest.raises(CheckpointError, match="unsafe|readable"):
        load_checkpoint(path, device="cpu")


def test_other_architecture_is_refused(tmp_path):
    model, _ = small_model(seed=4)
    data = torch.load(_saved(tmp_path, model), weights_only=True)
    data["model_args"]["feature_dim"] = 32  # the weights are 16-d
    torch.save(data, tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError, match="does not fit"):
        load_checkpoint(tmp_path / "mismatch.pt", device="cpu")


def test_newer_format_is_refused(tmp_path):
    model, _ = small_model(seed=4)
    data = torch.load(_saved(tmp_path, model), weights_only=True)
    data["studio"]["format_version"] = 99
    torch.save(data, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="newer"):
        load_checkpoint(tmp_path / "future.pt", device="cpu")


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "nope.pt")


def test_failed_save_keeps_the_previous_file_and_leaves_no_temp(tmp_path, monkeypatch):
    model, optimizer = small_model(seed=5)
    path = _saved(tmp_path, model, optimizer)
    before = path.read_bytes()
    with torch.no_grad():
        run(model, None, scene_frames(3))

    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(CheckpointError, match="No space left"):
        save_checkpoint(path, model, optimizer)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    load_checkpoint(path, device="cpu")  # still a good file


def test_temp_files_left_by_a_killed_save_go_at_the_next_save(tmp_path):
    model, optimizer = small_model(seed=5)
    path = tmp_path / "model.pt"
    stale = tmp_path / f".{path.name}.abc123.tmp"  # what a SIGKILL mid-save leaves
    fresh = tmp_path / f".{path.name}.def456.tmp"  # another save may still be writing it
    other = tmp_path / ".other.pt.abc123.tmp"  # not ours
    for leftover in (stale, fresh, other):
        leftover.write_bytes(b"half a checkpoint")
    old = time.time() - 2 * STALE_TEMP_SECONDS
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    save_checkpoint(path, model, optimizer)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [path.name, fresh.name, other.name])


def test_save_into_missing_folder_fails_cleanly(tmp_path):
    model, _ = small_model(seed=5)
    with pytest.raises(CheckpointError, match="could not be saved"):
        save_checkpoint(tmp_path / "no" / "such" / "dir" / "m.pt", model)


@pytest.fixture
def tiny_disk(tmp_path):
    """A real tmpfs of the given size (needs root and mount); skips the test otherwise."""
    mounts = []

    def mount(size: int, read_only: bool = False):
        folder = tmp_path / f"disk{len(mounts)}"
        folder.mkdir()
        options = f"size={size}" + (",ro" if read_only else "")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                              capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounts.append(folder)
        return folder

    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    yield mount
    for folder in mounts:
        subprocess.run(["umount", str(folder)], capture_output=True)


def test_a_save_into_a_full_disk_fails_cleanly_and_keeps_the_previous_file(tiny_disk):
    model, optimizer = small_model(seed=6)
    size = len(_checkpoint_bytes(model, optimizer))
    disk = tiny_disk(size + size // 2)  # room for one checkpoint, not for two
    path = disk / "model.pt"
    save_checkpoint(path, model, optimizer)
    before = path.read_bytes()
    with torch.no_grad():
        run(model, None, scene_frames(2))
    with pytest.raises(CheckpointError, match="No space left on device"):
        save_checkpoint(path, model, optimizer)
    assert path.read_bytes() == before
    assert [p.name for p in disk.iterdir()] == ["model.pt"]  # no temp file left
    load_checkpoint(path, device="cpu")


def test_a_save_into_a_read_only_folder_fails_with_the_reason(tiny_disk):
    model, optimizer = small_model(seed=6)
    disk = tiny_disk(1 << 20, read_only=True)
    with pytest.raises(CheckpointError, match="Read-only file system"):
        save_checkpoint(disk / "model.pt", model, optimizer)
    assert list(disk.iterdir()) == []


def test_a_cancelled_save_keeps_the_previous_file(tmp_path):
    model, optimizer = small_model(seed=7)
    path = _saved(tmp_path, model, optimizer)
    before = path.read_bytes()
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CheckpointError, match="cancelled"):
        save_checkpoint(path, model, optimizer, cancel=cancel)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def _checkpoint_bytes(model, optimizer) -> bytes:
    buffer = io.BytesIO()
    torch.save(checkpoint_dict(model, optimizer), buffer)
    return buffer.getvalue()


DAMAGE = {
    "format version is text": lambda d: d["studio"].__setitem__("format_version", "2"),
    "studio section is a list": lambda d: d.__setitem__("studio", [1]),
    "model_args is a list": lambda d: d.__setitem__("model_args", [1, 2]),
    "studio model_args is text": lambda d: d["studio"].__setitem__("model_args", "x"),
    "demarcation state missing": lambda d: d["studio"]["layers"][0].__setitem__(
        "demarcation", None),
    "boundaries are text": lambda d: d["studio"]["layers"][0].__setitem__(
        "hierarchy_boundaries", "ab"),
    "optimizer arguments are text": lambda d: d["studio"].__setitem__("optimizer_args", "x"),
    "lost snippets go back": lambda d: d["studio"].__setitem__("lost_snippets",
                                                                [[5, 2], [3, 4]]),
    "lost snippets are text": lambda d: d["studio"].__setitem__("lost_snippets", "ab"),
    "NaN weights": lambda d: next(iter(d["weights"].values())).fill_(float("nan")),
    "infinite weights": lambda d: next(iter(d["weights"].values())).fill_(float("inf")),
}


@pytest.fixture(scope="module")
def good_checkpoint() -> bytes:
    model, optimizer = small_model(seed=8)
    return _checkpoint_bytes(model, optimizer)


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_malformed_contents_are_refused_not_crashed_on(tmp_path, good_checkpoint, damage):
    data = torch.load(io.BytesIO(good_checkpoint), weights_only=True)
    DAMAGE[damage](data)
    path = tmp_path / "damaged.pt"
    torch.save(data, path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, device="cpu")
    assert str(path) in str(err.value) and err.value.reason
