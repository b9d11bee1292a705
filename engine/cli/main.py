"""The command line: `python -m engine <command> ...`.

Each command's work lives in the module that owns it; this file only parses arguments
and prints. Heavy imports (torch, transformers) happen inside the commands, so
`--help` is instant.
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable


def _cmd_scan(args: argparse.Namespace) -> int:
    from engine.data.index import scan_dataset, format_report

    index = scan_dataset(args.folder, val_fraction=args.val_fraction,
                         test_fraction=args.test_fraction, seed=args.seed)
    print(format_report(index))
    return 1 if index.errors else 0


def _cmd_prepare_dogs(args: argparse.Namespace) -> int:
    from engine.data.stanford_dogs import prepare_stanford_dogs

    result = prepare_stanford_dogs(args.archive, num_classes=args.classes, output=args.output,
                                   seed=args.seed, val_fraction=args.val_fraction,
                                   test_fraction=args.test_fraction, breeds=args.breeds,
                                   log=print)
    print(result)
    return 0


def build_parser() -> argparse.ArgumentParser:
    extra = _extra_commands()
    parser = argparse.ArgumentParser(
        prog="python -m engine",
        description="LoRA Studio engine: fine-tune CLIP with LoRA into an image classifier.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("scan", help="Check a dataset folder and show what would be trained on.")
    p.add_argument("folder", help="dataset folder or CSV of path,label")
    p.add_argument("--val-fraction", type=float, default=0.15)
    p.add_argument("--test-fraction", type=float, default=0.15)
    p.add_argument("--seed", type=int, default=42)
    p.set_defaults(func=_cmd_scan)

    p = sub.add_parser("prepare-stanford-dogs",
                       help="Make a train/val/test folder of N breeds from the Stanford Dogs images.tar.")
    p.add_argument("--archive", required=True, help="local copy of the official images.tar")
    p.add_argument("--classes", type=int, default=10, help="number of breeds to keep (default 10)")
    p.add_argument("--breeds", nargs="*", default=None,
                   help="exact breeds to keep (folder or display names) instead of a random choice")
    p.add_argument("--output", required=True, help="folder to create (must be empty or new)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--val-fraction", type=float, default=0.15)
    p.add_argument("--test-fraction", type=float, default=0.15)
    p.set_defaults(func=_cmd_prepare_dogs)

    for register in extra:
        register(sub)
    return parser


# Modules that add their own sub-commands through register_cli(subparsers).
_COMMAND_MODULES = ("engine.cli.train", "engine.cli.predict", "engine.bench", "engine.cli.zero_shot",
                    "engine.cli.review")


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
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a clear one-line message instead of a traceback
        from engine.errors import UserError

        if isinstance(exc, UserError):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise
