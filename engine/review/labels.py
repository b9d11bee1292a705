"""Likely label mistakes: out-of-sample class probabilities for every training and
validation image, from a linear probe cross-validated on the image embeddings (seconds on
a CPU), handed to cleanlab's confident learning (find_label_issues) and label quality
scores (get_label_quality_scores), which order the list.

Only train and val images are checked: test images are the held-out judge and are not
used to fit anything. The probabilities of each image come from a probe that never saw
it (k-fold), which is what confident learning needs.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import torch

from engine.errors import UserError
from engine.i18n import _

CHECKED_SPLITS = ("train", "val")
Progress = Callable[[str, int, int], None]  # (stage, done, total); total 0: not known


@dataclass
class LabelIssue:
    path: str
    split: str
    given: str  # the label the dataset gives the image
    suggested: str  # the class the out-of-sample probabilities favour
    score: float  # cleanlab's label quality, 0 (surely wrong) .. 1 (surely right)
    given_probability: float
    suggested_probability: float
    flagged: bool  # cleanlab's confident learning counts it among the label errors

    def to_dict(self) -> dict:
        return asdict(self)


def out_of_sample_probabilities(vectors: torch.Tensor, labels: torch.Tensor, n_classes: int,
                                folds: int = 5, seed: int = 0,
                                progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """[N, C] probabilities, each row from a logistic-regression probe fitted without it;
    progress(folds done, folds) after each fold (a fold of 20,000 images takes seconds)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    x, y = vectors.double().numpy(), labels.numpy()
    counts = np.bincount(y, minlength=n_classes)
    present = counts[counts > 0]
    k = int(min(folds, present.min())) if len(present) else 0
    if len(present) < 2 or k < 2:
        raise UserError(_("The label check needs at least 2 classes with 2 or more images "
                          "each in the training and validation images."))
    probs = np.zeros((len(y), n_classes))
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    if progress:
        progress(0, k)
    for fold, (train_idx, held_idx) in enumerate(splitter.split(x, y), start=1):
        probe = LogisticRegression(max_iter=2000, C=10.0)
        probe.fit(x[train_idx], y[train_idx])
        probs[np.ix_(held_idx, probe.classes_)] = probe.predict_proba(x[held_idx])
        if progress:
            progress(fold, k)
    return probs


def find_label_issues(embedded, folds: int = 5, seed: int = 0,
                      progress: Progress | None = None) -> list[LabelIssue]:
    """The likely mislabelled train/val images of `embedded`, lowest label quality first.

    An image is listed when cleanlab's confident learning flags it, or when the
    out-of-sample probabilities favour another class than its label; `flagged` tells
    which. cleanlab's label quality score orders the list. `progress` hears the folds
    ("probe", done, total) and then the ranking ("rank", 0, 0: its length is not known).
    """
    from cleanlab.filter import find_label_issues as cl_find
    from cleanlab.rank import get_label_quality_scores

    chosen = [i for i, s in enumerate(embedded.splits) if s in CHECKED_SPLITS]
    labels = embedded.labels[chosen]
    n_classes = len(embedded.class_names)
    probs = out_of_sample_probabilities(embedded.vectors[chosen], labels, n_classes, folds, seed,
                                        (lambda d, t: progress("probe", d, t)) if progress else None)
    if progress:
        progress("rank", 0, 0)
    y = labels.numpy()
    flagged = set(cl_find(labels=y, pred_probs=probs).nonzero()[0].tolist())
    quality = get_label_quality_scores(y, probs)
    names = embedded.class_names
    issues = []
    for j in np.argsort(quality, kind="stable"):
        suggested = int(probs[j].argmax())
        if j not in flagged and suggested == y[j]:
            continue
        if suggested == y[j]:  # flagged though its label wins: suggest the runner-up
            suggested = int(np.argsort(probs[j])[-2])
        i = chosen[j]
        issues.append(LabelIssue(path=embedded.paths[i], split=embedded.splits[i],
                                 given=names[y[j]], suggested=names[suggested],
                                 score=round(float(quality[j]), 6),
                                 given_probability=round(float(probs[j, y[j]]), 6),
                                 suggested_probability=round(float(probs[j, suggested]), 6),
                                 flagged=j in flagged))
    return issues
