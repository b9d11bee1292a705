"""The ONNX files a run is predicted with by ONNX Runtime, built once and kept in the cache.

A run's ONNX model (the classifier with softmax, calibration temperature included: exactly
engine.use.export's file) and its int8 twin (onnxruntime's dynamic quantization) live in
<cache>/onnx/<run name>-<key>/, never in the run folder. The key hashes what the numbers
depend on: the run's head and adapter files, its base model record and the base model's
current fingerprint, and the torch / onnxruntime / openvino / nncf versions that export,
quantize and convert (an upgrade of any of them rebuilds the files), and whether the CPU has
VNNI (the int8 file's weights differ: quantize_int8). A run
that changes (recalibrated, retrained in place) or a base model whose files change gets a
new key, so an old entry is never used; it is removed when the new one is built.

When a file is first built, its agreement with the run in torch fp32 on the run's test
images (top-1 agreement, largest probability difference) is measured and recorded in the
entry and in run.json under "backends" (the only thing ever written into the run folder).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from engine.errors import UserError
from engine.i18n import _

FILES = {"onnx": "model.onnx", "onnx-int8": "model-int8.onnx", "openvino": "model.onnx",
         "openvino-int8": "model-int8.xml"}  # with its weights in model-int8.bin
AGREEMENT_IMAGES = 256  # test images compared with torch fp32 when a file is built
FORMAT = 1  # bump when the files built here change meaning


def cache_root() -> Path:
    """<the engine's cache folder>/onnx (beside the decode cache)."""
    from engine.data.cache import default_cache_dir

    return default_cache_dir().parent / "onnx"


def _hash_file(h, path: Path) -> None:
    h.update(f"{path.name}:".encode())
    if path.is_file():
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)


def cache_key(run_dir: Path, meta: dict) -> str:
    """Hash of everything the exported numbers depend on (see the module docstring)."""
    import onnxruntime
    import torch

    from engine.hardware import cpu_has_vnni
    from engine.model.classifier import _fingerprint

    base = meta["base_model"]
    h = hashlib.sha256(f"format {FORMAT}; torch {torch.__version__}; onnxruntime "
                       f"{onnxruntime.__version__}; {_tool_versions()}; "
                       f"vnni {cpu_has_vnni()}".encode())
    for path in (run_dir / "head.safetensors", run_dir / "adapter" / "adapter_model.safetensors",
                 run_dir / "adapter" / "adapter_config.json"):
        _hash_file(h, path)
    h.update(json.dumps([base, meta.get("class_names"), meta.get("method")],
                        sort_keys=True).encode())
    h.update(_fingerprint(str(base.get("ref", "")), None).encode())  # the base model now
    return h.hexdigest()[:20]


def _tool_versions() -> str:
    """The installed OpenVINO and NNCF (read from their metadata: nothing is imported)."""
    from importlib import metadata

    found = []
    for dist in ("openvino", "nncf"):
        try:
            found.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            found.append(f"{dist} -")
    return "; ".join(found)


@dataclass
class Entry:
    """One run's cache folder: its files and what was recorded when they were built."""
    folder: Path
    facts: dict  # temperature, warnings, agreement per backend

    def path(self, backend: str) -> Path:
        return self.folder / FILES[backend]


def _entry_folder(run_dir: Path, meta: dict) -> Path:
    from engine.runs import _slug

    name = _slug(str(meta.get("name") or run_dir.name))[:40] or "run"
    return cache_root() / f"{name}-{cache_key(run_dir, meta)}"


