"""Values that poison a model: a checkpoint that loads always learns one more update with
finite weights, and divergence at run time is caught and undone."""

from __future__ import annotations

import io
import math
import random
import time

import pytest
import torch

from core_helpers import scene_frames, small_model
from streamer_core.checkpoint import (
    CheckpointError,
    checkpoint_dict,
    load_checkpoint,
    save_checkpoint,
)
from streamer_core.divergence import DivergenceGuard


def learn_one_update(model, optimizer, frames) -> None:
    """Feeds inputs until the weights are updated once; they must stay finite."""
    for x in frames:
        model(x)
        if optimizer.step():
            break
    else:
        pytest.fail("no weight update")
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())


@pytest.fixture(scope="module")
def saved_state() -> dict:
    """A model mid-interval after an update: Adam moments, gradients, counters all set."""
    model, optimizer = small_model(seed=4, optimize_every=2, evolve_every=2, max_layers=2,
                                   feature_dim=8)
    for x in scene_frames(10, seed=1):
        model(x)
        optimizer.step()
    buffer = io.BytesIO()
    torch.save(checkpoint_dict(model, optimizer), buffer)
    return buffer.getvalue()


def numeric_leaves(value, path=()):
    """(path, value) of every number and floating tensor in the studio section."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from numeric_leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from numeric_leaves(item, (*path, index))
    elif isinstance(value, torch.Tensor) and value.is_floating_point() and value.numel():
        yield path, value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield path, value


POISONS = (math.nan, -math.inf, -1.0)


def poisoned(data: dict, path: tuple, poison: float) -> dict:
    parent = data["studio"]
    for key in path[:-1]:
        parent = parent[key]
    old = parent[path[-1]]
    if isinstance(old, torch.Tensor):
        new = old.clone()
        new.view(-1)[0] = poison
        parent[path[-1]] = new
    else:
        parent[path[-1]] = poison
    return data


def test_fuzzed_resume_values_are_refused_or_learn_on(tmp_path, saved_state):
    """Every number of the resume state (Adam moments and settings, accumulated gradients,
    counters, demarcation windows, boundaries) set to NaN, -inf or -1, a sample of each
    kind: the file is refused with a reason, or it loads and learns one more update
    with finite weights. NaN gradients and moments used to load and turn every weight to
    NaN at the first update."""
    leaves = [path for path, _ in numeric_leaves(
        torch.load(io.BytesIO(saved_state), weights_only=True)["studio"])
        if path[0] not in ("format_version", "seed", "model_args")]
    rng = random.Random(0)
    by_kind: dict[tuple, list] = {}
    for path in leaves:  # one sample per kind of field, so every kind is hit
        kind = tuple(k for k in path if isinstance(k, str))
        by_kind.setdefault(kind, []).append(path)
    cases = [(rng.choice(paths), math.nan) for paths in by_kind.values()]
    cases += [(rng.choice(leaves), rng.choice(POISONS[1:])) for _ in range(8)]
    assert len(by_kind) > 15, sorted(by_kind)  # the fields really are walked
    frames = scene_frames(20, seed=5)
    refused = 0
    for path, poison in cases:
        data = poisoned(torch.load(io.BytesIO(saved_state), weights_only=True), path, poison)
        file = tmp_path / "poisoned.pt"
        torch.save(data, file)
        try:
            model, optimizer = load_checkpoint(file, device="cpu")
        except CheckpointError as err:
            assert err.reason, (path, poison)
            refused += 1
            continue
        optimizer.args.optimize_clock = "base"  # an update within a few inputs
        try:
            learn_one_update(model, optimizer, frames)
        except Exception as err:  # noqa: BLE001 - the report names the case
            raise AssertionError(f"{path} = {poison} loaded but did not learn: {err}") from err
    assert refused >= len(by_kind)  # NaN is refused in every kind of field at least


def test_a_checkpoint_whose_optimizer_disagrees_with_the_model_is_refused(tmp_path):
    """max_layers 1 in the optimizer of a 3-layer model used to load and then crash at the
    first step (IndexError), after the running model had been replaced."""
    model, optimizer = small_model(seed=2)
    data = checkpoint_dict(model, optimizer)
    data["studio"]["optimizer_args"]["max_layers"] = 1
    for key in ("f_counter", "p_counter", "step_counter"):
        data["studio"]["optimizer"][key] = data["studio"]["optimizer"][key][:1]
    torch.save(data, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError, match="optimizer arguments are for 1 layers"):
        load_checkpoint(tmp_path / "bad.pt", device="cpu")
    data = checkpoint_dict(model, optimizer)
    data["studio"]["optimizer"]["step_counter"] = [0]
    torch.save(data, tmp_path / "short.pt")
    with pytest.raises(CheckpointError, match="step_counter has 1 entries"):
        load_checkpoint(tmp_path / "short.pt", device="cpu")


def test_a_small_file_declaring_a_huge_model_is_refused_before_it_is_built(tmp_path):
    """A 2 kB file that declares feature_dim 65536 (a 17 GB model) is refused in well under
    a second, before any of it is allocated."""
    model, optimizer = small_model(seed=2)
    data = checkpoint_dict(model, optimizer)
    data["model_args"]["feature_dim"] = 65536
    data["weights"] = {k: v[:1].clone() for k, v in list(data["weights"].items())[:2]}
    data.pop("studio")
    path = tmp_path / "huge.pt"
    torch.save(data, path)
    assert path.stat().st_size < 10_000
    started = time.perf_counter()
    with pytest.raises(CheckpointError, match="do not match its arguments|its arguments make"):
        load_checkpoint(path, device="cpu")
    assert time.perf_counter() - started < 5.0  # was 13.7 s and 4.5 GB at feature_dim 4096


def test_a_weight_update_that_diverges_restores_the_last_good_weights():
    """A learning rate of 1e3 makes the weights blow up: the guard says so, puts back the
    weights from before the update (or the one before, if a prediction overflowed only
    later), and the model never holds NaN."""
    model, optimizer = small_model(seed=3, optimize_every=1)
    for layer in model.layers():  # above the settings' bound: as a poisoned file would set
        for module in (layer.f, layer.p):
            for group in module.optim.param_groups:
                group["lr"] = 1e3
    guard = DivergenceGuard(model, optimizer)
    messages, earlier = [], []  # the weights before each update
    for x in scene_frames(30, seed=2):
        reports = model(x)
        if optimizer.update_due():
            weights = model.streamer.state_dict()
            earlier = [*earlier[-1:], {k: v.clone() for k, v in weights.items()}]
        message = guard.step(reports)
        if message:
            messages.append(message)
            after = model.streamer.state_dict()
            assert any(all(torch.equal(before[k], after[k]) for k in before if k in after)
                       for before in earlier), "weights from before a recent update are back"
        assert all(bool(torch.isfinite(p).all()) for p in model.parameters())
    assert messages and "diverged" in messages[0]
    assert guard.recoveries == len(messages)


def test_nan_weights_are_never_saved(tmp_path):
    model, optimizer = small_model(seed=3)
    path = tmp_path / "m.pt"
    save_checkpoint(path, model, optimizer)
    before = path.read_bytes()
    with torch.no_grad():
        next(model.parameters()).fill_(math.nan)
    with pytest.raises(CheckpointError, match="diverged"):
        save_checkpoint(path, model, optimizer)
    assert path.read_bytes() == before


def _blow_up(model) -> None:
    """An Adam learning rate of 1e3, above the settings' bound, as a poisoned file sets it."""
    for layer in model.layers():
        for module in (layer.f, layer.p):
            for group in module.optim.param_groups:
                group["lr"] = 1e3


