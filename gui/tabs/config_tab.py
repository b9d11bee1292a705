"""Tab 2 — Config: every TrainConfig field, built from engine.config.field_info().

Presets first (big buttons), then the fields grouped as in the engine's metadata, with
the rarely needed ones behind "Advanced". Tooltips are the engine's help texts, inline
messages come from TrainConfig.validate(), and the equivalent command line is shown so
a run started here can be repeated from a terminal.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QFileDialog, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QScrollArea, QToolButton,
                               QVBoxLayout, QWidget)

from engine.config import (DEFAULT_MODEL, PRESETS, ConfigValueError, TrainConfig, active_preset,
                           apply_preset, field_info, to_command_line)
from gui.errors import on_action
from gui.i18n import dynamic, translate
from gui.readiness import config_readiness, dataset_readiness, dataset_text, go_to_text
from gui.settings import Settings
from gui.widgets.banner import Banner
from gui.widgets.config_fields import FieldEditor, label_for, make_editor
from gui.widgets.model_picker import ModelPicker

GROUPS = (("model", QT_TRANSLATE_NOOP("ConfigTab", "Model")),
          ("lora", "LoRA"),  # a name: translate() leaves it as it is
          ("training", QT_TRANSLATE_NOOP("ConfigTab", "Training")),
          ("data", QT_TRANSLATE_NOOP("ConfigTab", "Data")),
          ("hardware", QT_TRANSLATE_NOOP("ConfigTab", "Hardware")),
          ("output", QT_TRANSLATE_NOOP("ConfigTab", "Output")))
# The engine's preset ids (PRESETS keys) as shown on the buttons.
PRESET_NAMES = {
    "Quick (CPU)": QT_TRANSLATE_NOOP("ConfigTab", "Quick (CPU)"),
    "Linear probe (fastest)": QT_TRANSLATE_NOOP("ConfigTab", "Linear probe (fastest)"),
    "Tutorial recipe": QT_TRANSLATE_NOOP("ConfigTab", "Tutorial recipe"),
    "Best accuracy (GPU)": QT_TRANSLATE_NOOP("ConfigTab", "Best accuracy (GPU)"),
}
PRESET_HINTS = {  # one short line under each preset's name; the tooltip lists every value
    "Quick (CPU)": QT_TRANSLATE_NOOP("ConfigTab", "last 4 blocks · minutes on a laptop"),
    "Linear probe (fastest)": QT_TRANSLATE_NOOP("ConfigTab", "head only · seconds"),
    "Tutorial recipe": QT_TRANSLATE_NOOP("ConfigTab", "r=8, alpha 32 · 10 epochs"),
    "Best accuracy (GPU)": QT_TRANSLATE_NOOP("ConfigTab", "SigLIP 2 B/16, r=16 · wants a GPU"),
}
SPLIT_FIELDS = {"val_fraction": "val_fraction", "test_fraction": "test_fraction",
                "split_seed": "seed", "data_dir": "root"}  # config field -> DatasetIndex attribute
ERROR_STYLE = "color: #d9534f;"  # a mid red that reads on light and dark backgrounds


def preset_name(name: str) -> str:
    """A preset id in the current language (unknown ids as they are)."""
    return translate("ConfigTab", PRESET_NAMES[name]) if name in PRESET_NAMES else name


def preset_button_text(name: str) -> str:
    hint = translate("ConfigTab", PRESET_HINTS[name]) if name in PRESET_HINTS else ""
    return f"{preset_name(name)}\n{hint}".strip()


def config_file_path(path: str, yaml: bool) -> str:
    """The file a config is saved to: `path` when it names .json/.yaml/.yml, else `path` with
    the suffix of the format chosen in the save dialog (JSON unless YAML was chosen)."""
    if Path(path).suffix.lower() in (".json", ".yaml", ".yml"):
        return path
    return path + (".yaml" if yaml else ".json")


def default_output_dir() -> str:
    """Runs go to the user's LoRA Studio folder, not the current directory (which may be '/')."""
    from engine.config import default_data_dir

    return str(default_data_dir() / "runs")


