"""The application factory for several worker processes (uvicorn --workers, gunicorn): each
worker builds the app from environment variables, since a process manager cannot pass
arguments. Apart from engine.serve.app, so the app never imports the server module."""
from __future__ import annotations

import os

from engine.serve.app import create_app
from engine.serve.server import load_predictor, read_api_key


def from_environment():
    """The app for `uvicorn --factory engine.serve.factory:from_environment` and gunicorn: the run
    folder from $LORA_STUDIO_RUN, the backend from $LORA_STUDIO_BACKEND (default torch), the
    API key from the file named by $LORA_STUDIO_API_KEY_FILE (needed on any address but
    127.0.0.1: the host is the process manager's choice, so the key is on you)."""
    backend = os.environ.get("LORA_STUDIO_BACKEND", "torch")
    predictor = load_predictor(os.environ["LORA_STUDIO_RUN"], backend)
    key_file = os.environ.get("LORA_STUDIO_API_KEY_FILE")
    return create_app(predictor, api_key=read_api_key(key_file) if key_file else None,
                      backend=backend)
