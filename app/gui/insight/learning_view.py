"""Shows that the model learns: the mean prediction loss of each layer between two
weight updates (falling curves: it learns what it sees) and, in words, how long ago the
weights last changed. A thin view over streamer_core.learning.LearningMonitor."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QDockWidget, QLabel, QVBoxLayout, QWidget

from streamer_core.learning_monitor import LearningMonitor
from streamer_core.sparse_change import MARGIN

LAYER_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")
REFRESH_MS = 1000
LOSS_WORDS = {"similarity": "−cosine similarity", "distance": "MSE"}
"""A layer's loss by its distance mode: minus the cosine similarity of its prediction with
what came (-1 is perfect, so the curves go below 0), or their mean squared error"""
LEAST_READABLE_HEIGHT = 280
"""Pixels of the dock: below it the plot (under a title and two lines of words) is too
short to read its points, and a first launch makes the panel a tab instead"""
LearningState = Callable[[], tuple[LearningMonitor, bool, int, float | None]]
"""What the panel shows: the monitor, whether learning is on, the number of layers, and the
seconds of input between two weight updates (None: no fixed pace)"""


def learning_words(monitor: LearningMonitor, learning: bool, num_layers: int,
                   seconds_per_update: float | None = None) -> str:
    """The state of learning in one line a viewer understands, in the status bar's terms
    ("no weight update yet"; once updated, how long ago)."""
    layers = f"{num_layers} layer{'s' if num_layers != 1 else ''}"
    if not learning:
        return f"Not learning (paused): {layers}, weights as they are"
    since = monitor.seconds_since_update()
    if since is None:
        pace = (f"one every ~{seconds_per_update:.0f} s of input" if seconds_per_update
                else f"{monitor.time:.0f} s of input so far")
        return f"Learning: {layers}, no weight update yet ({pace})"
    times = "once" if monitor.updates == 1 else f"{monitor.updates} times"
    return f"Learning: {layers}, weights updated {times}, the last {since:.0f} s of input ago"


def first_blocks_words(monitor: LearningMonitor) -> str:
    """Layer 0's first blocks' own objective (block_objective "sparse_change") in one
    line; "" when they learn from the prediction like the rest."""
    if not monitor.first_blocks:
        return ""
    first, latest = monitor.first_blocks[0][1], monitor.first_blocks[-1][1]
    return (f"Layer 0's first blocks learn sparse change: loss {latest:.2f} "
            f"(first update {first:.2f}; lower: changes in view are rarer and larger, "
            f"down to {-math.log(MARGIN):.2f}, where it asks no more)")


def loss_axis_name(layer0_mode: str, upper_mode: str) -> str:
    """What the plot's points are, for each layer's distance mode (force_base_dist gives
    layer 0 its own)."""
    if layer0_mode == upper_mode:
        return f"prediction loss ({LOSS_WORDS[layer0_mode]})"
    return (f"prediction loss (layer 0: {LOSS_WORDS[layer0_mode]}, above: "
            f"{LOSS_WORDS[upper_mode]})")


def key_html(layers: list[int]) -> str:
    """Which colour is which layer, as a line of text."""
    return "&nbsp;&nbsp;&nbsp;".join(
        f'<span style="color:{LAYER_COLOURS[layer % len(LAYER_COLOURS)]}">━●━</span> '
        f"layer {layer}" for layer in layers)


class LearningView(QWidget):
    """One curve per layer: its mean loss in each interval between weight updates."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.words = QLabel("Learning: waiting for the first input")
        self.words.setWordWrap(True)
        self.first_blocks = QLabel()  # only under block_objective "sparse_change"
        self.first_blocks.setWordWrap(True)
        self.first_blocks.hide()
        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(120)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.getPlotItem().setContentsMargins(0, 6, 12, 0)  # the edge ticks' labels
        self.plot.setLabel("left", "prediction loss")
        self.plot.setLabel("bottom", "seconds of input")
        self.plot.setToolTip("Each point: a layer's mean prediction loss between two weight "
                             "updates. Lower is better: the model predicts what it sees "
                             "(−1 is perfect for −cosine similarity, 0 for MSE).")
        # The key over the plot, not in it: a legend inside covered the newest points
        self.key = QLabel()
        self.curves: dict[int, pg.PlotDataItem] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.words)
        layout.addWidget(self.first_blocks)
        layout.addWidget(self.key)
        layout.addWidget(self.plot, 1)  # the dock's height, not the words'

    @Slot(str, str)
    def set_loss_modes(self, layer0_mode: str, upper_mode: str) -> None:
        """The running model's distance modes: what its losses are."""
        self.plot.setLabel("left", loss_axis_name(layer0_mode, upper_mode))

    def show_monitor(self, monitor: LearningMonitor, learning: bool, num_layers: int,
                     seconds_per_update: float | None = None) -> None:
        self.words.setText(learning_words(monitor, learning, num_layers, seconds_per_update))
        blocks = first_blocks_words(monitor)
        self.first_blocks.setText(blocks)
        self.first_blocks.setVisible(bool(blocks))
        losses = [loss for layer in monitor.intervals for loss in monitor.loss_curve(layer)[1]]
        if losses:  # a little room around the points, even around a single one
            pad = max(0.05, 0.1 * (max(losses) - min(losses)))
            self.plot.setYRange(min(losses) - pad, max(losses) + pad, padding=0)
        for layer in sorted(monitor.intervals):
            times, losses = monitor.loss_curve(layer)
            curve = self.curves.get(layer)
            if curve is None:
                colour = LAYER_COLOURS[layer % len(LAYER_COLOURS)]
                curve = self.plot.plot(pen=pg.mkPen(colour, width=1.5), symbol="o",
                                       symbolSize=5, symbolBrush=colour)
                self.curves[layer] = curve
                self.key.setText(key_html(sorted(self.curves)))
            curve.setData(np.asarray(times, dtype=float), np.asarray(losses, dtype=float))

    def clear(self) -> None:
        for curve in self.curves.values():
            self.plot.removeItem(curve)
        self.curves.clear()
        self.key.clear()
        self.first_blocks.clear()
        self.first_blocks.hide()
        self.words.setText("Learning: waiting for the first input")


class LearningDock(QDockWidget):
    """The Learning panel as a dock; it polls `state` once a second (cheap: one point per
    weight update), and starts afresh when the monitor is a new one (a new model)."""

    def __init__(self, state: LearningState, parent: QWidget | None = None):
        super().__init__("Learning", parent, objectName="learning")
        self.view = LearningView()
        self.setWidget(self.view)
        self.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.state = state
        self._shown: LearningMonitor | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(REFRESH_MS)

    @Slot()
    def refresh(self) -> None:
        monitor, learning, num_layers, seconds_per_update = self.state()
        if monitor is not self._shown:
            self.view.clear()
            self._shown = monitor
        self.view.show_monitor(monitor, learning, num_layers, seconds_per_update)
