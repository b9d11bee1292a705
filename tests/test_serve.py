"""The local prediction server (engine.serve), on loopback with a real uvicorn server in a
thread (and once as `python -m engine serve` in a subprocess): every endpoint, every bad
input answered with a 4xx JSON error naming the problem while the server keeps serving,
the API key on and off, the loopback rule, micro-batching, and 200 requests from 8
concurrent clients answered exactly as the Predictor answers in-process.
"""
from __future__ import annotations

import io
import os
import signal
import struct
import subprocess
import sys
import threading
import time
import urllib.request
import zlib
from pathlib import Path

import pytest
from PIL import Image

from engine.errors import UserError
from engine.serve.client import Client
from engine.serve.config import ServeConfig
from engine.serve.server import check_binding, reach_note, start_in_thread

ROOT = Path(__file__).resolve().parent.parent
KEY = "a-long-random-test-key-0123456789"
# Small limits, so the oversized cases are cheap: 60 kB per file, 3 files per request.
LIMITS = dict(port=0, max_upload_mb=60 / 1024, max_files=3, max_batch=8, batch_wait_ms=5.0,
              request_timeout_s=60.0)


@pytest.fixture(scope="module")
def images(learnable_split_dir) -> list[Path]:
    return sorted((learnable_split_dir / "test").rglob("*.jpg"))


@pytest.fixture(scope="module")
def server(predictor):
    thread = start_in_thread(predictor, ServeConfig(**LIMITS))
    yield thread
    thread.stop()


@pytest.fixture
def client(server):
    c = Client(server.url, timeout=60)
    yield c
    c.close()


def _files(paths) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in paths]


def _expected(predictor, paths, top_k=3):
    return {p.source.rsplit("/", 1)[-1]: p for p in predictor.predict([str(p) for p in paths],
                                                                      top_k=top_k)}


