"""The side panel: plain controls first (source; start, pause, reset, save; one
sensitivity per layer), every other setting under "Advanced", closed by default.

A thin view: it shows a StudioSettings and reports edits as signals; the window decides
what they mean. One editor per setting of the table (streamer_core.settings), built from
its row, its `help` as tooltip, shown only where it applies to the chosen mode: the live
ones apply to the running model at once; the model section only takes effect with
"Apply and reset model", and says so. A sensitivity slider sets the editor of the
setting its knob maps (app.gui.live.sensitivity), as a user typing the value would.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from PySide6.QtCore import QSignalBlocker, QSize, Qt, Signal, Slot
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
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from streamer_core.presets import PRESETS
from streamer_core.settings import BY_NAME, Setting
from streamer_core.sources import CameraDevice

from ..controllers.session import RunState
from ..controllers.source_controller import SYNTHETIC_SPEC, describe_spec
from ..infrastructure.settings import APP_SETTINGS, StudioSettings
from . import sensitivity

SPIN_LIMIT = 2_000_000_000
"""An int setting without a bound: the most a QSpinBox shows"""


def _editor(setting: Setting) -> QWidget:
    """The widget that edits one setting, set up from its row of the table."""
    if setting.type is bool:
        editor: QWidget = QCheckBox()
    elif setting.choices:
        editor = QComboBox()
        for value, label in setting.choices.items():
            editor.addItem(label, value)
    elif setting.type is int:
        editor = QSpinBox()
        editor.setRange(int(setting.low if setting.low is not None else -SPIN_LIMIT)
                        + int(setting.above),
                        int(setting.high if setting.high is not None else SPIN_LIMIT))
        editor.setSingleStep(int(setting.step))
    else:
        editor = QDoubleSpinBox()
        editor.setDecimals(setting.decimals)
        smallest = 10.0 ** -setting.decimals
        editor.setRange((setting.low if setting.low is not None else -SPIN_LIMIT)
                        + (smallest if setting.above else 0.0),
                        setting.high if setting.high is not None else SPIN_LIMIT)
        editor.setSingleStep(setting.step)
    if isinstance(editor, (QSpinBox, QDoubleSpinBox)):
        editor.setKeyboardTracking(False)  # one change on Enter, not one per keystroke
        editor.setSuffix(setting.suffix)
    editor.setToolTip(setting.help)
    return editor


def _changed_signal(editor: QWidget):
    if isinstance(editor, QCheckBox):
        return editor.toggled
    if isinstance(editor, QComboBox):
        return editor.currentIndexChanged
    return editor.valueChanged


def _show(editor: QWidget, value: object) -> None:
    if isinstance(editor, QCheckBox):
        editor.setChecked(bool(value))
    elif isinstance(editor, QComboBox):
        _select_data(editor, str(value))
    else:
        editor.setValue(value)


def _value(editor: QWidget) -> object:
    if isinstance(editor, QCheckBox):
        return editor.isChecked()
    if isinstance(editor, QComboBox):
        return editor.currentData()
    return editor.value()


class Section(QWidget):
    """A titled section that opens and closes. Closed, its body is hidden (not squeezed to
    no height, as superqt's QCollapsible does): Tab never lands on a field out of sight."""

    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.button = QToolButton()
        self.button.setText(title)
        self.button.setCheckable(True)
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.button.setArrowType(Qt.ArrowType.RightArrow)
        self.button.setStyleSheet("QToolButton { border: none; font-weight: bold }")
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(0, 0, 0, 0)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.button)
        column.addWidget(self.body)
        self.button.toggled.connect(self.set_open)
        self.set_open(False)

    def add(self, widget: QWidget) -> None:
        self.body_layout.addWidget(widget)

    def set_open(self, open_: bool) -> None:
        with QSignalBlocker(self.button):
            self.button.setChecked(open_)
        self.button.setArrowType(Qt.ArrowType.DownArrow if open_ else Qt.ArrowType.RightArrow)
        self.body.setVisible(open_)

    def is_open(self) -> bool:
        return self.body.isVisibleTo(self)


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
    save_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.editors: dict[str, QWidget] = {}
        """One per app setting of the table, by its name"""
        self._forms: dict[str, QFormLayout] = {}
        """The form holding each editor's row (rows that do not apply are hidden)"""
        self._shown = StudioSettings()
        """The settings last shown: what the editors' values are read into"""
        self.knobs: list[sensitivity.Knob] = []
        self.sliders: list[QSlider] = []
        self.slider_words: list[QLabel] = []
        body = QWidget()
        column = QVBoxLayout(body)
        column.addWidget(self._source_group())
        column.addWidget(self._run_group())
        column.addWidget(self._sensitivity_group())
        self.advanced = Section("Advanced")
        self.advanced.button.setToolTip("Every other setting: how boundaries are decided, "
                                        "video files, the model's size and learning")
        for group in (self._playback_group(), self._demarcation_group(), self._model_group()):
            self.advanced.add(group)
        column.addWidget(self.advanced)
        column.addStretch(1)
        self.setWidget(body)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.advanced.set_open(True)  # wide enough for the open section too
        self.advanced.updateGeometry()  # else the column keeps the closed section's size
        self.setMinimumWidth(body.sizeHint().width() + self.verticalScrollBar().sizeHint().width()
                             + 4)
        self.advanced.set_open(False)
        self.advanced.updateGeometry()  # (as above: the column asks for the closed one)
        self._update_enabled()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """All that shows without scrolling (a scroll area asks for less)."""
        frame = 2 * self.frameWidth()
        return QSize(self.minimumWidth(), self.widget().sizeHint().height() + frame)

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
        self.start_button.setToolTip("Open the source and learn (F5)")
        self.pause_button.setToolTip("Freeze the picture and learning; Start resumes (F6)")
        self.stop_button.setToolTip("Close the source; the model is kept (F7)")
        model_row = QHBoxLayout()
        self.reset_button = QPushButton("Reset model…")
        self.reset_button.setToolTip("Start a new model that learns from scratch (Ctrl+R); "
                                     "save first to keep what this one learned")
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip("Save the model and what it learned to a file (Ctrl+S)")
        for line, buttons in ((row, (self.start_button, self.pause_button, self.stop_button)),
                              (model_row, (self.reset_button, self.save_button))):
            for button in buttons:
                button.setMinimumWidth(60)
                line.addWidget(button)
        form.addLayout(row)
        form.addLayout(model_row)
        self.learning_box = QCheckBox("Learn while watching")
        self.learning_box.setToolTip("Off: the model only segments, its weights stay fixed")
        form.addWidget(self.learning_box)

        self.start_button.clicked.connect(self.start_requested)
        self.pause_button.clicked.connect(self.pause_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.reset_button.clicked.connect(self.apply_reset_requested)
        self.save_button.clicked.connect(self.save_requested)
        self.learning_box.toggled.connect(self.learning_toggled)
        return group

    def _playback_group(self) -> QGroupBox:
        group = QGroupBox("Video files")
        form = QVBoxLayout(group)
        self.follow_box = QCheckBox("Play files at learning speed")
        self.follow_box.setToolTip("Files: every snippet is learned, the video slows down to "
                                   "the model's pace. Off: the video plays in real time; a "
                                   "model slower than that learns from fewer snippets and, "
                                   "more than 6 s behind, drops some (the status bar says).")
        self.loop_box = QCheckBox("Loop video files")
        self.loop_box.setToolTip("Start a file again when it ends, so a short clip can "
                                 "teach the model for longer")
        form.addWidget(self.follow_box)
        form.addWidget(self.loop_box)
        self.follow_box.toggled.connect(self.follow_learner_toggled)
        self.loop_box.toggled.connect(self.loop_toggled)
        return group

    def _sensitivity_group(self) -> QGroupBox:
        group = QGroupBox("Sensitivity")
        group.setToolTip("How readily each layer ends an event; applies at once")
        self.sensitivity_form = QFormLayout(group)
        ends = QHBoxLayout()
        for text, align in (("fewer, longer events", Qt.AlignmentFlag.AlignLeft),
                            ("more, shorter events", Qt.AlignmentFlag.AlignRight)):
            label = QLabel(f"<span style='color:gray'>{text}</span>")
            label.setAlignment(align)
            ends.addWidget(label)
        self.sensitivity_form.addRow(ends)
        return group

    def _rebuild_sliders(self, knobs: list[sensitivity.Knob]) -> None:
        """One slider per knob; rebuilt only when the knobs change (mode, layers)."""
        while self.sensitivity_form.rowCount() > 1:
            self.sensitivity_form.removeRow(1)
        self.knobs, self.sliders, self.slider_words = knobs, [], []
        for index, knob in enumerate(knobs):
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, sensitivity.POSITIONS - 1)
            slider.setPageStep(1)
            slider.setTickPosition(QSlider.TickPosition.TicksBelow)
            slider.setToolTip(f"{knob.layers}: left for fewer, longer events, right for more, "
                              f"shorter ones (sets {BY_NAME[knob.setting].label.lower()})")
            words = QLabel()
            cell = QVBoxLayout()
            cell.setSpacing(0)
            cell.addWidget(slider)
            cell.addWidget(words)
            label = QLabel(knob.layers)
            label.setToolTip(slider.toolTip())
            self.sensitivity_form.addRow(label, cell)
            slider.valueChanged.connect(lambda p, i=index: self._slider_moved(i, p))
            self.sliders.append(slider)
            self.slider_words.append(words)

    def _show_sliders(self) -> None:
        """The knobs for the settings shown, each slider at the nearest position."""
        settings = self.read(self._shown)
        knobs = sensitivity.knobs(settings)
        if knobs != self.knobs:
            self._rebuild_sliders(knobs)
        for knob, slider, words in zip(self.knobs, self.sliders, self.slider_words):
            position = knob.position(settings)
            with QSignalBlocker(slider):
                slider.setValue(position)
            words.setText(sensitivity.WORDS[position])

    def _slider_moved(self, index: int, position: int) -> None:
        before = self.read(self._shown)
        after = self.knobs[index].apply(before, position)
        self.slider_words[index].setText(sensitivity.WORDS[position])
        changed = after.differences(before, tuple(self.editors))
        for name in changed:
            with QSignalBlocker(self.editors[name]):
                _show(self.editors[name], getattr(after, name))
        for name in changed:
            self.live_setting_changed.emit(name)

    def _settings_rows(self, form: QFormLayout, live: bool) -> None:
        """A row per app setting of the table that is (or is not) live, in table order."""
        changed = self._live if live else self._model
        for setting in APP_SETTINGS:
            if setting.live != live:
                continue
            editor = _editor(setting)
            self.editors[setting.name] = editor
            self._forms[setting.name] = form
            label = QLabel(setting.label)
            label.setToolTip(setting.help)
            form.addRow(label, editor)
            _changed_signal(editor).connect(lambda *_, n=setting.name: changed(n))

    def _demarcation_group(self) -> QGroupBox:
        group = QGroupBox("Event boundaries (apply live)")
        form = QFormLayout(group)
        self._settings_rows(form, live=True)
        self.live_error = QLabel("")
        self.live_error.setWordWrap(True)
        self.live_error.setStyleSheet("color: #e05050")
        self.live_error.hide()
        form.addRow(self.live_error)
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
        self.device_box.setToolTip("Where the model learns: auto takes the GPU when there "
                                   "is one")
        if torch.cuda.is_available():
            self.device_box.addItem(f"cuda ({torch.cuda.get_device_name(0)})", "cuda")
        for text, box in (("Preset", self.preset_box), ("Device", self.device_box)):
            label = QLabel(text)
            label.setToolTip(box.toolTip())
            form.addRow(label, box)
        self._settings_rows(form, live=False)
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
        self.apply_button.clicked.connect(self.apply_reset_requested)
        return group

    # --- signals out ------------------------------------------------------------------

    def _live(self, name: str) -> None:
        self._update_enabled()
        self.live_setting_changed.emit(name)

    def _model(self, name: str) -> None:
        self._update_enabled()
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
        """Shows only the settings that matter under the others' values (the others are
        hidden and disabled), and the sensitivity sliders of the chosen mode."""
        values = {name: _value(editor) for name, editor in self.editors.items()}
        for name, editor in self.editors.items():
            applies = BY_NAME[name].applies(values)
            editor.setEnabled(applies)
            self._forms[name].setRowVisible(editor, applies)
        self._show_sliders()

    def field_shown(self, name: str) -> bool:
        """Whether the Advanced section lists setting `name` (when it is open)."""
        return self.editors[name].isVisibleTo(self.advanced.body)

    # --- state in ---------------------------------------------------------------------

    def set_settings(self, settings: StudioSettings) -> None:
        """Shows `settings` without emitting change signals."""
        self._shown = settings
        shown = {**{name: (editor, getattr(settings, name))
                    for name, editor in self.editors.items()},
                 "preset": (self.preset_box, settings.preset),
                 "device": (self.device_box, settings.device),
                 "learning": (self.learning_box, settings.learning),
                 "follow_learner": (self.follow_box, settings.follow_learner),
                 "loop_files": (self.loop_box, settings.loop_files)}
        for editor, value in shown.values():
            with QSignalBlocker(editor):
                if editor is self.preset_box:
                    editor.setCurrentText(value)
                else:
                    _show(editor, value)
        self._update_enabled()

    def read(self, settings: StudioSettings) -> StudioSettings:
        """`settings` with the values shown in the panel."""
        return replace(
            settings, **{name: _value(editor) for name, editor in self.editors.items()},
            preset=self.preset_box.currentText(), device=self.device_box.currentData(),
            learning=self.learning_box.isChecked(), follow_learner=self.follow_box.isChecked(),
            loop_files=self.loop_box.isChecked())

    @Slot(object, str)
    def set_pending(self, names: list[str], problem: str = "") -> None:
        """Structural settings changed but not applied yet; `problem`: why they cannot be."""
        self.apply_button.setEnabled(not problem)
        if problem:
            self.pending_label.setText(f"<span style='color:#e05050'>{problem}</span>")
        elif names:
            fields = ", ".join(BY_NAME[n].label.lower() if n in BY_NAME else n for n in names)
            self.pending_label.setText(f"<span style='color:#e0a030'>Changed: {fields}. "
                                       "These take effect after <b>Apply and reset model</b> "
                                       "(the learned weights are discarded).</span>")
        else:
            self.pending_label.setText("<span style='color:gray'>Changing these starts a new "
                                       "model.</span>")
        self.apply_button.setStyleSheet("font-weight: bold" if names and not problem else "")

    @Slot(str)
    def set_live_error(self, text: str) -> None:
        """Shown beside the fields it is about: the Advanced section opens for it."""
        if text:
            self.advanced.set_open(True)
        self.live_error.setText(text)
        self.live_error.setVisible(bool(text))

    def set_run_state(self, state: RunState) -> None:
        self.start_button.setEnabled(state.can_start)
        self.start_button.setText("⟳ Retry now" if state is RunState.RECONNECTING
                                  else "▶ Start")
        self.pause_button.setEnabled(state.can_pause)
        self.stop_button.setEnabled(state.can_stop)

    def set_cameras(self, cameras: list[CameraDevice]) -> None:
        """Lists each camera by name, size and rate where the platform gives them."""
        current = self.source_combo.currentData()
        keep = [(self.source_combo.itemText(i), self.source_combo.itemData(i))
                for i in range(self.source_combo.count())
                if not str(self.source_combo.itemData(i)).startswith("camera:")]
        with QSignalBlocker(self.source_combo):
            self.source_combo.clear()
            for text, data in keep[:1]:
                self.source_combo.addItem(text, data)
            for camera in cameras:
                self.source_combo.addItem(camera.label, camera.spec)
            for text, data in keep[1:]:
                self.source_combo.addItem(text, data)
        self.show_source(current)
        self.refresh_button.setToolTip(
            f"Look for cameras again ({len(cameras)} found)" if cameras
            else "Look for cameras again (none found)")

    def show_source(self, spec: str | None) -> None:
        """Selects `spec` in the list, adding it (a file, a URL) if it is new."""
        if not spec:
            return
        index = self.source_combo.findData(spec)
        if index < 0:
            self.source_combo.addItem(describe_spec(spec), spec)
            index = self.source_combo.count() - 1
        with QSignalBlocker(self.source_combo):
            self.source_combo.setCurrentIndex(index)

    @Slot(str, str)
    def set_source_status(self, text: str, tooltip: str = "") -> None:
        self.source_status.setText(text)
        self.source_status.setToolTip(tooltip)


def _select_data(box: QComboBox, data: str) -> None:
    index = box.findData(data)
    if index >= 0:
        box.setCurrentIndex(index)
