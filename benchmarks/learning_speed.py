"""Learning speed of a preset: the fast path against the reference's way.

By default the paper architecture (feature_dim 1024, 128x128 frames, buffer 20 with
force_fixed_buffer, 3 layers from the start via init_layers=3), learning on, real video
frames; `--preset live` measures the desktop preset with the same 3 layers. Each path runs
in its own process so that its peak RSS (and on CUDA its peak GPU memory) is its own.
Prints steps/s, peak memory and the speed ratio measured in this one run; `--json` adds
the figures as one line, "learning_speed " and a JSON object (benchmarks/gpu_check.py
reads it).

    python benchmarks/learning_speed.py [--preset paper] [--steps 40] [--video PATH]
                                        [--device auto] [--paths fast,reference] [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from streamer_core import StreamerModel, StreamerOptimizer
from streamer_core.device import describe_device, resolve_device, to_device
from streamer_core.learning import learning_step
from streamer_core.presets import PRESETS, preset_arguments
from streamer_core.sources import SnippetSampler, open_source, preprocess_frame

SAMPLE_VIDEOS = [Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi"),
                 Path("/usr/share/doc/opencv-doc/examples/data/Megamind.avi")]
PATHS = {"fast": True, "reference": False}


def load_frames(spec: str, count: int) -> list[torch.Tensor]:
    """`count` model inputs, one per 0.5 s of video (looping a short clip)."""
    frames: list[torch.Tensor] = []
    while len(frames) < count:
        sampler = SnippetSampler(0.5)
        with open_source(spec) as source:
            for frame in source:
                if sampler.offer(frame):
                    frames.append(preprocess_frame(frame.image))
                    if len(frames) == count:
                        break
    return frames


def run_one(path: str, args: argparse.Namespace) -> dict:
    device = resolve_device(args.device)
    model_args, opt_args = preset_arguments(args.preset)
    model_args = replace(model_args, init_layers=args.layers, device=str(device), seed=0,
                         fast_path=PATHS[path])
    if args.optimize_every is not None:
        opt_args = replace(opt_args, optimize_every=args.optimize_every)
    frames = [to_device(x, device) for x in load_frames(args.video, args.warmup + args.steps)]
    model = StreamerModel(model_args)
    optimizer = StreamerOptimizer(model, opt_args)
    durations = []
    for i, x in enumerate(frames):
        start = time.perf_counter()
        learning_step(model, optimizer, x)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i >= args.warmup:
            durations.append(time.perf_counter() - start)
    result = {
        "path": path,
        "steps_per_s": len(durations) / sum(durations),
        "median_step_s": statistics.median(durations),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "optimizer_steps": optimizer.optimizer_steps,
        "boundaries": model.extract_rep()["boundaries"],
    }
    if device.type == "cuda":
        result["peak_gpu_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=PRESETS, default="paper")
    parser.add_argument("--layers", type=int, default=3, help="layers from the start")
    parser.add_argument("--steps", type=int, default=40, help="measured learning steps")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--video", default=next((str(p) for p in SAMPLE_VIDEOS if p.exists()),
                                                "synthetic:0:600"))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--optimize-every", type=int, default=None,
                        help="default: the preset's (paper: 100 top-layer losses, none in "
                             "a 40-step run); lower it to include Adam steps")
    parser.add_argument("--paths", default="fast,reference")
    parser.add_argument("--json", action="store_true",
                        help="also print the figures as one JSON line at the end")
    parser.add_argument("--child", choices=PATHS, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(run_one(args.child, args)))
        return 0

    device = resolve_device(args.device)
    print(f"device: {describe_device(device)}; torch {torch.__version__}; video: {args.video}")
    model_args, opt_args = preset_arguments(args.preset)
    optimize_every = args.optimize_every or opt_args.optimize_every
    print(f"{args.preset} preset (feature_dim {model_args.feature_dim}, buffer "
          f"{model_args.buffer_size}), {args.layers} layers, {args.steps} steps after "
          f"{args.warmup} warm-up, optimize_every {optimize_every}")
    results = {}
    for path in args.paths.split(","):
        child = [sys.executable, __file__, "--child", path, *sys.argv[1:]]
        out = subprocess.run(child, capture_output=True, text=True)
        if out.returncode != 0:
            print(f"  {path}: FAILED (exit {out.returncode})\n{out.stderr[-3000:]}")
            return 1
        results[path] = json.loads(out.stdout.strip().splitlines()[-1])
        r = results[path]
        gpu = f", peak GPU {r['peak_gpu_mb']:.0f} MB" if "peak_gpu_mb" in r else ""
        print(f"  {path:9s}: {r['steps_per_s']:6.2f} steps/s (median {r['median_step_s']:.3f}"
              f" s/step), peak RSS {r['peak_rss_mb']:.0f} MB{gpu}, "
              f"optimizer steps {r['optimizer_steps']}")
    if {"fast", "reference"} <= results.keys():
        fast, ref = results["fast"], results["reference"]
        print(f"speed-up fast/reference: {fast['steps_per_s'] / ref['steps_per_s']:.2f}x; "
              f"peak RSS ratio {fast['peak_rss_mb'] / ref['peak_rss_mb']:.2f}; "
              f"same boundaries: {fast['boundaries'] == ref['boundaries']}")
    if args.json:
        figures = {"preset": args.preset, "device": str(device), "results": results}
        print("learning_speed " + json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
