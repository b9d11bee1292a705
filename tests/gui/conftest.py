"""GUI test fixtures: isolated settings and data folders, the main window, a fake engine
(real engine.events objects, for fast control-flow tests) and one real trained tiny run.

QSettings is redirected to a temporary INI file and LORA_STUDIO_HOME / _CACHE_DIR to
temporary folders, so no test reads or writes the user's real profile, runs or caches.
"""
from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Iterator

import pytest
from PySide6.QtCore import QSettings

from engine.config import TrainConfig
from engine.training.control import TrainControl
from engine.events import (CheckpointSaved, Evaluation, Event, Log, Progress, RunFinished,
                           RunStarted, Step)
from gui.settings import Settings


@pytest.fixture(autouse=True)
def isolated_profile(tmp_path, monkeypatch):
    """Every GUI test gets its own settings file, data folder and cache folder."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))
    monkeypatch.setenv("LORA_STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LORA_STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    yield
    # Collect this test's widgets here, in the GUI thread. Left to chance, Python's cyclic
    # garbage collector may run in a worker thread of a later test and delete Qt widgets
    # there, which aborts the process.
    gc.collect()


@pytest.fixture(autouse=True)
def no_unexpected_error_reports(request):
    """A failure gui.errors caught and showed in the window fails the test too, unless the
    test expects it (the `error_reports` fixture): a caught error must not pass unseen."""
    from gui.errors import shown_messages

    before = len(shown_messages())
    yield
    if "error_reports" not in request.fixturenames:
        shown = shown_messages()[before:]
        assert not shown, "the window reported a failure:\n" + "\n".join(shown)


@pytest.fixture
def error_reports():
    """reports() -> the messages gui.errors has shown since the test began."""
    from gui.errors import reporter

    history = reporter().history
    start = len(history)
    return lambda: history[start:]


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


def finish_runs(window) -> None:
    """Stop a run and let its end reach the window (before pytest-qt closes and deletes it)."""
    from PySide6.QtWidgets import QApplication

    tab = window.training_tab
    if tab.is_running():
        tab.stop()
        tab.wait_for_worker()
    deadline = time.monotonic() + 60
    while tab.is_running() and time.monotonic() < deadline:
        QApplication.processEvents()  # delivers the worker's last signals
    assert not tab.is_running()


@pytest.fixture
def main_window(qtbot, settings):
    """The assembled window, shown; at teardown a run still going is stopped first."""
    from gui.main_window import MainWindow

    window = MainWindow(settings)
    window.confirm = lambda title, text: True  # tests answer "yes" unless they replace it
    qtbot.addWidget(window, before_close_func=finish_runs)
    window.show()
    return window


def _tiny_config(tiny_clip_dir, data_dir, output_dir, **changes) -> TrainConfig:
    """A config the tiny CLIP trains in seconds on 2 CPU cores."""
    base = TrainConfig(data_dir=str(data_dir), model=str(tiny_clip_dir), output_dir=str(output_dir),
                       epochs=2, batch_size=16, lr=5e-3, head_lr=1e-2, lora_dropout=0.0,
                       early_stop_patience=0, num_threads=1, precision="fp32")
    return base.replace(**changes)


def _fake_train(steps: int = 30, *, steps_per_epoch: int = 10, delay: float = 0.0,
               fail_at: int | None = None, raise_at: int | None = None, classes=("cat", "dog"),
               prelude=(), postlude=(), gate=None, hold_at: int | None = None):
    """A stand-in for engine.training.loop.train yielding real event objects; honours the control.

    fail_at: finish with status "failed" at that step (like the engine does);
    raise_at: raise an exception at that step (a bug in the loop);
    prelude / postlude: events yielded before RunStarted / after the last step (Progress of
    decoding, of the test report...);
    gate: a threading.Semaphore the fake acquires after each prelude/postlude event and after
    step hold_at, so a test sees each state before the next (gate.release() lets one go on).
    """
    def held() -> None:
        if gate is not None:
            gate.acquire(timeout=30)

    def train(config: TrainConfig, control: TrainControl, dataset=None) -> Iterator[Event]:
        run_dir = Path(config.output_dir) / (config.run_name or "fake-run")
        run_dir.mkdir(parents=True, exist_ok=True)
        epochs = max(1, steps // steps_per_epoch)
        yield Progress(stage="decode", done=0, total=4, message="Decoding images")
        for event in prelude:
            yield event
            held()
        yield RunStarted(run_dir=str(run_dir), run_name=run_dir.name, classes=list(classes),
                         total_steps=steps, steps_per_epoch=steps_per_epoch, epochs=epochs,
                         device="cpu (2 threads)", precision="fp32", trainable_params=100,
                         total_params=1000, num_train=40, num_val=10, num_test=10)
        yield Evaluation(step=0, epoch=0, split="val", loss=1.4, accuracy=0.3, zero_shot=True)
        best = 0.3
        for step in range(1, steps + 1):
            control.wait_while_paused(0.005)
            if control.stop_requested:
                yield RunFinished(status="stopped", run_dir=str(run_dir), best_val_accuracy=best)
                return
            if raise_at == step:
                raise RuntimeError("simulated bug in the loop")
            if fail_at == step:
                yield Log(level="error", message="simulated failure details")
                yield RunFinished(status="failed", run_dir=str(run_dir),
                                  error="The GPU ran out of memory. Lower the batch size.")
                return
            if delay:
                time.sleep(delay)
            yield Step(step=step, epoch=step / steps_per_epoch, loss=1.5 / step, lr=1e-3,
                       accuracy=min(1.0, 0.3 + step / steps), images_per_s=100.0,
                       eta_s=(steps - step) * delay)
            if step % steps_per_epoch == 0:
                best = min(1.0, 0.4 + step / (2 * steps))
                epoch = step // steps_per_epoch
                yield Evaluation(step=step, epoch=epoch, split="val", loss=1.0 / step,
                                 accuracy=best, is_best=True)
                yield CheckpointSaved(step=step, epoch=epoch, path=str(run_dir), label="last")
            if step == hold_at:
                held()
        for event in postlude:
            yield event
            held()
        yield RunFinished(status="completed", run_dir=str(run_dir), best_val_accuracy=best,
                          best_epoch=epochs, test_accuracy=best - 0.05, elapsed_s=1.5)
    return train


@pytest.fixture
def fake_train():
    """Factory of fake engines: fake_train(steps=..., delay=..., fail_at=..., raise_at=...)."""
    return _fake_train


@pytest.fixture
def tiny_config():
    """tiny_config(tiny_clip_dir, data_dir, output_dir, **changes) -> a seconds-long TrainConfig."""
    return _tiny_config


@pytest.fixture(scope="session")
def trained_run(tiny_clip_dir, learnable_dir, tmp_path_factory) -> Path:
    """One completed run of the REAL engine on the tiny CLIP (shared by several tests)."""
    from engine.training.loop import train

    out = tmp_path_factory.mktemp("runs")
    config = _tiny_config(tiny_clip_dir, learnable_dir, out, run_name="tiny-run",
                         cache_dir=str(out / "cache"))
    events = list(train(config))
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.status == "completed", finished
    return Path(finished.run_dir)


@pytest.fixture
def training_tab(qtbot, settings):
    """training_tab(provider=None) -> a shown TrainingTab (config from `provider`, nothing
    blocking); at teardown a run still going is stopped and the tab shut down."""
    from gui.tabs.training_tab import TrainingTab

    made = []

    def make(provider=None):
        tab = TrainingTab(settings)
        if provider is not None:
            tab.set_config_provider(provider)
        tab.set_blocker("")
        qtbot.addWidget(tab)
        tab.resize(1200, 800)
        tab.show()
        made.append(tab)
        return tab

    yield make
    for tab in made:
        if tab.is_running():
            tab.stop()
            tab.wait_for_worker()
        qtbot.waitUntil(lambda: not tab.is_running(), timeout=30_000)
        tab.shutdown()
