"""`python -m engine train --init-from RUN --with-new-labels`: train on with the new labels
the user gave RUN's predictions (engine/use/feedback.py).

The new run trains on RUN's own images with the splits RUN recorded plus the new labels in
train (a CSV written to the app's data folder), starts from RUN's saved model, and keeps
RUN's settings unless options change them; it is written beside RUN. Resuming cannot change
the data, so this is always a new run.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.config import TrainConfig
from engine.errors import UserError
from engine.i18n import _


def add_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--with-new-labels", action="store_true",
        help=_("with --init-from RUN: train on RUN's images (its own splits) plus the new "
               "labels given to its predictions (RUN-new-labels.csv beside RUN), starting from "
               "RUN's model and settings"))


def base_config(args: argparse.Namespace, changes: dict) -> TrainConfig | None:
    """The config the options apply to when --with-new-labels is given (None otherwise):
    RUN's settings (this machine's at their defaults), its model, a data CSV of its images
    plus the new labels. Refuses, naming the option, what cannot go with it."""
    if not getattr(args, "with_new_labels", False):
        return None
    run = changes.get("init_from", "")
    if not run:
        raise UserError(_("--with-new-labels needs --init-from RUN: the run whose predictions "
                          "got the new labels."))
    for name in ("data_dir", "resume_from"):
        if changes.get(name):
            raise UserError(_("--with-new-labels builds the data itself (the run's images and "
                              "its new labels): leave out --{option}.").format(
                option=name.replace("_", "-")))
    from engine.training.resume import machine_defaults
    from engine.use.feedback import next_run_config, write_next_dataset

    made = write_next_dataset(run)
    print(_("Training on the {images} images of {run} (their own splits) and {added} new "
            "label(s) in train, from {run}'s saved model. Dataset: {path}").format(
        images=made.run_images, run=Path(run).name, added=made.added, path=made.path),
        file=sys.stdout, flush=True)
    return machine_defaults(next_run_config(run, made.path))
