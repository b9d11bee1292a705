"""Tiny tokenizers laid out as the published checkpoints' are, built on the spot.

google/siglip-* publish a SentencePiece model (spiece.model) read by SiglipTokenizer, and
nothing else: no tokenizer.json. A stand-in with any other tokenizer would hide exactly
the failures users meet (the sentencepiece package missing, the file not downloaded), so
the tiny SigLIP, the packaged self-test and the tests' local Hub build the same kind of
file here: sentencepiece trains a unigram model on a few sentences in milliseconds.
"""
from __future__ import annotations

import io
import json

_WORDS = ("a photo of the small big red green blue yellow square circle triangle dog cat bird "
          "picture image class sample golden retriever beagle poodle terrier").split()
# SigLIP's published special tokens (T5-style ids: pad 0 = eos 1's text "</s>", unk 2, no bos)
SIGLIP_SPECIAL = {"eos_token": "</s>", "pad_token": "</s>", "unk_token": "<unk>"}


def sentences() -> list[str]:
    """Training text for a tiny tokenizer: every word in several contexts."""
    return [" ".join(_WORDS[i:] + _WORDS[:i]) for i in range(len(_WORDS))] * 4


def sentencepiece_model(model_type: str = "unigram", vocab_size: int = 200, **options) -> bytes:
    """The bytes of a tiny SentencePiece model (`options`: the trainer's, e.g. special ids)."""
    import sentencepiece

    out = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences()), model_writer=out, model_type=model_type,
        vocab_size=vocab_size, hard_vocab_limit=False, character_coverage=1.0, minloglevel=2,
        **options)
    return out.getvalue()


def siglip_tokenizer_files(max_length: int = 64) -> dict[str, bytes]:
    """spiece.model, tokenizer_config.json (SiglipTokenizer) and special_tokens_map.json, as
    google/siglip-base-patch16-224 publishes them."""
    config = {**SIGLIP_SPECIAL, "do_lower_case": True, "model_input_names": ["input_ids"],
              "model_max_length": max_length, "processor_class": "SiglipProcessor",
              "sp_model_kwargs": {}, "tokenizer_class": "SiglipTokenizer"}
    return {"spiece.model": sentencepiece_model("unigram", pad_id=0, eos_id=1, unk_id=2,
                                                bos_id=-1),
            "special_tokens_map.json": json.dumps(SIGLIP_SPECIAL, indent=2).encode(),
            "tokenizer_config.json": json.dumps(config, indent=2).encode()}


def vocab_size(spiece: bytes) -> int:
    """Pieces in a SentencePiece model (a text tower's vocabulary must hold them all)."""
    import sentencepiece

    return sentencepiece.SentencePieceProcessor(model_proto=spiece).get_piece_size()


__all__ = ["SIGLIP_SPECIAL", "sentencepiece_model", "sentences", "siglip_tokenizer_files",
           "vocab_size"]
