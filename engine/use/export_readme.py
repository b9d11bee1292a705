"""What an export folder says about itself: preprocessing.json (the numbers a runtime without
Python needs to prepare a picture) and README.txt (words in the user's language, then code
that runs as written: Python for every format, Android for TFLite, iOS for Core ML).
"""
from __future__ import annotations

from engine.data.framing import BICUBIC, BILINEAR, BOX, CROP, HAMMING, LANCZOS, NEAREST, Framing
from engine.i18n import N_, _

FILTER_NAMES = {NEAREST: "nearest", LANCZOS: "lanczos", BILINEAR: "bilinear", BICUBIC: "bicubic",
                BOX: "box", HAMMING: "hamming"}


def preprocessing(info, fmt: str) -> dict:
    """preprocessing.json: how a picture becomes the model's input, and what comes out."""
    framing = info.framing or Framing.clip(info.image_size)
    size = framing.crop
    layout, shape = ("NHWC", [1, size, size, 3]) if fmt == "tflite" else \
        ("NCHW", [1 if fmt == "coreml" else "batch", 3, size, size])
    data = {
        "input": {"name": "pixel_values", "dtype": "float32", "layout": layout, "shape": shape,
                  "color": "RGB"},
        "resize": {"mode": "shortest_edge" if framing.mode == CROP else "square",
                   "size": framing.resize, "filter": FILTER_NAMES[framing.resample],
                   "pil_resample": framing.resample},
        "center_crop": size, "rescale": 1 / 255,
        "mean": [float(v) for v in info.mean], "std": [float(v) for v in info.std],
        "normalize_in_model": False,
        "output": {"name": "probabilities", "dtype": "float32",
                   "meaning": "calibrated class probabilities; index i is labels.json[str(i)]"},
    }
    if fmt == "coreml":  # an image input: Vision resizes and crops, the model normalises
        data["input"] = {"name": "image", "type": "image (RGB)", "width": size, "height": size}
        data["normalize_in_model"] = True
        data["output"] = {"name": "probabilities", "label": "classLabel",
                          "meaning": "class name -> calibrated probability"}
    return data


INTRO = N_("""\
LoRA Studio export of run '{name}' ({num_classes} classes, base model {base}) as {format}:
{description}.

Files: {files}; labels.json (class index -> name); preprocessing.json (how a picture
becomes the input: resize, centre crop, divide by 255, subtract mean, divide by std);
lora_studio_export.json (where it came from and how the export compared with the run).
The model returns calibrated probabilities, one per class in labels.json's order.
""")
CHECKED = N_("Checked after export: {line}")
COREML_NOT_RUN = N_("Core ML models run only on Apple devices (macOS, iOS): this export was "
                    "converted on this computer but could not be run here, so it is not "
                    "checked. Compare a few pictures on a Mac before you ship it.")
PYTHON = N_("Python (pip install {packages}):")
ANDROID = N_("Android: add LiteRT (com.google.ai.edge.litert:litert) and run model.tflite with "
             "its Interpreter. The input is NHWC float32, prepared as preprocessing.json says; "
             "the Task Library's ImageClassifier needs metadata this file does not carry, so "
             "prepare the pixels yourself:")
IOS = N_("iOS / macOS: add model.mlpackage to the Xcode project and classify with Vision "
         "(VNCoreMLRequest); Vision resizes and crops the picture, the model normalises it:")
TRITON = N_("The model repository for Triton Inference Server is model_repository/; its "
            "README.txt says how to start Triton and what a request holds.")

