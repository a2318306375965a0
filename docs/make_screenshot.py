"""Makes docs/screenshot.png: the app after a few minutes on a source, with the live preset.

    .venv/bin/python docs/make_screenshot.py              # vtest.avi, looped, 200 s
    .venv/bin/python docs/make_screenshot.py --source synthetic:0 --seconds 180
    xvfb-run -s "-screen 0 1920x1080x24" env QT_QPA_PLATFORM=xcb \
        .venv/bin/python docs/make_screenshot.py --view presentation --out docs/presentation.png
    .venv/bin/python docs/make_screenshot.py --review --out docs/review.png

The README's docs/screenshot.png: the moving-camera montage 5 of docs/quality.md
(`build_scene_montage(Path("mmont5.avi"), 300.0, 5, moving_camera=True)`, its return value
saved as mmont5_truth.json), under `xvfb-run -s "-screen 0 1700x1100x24"`:

    .venv/bin/python docs/make_screenshot.py --source mmont5.avi --model-seconds 273 \
        --seconds 720 --marks-from mmont5_truth.json --similar 0

--review records a session of the synthetic scene (the app's learner and recorder,
headless, `live` preset or --small, --seconds of input) and shows it in review mode beside the
scene's ground truth, at an event in the middle.

The default source is OpenCV's sample clip vtest.avi (Debian: apt-get install opencv-doc)
played in a loop, or the built-in synthetic scene where that clip is not installed.

Runs offscreen (no display needed) unless QT_QPA_PLATFORM says otherwise, with private
settings, so your own settings are neither used nor changed. For the README, make the
PNG small afterwards: `pngquant --force --ext .png 64 docs/NAME.png` (Debian: pngquant).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CLIP = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=None, help="source spec (default: vtest.avi if "
                        "installed, else the synthetic scene)")
    parser.add_argument("--seconds", type=float, default=200.0,
                        help="how long to run before the picture (default 200)")
    parser.add_argument("--model-seconds", type=float, default=None, metavar="S",
                        help="run until the model's time reaches S instead (a file plays at "
                             "learning speed: S seconds of it, the same picture however busy "
                             "the CPU); --seconds then caps the wait")
    parser.add_argument("--loop", action="store_true", help="loop a video file (on for the "
                        "default clip)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshot.png"))
    parser.add_argument("--size", default="1600x1000", help="window size WxH, or 'maximized'")
    parser.add_argument("--view", choices=("window", "presentation"), default="window",
                        help="presentation: full screen, as F11 shows it to an audience")
    parser.add_argument("--curves", action="store_true",
                        help="presentation: show the signal curves too (C)")
    parser.add_argument("--legend", action="store_true",
                        help="keep the first run's card that explains the screen")
    parser.add_argument("--advanced", action="store_true",
                        help="open the controls' Advanced section")
    parser.add_argument("--review", action="store_true",
                        help="review mode on a session recorded for the picture")
    parser.add_argument("--record", action="store_true",
                        help="record the session meanwhile (into a temporary folder)")
    parser.add_argument("--small", action="store_true",
                        help="with --review: the tests' small model (fast on a busy CPU)")
    parser.add_argument("--mark-every", type=float, default=0.0, metavar="S",
                        help="press M (mark an event start) every S seconds of model time")
    parser.add_argument("--marks-from", default=None, metavar="TRUTH.json",
                        help="press M where each boundary of the hierarchy JSON's first layer "
                             "passes, as a person marking them would (the file plays at "
                             "learning speed, so model time is the video's)")
    parser.add_argument("--raise-dock", default=None, metavar="NAME",
                        help="bring this dock's tab to the front (e.g. learning: at 1280x720 it "
                             "is a tab behind Controls)")
    parser.add_argument("--similar", type=int, default=None, metavar="LAYER",
                        help="before the picture, click the newest remembered event of LAYER "
                             "(the event memory panel lists the similar ones)")
    args = parser.parse_args()
    if args.review:
        return review_screenshot(args)
    if args.source is None:
        args.source, args.loop = ((str(SAMPLE_CLIP), True) if SAMPLE_CLIP.is_file()
                                  else ("synthetic:0", args.loop))
    print(f"source: {args.source}", file=sys.stderr)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtWidgets import QDockWidget

    from app.gui.application import make_application
    from app.gui.infrastructure.settings import SettingsStore, StudioSettings
    from app.gui.live.main_window import MainWindow
    from app.gui.self_test import pump_events, wait_for
    from streamer_core.evaluation import layer_boundaries

    to_mark = (layer_boundaries(json.loads(Path(args.marks_from).read_text()), 0)
               if args.marks_from else [])
    make_application()
    with tempfile.TemporaryDirectory(prefix="streamer-screenshot-") as tmp:
        settings = replace(StudioSettings.from_preset("live"), source=args.source,
                           loop_files=args.loop, timeline_span=120.0, show_legend=args.legend,
                           record_session=args.record, recordings_folder=tmp,
                           follow_learner=bool(to_mark))
        window = MainWindow(SettingsStore.at(Path(tmp) / "settings.ini"), settings,
                            popups=False, scan_cameras=False)
        if args.size == "maximized":
            window.showMaximized()
            # Xvfb has no window manager to maximise the window: do it here.
            window.setGeometry(window.screen().availableGeometry())
        else:
            window.resize(*(int(v) for v in args.size.lower().split("x")))
            window.show()
        window.controls.advanced.set_open(args.advanced)
        if args.view == "presentation":
            window.presentation.enter()
            # Xvfb has no window manager to make the window full screen: do it here.
            window.setGeometry(window.screen().geometry())
            window.presentation.set_curves(args.curves)
        try:
            wait_for(lambda: window.session.source_info is not None, 30, "the source did not open")
            started = time.monotonic()
            while time.monotonic() - started < args.seconds and (
                    args.model_seconds is None
                    or window.history.latest_time < args.model_seconds):
                step = 0.2 if to_mark or args.model_seconds else 1.0 if args.mark_every else 5.0
                pump_events(min(step, args.seconds - (time.monotonic() - started)))
                marks = window.insight.marks
                latest = window.history.latest_time
                if args.mark_every and latest >= (marks.marks[-1] if marks.marks else 0.0) \
                        + args.mark_every:
                    window.insight.mark()
                # A person presses M on seeing a cut: the picture on screen runs ahead of
                # the learner (1 s at learning speed), and the mark goes where it is.
                seen = window.picture_time if window.picture_time is not None else -1.0
                while to_mark and seen >= to_mark[0]:
                    to_mark.pop(0)
                    window.insight.mark()
                print(f"\r{time.monotonic() - started:5.0f} s: {window.session.total_steps} steps, "
                      f"{window.session.num_layers} layer(s)", end="", file=sys.stderr, flush=True)
                if window.session.run_state == "stopped":
                    break
            print(file=sys.stderr)
            window.timeline.refresh()
            if args.similar is not None:
                events = window.learner.events.events(args.similar)
                if events:
                    window.insight.show_similar(args.similar,
                                                (events[-1].start + events[-1].end) / 2)
            if args.raise_dock:
                dock = window.findChild(QDockWidget, args.raise_dock)
                if dock is None:
                    names = [d.objectName() for d in window.findChildren(QDockWidget)]
                    print(f"no dock {args.raise_dock!r}; the docks: {', '.join(names)}",
                          file=sys.stderr)
                    return 2
                dock.raise_()
            pump_events(0.5)
            if not window.grab().save(args.out):
                print(f"could not write {args.out}", file=sys.stderr)
                return 1
        finally:
            window.close()
    print(f"wrote {args.out}")
    return 0


def review_screenshot(args: argparse.Namespace) -> int:
    """Records --seconds of the synthetic scene, then shows it in review mode."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from app.gui.application import make_application
    from app.gui.infrastructure.settings import StudioSettings
    from app.gui.review.review_window import ReviewWindow
    from app.gui.self_test import pump_events, small_settings
    from app.gui.workers.learner_worker import LearnerWorker
    from app.session.recorder import SessionRecorder
    from streamer_core.sources import SyntheticSource
    from streamer_core.sources.mailbox import LatestMailbox

    make_application()
    width, height = (int(v) for v in args.size.lower().split("x"))
    settings = StudioSettings.from_preset("live")
    if args.small:
        settings = replace(small_settings("synthetic:0"), device="cpu")
    model_args, opt_args = settings.model_arguments()
    with tempfile.TemporaryDirectory(prefix="streamer-review-") as tmp:
        folder = Path(tmp) / "session-demo"
        worker = LearnerWorker(LatestMailbox(), model_args, opt_args)
        worker.start()
        recorder = SessionRecorder(folder, model_args.snippet_size, "synthetic:0")
        worker.set_recorder(recorder)
        source = SyntheticSource(0, args.seconds, fps=1.0 / model_args.snippet_size,
                                 realtime=False)
        source.open()
        while (frame := source.read()) is not None:
            while recorder.frames + 30 < frame.index:
                time.sleep(0.05)  # let the writer keep up: every frame is wanted here
            worker.snippets.put(frame)
            worker.on_snippet_ready()
            print(f"\r{frame.index} inputs", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        recorder.set_hierarchy(worker._hierarchy("video.mjpeg"))
        recorder.close()
        truth = Path(tmp) / "truth.json"
        truth.write_text(json.dumps(source.ground_truth()))
        window = ReviewWindow(popups=False)
        window.resize(width, height)
        window.show()
        window.controller.open_recording(folder)
        window.controller.compare_with(truth)
        session = window.controller.session
        layer0 = session.hierarchies[0].layers[0]
        middle = len(layer0.starts) // 2
        window.controller.seek_event(0, 0, float(layer0.starts[middle]))
        window.controller.seek(session.position + 1.0)
        pump_events(1.0)
        if not window.grab().save(args.out):
            print(f"could not write {args.out}", file=sys.stderr)
            return 1
        window.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
