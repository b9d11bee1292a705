"""Every checkpoint the model picker recommends, downloaded from the stand-in Hub as
published (tests/hub_repos.py) and taken through the whole app: download with progress,
zero-shot, a short training run, predict, evaluate, export (merged + ONNX), and the results
reloaded with plain transformers + peft. The ids come from the families' `recommended`
tuples, so a newly recommended checkpoint without a stand-in fails here."""
from __future__ import annotations

import pytest
import torch

from engine.errors import UserError
from engine.model.backbones import FAMILIES
from hub_repos import SPECS, published_weights

RECOMMENDED = [(family.name, ref) for family in FAMILIES for ref, _ in family.recommended]


@pytest.fixture(scope="module")
def flow_data(tmp_path_factory):
    """`root/{train,val,test}/<class>/*.jpg`: 3 classes, 4/2/2 images each."""
    from engine.demo.dataset import make_demo_dataset

    return make_demo_dataset(tmp_path_factory.mktemp("hub-flow"), num_classes=3,
                             splits={"train": 4, "val": 2, "test": 2}, seed=3)


def test_every_recommended_checkpoint_has_a_stand_in():
    assert len(RECOMMENDED) == 11 and {ref for _, ref in RECOMMENDED} == set(SPECS)


def _download(ref, hub):
    from engine.model.hub import PROCESSOR_FILES, choose_files, fetch_model

    reports = []
    folder = fetch_model(ref, lambda done, total: reports.append((done, total)))
    files = hub.repos[ref].files
    wanted = set(choose_files(list(files)))
    assert sorted(hub.fetched(ref)) == sorted(wanted)  # each file once, nothing else
    assert wanted - set(PROCESSOR_FILES) == published_weights(files)  # safetensors only
    assert not hub.asked(ref) & set(SPECS[ref].never)  # not even asked about
    assert reports[-1] == (sum(len(files[n]) for n in wanted),) * 2
    return folder, wanted


def _train(ref, data, tmp_path):
    from safetensors.torch import load_file

    from engine.config import TrainConfig
    from engine.training.loop import train

    config = TrainConfig(data_dir=str(data), model=ref, output_dir=str(tmp_path / "runs"),
                         run_name="run", epochs=1, batch_size=4, lora_r=4, lora_alpha=8,
                         lora_dropout=0.0, lr=2e-2, device="cpu", precision="fp32",
                         early_stop_patience=0, num_threads=2)
    events = list(train(config))
    assert events[-1].status == "completed", events[-1].error
    # the run trained (checkpoints/last holds the trained adapter; the run folder's own model
    # may be the start: a tiny random model's epoch need not beat step 0, and then it is kept)
    adapter = load_file(str(tmp_path / "runs" / "run" / "checkpoints" / "last" / "adapter" /
                            "adapter_model.safetensors"))
    assert max(float(t.abs().max()) for k, t in adapter.items() if "lora_B" in k) > 0
    downloads = [e for e in events if e.kind == "progress" and e.stage == "download"]
    assert downloads and downloads[-1].done == downloads[-1].total > 0
    return tmp_path / "runs" / "run"


def _reload_with_transformers_and_peft(ref, family, run, exported, predictor, images):
    """The merged export and the adapter, loaded without LoRA Studio, give the app's numbers."""
    import transformers
    from peft import PeftModel
    from safetensors.torch import load_file

    vision_class = getattr(transformers, family.vision_class)
    pixels = predictor.augmenter.eval_batch(images)
    head = load_file(str(exported / "head.safetensors"))

    def probabilities(model):
        with torch.no_grad():
            emb = family.embed(model.eval(), pixels)
        logits = head["scale"] * torch.nn.functional.normalize(emb, dim=-1) @ head["weight"].T \
            + head["bias"]
        return (logits / head["temperature"]).softmax(-1)

    expected = predictor.probabilities(images)
    merged = vision_class.from_pretrained(exported)
    torch.testing.assert_close(probabilities(merged), expected, atol=1e-4, rtol=1e-3)
    base = vision_class.from_pretrained(ref)  # by hub id again: from the download cache
    adapted = PeftModel.from_pretrained(base, str(run / "adapter"))
    torch.testing.assert_close(probabilities(adapted), expected, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("family_name, ref", RECOMMENDED, ids=[ref for _, ref in RECOMMENDED])
def test_recommended_checkpoint_from_download_to_export(family_name, ref, hub, flow_data,
                                                        tmp_path, isolated_home):
    import onnxruntime

    from engine.model.backbones import by_name
    from engine.training.zero_shot import zero_shot_accuracy
    from engine.use.evaluate import evaluate_run
    from engine.use.export import export_run
    from engine.use.predict import Predictor

    spec, family = SPECS[ref], by_name(family_name)  # KeyError: a recommended id lacks a stand-in
    folder, wanted = _download(ref, hub)
    if family.has_text:
        assert wanted & {"tokenizer.json", "spiece.model", "vocab.json"}  # its tokenizer
        result = zero_shot_accuracy(ref, str(flow_data), "all", device="cpu", precision="fp32")
        assert result.num_images == 24 and 0.0 <= result.accuracy <= 1.0
    else:  # DINOv2 has no text tower: only zero-shot is not possible, and it says why
        with pytest.raises(UserError, match="no text tower"):
            zero_shot_accuracy(ref, str(flow_data), "all", device="cpu", precision="fp32")

    run = _train(ref, flow_data, tmp_path)
    predictor = Predictor(run, device="cpu", precision="fp32")
    assert predictor.info.image_size == spec.input_size  # the processor's size, as published
    paths = sorted(str(p) for p in (flow_data / "test").rglob("*.jpg"))
    predictions = predictor.predict(paths, top_k=2)
    assert len(predictions) == 6 and all(p.top and not p.error for p in predictions)
    report = evaluate_run(run, "test", predictor=predictor)
    assert len(report.samples) == 6

    exported = export_run(run, tmp_path / "export", onnx=True).folder
    images = torch.stack([torch.from_numpy(predictor.decode(p)) for p in paths])
    session = onnxruntime.InferenceSession(str(exported / "model.onnx"),
                                           providers=["CPUExecutionProvider"])
    onnx_probs = session.run(None, {session.get_inputs()[0].name:
                                    predictor.augmenter.eval_batch(images).numpy()})[0]
    torch.testing.assert_close(torch.from_numpy(onnx_probs), predictor.probabilities(images),
                               atol=1e-4, rtol=1e-3)
    _reload_with_transformers_and_peft(ref, family, run, exported, predictor, images)
    # Loading by the hub id (training, prediction, plain transformers) used the downloaded
    # files: nothing else was fetched, whatever else transformers looked for.
    assert sorted(hub.fetched(ref)) == sorted(wanted)
