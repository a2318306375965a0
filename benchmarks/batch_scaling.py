"""Throughput of `segment --manifest` with 1 rank and with 2 torchrun ranks on one manifest.

Both runs learn (the live preset unless --preset) over the same synthetic videos: one
process alone, then `torchrun --nproc-per-node 2 ... --distributed` (each rank its half,
averaging every --average-every inputs), one torch thread per rank. Prints the inputs
per second of each and the ratio. On a machine with 2 shared cores expect little gain.

    .venv/bin/python benchmarks/batch_scaling.py --videos 4 --seconds 20
    .venv/bin/python benchmarks/batch_scaling.py --device cuda --ranks 1   # per-GPU figure

(NCCL wants a GPU per rank: on CUDA, --ranks up to the number of GPUs.)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(command: list[str], summary: Path) -> dict:
    started = time.monotonic()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    wall = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-2000:]}")
    doc = json.loads(summary.read_text())
    return {"wall": wall, "steps": doc["steps"], "inside": doc["wall_seconds"],
            "averagings": doc.get("averagings")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each video")
    parser.add_argument("--preset", default="live")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--average-every", type=int, default=20)
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2],
                        help="rank counts to run (1: one process, no torchrun)")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        manifest = folder / "list.txt"
        manifest.write_text("".join(f"synthetic:{i}:{args.seconds:g}\n"
                                    for i in range(args.videos)))
        common = ["segment", "--manifest", str(manifest), "--preset", args.preset,
                  "--device", args.device, "--threads", "1", "--quiet"]
        torchrun = str(Path(sys.executable).with_name("torchrun"))
        results = {}
        for ranks in args.ranks:
            out = folder / f"ranks{ranks}"
            if ranks == 1:
                results[1] = run([sys.executable, "-m", "app", *common, "--out-dir", str(out)],
                                 out / "summary-0-of-1.json")
            else:
                results[ranks] = run(
                    [torchrun, "--standalone", "--nproc-per-node", str(ranks), "-m", "app",
                     *common, "--out-dir", str(out), "--distributed", "--average-every",
                     str(args.average_every)], out / "summary.json")

    print(f"manifest: {args.videos} synthetic videos x {args.seconds:g} s, preset "
          f"{args.preset}, device {args.device}, {os.cpu_count()} CPUs, load "
          f"{load_before:.1f} before")
    print("| ranks | inputs | wall s (process start to end) | inputs/s | inputs/s inside the "
          "runs | averagings |")
    print("|---|---|---|---|---|---|")
    for ranks, result in results.items():
        print(f"| {ranks} | {result['steps']} | {result['wall']:.1f} | "
              f"{result['steps'] / result['wall']:.2f} | "
              f"{result['steps'] / result['inside']:.2f} | {result['averagings'] or '-'} |")
    if 1 in results and len(results) > 1:
        one = results[1]
        for ranks, result in results.items():
            if ranks != 1:
                inside = (result["steps"] / result["inside"]) / (one["steps"] / one["inside"])
                print(f"ratio {ranks} ranks / 1 rank: {one['wall'] / result['wall']:.2f}x "
                      f"(wall), {inside:.2f}x (inside)")


if __name__ == "__main__":
    main()
