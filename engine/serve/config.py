"""The prediction server's settings: one dataclass; each field carries its help text (the
command line's --help and the app's "Serve this model…" dialog use it)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from engine.i18n import N_, _

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_PIXELS = 50_000_000  # engine.data.imageio's (not imported: --help stays instant)


def _f(default, help: str):
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class ServeConfig:
    host: str = _f(DEFAULT_HOST, N_(
        "address to listen on; 127.0.0.1 (the default) is reachable from this computer only. "
        "Any other address needs --api-key-file"))
    port: int = _f(DEFAULT_PORT, N_("TCP port to listen on (0 picks a free one)"))
    max_upload_mb: float = _f(20.0, N_(
        "largest accepted image file, in MB; a bigger upload gets a 413 error"))
    max_pixels: int = _f(DEFAULT_MAX_PIXELS, N_(
        "largest accepted image in pixels (width x height); a bigger one, or one that claims "
        "to be bigger (a decompression bomb), gets a 413 error"))
    max_files: int = _f(32, N_("most images in one request; more get a 413 error"))
    max_batch: int = _f(32, N_(
        "most images computed together: images of concurrent requests are gathered into "
        "batches up to this size"))
    batch_wait_ms: float = _f(5.0, N_(
        "how long the inference worker waits for more images to fill a batch, in "
        "milliseconds, once one has arrived"))
    request_timeout_s: float = _f(60.0, N_(
        "a request not answered within this many seconds gets a 504 error"))
    max_top_k: int = _f(100, N_("most labels a request may ask for per image (top_k)"))

    def replace(self, **changes) -> "ServeConfig":
        return dataclasses.replace(self, **changes)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_request_bytes(self) -> int:
        """A whole request: every file at its limit, plus room for the form's own lines."""
        return self.max_files * self.max_upload_bytes + 1024 * 1024


def help_text(name: str) -> str:
    """The translated help of ServeConfig's field `name`."""
    meta = {f.name: f.metadata for f in dataclasses.fields(ServeConfig)}[name]
    return _(meta["help"])


__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "ServeConfig", "help_text"]
