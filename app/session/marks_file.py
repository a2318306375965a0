"""Where a person's live marks are saved: beside the checkpoint of the model they annotate
(model.pt -> model.pt.marks.json), so a recorded session's are beside its checkpoint.pt
and review mode finds them there."""

from __future__ import annotations

from pathlib import Path

MARKS_SUFFIX = ".marks.json"


def marks_path(checkpoint: str | Path) -> Path:
    return Path(f"{checkpoint}{MARKS_SUFFIX}")
