"""Everyday desktop expectations: a log with fault traces, a dialog for an uncaught
exception on any thread, cameras listed by name, upper layers' surprises as points."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import cv2
import pyqtgraph as pg
from gui_helpers import shown_timeline
from PySide6.QtWidgets import QWidget

from app.gui.controllers.session_history import SessionHistory
from app.gui.infrastructure.diagnostics import CrashReporter
from app.gui.live.controls_panel import ControlsPanel
from streamer_core import LayerStep
from streamer_core.sources import camera as camera_module
from streamer_core.sources import find_cameras
from streamer_core.sources.camera import camera_name

REPO = Path(__file__).resolve().parents[1]


def test_an_exception_on_a_worker_thread_shows_the_log_path(qtbot, tmp_path):
    shown: list[tuple[str, Path]] = []
    reporter = CrashReporter(tmp_path / "app.log", show=lambda text, path: shown.append(
        (text, path)))
    reporter.install()
    try:
        worker = threading.Thread(target=lambda: 1 / 0, name="capture")
        worker.start()
        worker.join()
    finally:
        reporter.uninstall()
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)  # queued to the GUI thread
    text, path = shown[0]
    assert "ZeroDivisionError" in text and "capture" in text
    assert path == tmp_path / "app.log"
    assert sys.excepthook is not reporter.excepthook  # uninstalled


def test_the_crash_dialog_names_the_log_and_counts_a_burst(qtbot, tmp_path):
    parent = QWidget()
    qtbot.addWidget(parent)
    reporter = CrashReporter(tmp_path / "streamer-studio.log", parent=parent)
    reporter.excepthook(ValueError, ValueError("bad frame"), None)  # as sys.excepthook would
    dialog = reporter.show.__self__
    qtbot.waitUntil(lambda: dialog.box is not None and dialog.box.isVisible(), timeout=5000)
    assert str(tmp_path / "streamer-studio.log") in dialog.box.informativeText()
    assert "ValueError: bad frame" in dialog.box.informativeText()
    assert "Open log folder" in [b.text() for b in dialog.box.buttons()]
    reporter.excepthook(KeyError, KeyError("x"), None)
    assert "2 errors so far" in dialog.box.text() and "KeyError" in dialog.box.informativeText()


def test_the_log_rotates_and_a_fault_leaves_its_trace(tmp_path):
    script = (
        "import sys, faulthandler\n"
        "from pathlib import Path\n"
        "from app.gui.infrastructure import diagnostics\n"
        "diagnostics.LOG_BYTES = 2000\n"
        "diagnostics.start_logging(Path(sys.argv[1]))\n"
        "for i in range(40): diagnostics.log.warning('record %d', i)\n"
        "faulthandler._sigsegv()\n")
    for _ in range(2):  # each run writes about 3 KB and then crashes
        done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=REPO,
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode != 0  # it did crash
        assert "Segmentation fault" in (tmp_path / "faults.log").read_text()
    logs = sorted(tmp_path.glob("streamer-studio.log*"))
    assert [p.name for p in logs] == ["streamer-studio.log", "streamer-studio.log.1",
                                      "streamer-studio.log.2", "streamer-studio.log.3"]
    assert all(p.stat().st_size <= 2000 for p in logs)
    assert "record 39" in logs[0].read_text()
    # the second run kept the first one's trace and said so in the log
    assert "Segmentation fault" in (tmp_path / "faults.previous.log").read_text()
    assert "previous run stopped on a fault" in "".join(p.read_text() for p in logs)


class FakeCapture:
    """Camera 0 answers with 1280x720 at 30 fps; no other index opens."""

    def __init__(self, index: int):
        self.index = index

    def isOpened(self) -> bool:  # noqa: N802 (OpenCV's name)
        return self.index == 0

    def get(self, prop: int) -> float:
        return {cv2.CAP_PROP_FRAME_WIDTH: 1280, cv2.CAP_PROP_FRAME_HEIGHT: 720,
                cv2.CAP_PROP_FPS: 30.0}.get(prop, 0.0)

    def release(self) -> None:
        pass


def test_the_camera_picker_shows_names_sizes_and_rates(qtbot, tmp_path, monkeypatch):
    sysfs = tmp_path / "video4linux"
    (sysfs / "video0").mkdir(parents=True)
    (sysfs / "video0" / "name").write_text("Integrated Webcam: Integrated C\n")
    assert camera_name(0, sysfs) == "Integrated Webcam: Integrated C"
    assert camera_name(1, sysfs) == ""  # no such device: no name, no error
    monkeypatch.setattr(camera_module.cv2, "VideoCapture", FakeCapture)
    cameras = find_cameras(max_index=2, sysfs=sysfs)
    assert [c.index for c in cameras] == [0]

    panel = ControlsPanel()
    qtbot.addWidget(panel)
    panel.set_cameras(cameras)
    items = [panel.source_combo.itemText(i) for i in range(panel.source_combo.count())]
    assert "Camera 0: Integrated Webcam: Integrated C (1280×720, 30 fps)" in items
    index = items.index("Camera 0: Integrated Webcam: Integrated C (1280×720, 30 fps)")
    assert panel.source_combo.itemData(index) == "camera:0"


def test_upper_layers_surprises_are_points_not_a_line(qtbot):
    history = SessionHistory()
    for t in range(200):  # layer 1 gets an input every 40 layer-0 inputs (20 s)
        history.add(LayerStep(0, t, t * 0.5, 0.5, 0.4, t % 40 == 39, None))
        if t % 40 == 39:
            history.add(LayerStep(1, t, t * 0.5, 0.1 * (t // 40), 0.3, False, None))
    view = shown_timeline(qtbot, history, span=120.0)
    view.refresh()
    lower, upper = view.rows[0].signal, view.rows[1].signal
    assert lower.opts["pen"] is not None and lower.opts["symbol"] is None
    assert isinstance(upper, pg.ScatterPlotItem) and upper.opts["symbol"] == "o"  # no line
    x, y = upper.getData()
    assert len(x) == 5 and list(y) == [0.0, 0.1, 0.2, 0.30000000000000004, 0.4]
