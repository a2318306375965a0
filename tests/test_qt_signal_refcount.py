"""Regression: PySide6 6.12.0 on Python 3.11 leaks a reference to True per Signal.emit()
and aborts after a few hundred emits; pyproject pins PySide6-Essentials<6.12."""

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    fired = Signal(bool)


def test_emitting_many_signals_does_not_lose_references_to_true(qapp):
    emitter = _Emitter()
    received = [0]

    def count(value: bool) -> None:
        received[0] += 1

    emitter.fired.connect(count)
    before = sys.getrefcount(True)
    for _ in range(20_000):
        emitter.fired.emit(True)
    after = sys.getrefcount(True)
    assert received[0] == 20_000
    assert after >= before - 100, f"refcount of True fell from {before} to {after}"
