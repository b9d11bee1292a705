"""The command line: `python -m engine <command> ...`.

Each command's work lives in the module that owns it; this file only parses arguments
and prints. Heavy imports (torch, transformers) happen inside the commands, so
`--help` is instant.

Texts follow the user's language (engine.i18n: $LORA_STUDIO_LANG, else the POSIX locale
variables), detected at the first translated text; nothing here sets a language. argparse's
own headings ("usage:", "options") are translated by Parser, the class every sub-command's
parser inherits.
"""
from __future__ import annotations

import argparse
import re
import sys
from typing import Callable

from engine.cli import checks
from engine.cli.checks import number
from engine.i18n import _, columns


# Chinese (and other wide) characters: two terminal columns each, and a line may break
# between any two of them (textwrap breaks only at spaces, which Chinese text has few of).
_WIDE = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
_TOKENS = re.compile(f"[{_WIDE}]|[^\\s{_WIDE}]+| ")
_NO_LINE_START = "，。；：、！？）》」』”"


def _wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` terminal columns (a word longer stays whole)."""
    lines, line = [], ""
    for token in _TOKENS.findall(" ".join(text.split())):
        if token == " ":
            line += " " if line else ""
            continue
        if line and columns(line + token) > width and token not in _NO_LINE_START:
            lines.append(line.rstrip())
            line = ""
        line += token
    return lines + [line.rstrip()] if line else lines


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout with a translated "usage:" prefix, wrapping Chinese help by
    its width on screen (English help is wrapped exactly as argparse does)."""

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, _("usage: ") if prefix is None else prefix)

    def _format_usage(self, usage, actions, groups, prefix):
        text = super()._format_usage(usage, actions, groups, prefix)
        extra = columns(prefix or "") - len(prefix or "")  # a wide prefix ("用法：")
        return text.replace("\n ", "\n " + " " * extra) if extra else text

    def _split_lines(self, text, width):
        if columns(text) == len(text):
            return super()._split_lines(text, width)
        return _wrap(text, width)

    def _fill_text(self, text, width, indent):
        if columns(text) == len(text):
            return super()._fill_text(text, width, indent)
        return "\n".join(indent + line for line in _wrap(text, width - len(indent)))


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose own words (headings, -h help, the error line) are translated.

    add_subparsers() makes sub-command parsers of the same class, so they follow too.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)
        self._positionals.title = _("positional arguments")
        self._optionals.title = _("options")
        for action in self._actions:
            if isinstance(action, argparse._HelpAction):
                action.help = _("show this help message and exit")

    def error(self, message: str):
        """Invalid input: one line naming the option, exit 2 (the usage is one --help away)."""
        self.exit(2, _("{prog}: error: {message} (see {prog} --help)").format(
            prog=self.prog, message=message) + "\n")


def _fractions(p: argparse.ArgumentParser) -> None:
    p.add_argument("--val-fraction", type=number(float, 0.0, 0.5), default=0.15,
                   help=_("share of each class held out for validation when the folder has no "
                          "val split (0 to 0.5, default 0.15)"))
    p.add_argument("--test-fraction", type=number(float, 0.0, 0.5), default=0.15,
                   help=_("share of each class held out for the test when the folder has no "
                          "test split (0 to 0.5, default 0.15)"))
    p.add_argument("--seed", type=number(int, 0), default=42,
                   help=_("seed of the split (default 42)"))


def _check_fractions(args: argparse.Namespace) -> None:
    from engine.errors import UserError

    if args.val_fraction + args.test_fraction >= 0.9:
        raise UserError(_("--val-fraction and --test-fraction together must leave most images "
                          "for training (they add up to {total:g}).").format(
            total=args.val_fraction + args.test_fraction))


def _cmd_scan(args: argparse.Namespace) -> int:
    from engine.data.index import scan_dataset, format_report

    _check_fractions(args)
    index = scan_dataset(args.folder, val_fraction=args.val_fraction,
                         test_fraction=args.test_fraction, seed=args.seed)
    print(format_report(index))
    return 1 if index.errors else 0


def _cmd_prepare_dogs(args: argparse.Namespace) -> int:
    from engine.data.stanford_dogs import prepare_stanford_dogs

    _check_fractions(args)
    result = prepare_stanford_dogs(args.archive, num_classes=args.classes, output=args.output,
                                   seed=args.seed, val_fraction=args.val_fraction,
                                   test_fraction=args.test_fraction, breeds=args.breeds,
                                   log=print)
    print(result)
    return 0


def build_parser() -> argparse.ArgumentParser:
    extra = _extra_commands()
    parser = Parser(
        prog="python -m engine",
        description=_("LoRA Studio engine: fine-tune CLIP with LoRA into an image classifier."))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("scan", help=_("Check a dataset folder and show what would be trained "
                                      "on."))
    p.add_argument("folder", type=checks.dataset, help=_("dataset folder or CSV of path,label"))
    _fractions(p)
    p.set_defaults(func=_cmd_scan)

    p = sub.add_parser("prepare-stanford-dogs",
                       help=_("Make a train/val/test folder of N breeds from the Stanford Dogs "
                              "images.tar."))
    p.add_argument("--archive", required=True, type=checks.existing_file,
                   help=_("local copy of the official images.tar"))
    p.add_argument("--classes", type=number(int, 1, 120), default=10,
                   help=_("number of breeds to keep (default 10)"))
    p.add_argument("--breeds", nargs="*", default=None,
                   help=_("exact breeds to keep (folder or display names) instead of a random "
                          "choice"))
    p.add_argument("--output", required=True, type=checks.new_folder,
                   help=_("folder to create (must be empty or new)"))
    _fractions(p)
    p.set_defaults(func=_cmd_prepare_dogs)

    for register in extra:
        register(sub)
    return parser


# Modules that add their own sub-commands through register_cli(subparsers).
_COMMAND_MODULES = ("engine.cli.train", "engine.cli.predict", "engine.bench", "engine.cli.zero_shot",
                    "engine.cli.review", "engine.cli.sorting", "engine.cli.map",
                    "engine.cli.serve", "engine.cli.sweep")


def _extra_commands() -> list[Callable[[argparse._SubParsersAction], None]]:
    import importlib

    found = []
    for module in _COMMAND_MODULES:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == module:
                continue
            raise
        found.append(mod.register_cli)
    return found


def main(argv: list[str] | None = None) -> int:
    """Run one command. Exit codes: 0 done, 1 failed (one line + the log file holding the
    details), 2 invalid input (one line naming the option or input), 130 interrupted."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for the details log's header
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(_("interrupted"), file=sys.stderr)
        return 130
    except Exception as exc:  # a clear one-line message instead of a traceback
        from engine.errors import UserError

        if isinstance(exc, UserError):
            message = " ".join(str(exc).split())  # one line, whatever the error held
            print(_("error: {message}").format(message=message), file=sys.stderr)
            return 2
        return report_failure(exc, args.argv)


def report_failure(exc: BaseException, argv: list[str]) -> int:
    """An unexpected failure: its message on one line, the traceback in a log file; exit 1."""
    from engine.cli.details import exception_details, write_details

    message = " ".join(str(exc).split()) or type(exc).__name__
    path = write_details(exception_details(exc), argv)
    if path is None:
        print(_("error: {message}").format(message=message), file=sys.stderr)
    else:
        print(_("error: {message} (details: {path})").format(message=message, path=path),
              file=sys.stderr)
    return 1
