"""The autosaves beside a checkpoint, rotated per session so a relaunch never overwrites
the one a crashed session left (no Qt here: plain files).

`mine.pt` is autosaved as `mine.autosave.pt`; the first autosave of each session first
moves the earlier ones along (`mine.autosave.1.pt`, `mine.autosave.2.pt`), so the last
AUTOSAVES_KEPT sessions' autosaves stay and no more.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

AUTOSAVES_KEPT = 3
"""This session's autosave and those of the two sessions before it"""
_AUTOSAVE_NAME = re.compile(r"^(?:(?P<stem>.+)\.)?autosave(\.\d+)?(?P<suffix>\.[^.]+)$")


def autosave_beside(checkpoint: Path) -> Path:
    """Beside the user's checkpoint, never over it: a drifting model must not replace a
    model the user chose to keep."""
    return checkpoint.with_name(f"{checkpoint.stem}.autosave{checkpoint.suffix or '.pt'}")


def earlier_autosave(path: Path, sessions_ago: int) -> Path:
    """`path` itself for 0; `NAME.autosave.N.pt` for the session N before."""
    return path if sessions_ago == 0 else path.with_name(f"{path.stem}.{sessions_ago}{path.suffix}")


def rotate_autosaves(path: Path, kept: int = AUTOSAVES_KEPT) -> None:
    """Moves each earlier autosave one session back, the oldest replaced, and keeps
    `path`'s content as the session before's (a hard link, else a copy): `path` itself
    stays in place until this session's save replaces it (atomic_file: a new file renamed
    over it, never written in place). OSError if a file cannot be
    kept (nothing is lost then)."""
    for older in range(kept - 1, 1, -1):
        source = earlier_autosave(path, older - 1)
        if source.is_file():
            os.replace(source, earlier_autosave(path, older))
    if kept < 2 or not path.is_file():
        return
    previous = earlier_autosave(path, 1)
    previous.unlink(missing_ok=True)
    try:
        os.link(path, previous)
    except OSError:  # a file system without hard links
        shutil.copy2(path, previous)


def newest_autosave_since(path: Path, since: float, kept: int = AUTOSAVES_KEPT) -> Path | None:
    """The newest of the kept autosaves written after `since` (time.time()), if any."""
    found = []
    for sessions_ago in range(kept):
        candidate = earlier_autosave(path, sessions_ago)
        try:
            written = candidate.stat().st_mtime
        except OSError:
            continue
        if written > since:
            found.append((written, candidate))
    return max(found)[1] if found else None


def chosen_checkpoint(loaded: str) -> str:
    """The checkpoint a loaded file stands for: an autosave's own checkpoint (Save must
    not write over the autosave), "" for one of the app's folder, else the file itself."""
    match = _AUTOSAVE_NAME.match(Path(loaded).name)
    if match is None:
        return loaded
    if match["stem"] is None:  # the app's own autosave.pt: no file of the user's
        return ""
    return str(Path(loaded).with_name(match["stem"] + match["suffix"]))
