"""Which inputs a live learner behind its source learns from (the app's learner, the
CLI's live sources and the benchmarks).

A live camera does not wait. When a learning step takes longer than a snippet, the
snippets wait in a small mailbox (SNIPPETS_WAITING, the oldest dropped past it) and each
is seen, so that layer 0's steps stay one snippet apart: skipping to the newest instead,
it read steps across inputs a second or more apart against its half-second ones, and a
still camera's events were lost (benchmarks/live_lag.py, docs/quality.md). A snippet with
others waiting behind it is seen without gradients (learning_step's `behind`: about two
thirds of a learning step's time), which lets the learner catch up.
"""

from __future__ import annotations

SNIPPETS_WAITING = 12
"""Snippets the learner may fall behind by: 6 s of input at 0.5 s, enough to ride out a
weight update (a step of 1.7 s on a 2-core CPU, and 5.4 s at the first, which waits for
the first blocks' first learning, sparse_change). Holding 4, a live learner twice as fast
as the video still dropped about 5 snippets there, and one a little slower than the video
20-30 of vtest.avi's 159 (benchmarks/live_stream.py, docs/quality.md session fifty-six)."""


class LearningPace:
    """Learns from an input when none waits behind it, and from the one after an input
    learned alone: a prediction is learned from when the next input is (its loss), so a
    lone learned input would teach nothing."""

    def __init__(self) -> None:
        self.learned_last = False
        self.learned_before_last = False

    def learns(self, waiting: int) -> bool:
        """Whether to learn from the input just taken, with `waiting` snippets behind it."""
        learn = waiting == 0 or (self.learned_last and not self.learned_before_last)
        self.learned_before_last, self.learned_last = self.learned_last, learn
        return learn
