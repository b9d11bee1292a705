"""The main window: assembles the four numbered tabs, the menus and the status bar.

It holds no logic of its own beyond wiring: each tab does its work, and this file
connects one tab's results to the next tab's inputs.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QTimer, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QMainWindow, QMenu, QMessageBox, QTabWidget,
                               QVBoxLayout, QWidget)

from gui.errors import on_action
from gui.i18n import current_language, dynamic, translate
from gui.readiness import Readiness, config_readiness, dataset_readiness, training_blocker
from gui.settings import Settings
from gui.status_bar import StatusBar, hardware_from_run
from gui.tabs.config_tab import ConfigTab
from gui.tabs.dataset_tab import DatasetTab
from gui.tabs.prediction_tab import PredictionTab
from gui.tabs.training_tab import TrainingTab
from gui.widgets.banner import Banner
from gui.widgets.error_banner import ErrorBanner
from gui.widgets.language_menu import LanguageMenu

TAB_TITLES = (QT_TRANSLATE_NOOP("MainWindow", "1 Dataset"),
              QT_TRANSLATE_NOOP("MainWindow", "2 Config"),
              QT_TRANSLATE_NOOP("MainWindow", "3 Training"),
              QT_TRANSLATE_NOOP("MainWindow", "4 Prediction"))
STATE_MARKS = {"done": " ✓", "running": " ●", "attention": " !"}
README = Path(__file__).resolve().parent.parent / "README.md"


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.setWindowTitle("LoRA Studio")
        self._closing = False  # a close is waiting for the run to stop
        self.dataset_index = None  # the DatasetIndex step 1 last reported (or None)
        self.dataset_shown = None  # ... or the one it shows, blocking problems and all
        self._runs_root = ""
        self.last_notice: QMessageBox | None = None
        self.dataset_tab = DatasetTab(self.settings)
        self.config_tab = ConfigTab(self.settings)
        self.training_tab = TrainingTab(self.settings)
        self.prediction_tab = PredictionTab(self.settings)
        self.tabs = QTabWidget()
        self.tab_states = ["", "", "", ""]
        for tab, title in zip(self.all_tabs, TAB_TITLES):
            self.tabs.addTab(tab, translate("MainWindow", title))
            tab.state_changed.connect(self._on_tab_state_changed)
        self.error_banner = ErrorBanner()  # gui.errors shows every failure here
        # a close waiting for the run to save (closeEvent)
        self.closing_banner = Banner(translate("MainWindow", "Saving the model before closing…"
                                               " The window closes when it is saved."))
        self.closing_banner.hide()
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.error_banner)
        column.addWidget(self.closing_banner)
        column.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self._build_menus()
        self._wire()
        self._update_blocker()
        self._update_actions()
        self.setMinimumSize(1024, 680)  # every tab fits; 680 px high fits a 1366x768 laptop
        geometry = self.settings.geometry("main")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1280, 820)

    @property
    def all_tabs(self) -> tuple[QWidget, ...]:
        return (self.dataset_tab, self.config_tab, self.training_tab, self.prediction_tab)

    # --- wiring ---------------------------------------------------------------------------
    def _wire(self) -> None:
        self.dataset_tab.dataset_ready.connect(self._on_dataset_ready)
        self.dataset_tab.model_for_checks = lambda: self.config_tab.config().model
        self._runs_root_timer = QTimer(self, singleShot=True, interval=400)
        self._runs_root_timer.timeout.connect(self._on_runs_root_timer_timeout)
        self.config_tab.config_changed.connect(self._on_config_changed)
        self.config_tab.dataset_requested.connect(on_action(
            self.config_tab.banner.action, lambda: self.show_tab(self.dataset_tab)))
        self.config_tab.dataset_folder_requested.connect(on_action(
            self.config_tab.load_button, self.dataset_tab.open_folder))
        self.training_tab.set_config_provider(self._config_for_training)
        self.training_tab.set_dataset_provider(lambda: self.dataset_index)
        self.training_tab.navigate_requested.connect(on_action(
            self.training_tab.banner.action,
            lambda step: self.show_tab(self.dataset_tab if step == "dataset" else self.config_tab)))
        self.training_tab.status_message.connect(self.status.set_progress)
        self.training_tab.controls_changed.connect(self._update_actions)
        self.training_tab.run_started.connect(self._on_training_run_started)
        self.training_tab.run_finished.connect(self._on_training_run_finished)
        self.training_tab.prediction_requested.connect(on_action(
            self.training_tab.summary.predict_button, self._on_prediction_requested))
        self.prediction_tab.feedback.set_trainer(  # "Train with them": a run in step 3
            self.training_tab, lambda: self.show_tab(self.training_tab),
            self.config_tab.config, lambda title, text: self.confirm(title, text))
        live = self.prediction_tab.live  # Add to dataset: step 1's dataset, after a yes
        live.dataset_provider = lambda: self.dataset_shown
        live.confirm = lambda title, text: self.confirm(title, text)
        self._set_runs_root(self.config_tab.config().output_dir)

    def _set_runs_root(self, root: str) -> None:
        """Earlier runs (Training) and the run list (Prediction) follow the output folder."""
        if root != self._runs_root:
            self._runs_root = root
            self.training_tab.set_runs_root(root)
            self.prediction_tab.set_runs_root(root)
            self.dataset_tab.sorting.runs_root = lambda: self._runs_root

    def _on_config_changed(self, _config) -> None:
        self._update_blocker()
        self._runs_root_timer.start()  # typed a character at a time: read it once it settles

    def _on_runs_root_timer_timeout(self) -> None:
        if not self.training_tab.is_running():  # a run keeps writing where it started
            self._set_runs_root(self.config_tab.config().output_dir)

    def _readiness(self):
        """(dataset, config) readiness, decided by gui.readiness for every tab alike."""
        dataset = dataset_readiness(self.dataset_shown)
        if self.config_tab.config().resume_from:  # a continued run reads its own split.json
            dataset = Readiness("ready")
        return dataset, config_readiness(dataset, self.config_tab.problems())

    def _config_for_training(self):
        dataset, config = self._readiness()
        return self.config_tab.config() if dataset.ready and config.ready else None

    def _update_blocker(self) -> None:
        """Tell the training tab what (if anything) must happen before a run can start."""
        self.training_tab.set_blocker(*training_blocker(*self._readiness()))
        self._update_actions()

    def _on_dataset_ready(self, index) -> None:
        self.dataset_index = index
        # None also means "shown, but blocked": then the tab's own index says why
        self.dataset_shown = index if index is not None else self.dataset_tab.index
        self.config_tab.set_dataset(self.dataset_shown)
        if index is not None:
            self.settings.add_recent("datasets", index.root)
        self._update_blocker()

    def _on_training_run_started(self, run_dir: str) -> None:
        started = self.training_tab.started
        self.status.set_run(Path(run_dir).name)
        if started is not None:
            self.status.hardware.setText(hardware_from_run(started.device, started.precision))
        self._update_actions()

    def _on_training_run_finished(self, run_dir: str, status: str) -> None:
        if self._closing:
            self.close()  # the run has stopped cleanly; finish the close the user asked for
            return  # (loading its model for step 4 would only delay the close)
        self._set_runs_root(self.config_tab.config().output_dir)
        self.prediction_tab.refresh_runs()  # the run that ended is one to choose now
        if status in ("completed", "stopped") and run_dir and (Path(run_dir) / "head.safetensors").is_file():
            self.prediction_tab.open_run(run_dir)  # step 4 is ready when the user gets there
        if status == "completed" and run_dir:  # trained on a sorting's dataset: re-propose
            self.dataset_tab.sorting.on_run_finished(run_dir)
        self._update_actions()

    def _on_prediction_requested(self, run_dir: str) -> None:
        if run_dir and run_dir != self.prediction_tab.run_dir:
            self.prediction_tab.open_run(run_dir)
        self.show_tab(self.prediction_tab)

    def _on_tab_state_changed(self, state: str) -> None:
        i = self.all_tabs.index(self.sender())
        self.tab_states[i] = state
        mark = STATE_MARKS.get(state, "")
        self.tabs.setTabText(i, dynamic(lambda: translate("MainWindow", TAB_TITLES[i]) + mark))
        self._update_actions()

    def show_tab(self, tab: QWidget) -> None:
        self.tabs.setCurrentWidget(tab)

    # --- menus ------------------------------------------------------------------------------
    def _action(self, menu: QMenu, text: str, slot, shortcut=None, name: str = "") -> QAction:
        """A menu item whose failures are reported naming it (or `name`)."""
        action = menu.addAction(text)
        action.triggered.connect(on_action(action, lambda: slot(), name or None))
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu(translate("MainWindow", "&File"))
        self._action(file, translate("MainWindow", "Open dataset…"), self._open_dataset,
                     QKeySequence.StandardKey.Open)
        self.recent_menu = file.addMenu(translate("MainWindow", "Open recent dataset"))
        self.recent_menu.aboutToShow.connect(on_action(self.recent_menu, self._fill_recent_menu))
        self._action(file, translate("MainWindow", "Open run…"), self._choose_run)
        file.addSeparator()
        self._action(file, translate("MainWindow", "Load config…"),
                     self.config_tab.ask_load_config)
        self._action(file, translate("MainWindow", "Save config…"),
                     self.config_tab.ask_save_config)
        file.addSeparator()
        self._action(file, translate("MainWindow", "Create demo dataset"),
                     self._create_demo_dataset)
        self._action(file, translate("MainWindow", "Sort an unsorted folder…"), lambda: (
            self.show_tab(self.dataset_tab), self.dataset_tab.sorting.choose_folder()))
        file.addSeparator()
        self._action(file, translate("MainWindow", "Quit"), self.close,
                     QKeySequence.StandardKey.Quit)
        run = bar.addMenu(translate("MainWindow", "&Run"))
        self.start_action = self._action(run, translate("MainWindow", "Start training"),
                                         self.start_training, "Ctrl+R")
        self.pause_action = self._action(run, translate("MainWindow", "Pause"),
                                         self.training_tab.pause, "Ctrl+Shift+P")
        self.resume_action = self._action(run, translate("MainWindow", "Resume"),
                                          self.training_tab.resume, "Ctrl+Shift+R")
        self.stop_action = self._action(run, translate("MainWindow", "Stop…"), self.stop_training,
                                        "Esc")
        run.addSeparator()
        self._action(run, translate("MainWindow", "Sweep…"), self.open_sweep)
        view = bar.addMenu(translate("MainWindow", "&View"))
        for i, title in enumerate(TAB_TITLES):
            self._action(view, translate("MainWindow", title),
                         lambda i=i: self.tabs.setCurrentIndex(i), f"Ctrl+{i + 1}")
        view.addSeparator()
        self._action(view, translate("MainWindow", "Show training log"),
                     lambda: self.training_tab.log.set_expanded(not self.training_tab.log.expanded))
        self._action(view, translate("MainWindow", "Export curves as PNG…"), self._export_curves)
        view.addSeparator()
        self.language_menu = LanguageMenu(self.settings, self)
        view.addMenu(self.language_menu)
        help_menu = bar.addMenu(translate("MainWindow", "&Help"))
        self._action(help_menu, translate("MainWindow", "Open README"), self._open_readme)
        self._action(help_menu, translate("MainWindow", "About LoRA Studio"), self._about)

    def _update_actions(self) -> None:
        if not hasattr(self, "stop_action"):
            return
        phase = self.training_tab.phase()
        self.start_action.setEnabled(self.training_tab.start_button.isEnabled())
        self.pause_action.setEnabled(phase == "running")
        self.resume_action.setEnabled(phase == "paused")
        self.stop_action.setEnabled(phase in ("running", "paused"))

    def _open_dataset(self) -> None:
        self.show_tab(self.dataset_tab)
        self.dataset_tab.choose_folder()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        folders = self.settings.recent("datasets")
        for folder in folders:
            self._action(self.recent_menu, folder, lambda f=folder: self._open_recent(f),
                         name=self.recent_menu.title())
        if not folders:
            self.recent_menu.addAction(translate("MainWindow", "(none yet)")).setEnabled(False)

    def _open_recent(self, folder: str) -> None:
        self.show_tab(self.dataset_tab)
        self.dataset_tab.open_folder(folder)

    def _create_demo_dataset(self) -> None:
        self.show_tab(self.dataset_tab)
        self.dataset_tab.create_demo_dataset()

    def _choose_run(self) -> None:
        root = self.settings.last_folder("runs", self.config_tab.config().output_dir)
        folder = QFileDialog.getExistingDirectory(
            self, translate("MainWindow", "Open a run folder"), root)
        if folder:
            self.open_run(folder)

    def open_run(self, run_dir: str) -> None:
        """Show a saved run: its curves and result in Training, its model in Prediction."""
        if not (Path(run_dir) / "run.json").is_file():
            self.notify(translate("MainWindow", "Not a run folder"), translate(
                "MainWindow", "{folder} has no run.json, so it is not a LoRA Studio run. Choose "
                "one of the folders inside your runs folder.").format(folder=run_dir))
            return
        self.settings.add_recent("runs", run_dir)
        self.training_tab.show_run(run_dir)
        self.prediction_tab.open_run(run_dir)
        self.show_tab(self.training_tab)

    def start_training(self) -> None:
        self.show_tab(self.training_tab)
        self.training_tab.start()
        self._update_actions()

    def open_sweep(self) -> None:
        """Run > Sweep…: gui/sweep_dialog.py, on the Config tab's settings."""
        from gui.sweep_dialog import open_sweep_dialog

        self.sweep_dialog = open_sweep_dialog(self, self.config_tab, lambda: self.dataset_index,
                                              getattr(self, "sweep_dialog", None))

    def stop_training(self) -> None:
        """Run > Stop (Esc): confirmed first, because Esc is easy to hit by accident."""
        if self.training_tab.is_running() and self.confirm(
                translate("MainWindow", "Stop training?"),
                translate("MainWindow", "Stop the run after the current step? The model trained "
                          "so far is saved and can be used or continued later.")):
            self.training_tab.stop()

    def show_error(self, text: str) -> None:
        """Where gui.errors reports a failed action: the banner above the tabs."""
        self.error_banner.show_error(text)

    def clear_error(self) -> None:
        """The failed action has since run without failing (gui.errors)."""
        self.error_banner.clear()

    def notify(self, title: str, text: str) -> QMessageBox:
        """A non-blocking message (open(), not exec(): nothing waits on the user)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.open()
        self.last_notice = box
        return box

    def confirm(self, title: str, text: str) -> bool:
        """A yes/no question (tests replace this to answer without a dialog)."""
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def _export_curves(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, translate("MainWindow", "Export curves"),
                                              "curves.png", translate("MainWindow", "PNG (*.png)"))
        if path:
            self.training_tab.plots.export_png(path)

    def _open_readme(self) -> None:
        readme = README.with_name("README.zh-CN.md") if current_language() == "zh_CN" else README
        readme = readme if readme.is_file() else README
        if readme.is_file():
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(readme)))
        else:
            QMessageBox.information(self, "README", translate(
                "MainWindow", "The README is not bundled with this build; see the project's "
                "home page."))

    def _about(self) -> None:
        from gui.about import about_text

        QMessageBox.about(self, translate("MainWindow", "About LoRA Studio"), about_text())

    # --- closing ------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.training_tab.is_running():
            event.ignore()
            if self._closing:
                return  # already stopping; the window closes when the run has ended
            if self.confirm(translate("MainWindow", "Training is running"),
                            translate("MainWindow", "Stop the run and quit? The model trained so "
                                      "far is saved first.")):
                self._closing = True
                self.training_tab.stop()
                # The window stays, saying why, until the run has ended (then it closes):
                # nothing else can be started meanwhile.
                self.closing_banner.show()
                self.tabs.setEnabled(False)
                self.menuBar().setEnabled(False)
                self.status.set_note(self.closing_banner.text(), "closing")
            return
        self.settings.save_geometry("main", self.saveGeometry())
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Wait for every background thread (training, scans, checks) before the window goes."""
        if getattr(self, "sweep_dialog", None) is not None:
            self.sweep_dialog.shutdown()
        self.training_tab.wait_for_worker()
        self.training_tab.shutdown()
        self.config_tab.shutdown()
        self.status.wait()
        for tab in (self.dataset_tab, self.prediction_tab):
            tab.shutdown()
