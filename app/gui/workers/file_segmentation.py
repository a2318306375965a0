"""File mode: whole video files segmented off the GUI thread, one hierarchy JSON each.

Playing a file in the window learns live and skips the snippets it has no time for; here
every snippet of every file is learned, by the per-video function the command line's
batch runs (`segment_video`). Each video starts from a new model of the Model panel's
settings, as `segment --manifest --reset-per-video --representations`: the session's
model is not touched, and each event's representation is written with it (review mode
then lists the events most like one).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from PySide6.QtCore import QObject, QThreadPool, Signal
from superqt.utils import create_worker

from app.cli.manifest import unique_names
from app.cli.pipeline import Segmenter, segment_video
from streamer_core import (
    StreamerModel,
    StreamerModelArguments,
    StreamerOptimizer,
    StreamerOptimizerArguments,
)
from streamer_core.atomic_file import write_json
from streamer_core.event_representations import npy_path, representation_table, write_table
from streamer_core.sources import SourceError, VideoFileSource


class Cancelled(Exception):
    """The window is closing or the user cancelled: stop between two steps."""


def segment_files(paths: list[str], out_dir: Path, model_args: StreamerModelArguments,
                  opt_args: StreamerOptimizerArguments, stop: threading.Event
                  ) -> Iterator[str]:
    """Yields a note per video, returns the summary; a file that cannot be read is
    reported in the summary and the others still run."""

    def check_stop() -> None:
        if stop.is_set():
            raise Cancelled

    out_dir.mkdir(parents=True, exist_ok=True)
    done, failed = [], []
    for number, (path, name) in enumerate(zip(paths, unique_names(paths)), start=1):
        yield f"Segmenting {Path(path).name} ({number} of {len(paths)})…"
        model = StreamerModel(model_args)
        segmenter = Segmenter(model, StreamerOptimizer(model, opt_args),
                              after_step=check_stop, representations=True)
        try:
            source = VideoFileSource(path)
            source.open()  # decodes the first frame: an unreadable file fails here
            source.close()
            result = segment_video(segmenter, source)
        except SourceError as err:
            failed.append(f"{Path(path).name}: {err}")
            continue
        finally:
            model.stop_background_learning()  # this pool thread is done with the model
        if result.hierarchy is None:
            failed.append(f"{Path(path).name}: no frames")
            continue
        write_json(out_dir / f"{name}.json", result.hierarchy)
        write_table(npy_path(out_dir / f"{name}.json"), representation_table(result.hierarchy))
        done.append(f"{name}.json")
    summary = f"{len(done)} of {len(paths)} videos segmented into {out_dir}"
    return summary + "".join(f"\n{line}" for line in failed)


class FileSegmentation(QObject):
    """One job at a time on a pool thread; `note` per video, `finished` at the end."""

    note = Signal(str, int)  # text, milliseconds
    finished = Signal(str, str)  # level ("info", "warning", "error"), text

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.stop = threading.Event()
        self.running = False

    def start(self, paths: list[str], out_dir: str, model_args: StreamerModelArguments,
              opt_args: StreamerOptimizerArguments) -> bool:
        """False if a job is already running."""
        if self.running:
            return False
        self.running = True
        self.stop.clear()
        worker = create_worker(segment_files, list(paths), Path(out_dir), model_args,
                               opt_args, self.stop, _start_thread=False)
        worker.yielded.connect(lambda text: self.note.emit(text, 0))
        worker.returned.connect(lambda text: self._end("warning" if "\n" in text else "info",
                                                       text))
        worker.errored.connect(self._failed)
        worker.start()
        return True

    def _failed(self, error: BaseException) -> None:
        if isinstance(error, Cancelled):
            self._end("info", "Segmenting files was cancelled; the videos finished are "
                              "written")
        else:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            self._end("error", f"Segmenting files failed: {reason}")

    def _end(self, level: str, text: str) -> None:
        self.running = False
        self.note.emit(text.splitlines()[0], 8000)
        self.finished.emit(level, text)

    def cancel(self, wait_ms: int = 0) -> None:
        self.stop.set()
        if wait_ms:
            QThreadPool.globalInstance().waitForDone(wait_ms)
