"""The About box's text: the version installed and what the app is built with."""
from __future__ import annotations

from gui.i18n import translate


def about_text() -> str:
    from importlib import metadata

    try:
        version = metadata.version("lora-studio")
    except metadata.PackageNotFoundError:
        version = translate("about", "development")
    return translate("about", "<b>LoRA Studio</b> {version}<br>Fine-tunes a CLIP image encoder "
                     "with LoRA into an image classifier: choose a folder of images, train, watch "
                     "the curves, then drop images to classify them.<br>Built with PySide6, "
                     "pyqtgraph, PyTorch, transformers and peft.").format(version=version)
