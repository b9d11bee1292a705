"""An ASGI middleware that refuses a request body above a size limit with a 413 JSON error,
from its Content-Length before anything is read, or (a body sent in chunks) as soon as the
bytes received pass the limit: an endless upload cannot fill the disk or the memory."""
from __future__ import annotations

import json

from engine.i18n import _


class _TooLarge(Exception):
    pass


def _answer(limit: int) -> tuple[dict, dict]:
    body = json.dumps({"error": {"code": "request_too_large", "message": _(
        "The request is larger than the server accepts ({mb:g} MB): send fewer or smaller "
        "images per request.").format(mb=round(limit / 1024 / 1024, 1))}}).encode()
    start = {"type": "http.response.start", "status": 413,
             "headers": [(b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode())]}
    return start, {"type": "http.response.body", "body": body}


class BodyLimit:
    def __init__(self, app, limit: int):
        self.app, self.limit = app, int(limit)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            for message in _answer(self.limit):
                await send(message)
            return
        state = {"received": 0, "too_large": False, "answered": False}

        async def limited_receive():
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.limit:
                    state["too_large"] = True
                    raise _TooLarge()
            return message

        async def guarded_send(message):
            if not state["too_large"]:
                return await send(message)
            if not state["answered"]:  # the app's own answer to the broken body is replaced
                state["answered"] = True
                for own in _answer(self.limit):
                    await send(own)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            pass
        if state["too_large"] and not state["answered"]:
            state["answered"] = True
            for own in _answer(self.limit):
                await send(own)


__all__ = ["BodyLimit"]
