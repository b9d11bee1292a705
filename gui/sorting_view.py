"""Sorting an unsorted folder inside the Dataset tab, start to end: ask for the folder and
the class names, embed and propose in the background (gui.sorting_flow), confirm in the
sorting page, autosave the session, and turn the decisions into a dataset the tab opens
(or copies in class folders elsewhere). Re-proposing with a trained run closes the
active-learning loop. The unsorted folder itself is only read, unless the user ticked
"move instead" and confirmed the list of every move.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox

from gui.engine_texts import engine_again
from gui.errors import on_action
from gui.i18n import dynamic, translate
from gui.scan_worker import FunctionThread, keep_alive
from gui.sorting_flow import SortingFlow
from gui.sorting_start import SortingStartDialog
from gui.widgets.sorting_page import SortingPage

MAX_LISTED = 40  # copies or moves named in the question; its details list every one


def _runs_root() -> str:
    from gui.tabs.config_tab import default_output_dir

    return default_output_dir()


class SortingView(QObject):
    """Attached to a DatasetTab: adds the sorting page and wires its starting points."""

    def __init__(self, tab) -> None:
        super().__init__(tab)
        self.tab = tab
        self.runs_root = _runs_root  # main_window may point it at the Config tab's folder
        self.flow = flow = SortingFlow(tab)
        self.page = page = SortingPage()
        tab.pages.addWidget(page)
        self.session = None
        self.images: list[str] = []
        self._lister: FunctionThread | None = None
        self._moved = False  # the last copy_to_folders moved instead of copying
        self._quiet = False  # the next proposals come from a finished run: stay where you are
        flow.busy.connect(lambda text: tab.busy.set_text(text) if tab.busy.active
                          else tab.busy.start(text))
        flow.progress.connect(tab.busy.progress)
        flow.idle.connect(tab.busy.stop)
        tab.busy.cancel_button.clicked.connect(on_action(tab.busy.cancel_button, flow.cancel))
        flow.message.connect(self._say)
        flow.ready.connect(self._on_ready)
        flow.proposals.connect(page.update_proposals)
        flow.copied.connect(self._on_copied)
        from gui.neighbours_flow import attach_more_like_in
        from gui.sorting_map import attach_sorting_map

        self.map_button = attach_sorting_map(self)

        self.neighbours = attach_more_like_in(
            page.grid, page.grid_column,
            lambda: (page.paths, page.vectors, dict(zip(page.paths, page.labels))),
            page.current_path, page.show_path)
        self._save_timer = QTimer(self, singleShot=True, interval=500)
        self._save_timer.timeout.connect(self.save_session)
        self._propose_timer = QTimer(self, singleShot=True, interval=400)
        self._propose_timer.timeout.connect(self._repropose)
        page.decisions_changed.connect(self._save_timer.start)
        page.decisions_changed.connect(self._propose_timer.start)
        page.save_requested.connect(on_action(page.save_button, self.save_dataset))
        page.copy_requested.connect(on_action(page.copy_button, self.copy_to_folders))
        page.repropose_requested.connect(on_action(page.repropose_button, self.choose_run))
        page.back.connect(on_action(page.back_button, self._back))
        for button in (tab.drop_zone.unsorted_button, tab.unsorted_button):
            button.setToolTip(translate("SortingView", "Sort a folder of unsorted photos: name "
                                        "the classes, the model proposes, you confirm; the "
                                        "folder itself is only read"))
            button.clicked.connect(on_action(button, self.choose_folder))

    # -- starting ------------------------------------------------------------------------
    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self.tab, translate("SortingView", "Choose a folder of unsorted images"),
            str(Path.home()))
        if path:
            self.open(path)

    def open(self, folder: str) -> None:
        """List `folder`'s images (in a worker: the listing imports the engine), then ask for
        the classes, or resume the session saved for it."""
        folder = str(Path(folder).expanduser().resolve())
        if self.page.result is not None and self.session and self.session.folder == folder:
            self.tab.pages.setCurrentWidget(self.page)  # still here: back to it
            return

        def work(_report):
            from engine.review.sorting import list_images

            return list_images(folder)

        thread = FunctionThread(work, translate("SortingView", "listing {folder}").format(
            folder=folder), self, needs="torch")
        self._lister = keep_alive(thread)
        thread.succeeded.connect(lambda images: self._on_listed(folder, images))
        thread.failed.connect(lambda text: (self.tab.busy.stop(), self._say(dynamic(
            lambda: translate("SortingView", "⚠ {error}").format(error=engine_again(text))))))
        self.tab.busy.start(translate("SortingView", "Listing the images of {folder}…").format(
            folder=folder))
        thread.start()

    def _on_listed(self, folder: str, images: list[str]) -> None:
        from engine.review.sorting_session import SortingSession, read_session

        self.tab.busy.stop()
        if not images:
            self._say(translate("SortingView", "⚠ {folder} holds no images (JPEG, PNG, WebP, "
                                "…), in it or in its sub-folders: choose the folder that holds "
                                "your photos.").format(folder=folder))
            return
        session = read_session(folder)
        if session is None:
            model = self.tab.model_for_checks()
            dialog = SortingStartDialog(folder, len(images), model, self.tab)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            session = SortingSession(folder=folder, classes=dialog.classes, model=model,
                                     examples=dialog.examples)
        self.session, self.images = session, images
        self.flow.start(images, session.classes, session.model, session.examples,
                        self._confirmed_rows(), run=session.run)

    def _confirmed_rows(self) -> dict[str, int]:
        s = self.session
        return {p: s.classes.index(c) for p, c in s.confirmed.items()}

    def _on_ready(self, result) -> None:
        s = self.session
        known = set(result.paths)
        self.page.start(s.folder, s.classes, result,
                        {p: c for p, c in s.confirmed.items() if p in known},
                        [p for p in s.excluded if p in known], s.proposed)
        self.tab.banner.clear("sorting")
        if self._quiet:  # the active-learning loop: the user may be on another page or tab
            self._quiet = False
            left = len(result.paths) - len(self.page.confirmed()) - len(self.page.excluded())
            self._say(translate("SortingView", "The run {run} now proposes the {count} images "
                                "still unsorted in {folder}: “Unsorted folder…” takes you back "
                                "to them.").format(run=Path(s.run).name, count=left,
                                                   folder=s.folder))
            return
        if result.failed:
            listed = "\n".join(f"{f['path']}: {f['reason']}" for f in result.failed[:20])
            self._say(translate("SortingView", "⚠ {count} images could not be read and are left "
                                "out:\n{files}").format(count=len(result.failed), files=listed))
        self.tab.pages.setCurrentWidget(self.page)
        self.page.grid.setFocus()

    def _repropose(self) -> None:
        names = self.session.classes if self.session else []
        self.flow.repropose({p: names.index(c) for p, c in self.page.confirmed().items()})

    def repropose_with_run(self, run_dir: str) -> None:
        """Embed again with a trained run's model and let its head propose the rest."""
        if self.session is None:
            return
        self.save_session()
        self.session.run = str(run_dir)
        self.flow.start(self.images, self.session.classes, self.session.model,
                        self.session.examples, self._confirmed_rows(), run=str(run_dir))

    def on_run_finished(self, run_dir: str) -> None:
        """The active-learning loop: a run trained on this sorting's saved dataset proposes
        the images still unsorted, without taking the user away from where they are."""
        from engine.review.sorting_session import trained_on

        s = self.session
        if s is None or self.page.result is None or not trained_on(run_dir, s.dataset):
            return
        self._quiet = self.tab.pages.currentWidget() is not self.page or not self.tab.isVisible()
        self.repropose_with_run(run_dir)

    def choose_run(self) -> None:
        from engine.review.sorting_session import newest_run_for

        suggested = newest_run_for(self.session.dataset, self.runs_root()) if self.session else ""
        path = QFileDialog.getExistingDirectory(
            self.tab, translate("SortingView", "Choose a run trained on this sorting's dataset"),
            suggested or self.runs_root())
        if path:
            self.repropose_with_run(path)

    # -- the session ---------------------------------------------------------------------
    def save_session(self) -> None:
        from engine.review.sorting_session import write_session

        if self.session is None or self.page.result is None:
            return
        self.session.confirmed = self.page.confirmed()
        self.session.excluded = self.page.excluded()
        self.session.proposed = dict(self.page.proposed_at)
        write_session(self.session)

    # -- results -------------------------------------------------------------------------
    def save_dataset(self) -> str:
        """Write the confirmed images as a CSV dataset and open it in the tab."""
        from engine.errors import UserError
        from engine.review.sorted_output import write_sorted_csv

        try:
            path = str(write_sorted_csv(self.page.confirmed(), self.session.classes,
                                        self.session.folder))
        except (UserError, OSError) as exc:
            error = str(exc)
            self._say(dynamic(lambda: translate("SortingView", "⚠ The dataset was not saved: "
                                                "{error}").format(error=engine_again(error))))
            return ""
        self.session.dataset = path
        self.save_session()
        self.tab.open_folder(path)  # clears the banner; the message follows
        count, folder = len(self.page.confirmed()), self.session.folder
        self._say(translate("SortingView", "Saved {count} confirmed images as the dataset {path}: "
                            "it is open, ready to train. Your folder {folder} is unchanged. "
                            "“Unsorted folder…” with the same folder comes back to the "
                            "sorting.").format(count=count, path=path, folder=folder))
        return path

    def copy_to_folders(self) -> None:
        from engine.errors import UserError
        from engine.review.sorted_output import plan_class_folders

        target = QFileDialog.getExistingDirectory(
            self.tab, translate("SortingView", "Choose where to make the class folders (outside "
                                "the unsorted folder)"), str(Path(self.session.folder).parent))
        if not target:
            return
        move = self.page.move_box.isChecked()
        try:
            moves = plan_class_folders(self.page.confirmed(), self.session.classes,
                                       self.session.folder, target, move=move)
        except UserError as exc:
            error = str(exc)
            self._say(dynamic(lambda: "⚠ " + engine_again(error)))
            return
        if self.confirm_list(moves, move):
            self._moved = move
            self.flow.copy(moves, move)

    def confirm_list(self, moves: list, move: bool) -> bool:
        """Ask, listing every copy or move (tests answer for the user)."""
        lines = [f"{m.source}  →  {m.target}" for m in moves]
        listed = "\n".join(lines[:MAX_LISTED])
        if len(lines) > MAX_LISTED:
            listed += "\n" + translate("SortingView", "… and {count} more (see details)").format(
                count=len(lines) - MAX_LISTED)
        text = (translate("SortingView", "This MOVES {count} images out of your unsorted folder:"
                          "\n\n{files}\n\nNothing is overwritten.") if move else
                translate("SortingView", "This copies {count} images into class folders:\n\n"
                          "{files}\n\nYour unsorted folder is not changed.")).format(
            count=len(moves), files=listed)
        box = QMessageBox(QMessageBox.Icon.Question,
                          translate("SortingView", "Move the images?") if move else
                          translate("SortingView", "Copy the images?"), text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                          self.tab)
        box.setDetailedText("\n".join(lines))
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Yes

    def _on_copied(self, count: int) -> None:
        text = translate("SortingView", "Moved {count} images into class folders.") \
            if self._moved else translate("SortingView", "Copied {count} images into class "
                                          "folders; your folder is unchanged.")
        self._say(text.format(count=count))

    # -- helpers -------------------------------------------------------------------------
    def _say(self, text) -> None:
        self.tab._show_banner(text, "sorting")

    def _back(self) -> None:
        self.save_session()
        self.tab.pages.setCurrentIndex(1 if self.tab.index is not None else 0)

    def shutdown(self) -> None:
        self._save_timer.stop()
        self._propose_timer.stop()
        self.save_session()
        if self._lister is not None:
            self._lister.wait()
        self.flow.shutdown()
        self.neighbours.shutdown()
        self.page.shutdown()