def _pictures(n: int) -> list:
    """RGB uint8 pictures of the scene frames, as a source hands them on."""
    return [((x[0].permute(1, 2, 0) + 1) * 127.5).to(torch.uint8).numpy()
            for x in scene_frames(n, seed=2)]


def test_the_cli_segmenter_learns_through_the_divergence_guard():
    from app.cli.pipeline import Segmenter

    model, optimizer = small_model(seed=3, optimize_every=1)
    _blow_up(model)
    warnings: list[str] = []
    segmenter = Segmenter(model, optimizer, warn=warnings.append)
    for image in _pictures(8):
        segmenter.step(image)
        assert all(bool(torch.isfinite(p).all()) for p in model.parameters())
    assert warnings and "diverged" in warnings[0]


def test_the_apps_learner_restores_the_last_good_weights_says_so_and_saves_no_nan(
        qapp, tmp_path):
    """The GUI's learner used to take NaN weights without a word (and would autosave
    them); it now goes through the same guard as the CLI."""
    from app.gui.controllers.learner_controller import LearnerController
    from app.gui.controllers.session import SessionStatus
    from app.gui.controllers.session_history import SessionHistory
    from app.gui.self_test import small_settings
    from app.gui.workers.learner_worker import LearnerWorker
    from streamer_core.sources import Frame
    from streamer_core.sources.mailbox import LatestMailbox

    mailbox = LatestMailbox()
    worker = LearnerWorker(mailbox, *small_settings().model_arguments())
    worker.start()
    worker.optimizer.args.optimize_every = 1
    _blow_up(worker.model)
    steps, failures, saved = [], [], []
    worker.stepped.connect(steps.append)
    worker.failed.connect(lambda title, text: failures.append(text))
    worker.saved.connect(lambda path, why: saved.append(path))
    for i, image in enumerate(_pictures(8)):
        mailbox.put(Frame(image, i * 0.5, i))
        worker.on_snippet_ready()
        assert all(bool(torch.isfinite(p).all()) for p in worker.model.parameters())
    diverged = [s for s in steps if s.diverged]
    assert diverged and "diverged" in diverged[0].diverged and "restored" in diverged[0].diverged
    worker.save(str(tmp_path / "a.autosave.pt"), "autosave")
    assert failures == [] and saved  # the last good weights, not NaN
    load_checkpoint(tmp_path / "a.autosave.pt", device="cpu")

    # The window's controller tells the user in words: a message and a status-bar note.
    controller = LearnerController(SessionStatus(), SessionHistory(), mailbox)
    messages, notes = [], []
    controller.message.connect(lambda level, title, text: messages.append((title, text)))
    controller.note.connect(lambda text, ms: notes.append(text))
    controller._stepped(diverged[0])
    assert messages[0][0] == "Model diverged" and "restored" in messages[0][1]
    assert "diverged" in notes[0]
