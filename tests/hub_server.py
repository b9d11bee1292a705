"""A stand-in for the Hugging Face Hub on 127.0.0.1, for tests of downloading base models.

It speaks the part of the Hub's HTTP protocol that huggingface_hub's download path uses
(read from huggingface_hub 2.4's hf_api.py, file_download.py, _snapshot_download.py and
utils/_http.py):

- GET /api/models/{repo}[/revision/{rev}]: model info, with `sha` and `siblings`
  (`rfilename`; `size`, `blobId` and `lfs` when asked with `blobs=True`);
- GET /api/models/{repo}/tree/{rev}: the file list snapshot_download walks (one page);
- HEAD/GET /{repo}/resolve/{rev}/{file}: a small file directly, with `ETag` (its git blob
  id), `X-Repo-Commit` and `Content-Length`; an LFS file (weights, sentencepiece models)
  as a 302 redirect to a second listener standing in for the CDN, carrying `X-Linked-Etag`
  (its sha256) and `X-Linked-Size` as the Hub does. The client does not follow a redirect
  to another origin on HEAD: it downloads from `Location`, like from the real CDN;
- `Range: bytes=N-` answered with 206 and `Content-Range` (resumed downloads);
- 404s with the `X-Error-Code` the client maps to its errors: RepoNotFound ->
  RepositoryNotFoundError, RevisionNotFound, EntryNotFound (with `X-Repo-Commit`, which the
  client uses to remember that the file does not exist).

Every request is logged (which server, method, repository, file, range, status, body
bytes) so tests can assert what was and was not downloaded. `cut(repo, file, at)` makes
the next responses of a file stop at byte `at` and drop the connection, as a network
failure mid-file does. Both listeners are bound to the loopback interface only.
"""
from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

# Stored in LFS on the Hub (the extensions of the .gitattributes every new repo gets).
LFS_SUFFIXES = (".bin", ".h5", ".msgpack", ".safetensors", ".model", ".onnx", ".pt", ".pth",
                ".ckpt", ".npz", ".tflite", ".ot", ".pb")
GITATTRIBUTES = "".join(f"*{s} filter=lfs diff=lfs merge=lfs -text\n" for s in LFS_SUFFIXES)


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass(frozen=True)
class Served:
    """One logged request."""

    server: str  # "hub" | "cdn"
    method: str
    path: str
    repo: str | None
    file: str | None
    range: str | None
    status: int
    body_bytes: int  # bytes of the file sent (0 for HEAD, errors, redirects)


