"""Streamer Studio's desktop window: live video, per-layer event timelines, controls.

`run_gui(argv)` is the entry point (`streamer-studio` with no subcommand): no arguments
open the window; `--review` opens review mode alone, on a recorded session or on a video
and the hierarchy JSON `segment` wrote for it; `--self-test [--screenshot PATH]` runs the
headless end-to-end check.
Qt is imported only when this runs, so the CLI stays light.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication, QWidget

    from .review.review_window import ReviewWindow


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="streamer-studio",
        description="Live, label-free hierarchical event segmentation (STREAMER) in a window.")
    parser.add_argument("--self-test", action="store_true",
                        help="open the window offscreen on the synthetic scene, learn 40 "
                             "steps with a small model, save and reload a checkpoint, then "
                             "exit 0 (or non-zero with the reason)")
    parser.add_argument("--screenshot", metavar="PATH",
                        help="with --self-test: save a picture of the window to PATH (.png)")
    parser.add_argument("--source", metavar="SPEC",
                        help="start on this source: a video file, camera:N, a stream URL, "
                             "or synthetic[:SEED[:SECONDS]]")
    parser.add_argument("--review", nargs="+", metavar="PATH",
                        help="open review mode alone: on a recorded session's folder, or on "
                             "a video and its hierarchy JSON (--review VIDEO JSON, e.g. from "
                             "'segment --representations', whose events then list the events "
                             "most like them)")
    return parser


def review_paths_error(paths: list[str]) -> str | None:
    """Why `--review PATH...` cannot be opened, or None."""
    if len(paths) > 2:
        return "--review takes a recorded session's folder, or a video and its hierarchy JSON"
    missing = next((path for path in paths if not Path(path).exists()), None)
    if missing is not None:
        return f"--review: {missing}: no such file or folder"
    if len(paths) == 1 and not Path(paths[0]).is_dir():
        return (f"--review: {paths[0]} is not a recorded session's folder; a video needs its "
                "hierarchy JSON too: --review VIDEO JSON")
    return None


def open_review(paths: list[str]) -> ReviewWindow:
    """Review mode in a window of its own, on what `--review` named (a file it cannot use
    is told in a dialog, and another can then be opened from its File menu)."""
    from .review.review_window import ReviewWindow

    window = ReviewWindow(folder=str(Path(paths[0]).resolve().parent))
    if len(paths) == 1:
        window.controller.open_recording(paths[0])
    else:
        window.controller.open_video(*paths)
    return window


def _no_display() -> bool:
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _x_display_unreachable() -> bool:
    """True when Qt would use X11 and cannot connect to DISPLAY (no server there, or not
    allowed): Qt's xcb plugin then aborts the process with a core dump."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    if os.environ.get("WAYLAND_DISPLAY") or not os.environ.get("DISPLAY"):
        return False
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return False  # Qt's own message says which library is missing
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(None, None)  # never NULL: an error object on failure
    try:
        return xcb.xcb_connection_has_error(connection) != 0
    finally:
        xcb.xcb_disconnect(connection)


def run_gui(argv: list[str] | None = None) -> int:
    """`argv`: the arguments after the program name. Returns the process exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(list(argv or []))
    except SystemExit as stop:  # --help, or a usage error argparse already printed
        return int(stop.code or 0)
    if args.screenshot and not args.self_test:
        print("streamer-studio: --screenshot only works with --self-test", file=sys.stderr)
        return 2
    problem = review_paths_error(args.review) if args.review else None
    if problem:
        print(f"streamer-studio: {problem}", file=sys.stderr)
        return 2
    if args.self_test:
        from .self_test import run_self_test

        return run_self_test(args.screenshot)
    if _no_display():
        print("streamer-studio: no display found (DISPLAY is not set). Run it on a desktop, "
              "under Xvfb, or try `streamer-studio --self-test`.", file=sys.stderr)
        return 2
    if _x_display_unreachable():
        print(f"streamer-studio: cannot open the display {os.environ['DISPLAY']} (DISPLAY): "
              "no X server there, or this user may not use it (see xhost, XAUTHORITY).",
              file=sys.stderr)
        return 2

    from ..process_end import end_process
    from .application import make_application, restore_window_state
    from .infrastructure.diagnostics import CrashReporter, log_folder, start_logging
    from .infrastructure.settings import SettingsStore, autosave_seconds_override
    from .live.main_window import MainWindow

    app = make_application()
    try:
        log_path = start_logging(log_folder())
    except OSError as err:  # a read-only home: run without a log file
        print(f"streamer-studio: no log file ({err})", file=sys.stderr)
        log_path = log_folder() / "(not written)"
    if args.review:
        review = open_review(args.review)
        CrashReporter(log_path, parent=review).install()
        return _run(app, review)
    store = SettingsStore.user()
    settings, notes = store.load()
    if args.source:
        settings.source = args.source
    window = MainWindow(store, settings, notes=notes,
                        autosave_seconds=autosave_seconds_override())
    CrashReporter(log_path, parent=window).install()
    restore_window_state(window, store)
    code = _run(app, window)
    if window.closed_cleanly():
        end_process(code)  # not seconds of interpreter teardown holding the camera
    return code


def _run(app: QApplication, window: QWidget) -> int:
    """Shows `window` and runs the event loop until it closes; Ctrl-C and SIGTERM close it
    as a user would. The process exit code."""
    from .infrastructure.quit_signals import QuitOnSignals

    signals = QuitOnSignals(window)
    window.show()
    code = int(app.exec())
    signals.uninstall()
    return 128 + signals.signum if signals.signum is not None else code


__all__ = ["run_gui"]
