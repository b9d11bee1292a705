"""Entry point of the desktop app: `lora-studio [PATH] [--demo] [--screenshots DIR]`.

PATH opens at once: a dataset folder or CSV file in step 1, a run folder in Training and
Prediction; anything else gets a plain message in the window.

The window must appear fast, so nothing here imports torch or transformers: they are
imported in background threads after the window shows (hardware detection, model
checks, training). Without a display the app says what to do instead of letting Qt abort.
"""
from __future__ import annotations

import argparse
import os
import sys

# Platform plugins that need no windowing system (Qt's offscreen/minimal/vnc/framebuffer).
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "linuxfb", "eglfs", "vkkhrdisplay")

NO_DISPLAY_MESSAGE = """\
LoRA Studio cannot open its window: there is no display here (DISPLAY and
WAYLAND_DISPLAY are not set). You can:
  - run it inside a virtual display:   xvfb-run -a lora-studio
  - train from the command line:        python -m engine train --data-dir FOLDER ...
  - render the app to PNG files:        lora-studio --screenshots DIR   (works offscreen)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lora-studio",
        description="Fine-tune CLIP with LoRA into an image classifier, from a folder of images.")
    parser.add_argument("path", nargs="?", metavar="PATH",
                        help="open this at start: a dataset folder, a CSV file of path,label "
                             "or a run folder")
    parser.add_argument("--demo", action="store_true",
                        help="run the whole workflow on generated images with the offline demo "
                             "model: dataset, a short training run with live curves, predictions")
    parser.add_argument("--screenshots", metavar="DIR",
                        help="render one PNG per tab (after a short demo run) into DIR and exit; "
                             "runs offscreen when there is no display")
    return parser


def has_display(environ: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """False on Linux/BSD when Qt would find no display and abort."""
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    qpa = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    if qpa in HEADLESS_PLATFORMS:
        return True
    if not platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return True  # Windows and macOS always have their native platform
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if any(flag in argv for flag in ("--self-test", "--self-test-gui")):
        from gui.selftest import main as self_test_main  # the packaged build's checks

        return self_test_main(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.path and (args.demo or args.screenshots):
        parser.error("PATH cannot be combined with --demo or --screenshots (they bring their "
                     "own dataset)")
    if not has_display():
        if args.screenshots:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"  # screenshots need no screen
        else:
            sys.stderr.write(NO_DISPLAY_MESSAGE)
            return 2
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gui.settings import APPLICATION, ORGANIZATION

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setStyle("Fusion")

    from gui import errors

    errors.install()  # an exception escaping any slot or thread reaches the window, not stderr
    from gui import i18n
    from gui.settings import Settings

    i18n.install_language(i18n.chosen_language(Settings().language()))

    from gui.main_window import MainWindow

    window = MainWindow()
    if args.screenshots:
        from gui.screenshots import take_screenshots

        return take_screenshots(window, args.screenshots)
    window.show()
    # After the first paint: torch is imported in the background, never before the window.
    QTimer.singleShot(0, window.status.detect_hardware)
    if args.path:
        QTimer.singleShot(0, lambda: open_path(window, args.path))
    if args.demo:
        from gui.demo_flow import DemoFlow

        window.demo = DemoFlow(window)
        QTimer.singleShot(0, window.demo.start)
    return app.exec()


def open_path(window, path: str) -> str:
    """Open `path` (from the command line) where it belongs; returns "dataset", "run" or
    "" when it is none of these (the window then says so, and stays as it was)."""
    from pathlib import Path

    from gui.i18n import translate

    target = Path(path).expanduser().absolute()  # recent lists need absolute paths
    if (target / "run.json").is_file():
        window.open_run(str(target))
        return "run"
    if target.is_dir() or (target.is_file() and target.suffix.lower() == ".csv"):
        window.show_tab(window.dataset_tab)
        window.dataset_tab.open_folder(str(target))
        return "dataset"
    title = translate("App", "Cannot open {path}").format(path=path)
    if not target.exists():
        text = translate("App", "{path} does not exist. Check the spelling, or choose a "
                         "folder with File › Open dataset…").format(path=path)
    else:
        text = translate("App", "{path} is not a dataset folder, a CSV file of path,label or a "
                         "run folder. Choose a dataset with File › Open dataset… or a run "
                         "with File › Open run…").format(path=path)
    window.notify(title, text)
    return ""


if __name__ == "__main__":
    sys.exit(main())
