"""The local prediction server: `python -m engine serve RUN_DIR`.

config (the server's settings with their help text), uploads (an uploaded file -> checked
image pixels, or a 4xx error naming the problem), batcher (concurrent requests micro-batched
into one inference worker), app (the FastAPI application: endpoints, errors, offline docs,
API key), server (binding a port, the loopback rule, running uvicorn in a thread or in the
foreground) and client (a small HTTP client for the bench, the tests and the app's dialog).
"""