def _same(answer: dict, expected) -> None:
    assert answer["label"] == expected.label and answer["best_guess"] == expected.best_guess
    assert [t["label"] for t in answer["top"]] == [name for name, _p in expected.top]
    for got, (_name, p) in zip(answer["top"], expected.top):
        assert got["probability"] == pytest.approx(p, abs=1e-4)


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny valid PNG whose header claims width x height pixels (a decompression bomb)."""
    buffer = io.BytesIO()
    Image.new("1", (8, 8)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", width, height)  # IHDR's width and height
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))  # and its checksum
    return bytes(data)


def _real_bomb() -> bytes:
    """A real 12,000 x 12,000 picture (144 megapixels) that compresses to a few kB: above
    PIL's own limit (where PIL only warns) and the server's."""
    buffer = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buffer, "PNG")
    return buffer.getvalue()


def _noise_png(side: int) -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, "PNG")
    return buffer.getvalue()


# --- the endpoints -------------------------------------------------------------------------
def test_health_and_model_describe_the_run(client, predictor):
    status, health = client.get("/v1/health")
    assert status == 200 and health["status"] == "ok" and health["model"] == predictor.name
    status, model = client.get("/v1/model")
    assert status == 200
    assert model["classes"] == predictor.class_names and model["backend"] == "torch"
    assert model["base_model"]["image_size"] == predictor.info.image_size
    assert model["calibration"]["temperature"] == pytest.approx(predictor.temperature)
    assert set(model["metrics"]) >= {"best", "test_accuracy"}


def test_predict_answers_as_the_predictor_does(client, predictor, images):
    chosen = images[:3]
    status, answer = client.predict(_files(chosen), top_k=2)
    assert status == 200, answer
    expected = _expected(predictor, chosen, top_k=2)
    assert [p["file"] for p in answer["predictions"]] == [p.name for p in chosen]
    for got in answer["predictions"]:
        assert len(got["top"]) == 2 and got["not_sure"] is False
        _same(got, expected[got["file"]])


def test_not_sure_below_names_no_class(client, images):
    status, answer = client.predict(_files(images[:1]), not_sure_below=1.0)
    assert status == 200
    got = answer["predictions"][0]
    assert got["not_sure"] is True and got["label"] == "not sure" and got["best_guess"]


# --- bad input: a 4xx JSON error naming the problem, and the server keeps serving -----------
BAD_UPLOADS = [
    ("not-an-image", [("notes.txt", b"just some words, no picture")], 415, "not_an_image",
     "notes.txt"),
    ("empty-upload", [("empty.jpg", b"")], 400, "empty_upload", "empty.jpg"),
    ("bomb-header", [("bomb.png", _png_claiming(100_000, 100_000))], 413, "too_many_pixels",
     "bomb.png"),
    ("damaged-image", [("cut.png", _noise_png(40)[:200])], 422, "damaged_image", "cut.png"),
]


@pytest.mark.parametrize("case", BAD_UPLOADS, ids=[c[0] for c in BAD_UPLOADS])
def test_a_bad_upload_is_a_4xx_naming_it(case, client, images):
    _name, files, status, code, file = case
    got, answer = client.predict(_files(images[:1]) + files)  # a good image beside it
    assert got == status, answer
    assert answer["error"]["code"] == code and answer["error"]["file"] == file
    assert file in answer["error"]["message"] and "Traceback" not in str(answer)
    assert client.predict(_files(images[:1]))[0] == 200  # and the server keeps serving


def test_a_real_decompression_bomb_is_refused_from_its_header(client):
    status, answer = client.predict([("big.png", _real_bomb())])
    assert status == 413 and answer["error"]["code"] == "too_many_pixels"
    assert "12000 x 12000" in answer["error"]["message"]


def test_oversized_file_too_many_files_and_too_large_requests(client, images):
    status, answer = client.predict([("noise.png", _noise_png(200))])  # about 120 kB
    assert status == 413 and answer["error"]["code"] == "file_too_large"
    assert "noise.png" in answer["error"]["message"]
    status, answer = client.predict(_files(images[:4]))
    assert status == 413 and answer["error"]["code"] == "too_many_files"
    status, answer = client.predict([("huge.bin", b"\0" * (4 * 1024 * 1024))])
    assert status == 413 and answer["error"]["code"] == "request_too_large"
    assert client.get("/v1/health")[0] == 200


def test_bad_parameters_and_forms_are_named(client, images):
    status, answer = client.predict(_files(images[:1]), top_k=0)
    assert status == 422 and "top_k" in answer["error"]["message"]
    status, answer = client.predict(_files(images[:1]), not_sure_below=2)
    assert status == 422 and "not_sure_below" in answer["error"]["message"]
    status, answer = client.request("POST", "/v1/predict", b"url=http://example.com/a.jpg",
                                    {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 422 and "files" in answer["error"]["message"]  # never fetches a URL
    status, answer = client.get("/v1/nothing-here")
    assert status == 404 and "error" in answer


def test_a_slow_request_times_out_with_504(predictor, images):
    thread = start_in_thread(predictor, ServeConfig(port=0, request_timeout_s=0.000001))
    try:
        status, answer = Client(thread.url).predict(_files(images[:1]))
        assert status == 504 and answer["error"]["code"] == "timeout"
    finally:
        thread.stop()


# --- security ---------------------------------------------------------------------------------
def test_api_key_on_loopback(predictor, images):
    thread = start_in_thread(predictor, ServeConfig(port=0), api_key=KEY)
    try:
        status, answer = Client(thread.url).predict(_files(images[:1]))
        assert status == 401 and answer["error"]["code"] == "unauthorized"
        assert "Authorization: Bearer" in answer["error"]["message"]
        assert Client(thread.url, api_key=KEY + "x").get("/v1/model")[0] == 401
        assert Client(thread.url).get("/v1/health")[0] == 200  # health needs no key
        assert Client(thread.url, api_key=KEY).predict(_files(images[:1]))[0] == 200
        assert Client(thread.url, api_key=KEY).get("/v1/model")[0] == 200
    finally:
        thread.stop()


def test_another_interface_needs_a_key():
    with pytest.raises(UserError, match="API key"):
        check_binding("0.0.0.0", None)
    with pytest.raises(UserError, match="API key"):
        start_in_thread(object(), ServeConfig(host="192.168.1.20", port=0))
    check_binding("0.0.0.0", KEY)
    for host in ("127.0.0.1", "localhost", "::1"):
        check_binding(host, None)
    assert "other computers" in reach_note("0.0.0.0", 8000, KEY)
    assert "this computer only" in reach_note("127.0.0.1", 8000, None)


def test_a_missing_server_package_is_named(monkeypatch):
    import importlib.util

    from engine.serve import server as server_module

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "multipart" else real(name, *a))
    with pytest.raises(UserError, match="pip install python-multipart"):
        server_module.require_packages()


def test_a_port_in_use_is_a_plain_error(server, predictor):
    with pytest.raises(UserError, match="--port"):
        start_in_thread(predictor, ServeConfig(port=server.port))


def test_the_docs_page_works_offline(server):
    html = urllib.request.urlopen(f"{server.url}/docs", timeout=30).read().decode()
    assert "swagger-ui" in html and "http://" not in html and "https://" not in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        with urllib.request.urlopen(f"{server.url}/docs-assets/{asset}", timeout=30) as r:
            assert r.status == 200 and len(r.read()) > 10_000
    status, schema = Client(server.url).get("/openapi.json")
    assert status == 200 and schema["openapi"].startswith("3.0")
    body = schema["components"]["schemas"]["Body_predict_v1_predict_post"]
    assert body["properties"]["files"]["items"] == {"type": "string", "format": "binary"}
    assert {"/v1/predict", "/v1/model", "/v1/health"} <= set(schema["paths"])


# --- load: micro-batching, 8 concurrent clients ---------------------------------------------
def test_the_batcher_gathers_what_arrives_while_the_model_works():
    import numpy as np
    import torch

    from engine.serve.batcher import MicroBatcher

    release, sizes = threading.Event(), []

    def probabilities(stack):
        sizes.append(len(stack))
        release.wait(10)
        return torch.ones(len(stack), 2) / 2

    batcher = MicroBatcher(probabilities, max_batch=16, wait_ms=1)
    try:
        futures = [batcher.submit(np.zeros((3, 4, 4), np.uint8))]
        while not sizes:
            time.sleep(0.005)
        futures += [batcher.submit(np.zeros((3, 4, 4), np.uint8)) for _ in range(9)]
        release.set()
        assert all(f.result(10).tolist() == [0.5, 0.5] for f in futures)
        assert sizes == [1, 9] and batcher.largest == 9 and batcher.images == 10
    finally:
        batcher.close()


def test_200_requests_from_8_clients_all_answered_correctly(server, predictor, images):
    expected = _expected(predictor, images, top_k=3)
    payloads = _files(images)
    answers: list = []
    failures: list = []

    def client_loop(n: int) -> None:
        c = Client(server.url, timeout=120)
        try:
            for i in range(25):
                name, data = payloads[(n * 25 + i) % len(payloads)]
                status, answer = c.predict([(name, data)], top_k=3)
                answers.append((status, name, answer))
        except Exception as exc:  # shown by the assertion below
            failures.append(repr(exc))
        finally:
            c.close()

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(8)]
    before = server.app.state.batcher.images
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not failures and len(answers) == 200
    for status, name, answer in answers:
        assert status == 200, answer
        assert answer["predictions"][0]["file"] == name
        _same(answer["predictions"][0], expected[name])
    assert server.app.state.batcher.images - before == 200
    assert server.stats.images >= 200


# --- the command line -----------------------------------------------------------------------
def test_python_m_engine_serve_serves_until_interrupted(run, images):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "engine", "serve", str(run), "--port",
                                "0", "--device", "cpu"], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        lines, url = [], None
        deadline = time.monotonic() + 120
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Serving"):
                url = line.split(" at ", 1)[1].split()[0]
        assert url and url.startswith("http://127.0.0.1:"), lines
        assert "this computer only" in lines[-1] and f"{url}/docs" in lines[-1]
        status, answer = Client(url).predict(_files(images[:1]))
        assert status == 200 and answer["predictions"][0]["label"]
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
