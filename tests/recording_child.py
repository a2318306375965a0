"""Records a session headless until killed: the app's LearnerWorker and SessionRecorder on
the synthetic scene, without widgets (run by test_session_recording as a subprocess).

    python tests/recording_child.py FOLDER

Prints "steps N" after each input (flushed), saves the checkpoint into the session
folder after 4 inputs, as the app does at its autosave interval.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from app.gui.self_test import small_settings  # noqa: E402
from app.gui.workers.learner_worker import LearnerWorker  # noqa: E402
from app.session.recorder import CHECKPOINT_NAME, SessionRecorder  # noqa: E402
from streamer_core.sources import SyntheticSource  # noqa: E402
from streamer_core.sources.mailbox import LatestMailbox  # noqa: E402


def main(folder: Path) -> None:
    torch.set_num_threads(1)
    settings = replace(small_settings("synthetic"), device="cpu", window_size=2)
    model_args, opt_args = settings.model_arguments()
    worker = LearnerWorker(LatestMailbox(), model_args, opt_args)
    steps = 0

    def stepped(_result: object) -> None:
        nonlocal steps
        steps += 1

    worker.stepped.connect(stepped)
    worker.start()
    worker.set_recorder(SessionRecorder(folder, model_args.snippet_size, "synthetic:3"))
    source = SyntheticSource(3, fps=1.0 / model_args.snippet_size, realtime=False)
    source.open()
    while True:
        worker.snippets.put(source.read())
        worker.on_snippet_ready()
        if steps == 4:
            worker.save(str(folder / CHECKPOINT_NAME), "autosave")
        print(f"steps {steps}", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
