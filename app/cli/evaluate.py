"""`streamer-studio evaluate`: boundary P/R/F1 and HLR of a prediction against ground truth."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from streamer_core.atomic_file import write_json
from streamer_core.evaluation import HierarchyFormatError, evaluate
from streamer_core.exports import READERS, EventFileError, read_events

from .errors import EXIT_OK, CliError
from .files import check_input_file, check_not_an_input, check_writable, read_json


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more seconds")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="score a predicted hierarchy against ground truth",
        description="Boundary precision/recall/F1 for every pair of layers (one-to-one "
                    "matching within the tolerance) and the paper's HLR IoU / MoF.")
    parser.add_argument("prediction", metavar="PRED.json")
    parser.add_argument("truth", metavar="GT",
                        help="ground truth: hierarchy JSON, or events in .csv (layer, start, "
                             "end), .eaf (ELAN, a tier per layer), .otio or .vtt")
    parser.add_argument("--tolerance", type=non_negative_float, default=1.0, metavar="S",
                        help="seconds a boundary may be off and still count (default 1.0)")
    parser.add_argument("--json", action="store_true",
                        help="print the report as JSON instead of a table")
    parser.add_argument("-o", "--out", metavar="REPORT.json", help="also save the JSON report")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.out:
        check_writable(args.out, "--out")
        check_not_an_input(args.out, "--out", [args.prediction, args.truth])
    predicted = read_json(args.prediction, "prediction")
    truth = read_truth(args.truth)
    try:
        report = evaluate(predicted, truth, args.tolerance)
    except HierarchyFormatError as err:
        raise CliError(str(err)) from None
    if args.out:
        write_json(args.out, report)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return EXIT_OK


def read_truth(path: str) -> dict:
    """A hierarchy doc from JSON or from an events file of another tool (by extension)."""
    if Path(path).suffix.lower() not in READERS:
        return read_json(path, "ground truth")
    check_input_file(path, "ground truth")
    try:
        return read_events(path)
    except EventFileError as err:
        raise CliError(f"ground truth {err}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise CliError(f"cannot read ground truth {path}: {err}") from None


def format_report(report: dict) -> str:
    lines = [f"prediction:   {report['prediction']}  "
             f"({report['duration']['prediction']:.1f} s, events per layer "
             f"{report['events']['prediction']})",
             f"ground truth: {report['ground_truth']}  "
             f"({report['duration']['ground_truth']:.1f} s, events per layer "
             f"{report['events']['ground_truth']})"]
    gap = abs(report["duration"]["prediction"] - report["duration"]["ground_truth"])
    if gap > max(report["tolerance"], 1.0):
        lines.append(f"note: the durations differ by {gap:.1f} s: boundaries in the part "
                     "only one of them covers count as misses")
    lines += ["", f"Boundaries (tolerance {report['tolerance']:g} s)",
              "pred  gt   precision  recall  F1     matched  predicted  truth"]
    for row in report["boundaries"]:
        lines.append(f"{row['pred_layer']:<5} {row['gt_layer']:<4} {row['precision']:<10.3f} "
                     f"{row['recall']:<7.3f} {row['f1']:<6.3f} {row['matched']:<8} "
                     f"{row['predicted']:<10} {row['ground_truth']}")
    lines += ["", "Hierarchical level reduction (HLR)",
              "gt   pred   IoU    MoF    matched  truth events"]
    for row in report["hlr"]:
        lines.append(f"{row['gt_layer']:<4} {row['pred_layers']:<6} {row['iou']:<6.3f} "
                     f"{row['mof']:<6.3f} {row['matched']:<8} {row['ground_truth']}")
    if "moving_camera" in report:
        lines += ["", "Boundaries inside the moving-camera spans (against truth layer 0)",
                  "pred  precision  matched  predicted"]
        for row in report["moving_camera"]:
            lines.append(f"{row['pred_layer']:<5} {row['precision']:<10.3f} "
                         f"{row['matched']:<8} {row['predicted']}")
    return "\n".join(lines)