class ConfigTab(QWidget):
    state_changed = Signal(str)
    config_changed = Signal(object)  # TrainConfig
    dataset_requested = Signal()  # "Go to Dataset" on the missing-dataset banner
    dataset_folder_requested = Signal(str)  # a loaded config names another dataset folder

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._index = None
        self._loading = False
        self._own_model = DEFAULT_MODEL  # the model the user chose; presets naming none keep it
        self.editors: dict[str, FieldEditor] = {}
        self.errors: dict[str, QLabel] = {}
        self._rows: dict[str, tuple[QFormLayout, QWidget, bool]] = {}
        # what the dataset lacks, in the words every tab uses (gui.readiness)
        self.banner = Banner(dataset_text(dataset_readiness(None)), go_to_text("dataset"))
        self.banner.action.clicked.connect(self.dataset_requested)  # main_window goes there
        self.preset_buttons: dict[str, QPushButton] = {}
        self.advanced_toggle = QToolButton()
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.toggled.connect(on_action(self.advanced_toggle,
                                                       self._on_advanced_toggle_toggled))
        self.command_line = QLineEdit()
        self.command_line.setReadOnly(True)
        self.command_line.setMinimumWidth(120)
        self.copy_button = QPushButton(translate("ConfigTab", "Copy"))
        self.copy_button.clicked.connect(on_action(self.copy_button,
                                                   self._on_copy_button_clicked))
        self.load_button = QPushButton(translate("ConfigTab", "Load config…"))
        self.save_button = QPushButton(translate("ConfigTab", "Save config…"))
        self.load_button.clicked.connect(on_action(self.load_button,
                                                   self._on_load_button_clicked))
        self.save_button.clicked.connect(on_action(self.save_button,
                                                   self._on_save_button_clicked))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.lr_finder = None  # the open "Find learning rate" window (gui/lr_finder_dialog.py)
        self.finder_buttons: dict[str, QPushButton] = {}
        self._build_layout()
        self.editors["model"].changed.connect(self._on_model_changed)
        # a failed check marks the tab as needing attention; a passed one takes the mark away
        self.model_picker.check_finished.connect(lambda _ok, _message: self._refresh())
        self._own_model = self._remembered_model()
        self._set_config(apply_preset(TrainConfig(output_dir=default_output_dir()), "Quick (CPU)",
                                      own_model=self._own_model))
        self._on_advanced_toggle_toggled(False)

    # --- layout -----------------------------------------------------------------------
    def _build_layout(self) -> None:
        presets = QHBoxLayout()
        presets.setSpacing(8)
        for name in PRESETS:
            button = QPushButton(dynamic(lambda n=name: preset_button_text(n)))
            button.setCheckable(True)
            button.setMinimumHeight(56)
            button.setToolTip(dynamic(lambda n=name: translate("ConfigTab", "Sets {settings}").format(
                settings=", ".join(f"{k} = {v}" for k, v in PRESETS[n].items())) + "\n" +
                translate("ConfigTab", "Every other training setting goes back to its default; "
                          "the dataset, hardware and output settings stay as they are.")))
            button.clicked.connect(on_action(button, lambda n=name: self.apply_preset(n)))
            presets.addWidget(button)
            self.preset_buttons[name] = button
        boxes = {key: QGroupBox(translate("ConfigTab", title)) for key, title in GROUPS}
        forms = {key: QFormLayout(box) for key, box in boxes.items()}
        for f in field_info():
            editor = make_editor(f)
            editor.changed.connect(self._on_editor_changed)
            error = QLabel()
            error.setStyleSheet(ERROR_STYLE)
            error.setWordWrap(True)
            error.setVisible(False)
            cell = QWidget()
            column = QVBoxLayout(cell)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(2)
            column.addWidget(self._with_finder_button(f.name, editor.widget))
            column.addWidget(error)
            group = f.metadata.get("group", "output")
            form = forms.get(group, forms["output"])
            label = QLabel(label_for(f.name))
            label.setToolTip(editor.help_text())
            form.addRow(label, cell)
            self.editors[f.name] = editor
            self.errors[f.name] = error
            self._rows[f.name] = (form, cell, bool(f.metadata.get("advanced")))
        grid = QGridLayout()
        grid.setSpacing(8)
        for i, (key, _) in enumerate(GROUPS):
            grid.addWidget(boxes[key], i % 3, i // 3)
        grid.setRowStretch(3, 1)
        inner = QWidget()
        inner_layout = QVBoxLayout(inner)
        inner_layout.addWidget(self.advanced_toggle, 0, Qt.AlignmentFlag.AlignLeft)
        inner_layout.addLayout(grid)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        bottom = QHBoxLayout()
        bottom.addWidget(QLabel(translate("ConfigTab", "Command line:")))
        bottom.addWidget(self.command_line, 1)
        bottom.addWidget(self.copy_button)
        bottom.addSpacing(16)
        bottom.addWidget(self.load_button)
        bottom.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addWidget(self.banner)
        layout.addLayout(presets)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.message)
        layout.addLayout(bottom)

    # --- public interface ---------------------------------------------------------------
    def set_dataset(self, index) -> None:
        """The dataset tab 1 shows (engine.data.index.DatasetIndex, blocking problems and
        all) or None; the banner says what it lacks, in gui.readiness's words.

        Step 1 owns the split: its fractions and seed are copied here (so the command line
        reproduces the same split) and locked, with a tooltip saying where to change them.
        """
        self._index = index
        self.banner.show_state(dataset_text(dataset_readiness(index)))
        self._loading = True
        try:
            self.editors["data_dir"].set_value(index.root if index is not None else "")
            for name, attr in SPLIT_FIELDS.items():
                value = getattr(index, attr, None) if index is not None else None
                if value is not None:
                    self.editors[name].set_value(value)
                editor = self.editors[name]
                editor.widget.setEnabled(index is None)
                editor.widget.setToolTip(editor.help_text() if index is None else translate(
                    "ConfigTab", "Set in step 1 (Dataset), where the split is shown."))
        finally:
            self._loading = False
        self._refresh()

    def config(self) -> TrainConfig:
        values = {name: editor.value() for name, editor in self.editors.items()}
        return TrainConfig.from_dict(values)

    def problems(self) -> dict[str, str]:
        """validate() plus what only the GUI knows (no dataset chosen yet, the base model's
        check failed)."""
        config = self.config()
        problems = config.validate()
        if not config.data_dir and not config.resume_from:  # a continued run has its own
            problems["data_dir"] = translate("ConfigTab", "Choose a dataset in step 1 (Dataset).")
        if self.model_picker.check_error and "model" not in problems:
            problems["model"] = self.model_picker.check_error
        return problems

    def apply_preset(self, name: str) -> None:
        """Every setting the preset decides, whatever was set before; the base model stays the
        user's own unless the preset names one."""
        self._set_config(apply_preset(self.config(), name, own_model=self._own_model))

    def load_config(self, path: str) -> None:
        try:
            loaded = TrainConfig.load(path)
        except ConfigValueError as exc:  # a value that does not fit its field: named
            self._show_message(translate(
                "ConfigTab", "Could not load {path}: {error} Correct it in the file, or choose "
                "another file.").format(path=path, error=exc), error=True)
            return
        except Exception as exc:  # noqa: BLE001 - bad files are the user's to fix, not a crash
            self._show_message(translate(
                "ConfigTab", "Could not load {path}: {error}. Choose a JSON or YAML file saved by "
                "LoRA Studio or `python -m engine`.").format(path=path, error=exc), error=True)
            return
        wanted = loaded.data_dir
        if self._index is not None:  # step 1 owns the dataset and its split
            loaded = loaded.replace(**{name: getattr(self._index, attr) for name, attr
                                       in SPLIT_FIELDS.items()
                                       if getattr(self._index, attr, None) is not None})
        self._set_config(loaded)
        self._remember_model(loaded.model)
        if wanted and Path(wanted).exists() and (self._index is None or
                                                 Path(wanted).resolve() != Path(self._index.root).resolve()):
            self.dataset_folder_requested.emit(wanted)  # step 1 opens the config's dataset
        self.settings.add_recent("configs", str(Path(path).parent))
        self._show_message(translate("ConfigTab", "Loaded {path}.").format(path=path))

    def save_config(self, path: str) -> None:
        try:
            self.config().save(path)
        except OSError as exc:
            self._show_message(translate("ConfigTab", "Could not save {path}: {error}.")
                               .format(path=path, error=exc.strerror or exc), error=True)
            return
        self.settings.add_recent("configs", str(Path(path).parent))
        self._show_message(translate("ConfigTab", "Saved {path}.").format(path=path))

    def use_demo_model(self) -> None:
        self.editors["model"].picker.use_demo_model()

    @property
    def model_picker(self) -> ModelPicker:
        return self.editors["model"].picker

    def set_field(self, name: str, value) -> None:
        self.editors[name].set_value(value)

    def status_text(self) -> str:
        problems = self.problems()
        if problems:
            return translate("ConfigTab", "{count} setting(s) need attention").format(
                count=len(problems))
        c = self.config()
        preset = self.active_preset()
        if not preset:
            return translate("ConfigTab", "{method} · {epochs} epochs · batch {batch}").format(
                method=c.method, epochs=c.epochs, batch=c.batch_size)
        return dynamic(lambda: translate(
            "ConfigTab", "{preset} · {method} · {epochs} epochs · batch {batch}").format(
            preset=preset_name(preset), method=c.method, epochs=c.epochs, batch=c.batch_size))

    def state(self) -> str:
        """"done" (✓) only with a dataset ready to train on, valid settings and a base model
        whose check (if one ran) did not fail; "attention" (!) when a setting needs fixing;
        no mark while the dataset is missing or blocked. gui.readiness.config_readiness
        decides, for every tab alike (a failed check is one of problems())."""
        return config_readiness(dataset_readiness(self._index), self.problems()).mark

    def active_preset(self) -> str:
        return active_preset(self.config())

    def shutdown(self) -> None:
        self.model_picker.wait()
        if self.lr_finder is not None:
            self.lr_finder.stop()
            self.lr_finder.wait()

    # --- the learning-rate finder (gui/lr_finder_dialog.py) -------------------------------
    def _with_finder_button(self, name: str, widget: QWidget) -> QWidget:
        """The LR fields get a "Find…" button beside them; other fields stay as they are."""
        if name not in ("lr", "head_lr"):
            return widget
        from gui.lr_finder_dialog import finder_row

        button = self.finder_buttons[name] = QPushButton(
            translate("ConfigTab", "Find learning rate…"))
        button.setToolTip(translate("ConfigTab", "Find a learning rate: a short test on a "
                                    "throw-away copy of the model (about a minute on the Quick "
                                    "preset), then one click uses it."))
        button.clicked.connect(on_action(button, self.find_learning_rate))
        return finder_row(widget, button)

    def find_learning_rate(self) -> None:
        """Open the finder on the current settings and dataset, or say why it cannot run."""
        from gui.lr_finder_dialog import LRFinderDialog, why_not

        if self.lr_finder is not None and self.lr_finder.running():
            if self.lr_finder.isVisible():
                self.lr_finder.raise_()
            else:  # cancelled, and still finishing its current step
                self._show_message(translate("ConfigTab", "The learning-rate finder is still "
                                             "stopping; try again in a moment."))
            return
        config = self.config()
        reason = why_not(config, self._index, self.problems())
        if reason:
            self._show_message(reason, error=True)
            return
        self.lr_finder = LRFinderDialog(config, self._index, self)
        self.lr_finder.use_requested.connect(on_action(self.lr_finder.use_button,
                                                       self._on_lr_finder_use_requested))
        self.lr_finder.show()
        self.lr_finder.start()

    def _on_lr_finder_use_requested(self, name: str, value: float) -> None:
        self.set_field(name, value)
        if self._rows[name][2]:  # the head's LR is an advanced field: show what changed
            self.advanced_toggle.setChecked(True)
        self._show_message(translate("ConfigTab", "{field} set to {value:.1e} by the "
                                     "learning-rate finder.").format(field=label_for(name),
                                                                     value=value))

    # --- internals ------------------------------------------------------------------------
    def _set_config(self, config: TrainConfig) -> None:
        self._loading = True  # one refresh at the end, not one per field
        try:
            for name, editor in self.editors.items():
                editor.set_value(getattr(config, name))
        finally:
            self._loading = False
        self._refresh()

    def _on_editor_changed(self) -> None:
        if not self._loading:
            self._refresh()

    def _on_model_changed(self) -> None:
        if not self._loading:  # the user's choice, not a preset's or a loaded config's
            self._remember_model(self.editors["model"].value())

    def _remember_model(self, ref: str) -> None:
        """`ref` is the user's own model: presets that name none keep it, and the next start
        offers it first."""
        self._own_model = ref
        if ref:
            self.settings.set_model(ref)

    def _remembered_model(self) -> str:
        """The model chosen at the last start (the default when none, or when it was a
        local folder that is gone)."""
        ref = self.settings.model()
        if not ref:
            return DEFAULT_MODEL
        if Path(ref).is_absolute() and not Path(ref).exists():
            self._show_message(translate(
                "ConfigTab", "The base model chosen last, {path}, is no longer there: the "
                "default model is chosen instead.").format(path=ref))
            return DEFAULT_MODEL
        return ref

    def _refresh(self) -> None:
        problems = self.problems()
        for name, label in self.errors.items():
            text = problems.get(name, "")
            if name == "model" and text == self.model_picker.check_error:
                text = ""  # the picker's own status line already shows it, in red
            label.setText(text)
            label.setVisible(bool(text))
            if text and self._rows[name][2]:
                self.advanced_toggle.setChecked(True)  # never hide a problem behind Advanced
        config = self.config()
        self.command_line.setText(to_command_line(config))
        self.command_line.setCursorPosition(0)
        active = self.active_preset()
        for name, button in self.preset_buttons.items():
            button.setChecked(name == active)
        self.config_changed.emit(config)
        self.state_changed.emit(self.state())

    def _on_advanced_toggle_toggled(self, shown: bool) -> None:
        self.advanced_toggle.setText(translate("ConfigTab", "Hide advanced settings") if shown
                                     else translate("ConfigTab", "Show advanced settings"))
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        for form, cell, advanced in self._rows.values():
            if advanced:
                form.setRowVisible(cell, shown)

    def _on_copy_button_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.command_line.text())
        self._show_message(translate("ConfigTab", "Command line copied."))

    def _on_load_button_clicked(self) -> None:
        self.ask_load_config()

    def _on_save_button_clicked(self) -> None:
        self.ask_save_config()

    def ask_load_config(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, translate("ConfigTab", "Load config"), self.settings.last_folder("configs"),
            translate("ConfigTab", "Config (*.json *.yaml *.yml)"))
        if path:
            self.load_config(path)

    def ask_save_config(self) -> None:
        filters = translate("ConfigTab", "JSON (*.json);;YAML (*.yaml)")
        path, chosen = QFileDialog.getSaveFileName(
            self, translate("ConfigTab", "Save config"), self.settings.last_folder("configs"),
            filters)
        if path:  # the file's suffix decides the format; without one, the chosen filter does
            self.save_config(config_file_path(path, yaml=chosen == filters.split(";;")[-1]))

    def retranslate(self) -> None:
        """After a language switch: the spin boxes' special texts and the validation messages
        (engine texts, made again by validate() in the new language)."""
        for editor in self.editors.values():
            editor.retranslate()
        self._refresh()

    def _show_message(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")
