"""Per-layer event timelines: coloured event spans over the demarcation signal.

A thin view over SessionHistory. Each layer is two rows sharing the time axis: a band with
its events (one BarGraphItem for the whole layer, only the visible events given to it)
and, under it, the signal with its live threshold (where the layer has one of its own) and
the boundaries as markers. Above layer 0 each input is a point, filled where it ended the
row's event and hollow where it did not; where layer 1's events end at a new scene (layer 0
reading features), its row also draws the share of the picture that must change for that,
and an escalating row otherwise draws the class split its points were measured against.
The view follows the newest time until the user pans or zooms back; "Live" returns.
`set_look` makes it readable from the back of a room (presentation mode): large type and
lines, each layer's current event named with its duration, and the signal rows (the
technical curves) hidden unless asked for.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QSignalBlocker, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QFont, QPainterPath
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.session.keyframes import KeyframeStore
from streamer_core.hierarchy import layer_colour

from ..controllers.session_history import LayerHistory, SessionHistory
from .keyframe_views import KeyframeHover, KeyframeStrip
from .timeline_legend import SIGNAL_COLOUR, THRESHOLD_COLOUR, TimelineLegend

SPANS = (("30 s", 30.0), ("1 min", 60.0), ("2 min", 120.0), ("5 min", 300.0),
         ("10 min", 600.0), ("30 min", 1800.0), ("1 h", 3600.0))
BOUNDARY_BRUSH = (255, 90, 90, 190)
UNSEEN_FILL = QColor(30, 31, 34, 235)
"""The stretches the model never saw (its learner was behind): a hole in the bands, in
the timeline's background colour, outlined"""
UNSEEN_EDGE = QColor(170, 170, 170)
POINT_SIZE = 7  # an upper row's input: large enough to tell filled from hollow
AXIS_WIDTH = 56
BAND_HEIGHT = 40  # room for a row of keyframes when zoomed in
EMPTY_TEXT = ("No events yet: a row per layer appears here after the model's first "
              "learning step")
LARGE = 2.0
"""Presentation mode: type and lines this many times their size"""
LEAST_PICTURE_SHARE = 0.35
"""Of the picture's and the timeline's height, the picture keeps this much however many
rows the timeline needs"""
LABEL_GAP_PX = 14
"""Least height between two value labels of a signal row's axis (one line of text)"""
_RGB = re.compile(r"rgb\((\d+),\s*(\d+),\s*(\d+)\)")


def _mark_above_point() -> QPainterPath:
    """An upper row's ▼, drawn just above its point so the point's fill stays visible.
    A symbol is drawn in a unit square around the point (y down): the triangle takes its
    top part, and the mark's size grows so that the triangle keeps layer 0's."""
    path = QPainterPath()
    path.moveTo(-0.15, -0.5)
    path.lineTo(0.15, -0.5)
    path.lineTo(0.0, -0.2)
    path.closeSubpath()
    return path


MARK_ABOVE_POINT = _mark_above_point()
MARK_SIZE = 6
UPPER_MARK_SIZE = MARK_SIZE / 0.3


def event_colour(layer: int, event: int) -> QColor:
    """The colour the hierarchy JSON export gives this event."""
    match = _RGB.match(layer_colour(layer, event))
    return QColor(*(int(v) for v in match.groups())) if match else QColor("gray")


def visible_slice(times: np.ndarray, x0: float, x1: float) -> tuple[int, int]:
    """Indices of the sorted `times` in [x0, x1], plus one point either side so lines
    run to the edges of the view."""
    a = max(0, int(np.searchsorted(times, x0, side="left")) - 1)
    b = min(len(times), int(np.searchsorted(times, x1, side="right")) + 1)
    return a, max(a, b)


