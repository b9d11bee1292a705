"""The class-prototype head: step 0 is exactly nearest-centroid accuracy, and the log
compares it with the zero-shot head."""
from __future__ import annotations

import re

import pytest
import torch

from run_factory import _embed_train_images, train_short

pytestmark = pytest.mark.usefixtures("isolated_home")


def test_step0_equals_nearest_centroid_accuracy(tmp_path_factory, tiny_clip_dir,
                                                learnable_split_dir):
    from engine.data.index import scan_dataset
    from engine.model.classifier import build_classifier, class_prototypes

    threads = torch.get_num_threads()
    events = train_short(tmp_path_factory, tiny_clip_dir, learnable_split_dir,
                         head_init="prototype", precision="fp32", num_threads=1, max_steps=1,
                         batch_size=16)
    torch.set_num_threads(threads)
    step0 = next(e for e in events if e.kind == "evaluation" and e.step == 0)
    assert not step0.zero_shot

    # the same nearest-centroid classifier, computed apart from the training loop
    index = scan_dataset(learnable_split_dir)
    model, info = build_classifier(str(tiny_clip_dir), index.class_names, head_init="random",
                                   method="linear-probe")
    model.eval()
    train, val = index.split("train"), index.split("val")
    centroids, present = class_prototypes(
        _embed_train_images(model, info, [s.path for s in train]),
        torch.tensor([s.label for s in train]), len(index.classes))
    assert present.all()
    val_emb = _embed_train_images(model, info, [s.path for s in val])
    predicted = (val_emb @ centroids.T).argmax(-1)
    expected = int((predicted == torch.tensor([s.label for s in val])).sum()) / len(val)
    assert step0.accuracy == pytest.approx(expected, abs=1e-9)

    said = next(e.message for e in events if e.kind == "log" and "class prototypes" in e.message)
    proto, zero = map(float, re.findall(r"head (\d+\.\d)%", said))
    assert proto == pytest.approx(100 * expected, abs=0.05) and 0 <= zero <= 100
