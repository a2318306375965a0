"""Parts written once and shared: the atomic writer, the learning step, the trace row, and
the core's import graph (no cycles, not even through imports inside functions)."""

from __future__ import annotations

import ast
import json
import os
import threading
from pathlib import Path

import pytest

from core_helpers import scene_frames, small_model
from streamer_core.atomic_file import atomic_file, write_json, write_jsonl
from streamer_core.learning import learning_step
from streamer_core.trace import trace_row

CORE = Path(__file__).resolve().parent.parent / "streamer_core"


def _imports(path: Path) -> set[str]:
    """streamer_core modules `path` imports at run time (anywhere but under TYPE_CHECKING)."""
    package = ".".join(path.relative_to(CORE.parent).with_suffix("").parts[:-1])
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            return
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            if base.startswith("streamer_core"):
                found.add(base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


def test_the_core_has_no_import_cycle():
    graph = {".".join(p.relative_to(CORE.parent).with_suffix("").parts).removesuffix(
        ".__init__"): _imports(p) for p in CORE.rglob("*.py")}
    done: set[str] = set()

    def walk(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path, module))
        if module in done:
            return
        for target in graph.get(module, ()):
            if target != module.rsplit(".", 1)[0] or module.endswith("__init__"):
                walk(target, (*path, module))
        done.add(module)

    for module in graph:
        if not module.endswith(("streamer_core", "sources")):  # packages re-export
            walk(module, ())


def test_an_atomic_write_is_synced_and_a_failed_one_leaves_the_old_file(tmp_path,
                                                                        monkeypatch):
    path = tmp_path / "out.json"
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    write_json(path, {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1} and synced  # data reached the disk
    with pytest.raises(ZeroDivisionError), atomic_file(path) as handle:
        handle.write("half")
        raise ZeroDivisionError
    assert json.loads(path.read_text()) == {"a": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]  # no temp file left
    write_jsonl(path, [{"b": 2}, {"c": 3}])
    assert path.read_text().splitlines() == ['{"b": 2}', '{"c": 3}']


def test_trace_rows_have_one_shape_with_missing_values_as_null():
    row = trace_row(1, 5, 2.5, 0, float("nan"), None, True)
    assert row == {"video": 1, "step": 5, "time": 2.5, "layer": 0, "signal": None,
                   "threshold": None, "boundary": True, "loss": None}
    assert trace_row(1, 5, 2.5, 0, 0.5, None, True, loss=float("inf"))["loss"] is None
    assert json.loads(json.dumps(trace_row(0, 1, 0.5, 2, 0.25, 0.5, False)))["signal"] == 0.25


def test_the_learning_step_learns_only_when_asked_and_not_when_stopping():
    model, optimizer = small_model(optimize_every=1)
    frames = scene_frames(6)

    def untouched() -> bool:
        return all(p.grad is None for p in model.parameters())

    for x in frames[:3]:
        learning_step(model, None, x, learn=False)
    assert untouched()  # no graph, no gradient
    stop = threading.Event()
    stop.set()
    for x in frames[3:]:
        reports = learning_step(model, optimizer, x, stop=stop)
        assert reports and reports[0].layer == 0
    assert untouched() and optimizer.optimizer_steps == 0  # closing: no back-propagation
    for x in frames:
        learning_step(model, optimizer, x)
    assert optimizer.optimizer_steps > 0
