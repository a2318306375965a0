"""The frame-source interface shared by the CLI and the app."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Frame:
    """One picture from a source, always H x W x 3 uint8 RGB."""

    image: np.ndarray
    timestamp: float
    """Seconds of source time: position in a file, seconds since open() for live sources"""
    index: int
    """Running frame number from this source (counts frames delivered, from 0)"""
    between: tuple[np.ndarray, ...] = ()
    """Model-sized pictures of the frames a sampler passed over since the frame it took
    before this one, for a reader on another thread (the app's learner: frames_between)"""
    follows: int | None = None
    """The index of that frame taken before: `between` reaches back to it, so the reader
    may use it only if it had that frame too"""


class SourceError(Exception):
    """A source cannot be opened or named; the message tells a user what and why."""


class FrameSource(ABC):
    """Frames with timestamps from one place; `read()` returning None means the source died.

    Dying is an ordinary event (end of file, unplugged camera, stopped server), so it is
    reported by value and never as an exception a worker thread would have to smuggle out.
    `end_reason` then says why, for the user.
    """

    description: str = ""
    is_live: bool = False
    fps: float | None = None
    duration: float | None = None
    end_reason: str | None = None
    ended_early: bool = False
    """Died before its end (a damaged file, a stream or camera that stopped, a reading
    error), not at the end of a file: what was read is not all there was"""

    @abstractmethod
    def open(self) -> None:
        """Raises SourceError when the source cannot deliver frames."""

    @abstractmethod
    def read(self) -> Frame | None:
        """The next frame, or None once the source is dead or closed.

        Never raises after open(); before the first open() it raises SourceError, since
        silently yielding nothing would hide the mistake.
        """

    @abstractmethod
    def close(self) -> None:
        """Releases the device or file; safe to call twice or before open()."""

    def _never_opened(self) -> SourceError:
        return SourceError(f"{self.description or type(self).__name__} was read before "
                           "open(); open it or use it in a with-block")

    def __iter__(self) -> Iterator[Frame]:
        while (frame := self.read()) is not None:
            yield frame

    def __enter__(self) -> FrameSource:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description!r}>"
