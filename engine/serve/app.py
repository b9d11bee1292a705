"""The prediction server's FastAPI application: POST /v1/predict, GET /v1/model,
GET /v1/health, and the offline /docs page.

Every refusal is a JSON answer {"error": {"code", "message", "file"?}} with a 4xx status:
a bad upload (engine.serve.uploads), too many files, a bad parameter, a missing or wrong
API key, a request too large (engine.serve.body_limit) or too slow (504). An unexpected
failure is a 500 with the same JSON shape and no traceback; the server keeps serving.
The server never fetches a URL: it predicts only the bytes it is sent.
"""

import asyncio
import hmac
import threading
from dataclasses import dataclass

from engine.i18n import _
from engine.serve.config import ServeConfig
from engine.serve.uploads import ServeError, decode_upload

API_PREFIX = "/v1"


@dataclass
class ServeStats:
    """What the app's dialog shows: requests answered, images predicted, the last error."""
    requests: int = 0
    images: int = 0
    errors: int = 0
    last_error: str = ""

    def __post_init__(self):
        self._lock = threading.Lock()

    def count(self, images: int = 0, error: str = "") -> None:
        with self._lock:
            self.requests += 1
            self.images += images
            if error:
                self.errors += 1
                self.last_error = error


def model_facts(predictor, backend: str) -> dict:
    """GET /v1/model: what a program integrating the classifier needs to know."""
    run = predictor.run
    info = predictor.info
    calibration = run.get("calibration") or {}
    return {"name": predictor.name, "classes": list(predictor.class_names),
            "base_model": {"ref": info.ref, "image_size": info.image_size},
            "method": run.get("method"), "backend": backend,
            "metrics": {"best": run.get("best"), "test_accuracy": run.get("test_accuracy"),
                        "zero_shot_val_accuracy": run.get("zero_shot_val_accuracy")},
            "calibration": {**calibration, "temperature": predictor.temperature},
            "low_confidence_below": predictor.low_confidence,
            "tta": dict(getattr(predictor, "tta_info", {}) or {"mode": "off"})}


def _check_key(api_key: str | None, authorization: str | None) -> None:
    if api_key is None:
        return
    scheme, _sep, token = (authorization or "").partition(" ")
    # compare_digest: the time taken does not tell how much of a guess was right
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(),
                                                             api_key.encode()):
        raise ServeError(401, "unauthorized", _(
            "This server needs its API key: send the header 'Authorization: Bearer <key>'."))