PIXELS = '''\
import json, numpy as np
from PIL import Image
folder = {folder!r}  # this folder
prep, labels = (json.load(open(f"{{folder}}/{{f}}.json")) for f in ("preprocessing", "labels"))
def pixels(path):  # a picture -> the model's input, as preprocessing.json says
    image, r, c = Image.open(path).convert("RGB"), prep["resize"]["size"], prep["center_crop"]
    w, h = image.size
    size = (r, r) if prep["resize"]["mode"] == "square" else (r, int(r * h / w)) if w <= h else (int(r * w / h), r)
    image = image.resize(size, prep["resize"]["pil_resample"])
    left, top = (size[0] - c) // 2, (size[1] - c) // 2
    x = (np.asarray(image.crop((left, top, left + c, top + c)), np.float32) / 255 - prep["mean"]) / prep["std"]
    return x.transpose(2, 0, 1)[None].astype(np.float32)  # [1, 3, c, c]
'''
SHOW = 'print(labels[str(int(probs.argmax()))], float(probs.max()))\n'
RUN = {
    "onnx": ("onnxruntime numpy pillow", 'import onnxruntime as ort\n'
             'session = ort.InferenceSession(f"{folder}/model.onnx")\n'
             'probs = session.run(None, {"pixel_values": pixels("photo.jpg")})[0][0]\n'),
    "onnx-int8": ("onnxruntime numpy pillow", 'import onnxruntime as ort\n'
                  'session = ort.InferenceSession(f"{folder}/model-int8.onnx")\n'
                  'probs = session.run(None, {"pixel_values": pixels("photo.jpg")})[0][0]\n'),
    "openvino": ("openvino numpy pillow", 'import openvino as ov\n'
                 'model = ov.Core().compile_model(f"{folder}/model.xml", "CPU")\n'
                 'probs = model(pixels("photo.jpg"))[0][0]\n'),
    "tflite": ("ai-edge-litert numpy pillow", 'from ai_edge_litert.interpreter import Interpreter\n'
               'runner = Interpreter(model_path=f"{folder}/model.tflite").get_signature_runner()\n'
               '(name,) = runner.get_input_details()\n'
               'probs = next(iter(runner(**{name: pixels("photo.jpg").transpose(0, 2, 3, 1)})'
               '.values()))[0]\n'),
    "coreml": ("coremltools pillow (macOS only)", 'import coremltools as ct\n'
               'model = ct.models.MLModel(f"{folder}/model.mlpackage")\n'
               'image = Image.open("photo.jpg").convert("RGB").resize((prep["center_crop"],) * 2)\n'
               'out = model.predict({"image": image})\n'
               'print(out["classLabel"], max(out["probabilities"].values()))\n'),
}
ANDROID_CODE = '''\
// Kotlin; pixels: a FloatArray of 1 x {size} x {size} x 3, RGB, normalised as above
val interpreter = Interpreter(FileUtil.loadMappedFile(context, "model.tflite"))
val input = ByteBuffer.allocateDirect(4 * pixels.size).order(ByteOrder.nativeOrder())
input.asFloatBuffer().put(pixels)
val probs = Array(1) {{ FloatArray({classes}) }}
interpreter.run(input, probs)  // probs[0][i]: class labels.json["i"]
'''
IOS_CODE = '''\
// Swift
let model = try VNCoreMLModel(for: MLModel(contentsOf: compiledURL))  // Xcode compiles .mlpackage
let request = VNCoreMLRequest(model: model) {{ request, _ in
    let best = (request.results as? [VNClassificationObservation])?.first
    print(best?.identifier ?? "", best?.confidence ?? 0)
}}
request.imageCropAndScaleOption = .{crop_option}
try VNImageRequestHandler(cgImage: photo).perform([request])
'''


def readme(fmt: str, *, name: str, base: str, classes: int, size: int, folder: str,
           files: str, description: str, check_line: str, triton_model: str = "",
           squash: bool = False) -> str:
    """README.txt of a non-merged export folder (the merged one keeps export.py's)."""
    parts = [_(INTRO).format(name=name, num_classes=classes, base=base, format=fmt,
                             description=description, files=files)]
    parts.append(_(COREML_NOT_RUN) if fmt == "coreml" else _(CHECKED).format(line=check_line))
    if fmt == "triton":
        parts.append(_(TRITON))
    key = "onnx" if fmt == "triton" else fmt
    packages, code = RUN[key]
    if fmt == "triton":
        code = code.replace("{folder}/model.onnx",
                            "{folder}/model_repository/" + triton_model + "/1/model.onnx")
    parts.append(_(PYTHON).format(packages=packages))
    body = PIXELS.format(folder=folder) + code
    parts.append(body if fmt == "coreml" else body + SHOW)
    if fmt == "tflite":
        parts += [_(ANDROID), ANDROID_CODE.format(size=size, classes=classes)]
    if fmt == "coreml":
        parts += [_(IOS), IOS_CODE.format(crop_option="scaleFill" if squash else "centerCrop")]
    return "\n".join(part.rstrip("\n") + "\n" for part in parts)
