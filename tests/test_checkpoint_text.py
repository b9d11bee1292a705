"""Tokenizers as published (issue #21): google/siglip-* ship only a SentencePiece model
(spiece.model, SiglipTokenizer, no tokenizer.json), SigLIP 2 a Gemma tokenizer; and a
checkpoint whose tokenizer is missing still trains, from the class prototypes, while only
the zero-shot command refuses, in words.

The folders are the local-Hub stand-ins of tests/hub_repos.py written to disk, so they have
exactly the published file names and tokenizer classes (test_hub.py downloads the same
repositories through the real client).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hub_repos import SPECS, build_files, write_folder

ROOT = Path(__file__).resolve().parent.parent
NO_TOKENIZER = "the folder has no tokenizer files"


@pytest.fixture(scope="module")
def siglip_files():
    return build_files(SPECS["google/siglip-base-patch16-224"])


@pytest.fixture(scope="module")
def siglip2_files():
    return build_files(SPECS["google/siglip2-base-patch16-224"])


def test_the_stand_in_has_the_published_tokenizer_files(siglip_files, siglip2_files):
    assert "spiece.model" in siglip_files and "tokenizer.json" not in siglip_files
    assert json.loads(siglip_files["tokenizer_config.json"])["tokenizer_class"] == \
        "SiglipTokenizer"
    assert {"tokenizer.json", "tokenizer.model"} <= set(siglip2_files)
    assert json.loads(siglip2_files["tokenizer_config.json"])["tokenizer_class"].startswith(
        "GemmaTokenizer")


@pytest.mark.parametrize("repo", ["google/siglip-base-patch16-224",
                                  "google/siglip2-base-patch16-224"])
def test_a_sentencepiece_or_gemma_tokenizer_makes_the_zero_shot_head(repo, tmp_path,
                                                                    siglip_files, siglip2_files):
    from engine.model.classifier import build_classifier, load_base

    files = siglip_files if "siglip-" in repo else siglip2_files
    folder = write_folder(tmp_path / "model", files)
    _family, _full, processor = load_base(str(folder))
    expected = "Siglip" if "siglip-" in repo else "Gemma"
    assert type(processor.tokenizer).__name__.startswith(expected)
    classifier, _info = build_classifier(str(folder), ["dog", "cat", "bird"])
    assert classifier.no_zero_shot == ""
    # the head's rows are the class names' text embeddings: the tokenizer reads each name
    # into its own tokens, so the (random tiny) text tower gives three different unit rows
    ids = [processor.tokenizer(n)["input_ids"] for n in ("dog", "cat", "bird")]
    assert len({tuple(i) for i in ids}) == 3
    rows = classifier.head.weight.detach()
    assert rows.norm(dim=1).sub(1).abs().max() < 1e-4
    assert min((rows[i] - rows[j]).abs().max() for i, j in ((0, 1), (0, 2), (1, 2))) > 1e-4


def test_a_siglip_without_tokenizer_says_why_instead_of_a_transformers_traceback(tmp_path,
                                                                                 siglip_files):
    from engine.model.classifier import build_classifier

    folder = write_folder(tmp_path / "model", siglip_files,
                    drop=("spiece.model", "tokenizer_config.json", "special_tokens_map.json"))
    classifier, info = build_classifier(str(folder), ["dog", "cat"])
    assert NO_TOKENIZER in classifier.no_zero_shot
    assert info.family == "siglip"


def test_a_missing_sentencepiece_package_is_named_with_its_install_command(tmp_path,
                                                                         siglip_files):
    from engine.model.backbones.text import processor_with_text

    folder = write_folder(tmp_path / "model", siglip_files)

    def as_without_sentencepiece(ref):  # what transformers raises when the package is absent
        raise ImportError("SiglipTokenizer requires the SentencePiece library but it was not "
                          "found in your environment.")

    processor = processor_with_text(str(folder), as_without_sentencepiece)
    assert processor.tokenizer is None and processor.image_processor is not None
    assert "pip install sentencepiece" in processor.missing_text


@pytest.mark.slow
def test_without_tokenizer_training_starts_from_prototypes_and_zero_shot_refuses(
        tmp_path, siglip_files, learnable_split_dir):
    from engine.config import TrainConfig
    from engine.events import Log, RunFinished
    from engine.training.loop import train

    folder = write_folder(tmp_path / "model", siglip_files,
                    drop=("spiece.model", "tokenizer_config.json", "special_tokens_map.json"))
    config = TrainConfig(data_dir=str(learnable_split_dir), model=str(folder),
                         output_dir=str(tmp_path / "runs"), epochs=1, batch_size=16,
                         cache_dir=str(tmp_path / "cache"))
    events = list(train(config))
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.status == "completed", finished.error
    logs = [e.message for e in events if isinstance(e, Log)]
    assert any(NO_TOKENIZER in m and "class prototypes" in m for m in logs), logs
    run = json.loads((Path(finished.run_dir) / "run.json").read_text())
    assert run["config"]["head_init"] == "prototype"

    done = subprocess.run([sys.executable, "-m", "engine", "zero-shot", "--model", str(folder),
                           "--data", str(learnable_split_dir)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "cannot classify images by their class names" in done.stderr
    assert NO_TOKENIZER in done.stderr and "Traceback" not in done.stderr

