"""The Config tab's model check says what a checkpoint without a usable tokenizer will do
(issue #21): it trains from the class prototypes, and zero-shot is not available."""
from __future__ import annotations

from hub_repos import SPECS, build_files, write_folder


def test_the_model_check_says_why_a_tokenizer_less_siglip_starts_from_prototypes(tmp_path):
    from gui.widgets.model_picker import check_model

    files = build_files(SPECS["google/siglip-base-patch16-224"])
    folder = write_folder(tmp_path / "model", files,
                    drop=("spiece.model", "tokenizer_config.json", "special_tokens_map.json"))
    text = check_model(str(folder))
    assert text.startswith("Ready: SigLIP") and "the folder has no tokenizer files" in text
    assert "zero-shot is not available" in text
    complete = write_folder(tmp_path / "complete", files)
    assert "class prototypes" not in check_model(str(complete))
