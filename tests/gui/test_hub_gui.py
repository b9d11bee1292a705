"""The model picker's "Check" of a hub id: it downloads from the stand-in Hub with progress
in its status line, then loads; a misspelt id gets the plain message."""
from __future__ import annotations

import pytest

B32 = "openai/clip-vit-base-patch32"


@pytest.fixture
def picker(qtbot, monkeypatch):
    from gui.widgets.model_picker import ModelPicker

    widget = ModelPicker()
    qtbot.addWidget(widget)
    widget.shown = []  # every status line, in order
    show = widget._show_status

    def record(text, error=False):
        widget.shown.append(str(text))
        show(text, error)

    monkeypatch.setattr(widget, "_show_status", record)
    yield widget
    widget.wait()


def test_check_downloads_with_progress_then_loads(qtbot, hub, picker):
    from engine.model.hub import choose_files

    picker.set_value(B32)
    with qtbot.waitSignal(picker.check_finished, timeout=60_000) as checked:
        picker.check()
    ok, message = checked.args
    assert ok and "224 px" in message and picker.status.text().startswith("✓")
    downloading = [t for t in picker.shown if t.startswith(f"Downloading {B32}: ")]
    assert downloading and downloading[0].endswith(" MB…")
    assert picker.shown.index(downloading[-1]) < picker.shown.index(f"Loading {B32}…", 1)
    assert sorted(hub.fetched(B32)) == sorted(choose_files(list(hub.repos[B32].files)))


def test_check_of_a_misspelt_id_says_so(qtbot, hub, picker):
    picker.set_value("openai/clip-vit-base-patch23")
    with qtbot.waitSignal(picker.check_finished, timeout=60_000) as checked:
        picker.check()
    ok, message = checked.args
    assert not ok and message.startswith("'openai/clip-vit-base-patch23' was not found on the "
                                         "Hugging Face Hub")
    assert picker.status.text() == "✗ " + message and picker.demo_button.isVisibleTo(picker)
