"""Live prediction in the Prediction tab: the "Camera" and "Video file…" sources, the live
page (gui.widgets.live_view) and the threads behind it (gui.live_worker).

Sources put their newest frame in a one-slot mailbox that the classifier thread empties
with the tab's loaded predictor; frames that arrive meanwhile replace the waiting one.
The GUI thread only paints the newest frame (a 30 Hz timer) and the newest prediction.
Snapshot saves the classified frame with its prediction; Add to dataset copies it into
a class folder of the dataset open in step 1, after the user confirmed the target path.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QEvent, QObject, QT_TRANSLATE_NOOP, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QPushButton

from gui.errors import on_action
from gui.i18n import translate
from gui.live_worker import ClassifierThread, Latest, Mailbox, Rate, VideoThread
from gui.widgets.live_view import LivePage

DISPLAY_MS = 33  # the page shows the newest frame up to 30 times a second
VIDEO_FILTER = QT_TRANSLATE_NOOP("LiveFlow", "Videos (*.mp4 *.m4v *.mov *.avi *.mkv *.webm "
                                 "*.mpg *.mpeg *.wmv *.ts *.3gp *.ogv);;All files (*)")


class LiveFlow(QObject):
    result_shown = Signal(object)  # the LiveResult whose bars are shown now

    def __init__(self, tab) -> None:
        super().__init__(tab)
        self.tab = tab
        self.dataset_provider: Callable[[], object] = lambda: None  # step 1's DatasetIndex
        self.confirm: Callable[[str, str], bool] = lambda title, text: False
        self.mode = ""  # "camera" | "video" | "" (the results view)
        self.video_path, self.duration, self.position = "", 0.0, 0.0
        self.result = None  # the LiveResult shown
        self.mailbox, self.latest = Mailbox(), Latest()
        self.classifier: ClassifierThread | None = None
        self.video: VideoThread | None = None
        self.camera = None  # gui.live_camera.CameraSource, made on first use
        self._pending = False  # start once the run being loaded is loaded
        self._serial = 0
        self.shown_rate, self.classified_rate = Rate(), Rate()
        self.camera_button = QPushButton(translate("LiveFlow", "Camera"))
        self.video_button = QPushButton(translate("LiveFlow", "Video file…"))
        row = tab.source_buttons
        for button, slot in ((self.camera_button, self.open_camera),
                             (self.video_button, self.choose_video)):
            button.clicked.connect(on_action(button, slot))
            row.insertWidget(row.count() - 1, button)
        self.page = page = LivePage()
        page.hide()
        tab.layout().addWidget(page, 1)
        page.installEventFilter(self)
        for button, slot in ((page.start_button, self.start), (page.stop_button, self.stop),
                             (page.back_button, self.back), (page.snapshot_button, self.snapshot),
                             (page.folder_button, self.choose_snapshot_folder),
                             (page.add_button, self.add_to_dataset)):
            button.clicked.connect(on_action(button, slot))
        page.pause_button.toggled.connect(on_action(page.pause_button, self.pause))
        page.slider.sliderReleased.connect(on_action(page.slider, self._on_seek))
        page.camera_combo.activated.connect(on_action(page.camera_combo, self._on_camera_picked))
        tab.run_opened.connect(self._on_run_opened)
        self.display_timer = QTimer(self, interval=DISPLAY_MS)
        self.display_timer.timeout.connect(self._on_display_timer_timeout)
        self.stats_timer = QTimer(self, interval=500)
        self.stats_timer.timeout.connect(self._show_stats)

    # -- sources -------------------------------------------------------------------
    def take_videos(self, paths: list[str]) -> list[str]:
        """Dropped or chosen paths: the first video file opens here; the rest is returned."""
        from engine.use.video import is_video

        videos = [p for p in paths if is_video(p)]
        if videos:
            self.open_video(videos[0])
        return [p for p in paths if not is_video(p)]

    def choose_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.tab, translate("LiveFlow", "Choose a video to predict"), "",
            translate("LiveFlow", VIDEO_FILTER))
        if path:
            self.open_video(path)

    def open_video(self, path: str) -> None:
        from engine.errors import UserError
        from engine.use.video import open_video

        try:
            with open_video(path) as reader:
                duration = float(reader.duration or 0.0)
        except UserError as exc:
            self.tab._say(str(exc), "live")
            return
        self.stop()
        self.mode, self.video_path, self.duration, self.position = "video", path, duration, 0.0
        self._show_page(translate("LiveFlow", "Video: {name}").format(name=Path(path).name))
        self.start()

    def open_camera(self) -> None:
        from gui.live_camera import cameras, multimedia, no_camera_text

        problem = multimedia()
        found = [] if isinstance(problem, str) else cameras()
        if not found:
            self.tab._say(problem if isinstance(problem, str) else no_camera_text(), "live")
            return
        self.stop()
        combo = self.page.camera_combo
        combo.clear()
        for name, camera_id in found:
            combo.addItem(name, camera_id)
        self.mode = "camera"
        self._show_page(translate("LiveFlow", "Camera"))
        self.start()

    # -- running -------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.classifier is not None

    def start(self) -> None:
        predictor = self.tab.service.predictor
        if predictor is None or not self.tab.run_dir:
            self._pending = True
            if self.tab._loading:
                return
            if self.tab._default_run:  # the newest run, as for dropped images
                self.tab.open_run(self.tab._default_run)
                return
            self._pending = False
            self.tab._say(translate(
                "LiveFlow", "There is no model to predict with yet. Train one in step 3 "
                "(Training), or open a run folder with “Open run folder…”, then press "
                "Start."), "live")
            return
        self.stop()
        if self.mode == "camera" and not self._start_camera():
            return
        self.mailbox, self.latest = Mailbox(), Latest()
        self.shown_rate, self.classified_rate = Rate(), Rate()
        self.classifier = ClassifierThread(self.mailbox, predictor, top_k=5,
                                           lock=self.tab.service.predictor_lock)
        self.classifier.classified.connect(self._on_classified)
        self.classifier.failed.connect(self._on_failed)
        if self.mode == "video":
            start = self.position if self.position < self.duration - 0.05 else 0.0
            self.video = VideoThread(self.video_path, start, self.mailbox, self.latest)
            self.video.ended.connect(self._on_ended)
            self.video.failed.connect(self._on_failed)
            self.video.start()
        self.classifier.start()
        self.tab.message.clear("live")
        self.display_timer.start()
        self.stats_timer.start()
        self.page.set_playing(True)

    def stop(self, ended: bool = False) -> None:
        """Stop the source and the classifier and wait for their threads (never killed)."""
        self._pending = False
        if self.camera is not None:
            self.camera.stop()
        for thread in (self.video, self.classifier):
            if thread is not None:
                thread.stop()
                thread.wait()
        was_running = self.classifier is not None
        self.video = self.classifier = None
        self.display_timer.stop()
        self.stats_timer.stop()
        if was_running:
            self._on_display_timer_timeout()
            self._show_stats()
        self.page.set_playing(False, ended)

    def pause(self, paused: bool) -> None:
        if self.video is not None:
            self.video.pause(paused)

    def back(self) -> None:
        self.stop()
        self.mode = ""
        self.page.hide()
        for widget in self._results_widgets():
            widget.show()
        self.tab.busy.setVisible(self.tab.service.busy)

    def shutdown(self) -> None:
        self.stop()

    # -- snapshot and dataset (gui.live_snapshot writes the files) -------------------
    def snapshot_folder(self, ask: bool = False) -> Path | None:
        from gui.live_snapshot import default_snapshot_folder

        settings = getattr(self.tab._settings, "qsettings", None)
        saved = str(settings.value("live/snapshot_folder") or "") if settings else ""
        if saved and not ask:
            return Path(saved)
        default = default_snapshot_folder()
        default.mkdir(parents=True, exist_ok=True)
        chosen = QFileDialog.getExistingDirectory(
            self.tab, translate("LiveFlow", "Where should snapshots be saved?"),
            saved or str(default))
        if not chosen:
            return None
        if settings is not None:
            settings.setValue("live/snapshot_folder", chosen)
            settings.sync()
        return Path(chosen)

    def choose_snapshot_folder(self) -> None:
        self.snapshot_folder(ask=True)

    def snapshot(self) -> None:
        from gui.live_snapshot import frame_stem, save_snapshot

        result = self._needs_result()
        if result is None:
            return
        folder = self.snapshot_folder()
        if folder is None:
            return
        frame = result.frame
        info = {"source": self._source_name(), "frame_index": frame.index,
                "frame_time": round(frame.time, 3), "run": self.tab.run_dir,
                "backend": getattr(self.classifier_predictor(), "backend", ""),
                "prediction": result.prediction.to_dict()}
        png = save_snapshot(folder, self._stem(frame, frame_stem), frame.shown, info)
        self.tab._say(translate("LiveFlow", "Saved {name} and its prediction ({json}) in "
                                "{folder}.").format(name=png.name, json=png.with_suffix(
                                    ".json").name, folder=folder), "live")

    def add_to_dataset(self) -> None:
        from gui.live_snapshot import class_folder, frame_stem, next_free, png_bytes, write_new
        from gui.widgets.class_picker import ClassPicker

        result = self._needs_result()
        if result is None:
            return
        index = self.dataset_provider()
        if index is None:
            self.tab._say(translate("LiveFlow", "No dataset is open. Open the dataset to add "
                                    "frames to in step 1 (Dataset), then press Add to dataset "
                                    "again."), "live")
            return
        if class_folder(index, "x") is None:
            self.tab._say(translate("LiveFlow", "The dataset open in step 1 is listed in a CSV "
                                    "file: frames can only be added to a dataset of class "
                                    "folders. Save the snapshot instead."), "live")
            return
        picker = ClassPicker([c.display_name for c in index.classes], translate(
            "LiveFlow", "Which class does this frame show?"),
            current=result.prediction.best_guess, parent=self.tab)
        if not picker.exec() or not picker.chosen():
            return
        label = picker.chosen()
        folder = class_folder(index, label)
        stem = self._stem(result.frame, frame_stem)
        target = next_free(folder, stem)
        if not self.confirm(translate("LiveFlow", "Add this frame to the dataset?"), translate(
                "LiveFlow", "The frame will be copied to:\n{path}\n\nNo file is replaced.")
                .format(path=target)):
            return
        written = write_new(folder, stem, ".png", png_bytes(result.frame.shown))
        self.tab._say(translate("LiveFlow", "Added {name} to the class {label} ({folder}). It "
                                "is used from the next scan of the dataset in step 1.").format(
            name=written.name, label=label, folder=folder), "live")

    def classifier_predictor(self):
        return self.tab.service.predictor

    # -- internals -----------------------------------------------------------------
    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt API)
        if watched is self.page and event.type() == QEvent.Type.Hide and self.running:
            self.stop()  # the tab was left, or the window closed: the camera goes off
        return False

    def _results_widgets(self) -> list:
        tab = self.tab
        return [tab.drop_zone, tab.result_bar, tab.results]

    def _show_page(self, title: str) -> None:
        for widget in (*self._results_widgets(), self.tab.busy):
            widget.hide()
        self.result, self._serial = None, 0
        self.page.bars.set_top([])
        self.page.frame_view.show_image(None)
        self.page.set_source(self.mode == "camera", title)
        self.page.show_position(0.0, self.duration)
        self.page.show()

    def _start_camera(self) -> bool:
        from gui.live_camera import CameraSource, permission_problem

        problem = permission_problem(self.start)
        if problem:
            self.tab._say(problem, "live")
            return False
        if self.camera is None:
            self.camera = CameraSource(self)
            self.camera.frame.connect(self.feed)
            self.camera.failed.connect(self._on_failed)
        problem = self.camera.start(self.page.camera_combo.currentData() or b"")
        if problem:
            self.tab._say(problem, "live")
            return False
        return True

    def feed(self, frame) -> None:
        """A camera frame (LiveFrame): shown next, and classified unless a newer one comes."""
        if self.running:
            self.latest.set(frame)
            self.mailbox.put(frame)

    def _needs_result(self):
        if self.result is None:
            self.tab._say(translate("LiveFlow", "Nothing to save yet: start the camera or the "
                                    "video and wait for the first prediction."), "live")
        return self.result

    def _source_name(self) -> str:
        return self.camera.name if self.mode == "camera" and self.camera else self.video_path

    def _stem(self, frame, frame_stem) -> str:
        return frame_stem(self.video_path, frame.time, self.mode == "camera")

    def _on_display_timer_timeout(self) -> None:
        serial, frame = self.latest.get()
        if frame is None or serial == self._serial:
            return
        self._serial = serial
        self.shown_rate.tick()
        self.page.frame_view.show_image(frame.shown)
        if self.mode == "video":
            self.position = frame.time
            self.page.show_position(frame.time, self.duration)

    def _on_classified(self, result) -> None:
        if self.classifier is None or self.sender() is not self.classifier:
            return  # from a classifier already stopped
        self.result = result
        self.classified_rate.tick()
        self.page.bars.k = max(1, min(5, self.tab.top_k.value()))
        self.page.bars.set_top(result.prediction.top)
        self.result_shown.emit(result)

    def _show_stats(self) -> None:
        if self.result is None:
            return
        predictor = self.tab.service.predictor
        self.page.fps_label.setText(translate(
            "LiveFlow", "{classified:.1f} frames/s classified ({ms:.0f} ms each) · shown at "
            "{shown:.0f} frames/s · {dropped:,} frames dropped · {backend}").format(
            classified=self.classified_rate.per_second(), ms=1000 * self.result.seconds,
            shown=self.shown_rate.per_second(), dropped=self.mailbox.dropped,
            backend=getattr(predictor, "backend", "torch")))

    def _on_ended(self) -> None:
        self.stop(ended=True)
        self.position = 0.0
        self.tab._say(translate("LiveFlow", "The video has ended. Press Play again to watch it "
                                "from the start, or Back to results."), "live")

    def _on_failed(self, message: str) -> None:
        self.stop()
        self.tab._say(message, "live")

    def _on_seek(self) -> None:
        self.position = self.page.slider.value() / 10
        self.page.show_position(self.position, self.duration)
        if self.video is not None:
            self.start()

    def _on_camera_picked(self, _row: int) -> None:
        if self.mode == "camera" and self.running:
            self.start()

    def _on_run_opened(self, _run_dir: str) -> None:
        if self._pending or (self.running and self.mode):
            self._pending = False
            self.start()  # with the model just loaded
