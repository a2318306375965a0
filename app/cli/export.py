"""`streamer-studio export`: a hierarchy JSON's events as CSV, WebVTT chapters, OTIO, ELAN
or an HTML report with keyframes, the format taken from the output's extension."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.session.recorder import HIERARCHY_NAME, VIDEO_NAME, read_keyframes
from streamer_core.evaluation import HierarchyFormatError, check_hierarchy
from streamer_core.exports import (
    EXPORT_FORMATS,
    NEEDS_PICTURES,
    EventFileError,
    export_events,
    export_format,
)

from .errors import EXIT_OK, CliError
from .files import check_input_file, check_not_an_input, check_writable, read_json


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    formats = "; ".join(f"{suffix} {what}" for suffix, what in EXPORT_FORMATS.items())
    parser = subparsers.add_parser(
        "export", help="write a hierarchy's events as CSV, WebVTT, OTIO, ELAN or HTML",
        description=f"Write the events of a hierarchy JSON in the format of OUT's extension: "
                    f"{formats}.")
    parser.add_argument("prediction", metavar="PRED.json",
                        help="a hierarchy JSON, or a session folder the app recorded (its "
                             "hierarchy, its keyframes for .html, its video for .otio/.eaf)")
    parser.add_argument("out", metavar="OUT")
    parser.add_argument("--video", metavar="VIDEO",
                        help="the footage: keyframes of the .html report (required there), "
                             "the media linked from .otio and .eaf")
    parser.add_argument("--layer", type=int, default=None, metavar="N",
                        help="the layer of the .vtt chapters (default: the top one)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        suffix = export_format(args.out)
    except EventFileError as err:
        raise CliError(str(err)) from None
    session = Path(args.prediction) if Path(args.prediction).is_dir() else None
    hierarchy = session / HIERARCHY_NAME if session else Path(args.prediction)
    video = args.video or (str(session / VIDEO_NAME) if session
                           and (session / VIDEO_NAME).is_file() else None)
    keyframes = ({(k.layer, k.index): k.jpeg for k in read_keyframes(session)}
                 if session and suffix in NEEDS_PICTURES and not args.video else None)
    if suffix in NEEDS_PICTURES and not (args.video or keyframes):
        raise CliError(f"a {suffix} report shows each event's keyframe: give the footage "
                       "with --video VIDEO, or a recorded session folder")
    if args.video:
        check_input_file(args.video, "video")
    check_writable(args.out, "OUT")
    check_not_an_input(args.out, "OUT", [str(hierarchy), *([video] if video else [])])
    doc = read_json(hierarchy, "prediction")
    try:
        check_hierarchy(doc, "prediction")
        export_events(doc, args.out, layer=args.layer, video=video, keyframes=keyframes)
    except (EventFileError, HierarchyFormatError) as err:
        raise CliError(str(err)) from None
    return EXIT_OK
