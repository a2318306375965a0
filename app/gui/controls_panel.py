"""The side panel: source, run controls, live demarcation settings and model settings.

A thin view: it shows a StudioSettings and reports edits as signals; the window decides
what they mean. Demarcation and optimize_every apply to the running model at once; the
model section only takes effect with "Apply and reset model", and says so.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from streamer_core.demarcation import PEAK_MODES
from streamer_core.model import MAX_SIGNAL_REGIONS
from streamer_core.presets import PRESETS

from .settings import StudioSettings

SYNTHETIC_SPEC = "synthetic"
FIELD_LABELS = {
    "preset": "preset", "device": "device", "distance_mode": "signal",
    "lr": "learning rate", "evolve_every": "evolve every", "max_layers": "max layers",
    "snippet_size": "snippet", "feature_dim": "feature dim", "buffer_size": "buffer size",
    "force_fixed_buffer": "full buffer ends event", "force_base_dist": "layer 0 distance",
    "alpha": "alpha",
}


def describe_spec(spec: str) -> str:
    if spec == SYNTHETIC_SPEC or spec.startswith("synthetic:"):
        return "Synthetic scene (built-in)"
    if spec.startswith("camera:"):
        return f"Camera {spec.split(':', 1)[1]}"
    if "://" in spec:
        return f"URL: {spec}"
    return f"File: {spec.replace(chr(92), '/').rsplit('/', 1)[-1]}"


def _spin(low: int, high: int, step: int = 1, tip: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setKeyboardTracking(False)  # one change on Enter, not one per keystroke
    box.setToolTip(tip)
    return box


def _double(low: float, high: float, step: float, decimals: int, tip: str = ""
            ) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    box.setKeyboardTracking(False)
    box.setToolTip(tip)
    return box


class ControlsPanel(QScrollArea):
    source_chosen = Signal(str)
    open_file_requested = Signal()
    refresh_cameras_requested = Signal()
    start_requested = Signal()
    pause_requested = Signal()
    stop_requested = Signal()
    learning_toggled = Signal(bool)
    follow_learner_toggled = Signal(bool)
    loop_toggled = Signal(bool)
    live_setting_changed = Signal(str)  # name of the field
    model_setting_changed = Signal(str)
    preset_chosen = Signal(str)
    apply_reset_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        body = QWidget()
        column = QVBoxLayout(body)
        column.addWidget(self._source_group())
        column.addWidget(self._run_group())
        column.addWidget(self._demarcation_group())
        column.addWidget(self._model_group())
        column.addStretch(1)
        self.setWidget(body)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(body.sizeHint().width() + self.verticalScrollBar().sizeHint().width()
                             + 4)
        self._update_enabled()

    # --- building ---------------------------------------------------------------------

    def _source_group(self) -> QGroupBox:
        group = QGroupBox("Source")
        form = QVBoxLayout(group)
        row = QHBoxLayout()
        self.source_combo = QComboBox()
        self.source_combo.setToolTip("What the model watches. Cameras are listed when found.")
        self.source_combo.addItem(describe_spec(SYNTHETIC_SPEC), SYNTHETIC_SPEC)
        self.refresh_button = QToolButton()
        self.refresh_button.setText("⟳")
        self.refresh_button.setToolTip("Look for cameras again")
        row.addWidget(self.source_combo, 1)
        row.addWidget(self.refresh_button)
        form.addLayout(row)
        self.open_file_button = QPushButton("Open video file…")
        form.addWidget(self.open_file_button)
        url_row = QHBoxLayout()
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("http://host:port/stream.mjpg or rtsp://…")
        self.url_edit.setToolTip("A network camera or stream that OpenCV/FFmpeg can read")
        self.url_button = QPushButton("Connect")
        url_row.addWidget(self.url_edit, 1)
        url_row.addWidget(self.url_button)
        form.addLayout(url_row)
        self.source_status = QLabel("")
        self.source_status.setWordWrap(True)
        form.addWidget(self.source_status)

        self.source_combo.activated.connect(self._combo_activated)
        self.refresh_button.clicked.connect(self.refresh_cameras_requested)
        self.open_file_button.clicked.connect(self.open_file_requested)
        self.url_button.clicked.connect(self._url_entered)
        self.url_edit.returnPressed.connect(self._url_entered)
        return group

    def _run_group(self) -> QGroupBox:
        group = QGroupBox("Run")
        form = QVBoxLayout(group)
        row = QHBoxLayout()
        self.start_button = QPushButton("▶ Start")
        self.pause_button = QPushButton("❚❚ Pause")
        self.stop_button = QPushButton("■ Stop")
        for button in (self.start_button, self.pause_button, self.stop_button):
            button.setMinimumWidth(60)
        self.start_button.setToolTip("Open the source and learn (F5)")
        self.pause_button.setToolTip("Freeze the picture and learning; Start resumes (F6)")
        self.stop_button.setToolTip("Close the source; the model is kept (F7)")
        for button in (self.start_button, self.pause_button, self.stop_button):
            row.addWidget(button)
        form.addLayout(row)
        self.learning_box = QCheckBox("Learn while watching")
        self.learning_box.setToolTip("Off: the model only segments, its weights stay fixed")
        self.follow_box = QCheckBox("Play files at learning speed")
        self.follow_box.setToolTip("Files: every snippet is learned, the video slows down to "
                                   "the model's pace. Off: the video plays in real time and "
                                   "the model takes the newest frame, skipping the rest.")
        self.loop_box = QCheckBox("Loop video files")
        self.loop_box.setToolTip("Start a file again when it ends, so a short clip can "
                                 "teach the model for longer")
        form.addWidget(self.learning_box)
        form.addWidget(self.follow_box)
        form.addWidget(self.loop_box)

        self.start_button.clicked.connect(self.start_requested)
        self.pause_button.clicked.connect(self.pause_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.learning_box.toggled.connect(self.learning_toggled)
        self.follow_box.toggled.connect(self.follow_learner_toggled)
        self.loop_box.toggled.connect(self.loop_toggled)
        return group

    def _demarcation_group(self) -> QGroupBox:
        group = QGroupBox("Event boundaries (apply live)")
        form = QFormLayout(group)
        self.mode_box = QComboBox()
        self.mode_box.addItem("average (running mean)", "average")
        self.mode_box.addItem("fixed threshold", "fixed")
        self.mode_box.addItem("accum (summed distance)", "accum")
        self.mode_box.addItem("change (step in the signal)", "change")
        self.mode_box.addItem("zscore (peak over mean)", "zscore")
        self.mode_box.addItem("robust (peak over median)", "robust")
        self.mode_box.addItem("hysteresis (robust, re-armed)", "hysteresis")
        self.mode_box.setToolTip("How a layer decides that an event ended. The paper's rules: "
                                 "average compares the signal with the mean of its last "
                                 "values, fixed with the threshold, accum sums distances "
                                 "until they pass it. Peak rules (docs/quality.md): change "
                                 "marks a jump of the signal, zscore and robust a value far "
                                 "beyond its usual level, hysteresis as robust but only once "
                                 "per excursion")
        self.window_spin = _spin(1, 10_000, tip="Values remembered: the running mean's "
                                                "(average) or the usual level's (peak rules)")
        self.modifier_type_box = QComboBox()
        self.modifier_type_box.addItems(["multiply", "add"])
        self.modifier_type_box.setToolTip("How the modifier moves the running mean")
        self.modifier_spin = _double(-10.0, 10.0, 0.01, 3,
                                     "Running mean × modifier (or + modifier): "
                                     "lower it for fewer boundaries in similarity mode")
        self.threshold_spin = _double(-1000.0, 1000.0, 0.01, 3,
                                      "fixed: boundary when the similarity falls below it "
                                      "(or the distance rises above it); accum: when the "
                                      "summed distance exceeds it")
        self.z_spin = _double(0.0, 100.0, 0.5, 2, "Peak rules: how many standard deviations "
                                                  "beyond the usual level end an event; "
                                                  "raise it for fewer boundaries")
        self.min_event_spin = _spin(1, 100_000, tip="Peak rules: fewest inputs between two "
                                                    "boundaries of a layer")
        self.rearm_spin = _double(0.0, 100.0, 0.5, 2, "hysteresis: the signal must come back "
                                                      "within this many deviations before "
                                                      "the next boundary")
        self.min_window_spin = _spin(1, 10_000, tip="Peak rules: values needed before the "
                                                    "first boundary")
        self.regions_spin = _spin(1, MAX_SIGNAL_REGIONS,
                                  tip="change, layer 0: compare the predicted and the seen "
                                      "picture in N x N regions and mark a step of their "
                                      "similarities (1: the whole picture, as the paper). "
                                      "Regions tell apart two shots of one scene")
        self.upper_box = QComboBox()
        self.upper_box.addItem("escalate (surprise below)", "escalate")
        self.upper_box.addItem("own signal (paper)", "own")
        self.upper_box.setToolTip("How layers above 0 mark boundaries. escalate: a boundary "
                                  "of the layer below that was far more surprising than "
                                  "most of its recent ones also ends the event above (its "
                                  "row shows those surprises and the class split). own: "
                                  "each layer by the mode above, from its own prediction "
                                  "signal, as in the paper")
        self.ratio_spin = _double(1.0, 1000.0, 0.5, 2, "escalate: how many times more "
                                                       "surprising the big boundaries must "
                                                       "be than the rest; raise it for "
                                                       "fewer, coarser upper events")
        self.optimize_spin = _spin(1, 100_000, tip="Update the weights after this many "
                                                   "losses of the top layer")
        form.addRow("Mode", self.mode_box)
        form.addRow("Window size", self.window_spin)
        form.addRow("Modifier type", self.modifier_type_box)
        form.addRow("Modifier", self.modifier_spin)
        form.addRow("Threshold", self.threshold_spin)
        form.addRow("Deviations (z)", self.z_spin)
        form.addRow("Shortest event", self.min_event_spin)
        form.addRow("Re-arm at (z)", self.rearm_spin)
        form.addRow("Warm-up values", self.min_window_spin)
        form.addRow("Regions (layer 0)", self.regions_spin)
        form.addRow("Upper layers", self.upper_box)
        form.addRow("Escalation ratio", self.ratio_spin)
        form.addRow("Optimize every", self.optimize_spin)
        self.live_error = QLabel("")
        self.live_error.setWordWrap(True)
        self.live_error.setStyleSheet("color: #e05050")
        self.live_error.hide()
        form.addRow(self.live_error)

        self.mode_box.currentIndexChanged.connect(lambda: self._live("demarcation_mode"))
        self.window_spin.valueChanged.connect(lambda: self._live("window_size"))
        self.modifier_type_box.currentIndexChanged.connect(lambda: self._live("modifier_type"))
        self.modifier_spin.valueChanged.connect(lambda: self._live("modifier"))
        self.threshold_spin.valueChanged.connect(lambda: self._live("loss_threshold"))
        self.z_spin.valueChanged.connect(lambda: self._live("z_threshold"))
        self.min_event_spin.valueChanged.connect(lambda: self._live("min_event_length"))
        self.rearm_spin.valueChanged.connect(lambda: self._live("rearm_z"))
        self.min_window_spin.valueChanged.connect(lambda: self._live("min_window"))
        self.regions_spin.valueChanged.connect(lambda: self._live("signal_regions"))
        self.upper_box.currentIndexChanged.connect(lambda: self._live("upper_demarcation"))
        self.ratio_spin.valueChanged.connect(lambda: self._live("escalation_ratio"))
        self.optimize_spin.valueChanged.connect(lambda: self._live("optimize_every"))
        return group

    def _model_group(self) -> QGroupBox:
        group = QGroupBox("Model (applied on reset)")
        form = QFormLayout(group)
        self.preset_box = QComboBox()
        self.preset_box.addItems(list(PRESETS))
        self.preset_box.setToolTip("live: layers within minutes on a laptop; paper: the "
                                   "published EPIC-KITCHENS settings (slow, layer 1 after "
                                   "83 minutes). Choosing one fills the fields below.")
        self.device_box = QComboBox()
        self.device_box.addItem("auto", "auto")
        self.device_box.addItem("cpu", "cpu")
        if torch.cuda.is_available():
            self.device_box.addItem(f"cuda ({torch.cuda.get_device_name(0)})", "cuda")
        self.distance_box = QComboBox()
        self.distance_box.addItem("similarity (cosine)", "similarity")
        self.distance_box.addItem("distance (MSE)", "distance")
        self.lr_spin = _double(1e-7, 1.0, 1e-5, 7, "Adam learning rate of every module")
        self.evolve_spin = _spin(0, 10_000_000, tip="A layer gets a layer above after this "
                                                    "many inputs")
        self.max_layers_spin = _spin(1, 16)
        self.snippet_spin = _double(0.05, 10.0, 0.05, 2, "Seconds of video per model input")
        self.snippet_spin.setSuffix(" s")
        self.feature_spin = _spin(8, 4096, 8, "Embedding size (multiple of 8); smaller is "
                                              "faster")
        self.buffer_spin = _spin(1, 1000, tip="Inputs a layer keeps to summarise its event")
        form.addRow("Preset", self.preset_box)
        form.addRow("Device", self.device_box)
        form.addRow("Signal", self.distance_box)
        form.addRow("Learning rate", self.lr_spin)
        form.addRow("Evolve every", self.evolve_spin)
        form.addRow("Max layers", self.max_layers_spin)
        form.addRow("Snippet", self.snippet_spin)
        form.addRow("Feature dim", self.feature_spin)
        form.addRow("Buffer size", self.buffer_spin)
        self.pending_label = QLabel("")
        self.pending_label.setWordWrap(True)
        form.addRow(self.pending_label)
        self.apply_button = QPushButton("Apply and reset model")
        self.apply_button.setToolTip("Starts a new model with these settings: the learned "
                                     "weights are discarded (save first to keep them)")
        form.addRow(self.apply_button)
        self.set_pending([])

        self.preset_box.activated.connect(
            lambda i: self.preset_chosen.emit(self.preset_box.itemText(i)))
        self.device_box.currentIndexChanged.connect(lambda: self._model("device"))
        self.distance_box.currentIndexChanged.connect(lambda: self._model("distance_mode"))
        self.lr_spin.valueChanged.connect(lambda: self._model("lr"))
        self.evolve_spin.valueChanged.connect(lambda: self._model("evolve_every"))
        self.max_layers_spin.valueChanged.connect(lambda: self._model("max_layers"))
        self.snippet_spin.valueChanged.connect(lambda: self._model("snippet_size"))
        self.feature_spin.valueChanged.connect(lambda: self._model("feature_dim"))
        self.buffer_spin.valueChanged.connect(lambda: self._model("buffer_size"))
        self.apply_button.clicked.connect(self.apply_reset_requested)
        return group

    # --- signals out ------------------------------------------------------------------

    def _live(self, name: str) -> None:
        self._update_enabled()
        self.live_setting_changed.emit(name)

    def _model(self, name: str) -> None:
        self.model_setting_changed.emit(name)

    @Slot(int)
    def _combo_activated(self, index: int) -> None:
        spec = self.source_combo.itemData(index)
        if spec:
            self.source_chosen.emit(spec)

    @Slot()
    def _url_entered(self) -> None:
        url = self.url_edit.text().strip()
        if url:
            self.source_chosen.emit(url)

    def _update_enabled(self) -> None:
        mode = self.mode_box.currentData()
        average = mode == "average"
        peak = mode in PEAK_MODES
        self.window_spin.setEnabled(average or peak)
        for widget in (self.modifier_type_box, self.modifier_spin):
            widget.setEnabled(average)
        self.threshold_spin.setEnabled(mode in ("fixed", "accum"))
        for widget in (self.z_spin, self.min_event_spin, self.min_window_spin):
            widget.setEnabled(peak)
        self.rearm_spin.setEnabled(mode == "hysteresis")
        self.regions_spin.setEnabled(mode == "change")
        self.ratio_spin.setEnabled(self.upper_box.currentData() == "escalate")

    # --- state in ---------------------------------------------------------------------

    def set_settings(self, settings: StudioSettings) -> None:
        """Shows `settings` without emitting change signals."""
        widgets = self.findChildren(QWidget)
        for widget in widgets:
            widget.blockSignals(True)
        try:
            _select_data(self.mode_box, settings.demarcation_mode)
            self.window_spin.setValue(settings.window_size)
            self.modifier_type_box.setCurrentText(settings.modifier_type)
            self.modifier_spin.setValue(settings.modifier)
            self.threshold_spin.setValue(settings.loss_threshold)
            self.z_spin.setValue(settings.z_threshold)
            self.min_event_spin.setValue(settings.min_event_length)
            self.rearm_spin.setValue(settings.rearm_z)
            self.min_window_spin.setValue(settings.min_window)
            self.regions_spin.setValue(settings.signal_regions)
            _select_data(self.upper_box, settings.upper_demarcation)
            self.ratio_spin.setValue(settings.escalation_ratio)
            self.optimize_spin.setValue(settings.optimize_every)
            self.preset_box.setCurrentText(settings.preset)
            _select_data(self.device_box, settings.device)
            _select_data(self.distance_box, settings.distance_mode)
            self.lr_spin.setValue(settings.lr)
            self.evolve_spin.setValue(settings.evolve_every)
            self.max_layers_spin.setValue(settings.max_layers)
            self.snippet_spin.setValue(settings.snippet_size)
            self.feature_spin.setValue(settings.feature_dim)
            self.buffer_spin.setValue(settings.buffer_size)
            self.learning_box.setChecked(settings.learning)
            self.follow_box.setChecked(settings.follow_learner)
            self.loop_box.setChecked(settings.loop_files)
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        self._update_enabled()

    def read(self, settings: StudioSettings) -> StudioSettings:
        """`settings` with the values shown in the panel."""
        return replace(
            settings,
            demarcation_mode=self.mode_box.currentData(),
            window_size=self.window_spin.value(),
            modifier_type=self.modifier_type_box.currentText(),
            modifier=self.modifier_spin.value(),
            loss_threshold=self.threshold_spin.value(),
            z_threshold=self.z_spin.value(),
            min_event_length=self.min_event_spin.value(),
            rearm_z=self.rearm_spin.value(),
            min_window=self.min_window_spin.value(),
            signal_regions=self.regions_spin.value(),
            upper_demarcation=self.upper_box.currentData(),
            escalation_ratio=self.ratio_spin.value(),
            optimize_every=self.optimize_spin.value(),
            preset=self.preset_box.currentText(),
            device=self.device_box.currentData(),
            distance_mode=self.distance_box.currentData(),
            lr=self.lr_spin.value(),
            evolve_every=self.evolve_spin.value(),
            max_layers=self.max_layers_spin.value(),
            snippet_size=self.snippet_spin.value(),
            feature_dim=self.feature_spin.value(),
            buffer_size=self.buffer_spin.value(),
            learning=self.learning_box.isChecked(),
            follow_learner=self.follow_box.isChecked(),
            loop_files=self.loop_box.isChecked(),
        )

    def set_pending(self, names: list[str]) -> None:
        if names:
            fields = ", ".join(FIELD_LABELS.get(n, n) for n in names)
            self.pending_label.setText(f"<span style='color:#e0a030'>Changed: {fields}. "
                                       "These take effect after <b>Apply and reset model</b> "
                                       "(the learned weights are discarded).</span>")
            self.apply_button.setStyleSheet("font-weight: bold")
        else:
            self.pending_label.setText("<span style='color:gray'>Changing these starts a new "
                                       "model.</span>")
            self.apply_button.setStyleSheet("")

    def set_live_error(self, text: str) -> None:
        self.live_error.setText(text)
        self.live_error.setVisible(bool(text))

    def set_run_state(self, state: str) -> None:
        """'running', 'paused', 'opening', 'reconnecting' (Start: try now) or 'stopped'."""
        self.start_button.setEnabled(state in ("paused", "stopped", "reconnecting"))
        self.start_button.setText("⟳ Retry now" if state == "reconnecting" else "▶ Start")
        self.pause_button.setEnabled(state == "running")
        self.stop_button.setEnabled(state in ("running", "paused", "opening", "reconnecting"))

    def set_cameras(self, indices: list[int]) -> None:
        current = self.source_combo.currentData()
        keep = [(self.source_combo.itemText(i), self.source_combo.itemData(i))
                for i in range(self.source_combo.count())
                if not str(self.source_combo.itemData(i)).startswith("camera:")]
        self.source_combo.blockSignals(True)
        self.source_combo.clear()
        for text, data in keep[:1]:
            self.source_combo.addItem(text, data)
        for index in indices:
            self.source_combo.addItem(f"Camera {index}", f"camera:{index}")
        for text, data in keep[1:]:
            self.source_combo.addItem(text, data)
        self.source_combo.blockSignals(False)
        self.show_source(current)
        self.refresh_button.setToolTip(
            f"Look for cameras again ({len(indices)} found)" if indices
            else "Look for cameras again (none found)")

    def show_source(self, spec: str | None) -> None:
        """Selects `spec` in the list, adding it (a file, a URL) if it is new."""
        if not spec:
            return
        index = self.source_combo.findData(spec)
        if index < 0:
            self.source_combo.addItem(describe_spec(spec), spec)
            index = self.source_combo.count() - 1
        self.source_combo.blockSignals(True)
        self.source_combo.setCurrentIndex(index)
        self.source_combo.blockSignals(False)

    def set_source_status(self, text: str) -> None:
        self.source_status.setText(text)


def _select_data(box: QComboBox, data: str) -> None:
    index = box.findData(data)
    if index >= 0:
        box.setCurrentIndex(index)
