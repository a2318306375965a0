"""Throughput of `segment --manifest` with 1 rank and with 2 torchrun ranks on one manifest.

Both runs learn (the live preset unless --preset) over the same synthetic videos: one
process alone, then `torchrun --nproc-per-node 2 ... --distributed` (each rank its half,
averaging every --average-every inputs), one torch thread per rank. Prints the inputs
per second of each and the ratio. On a machine with 2 shared cores expect little gain.

    .venv/bin/python benchmarks/batch_scaling.py --videos 4 --seconds 20
    .venv/bin/python benchmarks/batch_scaling.py --device cuda   # per-GPU figure (1 GPU)
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
    args = parser.parse_args()
    load_before = os.getloadavg()[0]

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        manifest = folder / "list.txt"
        manifest.write_text("".join(f"synthetic:{i}:{args.seconds:g}\n"
                                    for i in range(args.videos)))
        common = ["segment", "--manifest", str(manifest), "--preset", args.preset,
                  "--device", args.device, "--threads", "1", "--quiet"]
        one = run([sys.executable, "-m", "app", *common, "--out-dir", str(folder / "one")],
                  folder / "one" / "summary-0-of-1.json")
        torchrun = str(Path(sys.executable).with_name("torchrun"))
        two = run([torchrun, "--standalone", "--nproc-per-node", "2", "-m", "app", *common,
                   "--out-dir", str(folder / "two"), "--distributed", "--average-every",
                   str(args.average_every)], folder / "two" / "summary.json")

    print(f"manifest: {args.videos} synthetic videos x {args.seconds:g} s, preset "
          f"{args.preset}, device {args.device}, {os.cpu_count()} CPUs, load "
          f"{load_before:.1f} before")
    print("| ranks | inputs | wall s (process start to end) | inputs/s | inputs/s inside the "
          "runs | averagings |")
    print("|---|---|---|---|---|---|")
    for ranks, result in ((1, one), (2, two)):
        print(f"| {ranks} | {result['steps']} | {result['wall']:.1f} | "
              f"{result['steps'] / result['wall']:.2f} | "
              f"{result['steps'] / result['inside']:.2f} | {result['averagings'] or '-'} |")
    print(f"ratio 2 ranks / 1 rank: {one['wall'] / two['wall']:.2f}x (wall), "
          f"{(two['steps'] / two['inside']) / (one['steps'] / one['inside']):.2f}x (inside)")


if __name__ == "__main__":
    main()
