"""The CUDA path checked and measured in one run: tests, learning speed, memory, the app.

    make gpu-check                     # or: python benchmarks/gpu_check.py
    python benchmarks/gpu_check.py --device cpu --quick   # rehearse the script on the CPU

Parts, each in its own process under its own time limit (a hang costs that part only),
all within --budget seconds (default 470, under 8 minutes):

    tests            pytest tests/test_cuda.py: CUDA against CPU (same weights and frames:
                     same boundaries, gradients within float tolerance), host
                     synchronisations per step, checkpoints across devices, the CLI
    paper, live      benchmarks/learning_speed.py --device cuda --preset P (3 layers from
                     the start; paper: feature_dim 1024, buffer 20), fast and reference paths
    segment-paper,   streamer-studio segment --no-learn: inputs/s without learning
    segment-live
    self-test        streamer-studio --self-test, offscreen (the app picks CUDA itself)

Ends with a table: each part's result, steps/s and peak GPU memory
(torch.cuda.max_memory_allocated in that part's process). Without a CUDA device it says
"no CUDA device" and exits 0. Exit 1 if a part failed or timed out.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULT_PREFIX = "GPU_CHECK_RESULT "
"""A part's process ends its output with this prefix and a JSON object (its figures)."""
SPEED_PREFIX = "learning_speed "
"""learning_speed.py --json prints its figures after this"""
DEFAULT_BUDGET_S = 470
CPU_SLOWER = 5
"""--device cpu: time limits and budget this many times longer"""


@dataclass
class Part:
    name: str
    what: str
    timeout_s: int
    argv: list[str]
    """The command, after the Python interpreter"""


@dataclass
class Outcome:
    part: Part
    status: str  # "ok", "FAILED", "TIMED OUT", "skipped: why"
    seconds: float
    rows: list[dict] = field(default_factory=list)
    """Figures: {"label", "steps_per_s", "peak_gpu_mb", "note"}; one part can give several"""
    tail: str = ""


def plan(args: argparse.Namespace) -> list[Part]:
    speed = [str(ROOT / "benchmarks" / "learning_speed.py"), "--device", args.device,
             "--json", "--steps", str(args.steps), "--warmup", "3"]
    if args.quick:  # the reference path takes 15 s a step on 2 CPU cores
        speed += ["--video", "synthetic:0:600", "--paths", "fast"]
    me = [str(Path(__file__).resolve()), "--device", args.device]
    if args.quick:
        me.append("--quick")
    parts = [
        Part("tests", "pytest tests/test_cuda.py", 150,
             [*me, "--part", "tests"]),
        Part("paper", "learning_speed.py --preset paper (3 layers, buffer 20)", 120,
             [*speed, "--preset", "paper"]),
        Part("live", "learning_speed.py --preset live (3 layers)", 90,
             [*speed, "--preset", "live"]),
        Part("segment-paper", "segment --no-learn --preset paper", 60,
             [*me, "--part", "segment-paper"]),
        Part("segment-live", "segment --no-learn --preset live", 60,
             [*me, "--part", "segment-live"]),
        Part("self-test", "streamer-studio --self-test (offscreen)", 120,
             [*me, "--part", "self-test"]),
    ]
    chosen = args.parts.split(",") if args.parts else [p.name for p in parts]
    unknown = set(chosen) - {p.name for p in parts}
    if unknown:
        raise SystemExit(f"gpu_check: unknown part(s) {', '.join(sorted(unknown))}; "
                         f"choose from {', '.join(p.name for p in parts)}")
    slower = 1 if args.device == "cuda" else CPU_SLOWER  # a rehearsal on the CPU
    return [replace(p, timeout_s=p.timeout_s * slower) for p in parts if p.name in chosen]


# --- the parts that run in this script's own child process ----------------------------

def peak_gpu_mb(device: str) -> float | None:
    import torch

    if device != "cuda":
        return None
    return torch.cuda.max_memory_allocated() / 2**20


