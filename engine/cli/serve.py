"""Command line: `python -m engine serve RUN_DIR [--host 127.0.0.1] [--port 8000]
[--backend ...] [--api-key-file F]`: the local prediction server (engine.serve).

Everything that can be refused is refused before the model loads: the address rule (another
interface than 127.0.0.1 needs an API key), the key file, a port already taken.
"""
from __future__ import annotations

import argparse
import sys

from engine.cli import checks
from engine.cli.checks import number
from engine.i18n import _


def _host(text: str) -> str:
    if not text.strip() or any(c.isspace() for c in text.strip()):
        raise argparse.ArgumentTypeError(_("needs an address such as 127.0.0.1, not '{value}'")
                                         .format(value=text))
    return text.strip()


def _cmd_serve(args: argparse.Namespace) -> int:
    from engine.serve.config import ServeConfig
    from engine.serve.server import (bind, check_binding, load_predictor, reach_note,
                                     read_api_key, require_packages, url_of)

    require_packages()
    config = ServeConfig(host=args.host, port=args.port, max_upload_mb=args.max_upload_mb,
                         max_files=args.max_files, max_batch=args.max_batch,
                         batch_wait_ms=args.batch_wait_ms, request_timeout_s=args.timeout)
    api_key = read_api_key(args.api_key_file) if args.api_key_file else None
    check_binding(config.host, api_key)
    sock = bind(config.host, config.port)
    try:
        print(_("Loading run {run} ...").format(run=args.run), flush=True)
        predictor = load_predictor(args.run, args.backend, device=args.device, tta=args.tta)
        for warning in getattr(predictor, "warnings", []):
            print(_("warning: {message}").format(message=warning), file=sys.stderr)
        import uvicorn

        from engine.serve.app import create_app

        app = create_app(predictor, config, api_key=api_key, backend=args.backend)
        url = url_of(config.host, sock.getsockname()[1])
        print(_("Serving '{name}' at {url} (API docs: {url}/docs). {note}").format(
            name=predictor.name, url=url, note=reach_note(config.host, config.port, api_key)))
        print(_("Try: curl -F files=@photo.jpg {url}/v1/predict").format(url=url))
        print(_("Press Ctrl+C to stop."), flush=True)
        try:
            uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5)
                           ).run(sockets=[sock])
        except KeyboardInterrupt:  # Ctrl+C is how a server ends: uvicorn re-raises it after
            pass  # its graceful shutdown
        print(_("Server stopped."))
    finally:
        sock.close()
    return 0


def register_cli(sub: argparse._SubParsersAction) -> None:
    from engine.serve.config import DEFAULT_HOST, DEFAULT_PORT, ServeConfig, help_text
    from engine.use.backends import BACKENDS

    defaults = ServeConfig()
    p = sub.add_parser("serve", help=_("Serve a trained run over HTTP (a local prediction "
                                       "server with OpenAPI docs at /docs)."))
    p.add_argument("run", type=checks.run_folder, help=_("run folder (runs/<name>)"))
    p.add_argument("--host", type=_host, default=DEFAULT_HOST, help=help_text("host"))
    p.add_argument("--port", type=number(int, 0, 65535), default=DEFAULT_PORT,
                   help=help_text("port"))
    p.add_argument("--backend", default="auto" if "auto" in BACKENDS else "torch",
                   choices=list(BACKENDS), help=_("what computes the predictions"))
    p.add_argument("--api-key-file", type=checks.existing_file, default=None, metavar="FILE",
                   help=_("file holding the API key every request must send as "
                          "'Authorization: Bearer <key>'; required with any --host but "
                          "127.0.0.1"))
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"],
                   help=_("where to compute: auto picks cuda, then mps, then cpu"))
    p.add_argument("--max-upload-mb", type=number(float, 0.01, 1024),
                   default=defaults.max_upload_mb, help=help_text("max_upload_mb"))
    p.add_argument("--max-files", type=number(int, 1, 1024), default=defaults.max_files,
                   help=help_text("max_files"))
    p.add_argument("--max-batch", type=number(int, 1, 4096), default=defaults.max_batch,
                   help=help_text("max_batch"))
    p.add_argument("--batch-wait-ms", type=number(float, 0, 1000),
                   default=defaults.batch_wait_ms, help=help_text("batch_wait_ms"))
    p.add_argument("--timeout", type=number(float, 0.1, 3600),
                   default=defaults.request_timeout_s, help=help_text("request_timeout_s"))
    from engine.cli.predict import add_tta_argument

    add_tta_argument(p)
    p.set_defaults(func=_cmd_serve)