def _read_facts(folder: Path) -> dict:
    try:
        return json.loads((folder / "built.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def open_entry(run_dir: Path, meta: dict, backend: str, log=None) -> Entry:
    """The cache entry holding `backend`'s file for the run, built now if missing or stale."""
    folder = _entry_folder(run_dir, meta)
    facts = _read_facts(folder)
    if (folder / FILES[backend]).is_file() and backend in facts.get("agreement", {}):
        known = meta.get("backends") if isinstance(meta.get("backends"), dict) else {}
        if backend not in known:  # a copy of the run, or one whose run.json was replaced
            record_in_run(run_dir, backend, facts["agreement"][backend])
        return Entry(folder, facts)
    return _build(run_dir, folder, facts, backend, log or (lambda message: None))


def _build(run_dir: Path, folder: Path, facts: dict, backend: str, log) -> Entry:
    """Export (and quantize) into `folder`, measure agreement, record it; atomic per file."""
    from engine.use.export import export_onnx
    from engine.use.predict import Predictor

    log(_("Preparing the {backend} model for this run (once; it is kept in the cache) ...")
        .format(backend=backend))
    reference = Predictor(run_dir, device="cpu", merge=True, precision="fp32")
    classifier = reference.model
    if hasattr(classifier.vision, "merge_and_unload"):  # a peft wrapper left over: merge it
        classifier.vision = classifier.vision.merge_and_unload()
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".partial-{os.getpid()}-{time.monotonic_ns()}"
    tmp.mkdir()
    try:
        fp32 = folder / FILES["onnx"]
        if not fp32.is_file():
            export_onnx(classifier, tmp / FILES["onnx"], reference.info.image_size)
            os.replace(tmp / FILES["onnx"], fp32)
        if backend == "onnx-int8":
            quantize_int8(fp32, tmp / FILES[backend])
            os.replace(tmp / FILES[backend], folder / FILES[backend])
        if backend == "openvino-int8":
            from engine.use.openvino_int8 import quantize_openvino_int8

            xml = tmp / FILES[backend]
            quantize_openvino_int8(fp32, xml, reference)
            os.replace(xml.with_suffix(".bin"), (folder / FILES[backend]).with_suffix(".bin"))
            os.replace(xml, folder / FILES[backend])  # last: its presence means complete
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    from engine.use.onnx_sessions import backend_session

    agreement = measure_agreement(reference, backend_session(backend, folder / FILES[backend]),
                                  str(folder))
    facts = {**_read_facts(folder), "run_dir": str(run_dir.resolve()),
             "temperature": reference.temperature, "warnings": list(reference.warnings)}
    facts.setdefault("agreement", {})[backend] = agreement
    from engine.runs import write_json_atomic

    write_json_atomic(folder / "built.json", facts)
    _remove_stale(folder, facts["run_dir"])
    record_in_run(run_dir, backend, agreement)
    return Entry(folder, facts)


def discard(entry: Entry) -> None:
    """Remove a cache entry (its files failed to load: rebuilt on the next open)."""
    shutil.rmtree(entry.folder, ignore_errors=True)


class _QuantizerAdvice:
    """A filter on the root logger for the time of a quantization: onnxruntime's quantizer
    logs advice for its own developers there at WARNING ("consider pre-processing"), which
    says nothing to a user. Only records from onnxruntime's quantization package are
    dropped, and only while the filter is in place: everything else, the root logger's level
    included, is left as it was."""

    def __enter__(self):
        import logging

        logging.getLogger().addFilter(self)
        return self

    def __exit__(self, *exc) -> None:
        import logging

        logging.getLogger().removeFilter(self)

    @staticmethod
    def filter(record) -> bool:
        where = record.pathname.replace("\\", "/")
        return "onnxruntime/quantization/" not in where


def quantize_int8(source: Path, target: Path, *, portable: bool = False) -> Path:
    """`target`: `source` with its matrix products in int8 (ONNX Runtime's dynamic
    quantization; weights int8, activations quantized per batch at run time). Weights keep
    7 bits (`reduce_range`) where the file may run on an x86 CPU without VNNI, whose int8
    products otherwise saturate and change answers: on this CPU when it has no VNNI, and
    always for a `portable` file (an export, which runs who knows where)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from engine.hardware import cpu_has_vnni

    with _QuantizerAdvice():
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8,
                         reduce_range=portable or not cpu_has_vnni())
    return target


def _remove_stale(keep: Path, run_dir: str) -> None:
    """Older entries of the same run folder (built before the run or its base changed)."""
    for other in keep.parent.iterdir():
        if other != keep and other.is_dir() and _read_facts(other).get("run_dir") == run_dir:
            shutil.rmtree(other, ignore_errors=True)


def measure_agreement(reference, session, entry: str = "", limit: int = AGREEMENT_IMAGES) -> dict:
    """Top-1 agreement and max |Δp| of `session` against `reference` (a torch fp32
    Predictor) on up to `limit` of the run's test images; {"images": 0, ...} without them.
    `entry`: the cache entry's folder, under which torch's answers are remembered."""
    import numpy as np

    result = {"images": 0, "top1_agreement": None, "max_abs_dp": None,
              "compared_with": "torch fp32", "on": "test images"}
    batches = _reference_answers(reference, entry, limit)
    if not batches:
        return result
    agree, max_dp, n = 0, 0.0, 0
    for images, expected in batches:
        pixels = reference.augmenter.eval_batch(images).float().numpy()
        got = np.asarray(session.run(None, {"pixel_values": pixels})[0])
        agree += int((got.argmax(-1) == expected.argmax(-1)).sum())
        max_dp = max(max_dp, float(np.abs(got - expected).max()))
        n += len(expected)
    result.update(images=n, top1_agreement=round(agree / n, 4), max_abs_dp=round(max_dp, 6))
    return result


_last_reference: dict = {}  # the newest run's decoded test images and torch's answers


def _reference_answers(reference, entry: str, limit: int) -> list:
    """[(uint8 images, torch fp32 probabilities)] per batch of the run's test images; kept
    for the newest run, so a second backend built in the same session skips the slow pass."""
    key = (str(reference.run_dir), entry, limit)
    if _last_reference.get("key") == key:
        return _last_reference["batches"]
    from engine.data.cache import DecodeCache

    paths = _test_images(reference.run_dir)[:limit]
    cache = DecodeCache(reference.resolution, framing=reference.framing)
    batches = []
    for start in range(0, len(paths), 32):
        loaded = cache.load(paths[start:start + 32])
        if loaded.kept:
            batches.append((loaded.images, reference.probabilities(loaded.images).numpy()))
    _last_reference.clear()
    _last_reference.update(key=key, batches=batches)
    return batches


def _test_images(run_dir: Path) -> list[str]:
    """The run's test images that are still where split.json says (none: an empty list)."""
    from engine.use.evaluate import _samples_from_split

    try:
        _index, samples, _skipped = _samples_from_split(run_dir, "test", None)
    except (UserError, OSError, ValueError):
        return []
    return [s.path for s in samples]


def record_in_run(run_dir: Path, backend: str, agreement: dict) -> None:
    """run.json["backends"][backend] = the agreement (skipped where the folder is read-only)."""
    from engine.runs import write_json_atomic
    from engine.safe_read import read_json

    path = run_dir / "run.json"
    try:
        meta = read_json(path)
        backends = meta.get("backends") if isinstance(meta.get("backends"), dict) else {}
        meta["backends"] = {**backends, backend: agreement}
        write_json_atomic(path, meta)
    except (OSError, ValueError, UserError):
        pass  # a run folder we may not write to: the cache entry still holds the figures