def create_app(predictor, config: ServeConfig | None = None, *, api_key: str | None = None,
               backend: str = "torch"):
    """The application serving `predictor` (engine.use.predict.Predictor or alike)."""
    from contextlib import asynccontextmanager

    from fastapi import Depends, FastAPI, File, Query, Request, UploadFile
    from fastapi.concurrency import run_in_threadpool
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from fastapi.security import HTTPBearer
    from starlette.exceptions import HTTPException

    from engine.serve.batcher import MicroBatcher
    from engine.serve.body_limit import BodyLimit
    from engine.serve.docs import add_offline_docs
    from engine.use.predict import Prediction

    config = config or ServeConfig()
    batcher = MicroBatcher(predictor.probabilities, config.max_batch, config.batch_wait_ms)
    stats = ServeStats()
    facts = model_facts(predictor, backend)

    @asynccontextmanager
    async def lifespan(app):
        yield
        batcher.close()

    title = f"LoRA Studio: {predictor.name}"
    app = FastAPI(title=title, version="1", docs_url=None, redoc_url=None, lifespan=lifespan,
                  description=_("Image classifier '{name}': {n} classes ({classes}).").format(
                      name=predictor.name, n=len(predictor.class_names),
                      classes=", ".join(predictor.class_names[:20])))
    app.state.stats, app.state.batcher, app.state.config = stats, batcher, config
    add_offline_docs(app, title)
    bearer = HTTPBearer(auto_error=False, description=_("the server's API key, if it has one"))

    def authorised(request: Request, _credentials=Depends(bearer)) -> None:
        _check_key(api_key, request.headers.get("authorization"))

    def refuse(status: int, code: str, message: str, file: str | None = None):
        stats.count(error=message)
        return JSONResponse(ServeError(status, code, message, file).to_dict(), status_code=status)

    @app.exception_handler(ServeError)
    async def _serve_error(request, exc: ServeError):
        return refuse(exc.status, exc.code, exc.message, exc.file)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request, exc: RequestValidationError):
        words = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: "
                          f"{e.get('msg', '')}" for e in exc.errors())
        return refuse(422, "bad_request", words)

    @app.exception_handler(HTTPException)
    async def _http_error(request, exc: HTTPException):
        return refuse(exc.status_code, f"http_{exc.status_code}", str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request, exc: Exception):  # a bug: no traceback to the client
        return refuse(500, "internal_error", _("The server failed on this request: {error}")
                      .format(error=" ".join(str(exc).split()) or type(exc).__name__))

    @app.get(f"{API_PREFIX}/health", summary="Is the server up")
    async def health():
        return {"status": "ok", "model": predictor.name, "classes": len(predictor.class_names),
                "requests": stats.requests}

    @app.get(f"{API_PREFIX}/model", summary="Classes, base model, metrics and calibration",
             dependencies=[Depends(authorised)])
    async def model():
        return facts

    async def _answer(files, top_k: int, not_sure_below: float) -> dict:
        uploads = [(f.filename or f"file {i + 1}", await f.read()) for i, f in enumerate(files)]
        batcher.announce(len(uploads))  # a batch being gathered waits for these (batcher.py)
        try:
            images = await run_in_threadpool(
                lambda: [decode_upload(predictor, name, data, config) for name, data in uploads])
        except BaseException:  # a refused upload (or a timeout): none of them will come
            batcher.withdraw(len(uploads))
            raise
        rows = await asyncio.gather(*(asyncio.wrap_future(batcher.submit(image, announced=True))
                                      for image in images))
        out = []
        for (name, _data), probs in zip(uploads, rows):
            values, indices = probs.topk(min(top_k, probs.shape[-1]))
            top = [(predictor.class_names[i], float(v))
                   for v, i in zip(values.tolist(), indices.tolist())]
            p = Prediction(name, top, threshold=predictor.low_confidence,
                           not_sure_below=not_sure_below)
            out.append({"file": name, "label": p.label, "best_guess": p.best_guess,
                        "confidence": p.confidence, "not_sure": p.not_sure,
                        "low_confidence": p.low_confidence,
                        "top": [{"label": n, "probability": v} for n, v in top]})
        return {"model": predictor.name, "predictions": out}

    @app.post(f"{API_PREFIX}/predict", dependencies=[Depends(authorised)],
              summary="Classify one or more images (multipart field 'files')")
    async def predict(files: list[UploadFile] = File(..., description=_(
                          "one or more image files (JPEG, PNG, WebP, BMP, GIF, TIFF)")),
                      top_k: int = Query(5, ge=1, le=config.max_top_k, description=_(
                          "how many labels to return per image, most likely first")),
                      not_sure_below: float = Query(0.0, ge=0.0, le=1.0, description=_(
                          "answer 'not sure' when the top (calibrated) probability is below "
                          "this; 0 always names a class"))):
        if len(files) > config.max_files:
            raise ServeError(413, "too_many_files", _(
                "{n} images in one request; the server takes at most {most}: split them into "
                "several requests.").format(n=len(files), most=config.max_files))
        try:
            answer = await asyncio.wait_for(_answer(files, top_k, not_sure_below),
                                            config.request_timeout_s)
        except asyncio.TimeoutError:
            raise ServeError(504, "timeout", _(
                "The prediction took longer than {s:g} s (the server is busy): try again, or "
                "send fewer images per request.").format(s=config.request_timeout_s)) from None
        stats.count(images=len(files))
        return answer

    app.add_middleware(BodyLimit, limit=config.max_request_bytes)  # before any parsing
    return app


__all__ = ["API_PREFIX", "ServeStats", "create_app", "model_facts"]
