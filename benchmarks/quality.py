"""Quality benchmark: the presets against known event structure, next to a uniform baseline.

    python benchmarks/quality.py                 # full: 20 min synthetic + 5 min real montage
    python benchmarks/quality.py --minutes 2 --clip-minutes 1 --presets live   # a quick look

Same as `streamer-studio bench` (all its options apply); prints per-layer boundary F1 and
HLR IoU/MoF. Learning is from scratch, so a run takes about as long as the stream on a
laptop CPU for the live preset, several times longer for the paper preset.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.cli import run_cli  # noqa: E402 (after the path set-up)

if __name__ == "__main__":
    sys.exit(run_cli(["bench", *sys.argv[1:]]))