def part_tests(args: argparse.Namespace) -> dict:
    import pytest

    code = pytest.main(["-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "test_cuda.py")])
    status = "ok" if code == 0 else "FAILED"
    if args.device != "cuda":
        status = "skipped: no CUDA device" if code in (0, 5) else status
    return {"status": status, "rows": [{"label": "tests/test_cuda.py",
                                        "peak_gpu_mb": peak_gpu_mb(args.device)}]}


def part_segment(args: argparse.Namespace, preset: str) -> dict:
    """The CLI itself, in this process, so that its GPU memory can be read afterwards."""
    from app.cli import run_cli

    steps = 5 if args.quick else 300
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"gpu_check_{os.getpid()}.json"
    source = "synthetic:1:3600"
    argv = ["segment", source, "--preset", preset, "--no-learn",
            "--device", args.device, "--max-steps", str(steps), "--seed", "0",
            "--out", str(out)]
    progress = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stderr(progress):
        code = run_cli(argv)
    wall = time.perf_counter() - started
    out.unlink(missing_ok=True)
    print(progress.getvalue(), end="")
    # The CLI's own figure (steps since the model was built); else steps over wall time.
    rates = re.findall(r"([0-9.]+) steps/s", progress.getvalue())
    rate = float(rates[-1]) if rates else steps / wall
    note = f"{steps} inputs; the source alone: {source_rate(source, steps):.0f} inputs/s"
    return {"status": "ok" if code == 0 else "FAILED",
            "rows": [{"label": f"segment --no-learn, {preset}", "steps_per_s": rate,
                      "peak_gpu_mb": peak_gpu_mb(args.device), "note": note}]}


def source_rate(spec: str, inputs: int) -> float:
    """Inputs/s that rendering and sampling the source give without a model: the
    ceiling of `segment`'s own figure."""
    from app.cli.segment import prepare_sources
    from streamer_core.sources import SnippetSampler

    sampler, count = SnippetSampler(0.5), 0
    started = time.perf_counter()
    with prepare_sources([spec])[0] as frames:
        for frame in frames:
            count += sampler.offer(frame)
            if count == inputs:
                break
    return count / (time.perf_counter() - started)


def part_self_test(args: argparse.Namespace) -> dict:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:  # Qt is imported lazily by the self-test: import the window's modules now
        import app.gui.live.main_window  # noqa: F401
        from app.gui.self_test import run_self_test
    except ImportError as err:  # a GPU machine without the desktop app's packages
        return {"status": f"skipped: {err}", "rows": []}
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        code = run_self_test()
    print(captured.getvalue(), end="")
    each = re.search(r"\(([0-9.]+) s each\)", captured.getvalue())
    return {"status": "ok" if code == 0 else "FAILED",
            "rows": [{"label": "self-test (small live model, GUI drawing)",
                      "steps_per_s": 1 / float(each.group(1)) if each and float(
                          each.group(1)) > 0 else None,
                      "peak_gpu_mb": peak_gpu_mb(args.device)}]}


def run_part_here(args: argparse.Namespace) -> int:
    if args.device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""  # the app's `auto` must pick the CPU too
    sys.path.insert(0, str(ROOT))
    if args.part == "tests":
        result = part_tests(args)
    elif args.part.startswith("segment-"):
        result = part_segment(args, args.part.removeprefix("segment-"))
    else:
        result = part_self_test(args)
    sys.stdout.flush()
    print(RESULT_PREFIX + json.dumps(result))
    return 0


# --- the parent: runs each part, collects the figures ---------------------------------

def speed_rows(payload: dict) -> list[dict]:
    """learning_speed.py's --json line -> one row per path."""
    rows = []
    for path, r in payload["results"].items():
        rows.append({"label": f"learning, {payload['preset']}, {path} path",
                     "steps_per_s": r["steps_per_s"], "peak_gpu_mb": r.get("peak_gpu_mb"),
                     "note": f"median {r['median_step_s'] * 1000:.1f} ms/step"})
    results = payload["results"]
    if {"fast", "reference"} <= results.keys():
        same = results["fast"]["boundaries"] == results["reference"]["boundaries"]
        rows[0]["note"] += f"; same boundaries as reference: {same}"
    return rows


def last_json(output: str, prefix: str) -> dict | None:
    """The JSON object on the last output line that starts with `prefix`."""
    for line in reversed(output.splitlines()):
        if line.startswith(prefix):
            try:
                return json.loads(line[len(prefix):])
            except json.JSONDecodeError:
                return None
    return None


def run_part(part: Part, timeout_s: float) -> Outcome:
    started = time.perf_counter()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "QT_QPA_PLATFORM": "offscreen",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                       os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run([sys.executable, *part.argv], cwd=ROOT, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout_s)
    except subprocess.TimeoutExpired as expired:
        output = expired.stdout if isinstance(expired.stdout, str) else (
            (expired.stdout or b"").decode(errors="replace"))
        return Outcome(part, f"TIMED OUT after {timeout_s:.0f} s",
                       time.perf_counter() - started, tail=output[-3000:])
    seconds = time.perf_counter() - started
    output = done.stdout
    if part.argv[0].endswith("learning_speed.py"):
        payload = last_json(output, SPEED_PREFIX)
        if done.returncode != 0 or payload is None:
            return Outcome(part, f"FAILED (exit {done.returncode})", seconds,
                           tail=output[-3000:])
        return Outcome(part, "ok", seconds, speed_rows(payload), output[-3000:])
    result = last_json(output, RESULT_PREFIX)
    if done.returncode != 0 or result is None:
        return Outcome(part, f"FAILED (exit {done.returncode})", seconds, tail=output[-3000:])
    return Outcome(part, result["status"], seconds, result["rows"], output[-3000:])


def table(outcomes: list[Outcome]) -> str:
    def number(value: float | None, fmt: str) -> str:
        return "-" if value is None else format(value, fmt)

    lines = ["| part | result | s | run | steps/s | peak GPU MiB | note |",
             "|---|---|---|---|---|---|---|"]
    for o in outcomes:
        for row in o.rows or [{"label": o.part.what}]:
            lines.append(f"| {o.part.name} | {o.status} | {o.seconds:.0f} | {row['label']} | "
                         f"{number(row.get('steps_per_s'), '.1f')} | "
                         f"{number(row.get('peak_gpu_mb'), '.0f')} | {row.get('note', '')} |")
    return "\n".join(lines)


def describe(device: str) -> str:
    import torch

    from streamer_core.device import describe_device

    name = describe_device(torch.device(device))
    cuda = f", CUDA {torch.version.cuda}" if device == "cuda" else ""
    return f"{name}; torch {torch.__version__}{cuda}; python {sys.version.split()[0]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda",
                        help="cpu: rehearse the script itself on a machine without a GPU")
    parser.add_argument("--parts", default="", help="comma-separated subset of the parts")
    parser.add_argument("--budget", type=float, default=None,
                        help=f"seconds for all parts together (default {DEFAULT_BUDGET_S}; "
                             f"{CPU_SLOWER} times that with --device cpu)")
    parser.add_argument("--steps", type=int, default=None,
                        help="measured learning steps per path (default 100; --quick 4)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny runs (synthetic video, few steps): tests the script")
    parser.add_argument("--part", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.steps is None:
        args.steps = 4 if args.quick else 100
    if args.budget is None:
        args.budget = DEFAULT_BUDGET_S * (1 if args.device == "cuda" else CPU_SLOWER)
    if args.part:
        return run_part_here(args)

    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print(f"gpu_check: no CUDA device (torch {torch.__version__}, built for CUDA "
              f"{torch.version.cuda or 'none'}): nothing to check. Run it on a machine with "
              "an NVIDIA GPU and a CUDA build of torch (README, 'GPU (CUDA)').")
        return 0
    sys.path.insert(0, str(ROOT))
    print(f"gpu_check: {describe(args.device)}")
    deadline = time.monotonic() + args.budget
    outcomes = []
    for part in plan(args):
        left = deadline - time.monotonic()
        if left < 10:
            outcomes.append(Outcome(part, "NOT RUN: budget spent", 0.0))
            continue
        print(f"--- {part.name}: {part.what}", flush=True)
        outcome = run_part(part, min(part.timeout_s, left))
        print(outcome.tail.rstrip(), flush=True)
        outcomes.append(outcome)
    print()
    print(table(outcomes))
    failed = [o.part.name for o in outcomes
              if not (o.status == "ok" or o.status.startswith("skipped"))]
    print(f"gpu_check: {'FAILED: ' + ', '.join(failed) if failed else 'all parts ok'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