def peak_decimate(x: np.ndarray, y: np.ndarray, max_points: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """At most about `max_points` points keeping each bucket's min and max, so spikes
    (where boundaries are) survive zooming out. NaN gaps stay gaps."""
    n = len(x)
    if n <= max_points or max_points < 4:
        return x, y
    bucket = -(-n // (max_points // 2))
    m = n // bucket * bucket
    ys = y[:m].reshape(-1, bucket)
    xs = x[:m].reshape(-1, bucket)
    with np.errstate(invalid="ignore"):
        low = np.fmin.reduce(ys, axis=1)
        high = np.fmax.reduce(ys, axis=1)
    out_x = np.column_stack((xs[:, 0], xs[:, bucket // 2])).ravel()
    out_y = np.column_stack((low, high)).ravel()
    return np.concatenate((out_x, x[m:])), np.concatenate((out_y, y[m:]))


def broken_at(x: np.ndarray, y: np.ndarray, gap_starts: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """A curve with a NaN at each gap's start (drawn with connect="finite": no line
    across a stretch nobody measured)."""
    inside = gap_starts[(gap_starts > x[0]) & (gap_starts < x[-1])] if len(x) else gap_starts[:0]
    if not len(inside):
        return x, y
    where = np.searchsorted(x, inside)
    return np.insert(x, where, inside), np.insert(y, where, np.nan)


def held_levels(times: np.ndarray, levels: np.ndarray, end: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """A step line: each input's level held until the next input (the last until `end`),
    so a point sits at the start of the level it was measured against."""
    if not len(times):
        return times, levels
    nexts = np.append(times[1:], max(end, float(times[-1])))
    return np.column_stack((times, nexts)).ravel(), np.repeat(levels, 2)


def split_text(level: float) -> str:
    return f"ends an event: ≥ {level:.2g} (upper class)"


def wider_spacing(spacing: float) -> float:
    """The next tick spacing above `spacing` of 1, 2 or 5 times a power of ten."""
    power = 10.0 ** math.floor(math.log10(spacing))
    return next(factor * power for factor in (2, 5, 10, 20)
                if factor * power > spacing * (1 + 1e-9))


class SpacedValueAxis(pg.AxisItem):
    """A signal row's value axis whose labels do not overlap. pyqtgraph draws at least two
    intervals however short the axis: a bottom row squeezed by the time axis at 1280x720
    wrote 0.8, 0.6, 0.4 and 0.2 over one another in 30 px."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float):
        levels = super().tickSpacing(minVal, maxVal, size)
        if not levels or size <= 0:
            return levels
        major, offset = levels[0]
        most = max(int(size // (LABEL_GAP_PX * self._text_scale())), 1)
        while abs(maxVal - minVal) / major > most:
            major = wider_spacing(major)
        return [(major, offset), *(level for level in levels[1:] if level[0] < major)]

    def _text_scale(self) -> float:
        font = self.style.get("tickFont")
        return font.pointSizeF() / QFont().pointSizeF() if font is not None else 1.0


class LayerRow:
    """The plots and items of one layer; `update` hands them the visible data."""

    def __init__(self, layout: pg.GraphicsLayout, layer: int, master: pg.PlotItem | None,
                 signal_name: str):
        self.layer = layer
        self.label = layout.addLabel(f"<b>Layer {layer}</b>", row=2 * layer, col=0,
                                     rowspan=2, angle=0)
        self._grid = layout.layout
        self.band = layout.addPlot(row=2 * layer, col=1)
        self.plot = layout.addPlot(row=2 * layer + 1, col=1,
                                   axisItems={"left": SpacedValueAxis("left")})
        layout.layout.setRowFixedHeight(2 * layer, BAND_HEIGHT)
        layout.layout.setRowMinimumHeight(2 * layer + 1, 70)

        for plot in (self.band, self.plot):
            plot.setMouseEnabled(x=True, y=False)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.getAxis("left").setWidth(AXIS_WIDTH)
            plot.setXLink(master or self.plot)
        self.band.hideAxis("bottom")
        self.band.getAxis("left").setStyle(showValues=False)
        self.band.getAxis("left").setTicks([[]])
        self.band.setYRange(0, 1, padding=0)
        self.band.setLimits(yMin=0, yMax=1)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.getAxis("left").setLabel(signal_name)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.getViewBox().setAutoVisible(y=True)
        self.plot.enableAutoRange(axis="y")

        self.bars = pg.BarGraphItem(x0=np.zeros(0), width=np.zeros(0), y0=0.0, height=1.0,
                                    brushes=[], pen=pg.mkPen(30, 30, 30, 200, width=1))
        self.band.addItem(self.bars)
        self.unseen = pg.BarGraphItem(x0=np.zeros(0), width=np.zeros(0), y0=0.0, height=1.0,
                                      brush=QBrush(UNSEEN_FILL),
                                      pen=pg.mkPen(UNSEEN_EDGE, width=1))
        self.unseen.setZValue(1)  # over the event bands, under the keyframes
        self.band.addItem(self.unseen)
        # Above layer 0 an input is an event of the layer below, often minutes apart: a
        # line between two such values would draw a signal nobody measured. Points instead,
        # filled where the input ended this layer's event.
        self.signal: pg.PlotDataItem | pg.ScatterPlotItem
        if layer == 0:
            self.signal = self.plot.plot(pen=pg.mkPen(SIGNAL_COLOUR, width=1.5),
                                         antialias=False, connect="finite", name="signal")
        else:
            self.signal = pg.ScatterPlotItem(size=POINT_SIZE, symbol="o", antialias=False,
                                             pen=pg.mkPen(SIGNAL_COLOUR, width=1.5))
            self.plot.addItem(self.signal)
        self._point_brushes = np.array([QBrush(Qt.BrushStyle.NoBrush),
                                        QBrush(QColor(SIGNAL_COLOUR))], dtype=object)
        self.threshold = self.plot.plot(pen=pg.mkPen(THRESHOLD_COLOUR, width=1.5,
                                                     style=Qt.PenStyle.DashLine),
                                        antialias=False, connect="finite", name="threshold")
        curves = (self.signal, self.threshold) if layer == 0 else (self.threshold,)
        for curve in curves:
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
        self.marks = pg.ScatterPlotItem(
            size=self.mark_size,
            symbol="t" if layer == 0 else MARK_ABOVE_POINT, pen=None,
            brush=pg.mkBrush(BOUNDARY_BRUSH), antialias=False)
        self.plot.addItem(self.marks)
        # Layer 1's events end at a new scene: the share of the picture that must change.
        self.share_line = pg.InfiniteLine(
            angle=0, movable=False,
            pen=pg.mkPen(THRESHOLD_COLOUR, width=1.5, style=Qt.PenStyle.DashLine),
            label="", labelOpts={"position": 0.02, "color": THRESHOLD_COLOUR,
                                 "anchors": [(0, 0), (0, 1)]})  # toward the middle
        self.share_line.setVisible(False)
        self.plot.addItem(self.share_line)
        # An escalating row's threshold is the class split below: named at the view's left.
        self.split_label = pg.TextItem(color=THRESHOLD_COLOUR, anchor=(0, 1))
        self.split_label.setVisible(False)
        self.plot.addItem(self.split_label, ignoreBounds=True)
        self.keyframes = KeyframeStrip(self.band)
        self.has_threshold = True
        self.split = False
        self._non_negative: bool | None = None  # whether the y axis stops at 0
        self._brushes: dict[int, QBrush] = {}
        self._label_text = ""
        self.large = False
        self.curves = True

    def set_look(self, layout: pg.GraphicsLayout, large: bool, curves: bool,
                 last: bool) -> None:
        """Type and line sizes; whether the signal row shows (else the band grows);
        `last`: the bottom row, which carries the time axis."""
        self.large, self.curves = large, curves
        scale = LARGE if large else 1.0
        grid = layout.layout
        band_row, plot_row = 2 * self.layer, 2 * self.layer + 1
        self.plot.setVisible(curves)
        if curves:
            grid.setRowFixedHeight(band_row, BAND_HEIGHT * scale)
            grid.setRowMinimumHeight(plot_row, 70)
            grid.setRowMaximumHeight(plot_row, 1e6)
        else:
            grid.setRowFixedHeight(plot_row, 0)
            grid.setRowMinimumHeight(band_row, BAND_HEIGHT * scale)
            grid.setRowMaximumHeight(band_row, 1e6)
        font = QFont()
        font.setPointSizeF(font.pointSizeF() * scale)
        for plot in (self.band, self.plot):
            for side in ("left", "bottom"):
                plot.getAxis(side).setStyle(tickFont=font)
        self.signal.setPen(pg.mkPen(SIGNAL_COLOUR, width=1.5 * scale))
        if self.layer > 0:
            self.signal.setSize(POINT_SIZE * scale)
        dashed = pg.mkPen(THRESHOLD_COLOUR, width=1.5 * scale, style=Qt.PenStyle.DashLine)
        self.threshold.setPen(dashed)
        self.share_line.setPen(dashed)
        self.share_line.label.setFont(font)
        self.split_label.setFont(font)
        self.marks.setSize(self.mark_size * scale)
        self.bars.setOpts(pen=pg.mkPen(30, 30, 30, 200, width=scale))
        self.show_time_axis(last)
        self._label_text = ""

    @property
    def mark_size(self) -> float:
        """A boundary mark's size at desk scale: an upper row's ▼ fills only the top of its
        symbol square, so the square grows to keep the triangle as large as layer 0's."""
        return MARK_SIZE if self.layer == 0 else UPPER_MARK_SIZE

    def set_has_threshold(self, has: bool, split: bool = False) -> None:
        """Whether the row draws its reports' thresholds; `split`: they are the class split
        of the layer below (an escalating row), each held until the next input, labelled."""
        self.has_threshold, self.split = has, has and split
        self.threshold.setVisible(has)
        if not has:
            self.threshold.setData([], [])
        if not self.split:
            self.split_label.setVisible(False)

    def set_new_scene_share(self, share: float | None) -> None:
        """Draws layer 1's line at `share` of the picture (None: no such line), on an axis
        from none of the picture to all of it: the line keeps its place as points come."""
        self.share_line.setVisible(share is not None)
        if share is None:
            self.plot.enableAutoRange(axis="y")
            return
        self.share_line.setPos(share)
        self.share_line.label.setFormat(f"new scene: ≥ {share:g} of the picture changed")
        self.plot.setYRange(0.0, 1.0, padding=0.05)

    def _fit_y_axis(self, *curves: np.ndarray) -> None:
        """A signal that cannot go below 0 (a surprise, a distance, a step) gets an axis
        that does not either; one that can (a cosine similarity) keeps the full range."""
        finite = [c[np.isfinite(c)] for c in curves]
        values = np.concatenate(finite) if finite else np.zeros(0)
        if not len(values):
            return
        non_negative = bool(values.min() >= 0)
        if non_negative != self._non_negative:
            self._non_negative = non_negative
            self.plot.setLimits(yMin=0.0 if non_negative else None)

    @property
    def viewboxes(self) -> tuple[pg.ViewBox, pg.ViewBox]:
        return self.band.getViewBox(), self.plot.getViewBox()

    def show_time_axis(self, show: bool) -> None:
        """On the signal row, or on the band when the signal row is hidden."""
        self.plot.showAxis("bottom", show and self.curves)
        self.band.showAxis("bottom", show and not self.curves)
        axis = self.plot.getAxis("bottom") if self.curves else self.band.getAxis("bottom")
        if show:  # the title as large as the ticks: an audience reads it from the back
            size = QFont().pointSizeF() * (LARGE if self.large else 1.0)
            style = {**axis.labelStyle, "font-size": f"{size:g}pt"}  # keeps its colour
            if self.large:
                axis.setLabel("seconds of video", **style)
            else:
                axis.setLabel("model time on the stream's clock", units="s", **style)
        if not self.curves:  # the band carries the axis: as tall as the others above it
            band = BAND_HEIGHT * (LARGE if self.large else 1.0)
            axis_height = axis.minimumHeight() if show else 0.0
            self._grid.setRowMinimumHeight(2 * self.layer, band + axis_height)

    def _brush(self, event: int) -> QBrush:
        brush = self._brushes.get(event)
        if brush is None:
            if len(self._brushes) > 20_000:
                self._brushes.clear()
            brush = self._brushes[event] = QBrush(event_colour(self.layer, event))
        return brush

    def update(self, history: LayerHistory, now: float, x0: float, x1: float,
               pixels: int, keyframes: KeyframeStore | None = None,
               unseen: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Draws what lies in [x0, x1], thinned to about one item per pixel: the cost stays
        flat however long the session and however far out the user zooms. `unseen`: the
        stretches the model never saw (starts, ends), cut out of the band."""
        gap_starts = np.zeros(0)
        if unseen is not None:
            starts, ends = unseen
            shown = (ends >= x0) & (starts <= x1)
            gap_starts = starts[shown]
            self.unseen.setOpts(x0=gap_starts, width=ends[shown] - gap_starts)
        starts, first_event = history.event_starts()
        ends = np.append(starts[1:], max(now, starts[-1]))
        lo = int(np.searchsorted(ends, x0, side="left"))
        hi = max(lo, int(np.searchsorted(starts, x1, side="right")))
        stride = max(1, -(-(hi - lo) // max(pixels, 1)))  # events narrower than a pixel merge
        kept = np.arange(lo, hi, stride)
        x_starts = starts[kept]
        x_ends = np.append(starts[kept[1:]], ends[hi - 1]) if len(kept) else x_starts
        brushes = [self._brush(first_event + int(i)) for i in kept]
        self.bars.setOpts(x0=x_starts, width=x_ends - x_starts, brushes=brushes)
        self.keyframes.update(keyframes, self.layer, x0, x1, pixels,
                              self.band.getViewBox().height())

        steps = history.steps
        times = steps["time"]
        a, b = visible_slice(times, x0, x1)
        if self.layer == 0:
            self.signal.setData(*peak_decimate(
                *broken_at(times[a:b], steps["signal"][a:b], gap_starts), 2 * pixels))
        else:
            self._show_points(times[a:b], steps["signal"][a:b], steps["boundary"][a:b],
                              pixels)
        if self.split:
            held = held_levels(times[a:b], steps["threshold"][a:b], now)
            self.threshold.setData(*peak_decimate(*held, 2 * pixels))
            self._name_split(times[a:b], steps["threshold"][a:b], x0, x1)
        elif self.has_threshold:
            self.threshold.setData(*peak_decimate(
                *broken_at(times[a:b], steps["threshold"][a:b], gap_starts), 2 * pixels))
        self._fit_y_axis(steps["signal"][a:b],
                         steps["threshold"][a:b] if self.has_threshold else np.zeros(0))
        marks = history.boundaries
        a, b = visible_slice(marks["time"], x0, x1)
        mark_stride = max(1, -(-(b - a) // max(pixels, 1)))
        mark_times = marks["time"][a:b:mark_stride]
        mark_signals = marks["signal"][a:b:mark_stride]
        shown = np.isfinite(mark_signals)
        self.marks.setData(mark_times[shown], mark_signals[shown])

        if self.large:  # the current event, named, and how long it has lasted
            text = (f"<span style='font-size:18pt'><b>Layer {self.layer}</b></span><br>"
                    f"<span style='font-size:14pt'>event {first_event + len(starts)}<br>"
                    f"{max(0.0, now - starts[-1]):.0f} s</span>")
        else:
            count = history.event_count
            waiting = "<br>no input yet" if len(history.steps) == 0 else ""
            text = (f"<b>Layer {self.layer}</b><br><span style='font-size:8pt'>"
                    f"{count} event{'' if count == 1 else 's'}{waiting}</span>")
        if text != self._label_text:
            self._label_text = text
            self.label.setText(text)

    def _name_split(self, times: np.ndarray, levels: np.ndarray, x0: float, x1: float
                    ) -> None:
        """The label sits on the level in force at the view's left edge (or the first one
        in view), just above it."""
        known = np.flatnonzero(np.isfinite(levels))
        self.split_label.setVisible(bool(len(known)))
        if not len(known):
            return
        before = known[times[known] <= x0]
        i = before[-1] if len(before) else known[0]
        x = max(x0, float(times[i])) + 0.01 * (x1 - x0)
        self.split_label.setPos(x, float(levels[i]))
        text = split_text(float(levels[i]))
        if text != self.split_label.textItem.toPlainText():
            self.split_label.setText(text)

    def _show_points(self, times: np.ndarray, signal: np.ndarray, ended: np.ndarray,
                     pixels: int) -> None:
        """An upper row's inputs, thinned to about two per pixel; every one that ended an
        event stays (they are few, and the ones the audience looks for)."""
        stride = max(1, -(-len(times) // max(2 * pixels, 1)))
        kept = ended | (np.arange(len(times)) % stride == 0)
        kept &= np.isfinite(signal)
        self.signal.setData(x=times[kept], y=signal[kept],
                            brush=self._point_brushes[ended[kept].astype(np.intp)])

    def remove_from(self, layout: pg.GraphicsLayout) -> None:
        """Unlinked first: a removed view still linked to a live one (or the live one to
        it) is resized after Qt deleted it, an exception in the event loop."""
        for plot in (self.band, self.plot):
            plot.setXLink(None)
        for item in (self.label, self.band, self.plot):
            layout.removeItem(item)


class TimelineView(QWidget):
    """Rows appear as layers do; redraws only when the history or the visible range moved."""

    following_changed = Signal(bool)
    rows_cleared = Signal()
    """The rows are gone (a new model): what is x-linked to them must let go"""
    rows_added = Signal()
    """A layer's row appeared: the window makes room for it (room_for_rows)"""

    def __init__(self, history: SessionHistory, span: float = 120.0,
                 parent: QWidget | None = None, keyframes: KeyframeStore | None = None):
        super().__init__(parent)
        self.history = history
        self.keyframes = keyframes
        self.span = span
        self.following = True
        self.signal_names = ("similarity", "similarity")  # layer 0's, the upper layers'
        self.higher_signal_name = "similarity"  # layer 2's and above
        self.upper_threshold = True  # whether the upper layers have a threshold of their own
        self.new_scene_share: float | None = None  # layer 1's line, where it has one
        self._drawn: tuple | None = None
        self._moving = False
        self.large = False
        self.curves = True

        header = QHBoxLayout()
        title = QLabel("<b>Event timeline</b>")
        self.title = title
        self.legend = legend = TimelineLegend()
        self.hint = QLabel("<span style='color:gray'>drag to look back, wheel to zoom</span>")
        self.span_box = QComboBox()
        for name, seconds in SPANS:
            self.span_box.addItem(name, seconds)
        self.span_box.setToolTip("How much of the stream the timeline shows while live")
        self.live_button = QToolButton()
        self.live_button.setText("● Live")
        self.live_button.setCheckable(True)
        self.live_button.setChecked(True)
        self.live_button.setToolTip("Follow the newest time (L). Panning or zooming back "
                                    "pauses the timeline; the model keeps running.")
        self.fit_button = QPushButton("Whole session")
        self.fit_button.setToolTip("Show everything since the model started")
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.hint)
        header.addWidget(QLabel("Show"))
        header.addWidget(self.span_box)
        header.addWidget(self.fit_button)
        header.addWidget(self.live_button)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("#1e1f22")
        self.layout_item: pg.GraphicsLayout = self.graphics.ci
        self.layout_item.layout.setColumnFixedWidth(0, 64)
        self.layout_item.setSpacing(2)
        self.empty_label = self.layout_item.addLabel(
            EMPTY_TEXT, row=0, col=1)

        box = QVBoxLayout(self)
        box.setContentsMargins(4, 2, 4, 2)
        box.addLayout(header)
        box.addWidget(legend)  # a row of its own, as wide as the timeline
        box.addWidget(self.graphics, 1)

        self.rows: list[LayerRow] = []
        if keyframes is not None:
            self.hover = KeyframeHover(self.graphics, keyframes, self.layer_at)
        self.set_span(span)
        self.span_box.currentIndexChanged.connect(self._span_chosen)
        self.live_button.toggled.connect(self.set_following)
        self.fit_button.clicked.connect(self.show_whole_session)

    # --- state ------------------------------------------------------------------------

    def set_span(self, seconds: float) -> None:
        self.span = float(seconds)
        index = min(range(len(SPANS)), key=lambda i: abs(SPANS[i][1] - self.span))
        with QSignalBlocker(self.span_box):
            self.span_box.setCurrentIndex(index)
        self._drawn = None

    @Slot(int)
    def _span_chosen(self, index: int) -> None:
        self.span = float(self.span_box.itemData(index))
        self.set_following(True)

    @Slot(bool)
    def set_following(self, follow: bool) -> None:
        if follow != self.following:
            self.following = follow
            self.following_changed.emit(follow)
        with QSignalBlocker(self.live_button):
            self.live_button.setChecked(follow)
        self._drawn = None
        self.refresh()

    @Slot()
    def show_whole_session(self) -> None:
        self.set_following(False)
        start = min((h.first_time for h in self.history.layers), default=0.0)
        self._set_range(start, max(self.history.latest_time, start + 1.0))
        self.refresh()

    def _show_legend(self) -> None:
        self.legend.set_content(self.curves, held_back=self.new_scene_share is not None,
                                unseen=len(self.history.unseen) > 0)

    def set_look(self, large: bool, curves: bool) -> None:
        """Presentation (`large`) or desk size; signal rows shown or hidden."""
        self.large, self.curves = large, curves
        scale = LARGE if large else 1.0
        font = QFont()
        font.setPointSizeF(font.pointSizeF() * scale)
        for label in (self.title, self.legend):
            label.setFont(font)
        self.hint.setVisible(not large)
        self._show_legend()
        self.layout_item.layout.setColumnFixedWidth(0, 64 * scale * (1.2 if large else 1))
        for i, row in enumerate(self.rows):
            row.set_look(self.layout_item, large, curves, i == len(self.rows) - 1)
        self._drawn = None
        self.refresh()

    def show_range(self, x0: float, x1: float) -> None:
        """Pauses following and shows [x0, x1] (an event chosen elsewhere)."""
        self.set_following(False)
        self._set_range(x0, x1)
        self.refresh()

    def set_signal_names(self, base: str, upper: str, upper_threshold: bool = True,
                         higher: str | None = None) -> None:
        """What the rows plot: layer 0's signal, layer 1's, and (`higher`, default layer
        1's) that of the layers above, and whether the upper ones have a threshold of
        their own (not when their boundaries escalate)."""
        self.signal_names = (base, upper)
        self.higher_signal_name = upper if higher is None else higher
        self.upper_threshold = upper_threshold
        for row in self.rows:
            row.plot.getAxis("left").setLabel(self._signal_name(row.layer))
            row.set_has_threshold(*self._threshold_of(row.layer))
        self._drawn = None

    @Slot(object)
    def set_new_scene_share(self, share: float | None) -> None:
        """The share of the picture whose change ends a layer-1 event (layer 0 reading
        features, escalating); None where layer 1's events end otherwise."""
        self.new_scene_share = share
        if len(self.rows) > 1:
            self.rows[1].set_new_scene_share(share)
            self.rows[1].set_has_threshold(*self._threshold_of(1))
        self._show_legend()
        self._drawn = None

    def _threshold_of(self, layer: int) -> tuple[bool, bool]:
        """Whether the row draws a threshold, and whether it is the class split below. An
        escalating row's points met the layer below's split (its reports carry it), save
        layer 1's under a new-scene line: that line is their level."""
        if layer == 0 or self.upper_threshold:
            return True, False
        split = not (layer == 1 and self.new_scene_share is not None)
        return split, split

    def _signal_name(self, layer: int) -> str:
        return self.higher_signal_name if layer >= 2 else self.signal_names[layer]

    def clear(self) -> None:
        for row in self.rows:
            row.remove_from(self.layout_item)
        self.rows = []
        self.rows_cleared.emit()
        if self.empty_label is None:
            self.empty_label = self.layout_item.addLabel(
                EMPTY_TEXT, row=0, col=1)
        self._drawn = None

    # --- drawing ----------------------------------------------------------------------

    def visible_range(self) -> tuple[float, float]:
        if not self.rows:
            return (0.0, self.span)
        (x0, x1), _ = self.rows[0].plot.getViewBox().viewRange()
        return float(x0), float(x1)

    def _set_range(self, x0: float, x1: float) -> None:
        if not self.rows:
            return
        self._moving = True
        try:
            self.rows[0].plot.setXRange(x0, x1, padding=0)
        finally:
            self._moving = False

    def _ensure_rows(self, count: int) -> None:
        added = False
        if count and self.empty_label is not None:
            self.layout_item.removeItem(self.empty_label)
            self.empty_label = None
        while len(self.rows) < count:
            master = self.rows[0].plot if self.rows else None
            layer = len(self.rows)
            row = LayerRow(self.layout_item, layer, master, self._signal_name(layer))
            row.set_has_threshold(*self._threshold_of(layer))
            if layer == 1:
                row.set_new_scene_share(self.new_scene_share)
            if self.large or not self.curves:
                row.set_look(self.layout_item, self.large, self.curves, False)
            for viewbox in row.viewboxes:
                viewbox.sigRangeChangedManually.connect(self._user_moved)
            self.rows.append(row)
            added = True
        for i, row in enumerate(self.rows):
            row.show_time_axis(i == len(self.rows) - 1)
        if added:
            self.rows_added.emit()

    def needed_height(self) -> int:
        """The height at which every row shows whole: the header's and the rows' least
        (room_for_rows takes it from the picture)."""
        rows = self.layout_item.effectiveSizeHint(Qt.SizeHint.MinimumSize).height()
        return self.height() - self.graphics.height() + math.ceil(rows)

    @Slot()
    def _user_moved(self, *args: object) -> None:
        """Zooming near the newest time keeps following (with the new span); panning or
        zooming back in time pauses the timeline."""
        if self._moving:
            return
        x0, x1 = self.visible_range()
        latest = self.history.latest_time
        width = max(x1 - x0, 1.0)
        if x1 >= latest - 0.05 * width:
            self.span = width
            if not self.following:
                self.set_following(True)
        elif self.following:
            self.set_following(False)
        self._drawn = None

    def refresh(self) -> None:
        """Cheap when nothing changed; called by the window's redraw timer."""
        history = self.history
        if len(history.layers) < len(self.rows):
            self.clear()
        self._ensure_rows(len(history.layers))
        if (len(history.unseen) > 0) != self.legend.unseen:
            self._show_legend()
        if not self.rows:
            return
        now = history.latest_time
        if self.following:
            x1 = max(now, self.span * 0.9) + self.span * 0.02
            self._set_range(x1 - self.span, x1)
        x0, x1 = self.visible_range()
        pictures = self.keyframes.version if self.keyframes is not None else 0
        key = (history.version, pictures, round(x0, 3), round(x1, 3), len(self.rows))
        if key == self._drawn:
            return
        self._drawn = key
        pixels = max(100, int(self.rows[0].plot.getViewBox().width()))
        unseen = (history.unseen["start"], history.unseen["end"])
        for row, layer_history in zip(self.rows, history.layers):
            row.update(layer_history, now, x0, x1, pixels, self.keyframes, unseen)

    def layer_at(self, scene_pos: QPointF) -> tuple[int, float] | None:
        """The layer whose rows hold this scene point, and the time there."""
        for row in self.rows:
            for viewbox in row.viewboxes:
                if viewbox.sceneBoundingRect().contains(scene_pos):
                    return row.layer, viewbox.mapSceneToView(scene_pos).x()
        return None

    def bar_count(self, layer: int) -> int:
        """Events drawn in a layer's band (for tests and the self-test)."""
        x0 = self.rows[layer].bars.opts.get("x0")
        return 0 if x0 is None else len(x0)

    def has_finite_signal(self, layer: int) -> bool:
        _, y = self.rows[layer].signal.getData()
        return y is not None and bool(np.isfinite(y).any())


def room_for_rows(splitter: QSplitter, timeline: TimelineView,
                  picture_share: float | None = None) -> None:
    """Splits `splitter` (the picture above `timeline`): the picture `picture_share` of the
    height (None: as the split is), less what the timeline needs for its rows to show
    whole (TimelineView.needed_height), down to LEAST_PICTURE_SHARE. At 1280x720 the third
    layer's row and the time axis were cut off."""
    sizes = splitter.sizes()
    height = sum(sizes)
    rows = sizes[1] if picture_share is None else height - int(height * picture_share)
    rows = max(rows, min(timeline.needed_height(), height - int(height * LEAST_PICTURE_SHARE)))
    if rows != sizes[1]:
        splitter.setSizes([height - rows, rows])
