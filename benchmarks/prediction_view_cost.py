"""What the app's prediction view costs the learner: a learning step with and without it.

    python benchmarks/prediction_view_cost.py              # 60 steps, live preset, CPU
    python benchmarks/prediction_view_cost.py --steps 200 --device cuda

The learner thread takes layer 0's prediction before a step and compares it with the input
after it (app/gui/insight/prediction_preview.py). Steps alternate with and without the preview,
so that a machine whose load drifts weighs on both alike; the preview's own time is
measured too. Prints medians in milliseconds (docs/performance.md has the figures).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.cli.model_setup import new_model, torch_threads  # noqa: E402
from app.gui.insight.prediction_preview import PredictionPreview  # noqa: E402
from streamer_core.learning import learning_step  # noqa: E402
from streamer_core.sources import SyntheticSource, preprocess_frame  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    with torch_threads(args.threads):
        model, optimizer = new_model("live", [], device=args.device, seed=0)
        preview = PredictionPreview(interval=0.0)  # every step it is asked for: the worst case
        source = SyntheticSource(0, (args.steps + args.warmup) * 0.5 + 1, fps=2.0)
        with_view, without_view, own = [], [], []
        with source:
            for i, frame in enumerate(source):
                if i >= args.steps + args.warmup:
                    break
                x = preprocess_frame(frame.image, device=model.device)
                on = i % 2 == 0
                began = time.perf_counter()
                expected = preview.expectation(model) if on else None
                took_expectation = time.perf_counter() - began
                reports = learning_step(model, optimizer, x)
                between = time.perf_counter()
                if expected is not None:
                    preview.frame(expected, x, reports[0].time, scale_free=True)  # `live`
                if model.device.type == "cuda":
                    torch.cuda.synchronize()
                ended = time.perf_counter()
                if i < args.warmup:
                    continue
                (with_view if on else without_view).append(ended - began)
                if expected is not None:
                    own.append(took_expectation + ended - between)
    ms = 1000.0
    print(f"live preset, {args.device}, {args.threads} thread(s), {len(with_view)} + "
          f"{len(without_view)} steps (medians)")
    print(f"  step without the preview: {statistics.median(without_view) * ms:8.1f} ms")
    print(f"  step with the preview:    {statistics.median(with_view) * ms:8.1f} ms")
    print(f"  the preview itself:       {statistics.median(own) * ms:8.2f} ms "
          f"({len(own)} previews)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
