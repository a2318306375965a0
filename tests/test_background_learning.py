"""The first blocks' sparse change learns on a thread of its own: the app's threads end it.

A Python thread that outlives the Qt thread that started it aborts the process at exit
("terminate called without an active exception"), so the learner worker stops it before
its own thread ends.
"""

import time

import torch

from core_helpers import scene_frames
from streamer_core import sparse_change
from streamer_core.networks import CNNEncoder
from streamer_core.sparse_change import WINDOW

WINDOW_SECONDS = 1.0  # a learning is STEPS_PER_UPDATE (10) windows: 10 s and more


def scene_pictures(count: int, seed: int) -> list:
    """The synthetic scene's frames as the capture hands them: H x W x 3 uint8."""
    return [((x[0].permute(1, 2, 0) + 1) * 127.5).to(torch.uint8).numpy()
            for x in scene_frames(count, seed=seed)]


def slow_windows(monkeypatch, seconds: float = WINDOW_SECONDS) -> None:
    """Each window of the learning takes `seconds` more, so that ending at the next window
    and waiting for the whole learning differ by seconds, even on a loaded machine."""
    ratio = sparse_change.sparseness_ratio

    def slow(descriptors: torch.Tensor) -> torch.Tensor:
        time.sleep(seconds)
        return ratio(descriptors)

    monkeypatch.setattr(sparse_change, "sparseness_ratio", slow)


def test_a_cancelled_learning_ends_at_its_next_window_and_hands_nothing_over(monkeypatch):
    slow_windows(monkeypatch)
    learner = sparse_change.SparseChangeLearner(CNNEncoder(16))
    blocks = [p.detach().clone() for p in learner.parameters()]
    for x in scene_frames(WINDOW, seed=3):
        learner.remember(x)  # a window: the first learning begins
    assert learner.busy
    began = time.monotonic()
    learner.cancel()
    assert time.monotonic() - began < 5 * WINDOW_SECONDS and not learner.busy
    learner.hand_over()
    assert learner.learned is None and learner.last_loss is None
    assert all(torch.equal(p, b) for p, b in zip(learner.parameters(), blocks))


def test_the_learner_worker_ends_the_learning_before_its_thread_ends(qapp, monkeypatch):
    from PySide6.QtCore import QThread

    from app.gui.self_test import small_settings
    from app.gui.workers.learner_worker import LearnerWorker
    from streamer_core.sources import Frame
    from streamer_core.sources.mailbox import LatestMailbox

    slow_windows(monkeypatch)
    mailbox = LatestMailbox()
    worker = LearnerWorker(mailbox, *small_settings().model_arguments())
    thread = QThread()  # finish() ends the worker's thread: its own, as in the app
    worker.moveToThread(thread)
    thread.start()
    worker.start()  # called from here: the steps run on this thread, which is enough
    learner = worker.model.streamer.block_learner
    assert learner is not None  # the live preset's sparse_change
    for i, picture in enumerate(scene_pictures(WINDOW + 2, seed=2)):
        mailbox.put(Frame(picture, i * 0.5, i))
        worker.on_snippet_ready()
        if learner.busy:
            break
    assert learner.busy, "no learning started within the frames fed"
    worker.finish()
    assert not learner.busy and learner.learned is None
    assert thread.wait(5_000)


def test_the_learner_worker_sees_every_waiting_snippet_and_learns_from_the_last(qapp):
    """Behind its source, the learner takes the snippets in turn; those with others
    waiting behind them are seen without gradients (learning_step's `behind`), but for
    the one after an input learned alone (its prediction is learned from there)."""
    from app.gui.self_test import small_settings
    from app.gui.workers.learner_worker import LearnerWorker
    from streamer_core.learning_pace import SNIPPETS_WAITING
    from streamer_core.sources import Frame
    from streamer_core.sources.mailbox import LatestMailbox

    mailbox = LatestMailbox(SNIPPETS_WAITING)
    worker = LearnerWorker(mailbox, *small_settings().model_arguments())
    results = []
    worker.stepped.connect(results.append)
    worker.start()
    pictures = scene_pictures(SNIPPETS_WAITING + 2, seed=3)
    mailbox.put(Frame(pictures[0], 0.0, 0))
    worker.on_snippet_ready()
    for i, picture in enumerate(pictures[1:], start=1):  # one more than the box holds
        mailbox.put(Frame(picture, i * 0.5, i))
    while mailbox.waiting:
        worker.on_snippet_ready()
    assert mailbox.skipped == 1
    assert [r.learned for r in results] == ([True, True] + [False] * (SNIPPETS_WAITING - 2)
                                            + [True])
    assert worker.model.base_counter == SNIPPETS_WAITING + 1
    # Each result carries its frame's time on the source's clock (frame 1 was dropped).
    assert [r.source_time for r in results] == [0.0, *(i * 0.5 for i in
                                                       range(2, SNIPPETS_WAITING + 2))]
    worker.model.stop_background_learning()  # finish() would end this (the main) thread


def test_the_first_model_learns_from_the_snippet_that_came_while_it_was_built(qapp):
    """A file's first snippet is its frame 0; dropping it put the model's times 0.2-0.5 s
    off the file's (vtest.avi in the app: 0.667-0.750 against segment's 0.769)."""
    from app.gui.self_test import small_settings
    from app.gui.workers.learner_worker import LearnerWorker
    from streamer_core.sources import Frame
    from streamer_core.sources.mailbox import LatestMailbox

    mailbox = LatestMailbox()
    mailbox.put(Frame(scene_pictures(1, seed=5)[0], 0.0, 0))  # before the model exists
    worker = LearnerWorker(mailbox, *small_settings().model_arguments())
    results = []
    worker.stepped.connect(results.append)
    worker.start()
    worker.on_snippet_ready()
    assert [r.source_time for r in results] == [0.0]
    worker.model.stop_background_learning()  # finish() would end this (the main) thread


def test_the_learner_learns_from_every_snippet_of_a_file_played_at_its_pace(qapp):
    """At learning speed the capture puts the next snippet as soon as the learner takes
    one, while it still prepares its step: that snippet is not a backlog. (Counted when
    the pace was asked, the app learned from 32 of 298 inputs of a montage.)"""
    from app.gui.self_test import small_settings
    from app.gui.workers.learner_worker import LearnerWorker
    from streamer_core.learning_pace import SNIPPETS_WAITING
    from streamer_core.sources import Frame
    from streamer_core.sources.mailbox import LatestMailbox

    coming = [Frame(picture, i * 0.5, i) for i, picture in enumerate(scene_pictures(6, seed=4))]

    class PacedByLearner(LatestMailbox):
        def take(self):
            taken = super().take()
            if coming:
                self.put(coming.pop(0))
            return taken

    mailbox = PacedByLearner(SNIPPETS_WAITING)
    worker = LearnerWorker(mailbox, *small_settings().model_arguments())
    results = []
    worker.stepped.connect(results.append)
    worker.start()
    mailbox.put(coming.pop(0))
    while mailbox.waiting:
        worker.on_snippet_ready()
    assert [r.source_time for r in results] == [i * 0.5 for i in range(6)]
    assert all(r.learned for r in results)
    worker.model.stop_background_learning()  # finish() would end this (the main) thread
