"""Makes docs/screenshot.png: the app after a few minutes on a source, with the live preset.

    .venv/bin/python docs/make_screenshot.py              # vtest.avi, looped, 200 s
    .venv/bin/python docs/make_screenshot.py --source synthetic:0 --seconds 180
    xvfb-run -s "-screen 0 1920x1080x24" env QT_QPA_PLATFORM=xcb \
        .venv/bin/python docs/make_screenshot.py --view presentation --out docs/presentation.png

The default source is OpenCV's sample clip vtest.avi (Debian: apt-get install opencv-doc)
played in a loop, or the built-in synthetic scene where that clip is not installed.

Runs offscreen (no display needed) unless QT_QPA_PLATFORM says otherwise, with private
settings, so your own settings are neither used nor changed. For the README, make the
PNG small afterwards: `pngquant --force --ext .png 64 docs/NAME.png` (Debian: pngquant).
"""

from __future__ import annotations

import argparse
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
    args = parser.parse_args()
    if args.source is None:
        args.source, args.loop = ((str(SAMPLE_CLIP), True) if SAMPLE_CLIP.is_file()
                                  else ("synthetic:0", args.loop))
    print(f"source: {args.source}", file=sys.stderr)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from app.gui.application import make_application
    from app.gui.main_window import MainWindow
    from app.gui.self_test import pump_events, wait_for
    from app.gui.settings import SettingsStore, StudioSettings

    make_application()
    with tempfile.TemporaryDirectory(prefix="streamer-screenshot-") as tmp:
        settings = replace(StudioSettings.from_preset("live"), source=args.source,
                           loop_files=args.loop, timeline_span=120.0, show_legend=args.legend)
        window = MainWindow(SettingsStore.at(Path(tmp) / "settings.ini"), settings,
                            popups=False, scan_cameras=False)
        if args.size == "maximized":
            window.showMaximized()
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
            while time.monotonic() - started < args.seconds:
                pump_events(min(5.0, args.seconds - (time.monotonic() - started)))
                print(f"\r{time.monotonic() - started:5.0f} s: {window.session.total_steps} steps, "
                      f"{window.session.num_layers} layer(s)", end="", file=sys.stderr, flush=True)
                if window.session.run_state == "stopped":
                    break
            print(file=sys.stderr)
            window.timeline.refresh()
            pump_events(0.5)
            if not window.grab().save(args.out):
                print(f"could not write {args.out}", file=sys.stderr)
                return 1
        finally:
            window.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