class Repo:
    """A repository's files (name -> bytes) at a single commit of "main"."""

    def __init__(self, repo_id: str, files: dict[str, bytes]):
        self.repo_id = repo_id
        self.files = {".gitattributes": GITATTRIBUTES.encode(), **files}
        self.sha = hashlib.sha1("".join(f"{n}:{git_blob_id(d)}" for n, d in
                                        sorted(self.files.items())).encode()).hexdigest()

    def is_lfs(self, name: str) -> bool:
        return name.endswith(LFS_SUFFIXES)

    def entry(self, name: str, blobs: bool = True) -> dict:
        data = self.files[name]
        item = {"size": len(data), "blobId": git_blob_id(data)} if blobs else {}
        if blobs and self.is_lfs(name):
            item["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                           "pointerSize": 134}
        return item

    def by_sha256(self, digest: str) -> str | None:
        """The LFS file with this content hash (the CDN's address of it)."""
        return next((n for n, d in self.files.items()
                     if self.is_lfs(n) and hashlib.sha256(d).hexdigest() == digest), None)

    def tree_entry(self, name: str) -> dict:
        data = self.files[name]
        item = {"type": "file", "path": name, "size": len(data), "oid": git_blob_id(data)}
        if self.is_lfs(name):
            item["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data),
                           "pointerSize": 134}
        return item


class HubStandIn:
    """The Hub (and its CDN) on two loopback ports. Use as a context manager or close()."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.log: list[Served] = []
        self._cuts: dict[tuple[str, str], list[int]] = {}  # (repo, file) -> [at, times]
        self._lock = threading.Lock()
        self._hub = self._listen("hub")
        self._cdn = self._listen("cdn")
        self.endpoint = "http://127.0.0.1:%d" % self._hub.server_address[1]
        self.cdn = "http://127.0.0.1:%d" % self._cdn.server_address[1]

    def _listen(self, role: str) -> ThreadingHTTPServer:
        handler = type(f"{role.title()}Handler", (_Handler,), {"hub": self, "role": role})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name=f"hub-stand-in-{role}",
                         daemon=True).start()
        return server

    def add(self, repo_id: str, files: dict[str, bytes]) -> Repo:
        self.repos[repo_id] = Repo(repo_id, files)
        return self.repos[repo_id]

    def cut(self, repo_id: str, name: str, at: int, times: int = 1) -> None:
        """The next `times` downloads of `name` stop after byte `at` of the file and drop the
        connection (a resumed request starting at or past `at` gets no bytes at all)."""
        self._cuts[(repo_id, name)] = [at, times]

    def reset(self) -> None:
        with self._lock:
            self.log.clear()
            self._cuts.clear()

    # --- what the tests ask --------------------------------------------------------------
    def fetched(self, repo_id: str | None = None) -> list[str]:
        """Files whose bytes were sent (in order; a resumed file appears more than once)."""
        return [r.file for r in self.log if r.body_bytes and (repo_id in (None, r.repo))]

    def asked(self, repo_id: str | None = None) -> set[str]:
        """Every file name a HEAD or GET asked for, present in the repository or not."""
        return {r.file for r in self.log if r.file and (repo_id in (None, r.repo))}

    def close(self) -> None:
        for server in (self._hub, self._cdn):
            server.shutdown()
            server.server_close()

    def __enter__(self) -> "HubStandIn":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- for the handler -----------------------------------------------------------------
    def record(self, served: Served) -> None:
        with self._lock:
            self.log.append(served)

    def take_cut(self, repo_id: str, name: str) -> int | None:
        with self._lock:
            cut = self._cuts.get((repo_id, name))
            if not cut:
                return None
            cut[1] -= 1
            if cut[1] <= 0:
                del self._cuts[(repo_id, name)]
            return cut[0]



_API = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)(?:/revision/(?P<rev>[^/]+))?$")
_TREE = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)/tree/(?P<rev>[^/]+)(?P<sub>/.*)?$")
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


class _Handler(BaseHTTPRequestHandler):
    hub: HubStandIn
    role: str
    protocol_version = "HTTP/1.1"  # keep-alive, Content-Length on every answer, as the Hub

    def log_message(self, *args) -> None:  # the request log replaces stderr chatter
        pass

    def do_HEAD(self) -> None:
        self._route()

    def do_GET(self) -> None:
        self._route()

    # --- routing -------------------------------------------------------------------------
    def _route(self) -> None:
        url = urlsplit(self.path)
        path, query = unquote(url.path), parse_qs(url.query)
        if self.role == "cdn":  # /repos/{repo}/{sha256}
            repo_id, _, digest = path.removeprefix("/repos/").rpartition("/")
            return self._cdn_file(repo_id, digest)
        if self.command == "GET" and (m := _TREE.match(path)):
            return self._tree(m["repo"], m["rev"], (m["sub"] or "").strip("/"))
        if self.command == "GET" and (m := _API.match(path)):
            return self._model_info(m["repo"], m["rev"] or "main", query)
        if m := _RESOLVE.match(path):
            return self._resolve(m["repo"], m["rev"], m["file"])
        self._error(404, None, None, None, "NotFound", "Not found")

    def _repo_at(self, repo_id: str, rev: str, name: str | None) -> Repo | None:
        """The repository, or None after answering 404 (unknown repo or revision)."""
        repo = self.hub.repos.get(repo_id)
        if repo is None:
            self._error(404, repo_id, name, None, "RepoNotFound", "Repository not found")
            return None
        if rev not in ("main", repo.sha):
            self._error(404, repo_id, name, repo.sha, "RevisionNotFound", "Invalid rev id")
            return None
        return repo

    def _model_info(self, repo_id: str, rev: str, query: dict) -> None:
        repo = self._repo_at(repo_id, rev, None)
        if repo is None:
            return
        blobs = query.get("blobs", ["false"])[0].lower() == "true"
        self._json(repo_id, {
            "_id": repo.sha[:24], "id": repo_id, "modelId": repo_id, "sha": repo.sha,
            "private": False, "gated": False, "disabled": False, "tags": [],
            "siblings": [{"rfilename": n, **repo.entry(n, blobs)} for n in repo.files]})

    def _tree(self, repo_id: str, rev: str, sub: str) -> None:
        repo = self._repo_at(repo_id, rev, None)
        if repo is None:
            return
        prefix = f"{sub}/" if sub else ""
        self._json(repo_id, [repo.tree_entry(n) for n in repo.files if n.startswith(prefix)])

    def _resolve(self, repo_id: str, rev: str, name: str) -> None:
        repo = self._repo_at(repo_id, rev, name)
        if repo is None:
            return
        if name not in repo.files:
            return self._error(404, repo_id, name, repo.sha, "EntryNotFound",
                               "Entry not found")
        data = repo.files[name]
        headers = {"X-Repo-Commit": repo.sha, "ETag": f'"{git_blob_id(data)}"',
                   "Accept-Ranges": "bytes"}
        if repo.is_lfs(name):  # like the Hub: a redirect to the CDN, the file's facts on it
            sha256 = hashlib.sha256(data).hexdigest()
            headers.update({"Location": f"{self.hub.cdn}/repos/{repo_id}/{sha256}",
                            "X-Linked-Etag": f'"{sha256}"', "X-Linked-Size": str(len(data))})
            self._answer(302, headers, b"", repo_id, name)
            return
        self._send_file(repo_id, name, data, headers)

    def _cdn_file(self, repo_id: str, digest: str) -> None:
        repo = self.hub.repos.get(repo_id)
        name = repo.by_sha256(digest) if repo else None
        if name is None:
            return self._error(404, None, None, None, "NotFound", "Not found")
        self._send_file(repo_id, name, repo.files[name],
                        {"ETag": f'"{digest}"', "Accept-Ranges": "bytes"})

    # --- answers -------------------------------------------------------------------------
    def _send_file(self, repo_id: str, name: str, data: bytes, headers: dict) -> None:
        """The file, or the part a Range header asks for; a pending cut drops the connection."""
        asked = self.headers.get("Range")
        start, end, status = 0, len(data), 200
        if asked and (m := _RANGE.match(asked.strip())):
            start, end, status = int(m[1]), (int(m[2]) + 1 if m[2] else len(data)), 206
            if start >= len(data):
                headers["Content-Range"] = f"bytes */{len(data)}"
                return self._answer(416, headers, b"", repo_id, name)
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(data)}"
        body = data[start:end]
        cut = self.hub.take_cut(repo_id, name) if self.command == "GET" else None
        if cut is None:
            return self._answer(status, headers, body, repo_id, name)
        sent = body[:max(0, cut - start)]
        self.hub.record(Served(self.role, self.command, self.path, repo_id, name, asked, status,
                               len(sent)))  # logged first: the client may act on the bytes
        self._head(status, {**headers, "Content-Length": str(len(body))})
        self.wfile.write(sent)
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)  # mid-body: the client sees the cut

    def _json(self, repo_id: str, data) -> None:
        body = json.dumps(data).encode()
        self._answer(200, {"Content-Type": "application/json"}, body, repo_id, None,
                     count_body=False)

    def _error(self, status: int, repo_id, name, commit, code: str, message: str) -> None:
        headers = {"X-Error-Code": code, "X-Error-Message": message,
                   "Content-Type": "application/json"}
        if commit:
            headers["X-Repo-Commit"] = commit
        self._answer(status, headers, json.dumps({"error": message}).encode(), repo_id, name,
                     count_body=False)

    def _head(self, status: int, headers: dict) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()

    def _answer(self, status: int, headers: dict, body: bytes, repo_id, name,
                count_body: bool = True) -> None:
        sent = len(body) if self.command != "HEAD" and count_body and status < 300 else 0
        self.hub.record(Served(self.role, self.command, self.path, repo_id, name,
                               self.headers.get("Range"), status, sent))  # before the client
        self._head(status, {**headers, "Content-Length": str(len(body))})  # can act on it
        if self.command != "HEAD":
            self.wfile.write(body)


def closed_port_endpoint() -> str:
    """An http endpoint on the loopback interface where nothing listens (no server)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def point_client_at(monkeypatch, endpoint: str, home) -> None:
    """Point the already imported huggingface_hub (and transformers) at `endpoint`, with an
    empty cache under `home`, online.

    huggingface_hub reads HF_ENDPOINT, HF_HOME, HF_HUB_CACHE and HF_HUB_OFFLINE into module
    constants when it is first imported (tests/conftest.py imports it offline), and its
    download path reads those constants, not the environment: hf_hub_url formats
    constants.HUGGINGFACE_CO_URL_TEMPLATE, HfApi() takes constants.ENDPOINT, the cache
    defaults to constants.HF_HUB_CACHE and get_session() refuses requests while
    constants.HF_HUB_OFFLINE is set. So the constants are patched (as huggingface_hub's own
    tests patch ENDPOINT and the URL template), and the environment too for child processes.
    transformers keeps one HfApi (transformers.utils.hub._hf_api) made with the endpoint of
    its time: it is dropped so that the next one is made for `endpoint`. huggingface_hub's
    module-level functions (file_exists, model_info, ...; peft asks file_exists when it saves
    an adapter) are methods of one HfApi made at import: its endpoint is patched too.
    """
    from huggingface_hub import constants, hf_api
    import transformers.utils.hub as transformers_hub

    home = str(home)
    cache = f"{home}/hub"
    for name, value in {"HF_ENDPOINT": endpoint, "HF_HOME": home, "HF_HUB_CACHE": cache,
                        "HF_HUB_DISABLE_TELEMETRY": "1"}.items():
        monkeypatch.setenv(name, value)
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
            "ENDPOINT": endpoint,
            "HUGGINGFACE_CO_URL_TEMPLATE": endpoint + "/{repo_id}/resolve/{revision}/{filename}",
            "HF_HOME": home, "HF_HUB_CACHE": cache, "HUGGINGFACE_HUB_CACHE": cache,
            "HF_ASSETS_CACHE": f"{home}/assets", "HF_XET_CACHE": f"{home}/xet",
            "HF_TOKEN_PATH": f"{home}/token", "HF_STORED_TOKENS_PATH": f"{home}/stored_tokens",
            "HF_HUB_OFFLINE": False, "HF_HUB_DISABLE_TELEMETRY": True}.items():
        monkeypatch.setattr(constants, name, value)
    monkeypatch.setattr(transformers_hub, "_hf_api", None)
    monkeypatch.setattr(hf_api.api, "endpoint", endpoint)
    # engine.model.hub may have switched the client offline itself (Hub unreachable)
    monkeypatch.setattr("engine.model.hub._offline_by_us", False)


def forbid_outside_network(monkeypatch) -> list[str]:
    """Name lookups of any host but the loopback fail (as without a network) and are listed
    in the returned list: a test asserts that nothing tried to reach the real Hub."""
    real = socket.getaddrinfo
    outside: list[str] = []

    def loopback_only(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in ("127.0.0.1", "localhost", "::1"):
            outside.append(name)
            raise socket.gaierror(socket.EAI_NONAME, f"{name}: outside the test's network")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    return outside


def go_offline(monkeypatch) -> None:
    """HF_HUB_OFFLINE=1 as a user sets it, seen by the already imported client too."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
