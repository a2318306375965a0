"""benchmarks/live_lag.py's learner at a pace: which snippets it takes and learns from."""

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.live_lag import schedule  # noqa: E402


def test_a_learner_that_keeps_up_takes_every_snippet_and_learns_from_each():
    for every_input in (False, True):
        taken = schedule(40, 1.25, 0.7, every_input, random.Random(0))
        assert taken == [(k, True) for k in range(40)]


def test_skipping_to_the_newest_leaves_gaps_and_seeing_every_snippet_does_not():
    skipped = schedule(100, 0.8, 0.7, False, random.Random(1))
    seen = schedule(100, 0.8, 0.7, True, random.Random(1))
    assert 70 <= len(skipped) <= 90 and all(learned for _, learned in skipped)
    assert any(b - a > 1 for (a, _), (b, _) in zip(skipped, skipped[1:]))
    assert [k for k, _ in seen] == list(range(100))  # a step without gradients catches up
    learned = sum(learned for _, learned in seen)
    assert 20 <= learned <= 60


def test_a_learner_too_slow_even_without_gradients_drops_the_oldest_snippets():
    taken = schedule(100, 0.5, 0.7, True, random.Random(2))
    indices = [k for k, _ in taken]
    assert indices == sorted(set(indices)) and len(indices) < 100
    assert sum(learned for _, learned in taken) <= 5
