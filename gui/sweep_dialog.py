"""Run > Sweep…: a small hyperparameter sweep of the Config tab's settings (engine.sweep).

Trials and a time budget, Start/Stop, progress, and a sortable table of the trials updated
live with the best one highlighted; "Use this config" puts the selected (else the best)
trial's settings into the Config tab. The sweep runs in a worker thread (gui/sweep_worker);
closing the dialog while it runs asks to stop it, and the dialog closes once it has stopped.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDoubleSpinBox, QFormLayout, QHBoxLayout,
                               QLabel, QMessageBox, QProgressBar, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from engine.errors import UserError
from gui.errors import on_action
from gui.i18n import translate
from gui.widgets.sweep_table import SweepTable

METHODS = (("auto", "Automatic (recommended)"), ("last-n", "LoRA on the last blocks (cached)"),
           ("lora", "LoRA with augmentation (slow on a CPU)"),
           ("linear-probe", "Linear probe (fastest)"))


def _method_title(key: str) -> str:
    return {"auto": translate("SweepDialog", "Automatic (recommended)"),
            "last-n": translate("SweepDialog", "LoRA on the last blocks (cached)"),
            "lora": translate("SweepDialog", "LoRA with augmentation (slow on a CPU)"),
            "linear-probe": translate("SweepDialog", "Linear probe (fastest)")}[key]


class SweepDialog(QDialog):
    config_used = Signal(int)  # the trial whose settings went into the Config tab

    def __init__(self, config_tab, dataset_provider=lambda: None, parent: QWidget | None = None,
                 train_fn=None) -> None:
        super().__init__(parent)
        self.setObjectName("sweepDialog")
        self.setWindowTitle(translate("SweepDialog", "Sweep"))
        self.config_tab, self.dataset_provider, self.train_fn = config_tab, dataset_provider, \
            train_fn
        self.worker = None  # gui.sweep_worker.SweepWorker while a sweep runs
        self.base = None  # the TrainConfig the sweep started from
        self.mode = ""  # its mode (engine.sweep.space), known once it has started
        self.trials_total = 0
        self._closing = False
        self.confirm = self._ask  # tests replace it to answer without a dialog
        self._build()
        self._show_idle()
        self.resize(960, 560)

    # --- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        intro = QLabel(translate(
            "SweepDialog", "Tries the settings of step 2 with other learning rates, LoRA sizes, "
            "dropout and augmentation, in short training runs, and keeps the best. Trials "
            "that fall behind are stopped early (pruned). Each trial is a run folder you can "
            "open; running the same sweep again continues it."))
        intro.setWordWrap(True)
        root.addWidget(intro)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.trials = QSpinBox()
        self.trials.setRange(1, 500)
        self.trials.setValue(10)
        self.trials.setToolTip(translate("SweepDialog", "Trials in the sweep in all; a continued "
                                         "sweep runs only the missing ones."))
        form.addRow(translate("SweepDialog", "Trials:"), self.trials)
        self.budget = QDoubleSpinBox()
        self.budget.setRange(0, 10_000)
        self.budget.setDecimals(1)
        self.budget.setValue(30)
        self.budget.setSuffix(translate("SweepDialog", " min"))
        self.budget.setSpecialValueText(translate("SweepDialog", "no limit"))
        self.budget.setToolTip(translate("SweepDialog", "No trial starts that would end after "
                                         "this time (0 = no limit)."))
        form.addRow(translate("SweepDialog", "Time budget:"), self.budget)
        self.method = QComboBox()
        for key, _title in METHODS:
            self.method.addItem(_method_title(key), key)
        self.method.setToolTip(translate(
            "SweepDialog", "Automatic: on a CPU, LoRA on the last blocks with their frozen "
            "blocks computed once per image (or the linear probe for a probe config); on a "
            "GPU, LoRA with augmentation."))
        form.addRow(translate("SweepDialog", "What trains:"), self.method)
        root.addLayout(form)
        buttons = QHBoxLayout()
        self.start_button = QPushButton(translate("SweepDialog", "Start"))
        self.start_button.clicked.connect(on_action(self.start_button, self.start))
        self.stop_button = QPushButton(translate("SweepDialog", "Stop"))
        self.stop_button.clicked.connect(on_action(self.stop_button, self.stop))
        self.progress = QProgressBar()
        self.progress.setFormat(translate("SweepDialog", "%v of %m trials"))
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.progress, 1)
        root.addLayout(buttons)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        root.addWidget(self.status)
        self.table = SweepTable()
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        root.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        self.use_button = QPushButton(translate("SweepDialog", "Use this config"))
        self.use_button.setToolTip(translate("SweepDialog", "Put the selected trial's settings "
                                             "(or the best one's) into step 2 (Config)."))
        self.use_button.clicked.connect(on_action(self.use_button, self.use_config))
        self.close_button = QPushButton(translate("SweepDialog", "Close"))
        self.close_button.clicked.connect(on_action(self.close_button, self.close))
        bottom.addStretch(1)
        bottom.addWidget(self.use_button)
        bottom.addWidget(self.close_button)
        root.addLayout(bottom)

    # --- actions ------------------------------------------------------------------------------
    def start(self) -> None:
        from engine.sweep.runner import SweepSpec, check_spec
        from gui.sweep_worker import SweepWorker

        if self.is_running():
            return
        problems = self.config_tab.problems()
        if problems:
            self.status.setText(translate(
                "SweepDialog", "The settings in step 2 need attention first: {problems}").format(
                problems=" ".join(problems.values())))
            return
        base = self.config_tab.config()
        spec = SweepSpec(base=base, trials=self.trials.value(),
                         budget_minutes=self.budget.value(), method=self.method.currentData())
        try:
            check_spec(spec)
        except UserError as exc:
            self.status.setText(str(exc))
            return
        self.base, self.mode, self.trials_total = base, "", spec.trials
        self.table.source.clear()
        self.progress.setRange(0, spec.trials)
        self.progress.setValue(0)
        self.worker = SweepWorker(spec, self.dataset_provider(), self.train_fn)
        self.worker.event_received.connect(self._on_worker_event_received)
        self.worker.thread_.finished.connect(self._on_worker_finished)
        self.worker.start()
        self.status.setText(translate("SweepDialog", "Starting the sweep…"))
        self._update_buttons()

    def stop(self) -> None:
        if self.is_running():
            self.worker.stop()
            self.status.setText(translate("SweepDialog", "Stopping after the current step… The "
                                          "running trial is trained again when the sweep "
                                          "continues."))
            self.stop_button.setEnabled(False)

    def is_running(self) -> bool:
        return self.worker is not None and self.worker.is_running()

    def chosen_row(self):
        """The selected trial if it finished with a score, else the best trial."""
        row = self.table.selected_row()
        if row is not None and row.value is not None and row.state in ("complete", "pruned"):
            return row
        return self.table.source.best()

    def use_config(self) -> None:
        """The chosen trial's settings (on the sweep's base config) into the Config tab."""
        from engine.config import field_info
        from engine.sweep.space import tuned_config

        row = self.chosen_row()
        if row is None or self.base is None or not self.mode:
            self.status.setText(translate("SweepDialog", "No trial has finished yet."))
            return
        config = tuned_config(self.base, self.mode, row.changes)
        current = self.config_tab.config()
        for f in field_info():
            value = getattr(config, f.name)
            if value != getattr(current, f.name) and f.name in self.config_tab.editors:
                self.config_tab.set_field(f.name, value)
        self.status.setText(translate("SweepDialog", "Trial {n}'s settings are now in step 2 "
                                      "(Config); its epochs stay yours ({epochs}).").format(
            n=row.number, epochs=config.epochs))
        self.config_used.emit(row.number)

    def shutdown(self) -> None:
        """Stop a running sweep and wait for its thread (the main window is closing)."""
        if self.worker is not None:
            self.worker.stop()
            self.worker.wait()

    # --- closing ------------------------------------------------------------------------------
    def _ask(self, title: str, text: str) -> bool:
        return QMessageBox.question(self, title, text) == QMessageBox.StandardButton.Yes

    def reject(self) -> None:  # Esc: the same question as the window's close button
        self.close()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if not self.is_running():
            event.accept()
            return
        event.ignore()
        if self._closing:
            return
        if self.confirm(translate("SweepDialog", "Stop the sweep?"),
                        translate("SweepDialog", "A sweep is running. Stop it and close? The "
                                  "running trial is trained again when you continue the "
                                  "sweep.")):
            self._closing = True
            self.stop()

    # --- the worker's events -------------------------------------------------------------------
    def _on_worker_event_received(self, event) -> None:
        kind = event.kind
        if kind == "sweep_started":
            self.mode = event.mode
            self.status.setText(translate("SweepDialog", "Sweep folder: {folder}\n{note}.")
                                .format(folder=event.folder, note=event.mode_note))
        elif kind == "trial":
            self.table.source.update(event)
            rows = self.table.source.rows
            self.progress.setValue(min(self.trials_total, sum(
                1 for r in rows if r.state in ("complete", "pruned", "failed"))))
            if event.state == "running":
                self.status.setText(translate("SweepDialog", "Trial {n}: epoch {epoch} of "
                                              "{epochs}…").format(
                    n=event.number, epoch=min(event.epoch + 1, event.epochs),
                    epochs=event.epochs))
        elif kind == "note" and event.level != "info":
            self.status.setText(event.message.splitlines()[-1])
        elif kind == "sweep_finished":
            self.status.setText(self._finished_text(event))
        self._update_buttons()

    def _finished_text(self, e) -> str:
        if e.reason == "failed":
            return translate("SweepDialog", "The sweep stopped: {error}").format(error=e.error)
        why = {"trials": translate("SweepDialog", "All trials done."),
               "budget": translate("SweepDialog", "The time budget is used up."),
               "stopped": translate("SweepDialog", "Stopped; Start continues it.")}[e.reason]
        if e.best_number is None:
            return why + " " + translate("SweepDialog", "No trial completed.")
        return why + " " + translate(
            "SweepDialog", "Best: trial {n}, validation accuracy {acc:.1%}. Its settings: "
            "{path}").format(n=e.best_number, acc=e.best_value, path=e.best_config_path)

    def _on_worker_finished(self) -> None:
        self._update_buttons()
        if self._closing:
            self._closing = False
            self.close()

    def _show_idle(self) -> None:
        self.progress.setRange(0, self.trials.value())
        self.progress.setValue(0)
        self.status.setText(translate("SweepDialog", "Start runs the sweep on the settings of "
                                      "step 2 (Config)."))
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.is_running()
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running and not self.worker.control.stop_requested)
        for widget in (self.trials, self.budget, self.method):
            widget.setEnabled(not running)
        self.use_button.setEnabled(self.chosen_row() is not None and bool(self.mode))


def open_sweep_dialog(parent, config_tab, dataset_provider, current=None) -> SweepDialog:
    """Show the sweep dialog (the one already open, if any)."""
    dialog = current if current is not None else SweepDialog(config_tab, dataset_provider, parent)
    dialog.show()
    dialog.raise_()
    return dialog
