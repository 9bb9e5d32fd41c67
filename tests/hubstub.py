"""A stub Hugging Face Hub on 127.0.0.1 for the fetch tests (no test leaves the machine).

It answers the routes huggingface_hub uses for what CAPE fetches:

* ``GET  /api/{models|datasets}/{repo}[/revision/{rev}]``   repo info (``sha``, ``lastModified``)
* ``GET  /api/{models|datasets}/{repo}/tree/{rev}[/{path}]`` listing (``?recursive=true``), one page
* ``HEAD|GET /[datasets/]{repo}/resolve/{rev}/{path}``      file metadata (``X-Repo-Commit``, ``ETag``,
  ``Content-Length``) and content

and the failures the tests need: ``404`` with the Hub's ``X-Error-Code`` (``RepoNotFound``, ``RevisionNotFound``,
``EntryNotFound``), a server that does not answer in time (``hang``), one that answers 503 (``down``) and a
file whose content arrives cut short (``truncate``). Every request is logged in :attr:`StubHub.log`.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


class StubHub:
    def __init__(self):
        self.repos: dict = {}
        self.log: list[tuple[str, str]] = []
        self.mode = "ok"
        self.hang_s = 3.0
        self.truncate: set[str] = set()
        #: with mode "ok": requests whose path contains this text do not answer in time
        self.hang_on: str | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, repo_type: str, repo_id: str, files: dict, *, revision: str = "main",
            date: str = "2024-06-01T12:00:00.000Z") -> str:
        """Publish ``files`` ({path: bytes}) as a new commit of ``revision``; returns the commit sha."""
        repo = self.repos.setdefault((repo_type, repo_id), {"refs": {}, "commits": {}, "dates": {}})
        h = hashlib.sha1(repo_id.encode())
        for p in sorted(files):
            h.update(p.encode() + b"\0" + files[p])
        h.update(str(len(repo["commits"])).encode())
        sha = h.hexdigest()
        repo["commits"][sha] = dict(files)
        repo["dates"][sha] = date
        repo["refs"][revision] = sha
        return sha

    def requests(self, method: str | None = None, contains: str = "") -> list[str]:
        return [p for m, p in self.log if (method is None or m == method) and contains in p]

    # ------------------------------------------------------------------ HTTP
    def _handler(self):
        hub = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):  # quiet
                pass

            def do_GET(self):
                hub._serve(self, "GET")

            def do_HEAD(self):
                hub._serve(self, "HEAD")

        return H

    def _send(self, h, status: int, body: bytes = b"", headers: dict | None = None, method: str = "GET",
              length: int | None = None) -> None:
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body) if length is None else length))
        h.end_headers()
        if method != "HEAD":
            h.wfile.write(body)

    def _error(self, h, method: str, code: str, status: int = 404) -> None:
        self._send(h, status, json.dumps({"error": code}).encode(),
                   {"X-Error-Code": code, "Content-Type": "application/json"}, method)

    def _commit(self, repo_type: str, repo_id: str, rev: str):
        repo = self.repos.get((repo_type, repo_id))
        if repo is None:
            return None, "RepoNotFound"
        sha = repo["refs"].get(rev, rev if rev in repo["commits"] else None)
        if sha is None:
            return None, "RevisionNotFound"
        return sha, None

    def _serve(self, h, method: str) -> None:
        parts = urlsplit(h.path)
        path = unquote(parts.path)
        self.log.append((method, h.path))
        if self.mode == "hang" or (self.hang_on is not None and self.hang_on in h.path):
            time.sleep(self.hang_s)
            try:
                self._send(h, 503, b"late", method=method)
            except OSError:
                pass
            return
        if self.mode == "down":
            self._send(h, 503, b"down", method=method)
            return
        seg = path.strip("/").split("/")
        if seg[0] == "api" and len(seg) >= 4 and seg[1] in ("models", "datasets"):
            return self._api(h, method, seg[1][:-1], seg[2:], parse_qs(parts.query))
        repo_type = "model"
        if seg[0] == "datasets":
            repo_type, seg = "dataset", seg[1:]
        if len(seg) >= 5 and seg[2] == "resolve":
            return self._resolve(h, method, repo_type, f"{seg[0]}/{seg[1]}", seg[3], "/".join(seg[4:]))
        self._send(h, 404, b"not found", method=method)

    def _api(self, h, method, repo_type, seg, query) -> None:
        repo_id = f"{seg[0]}/{seg[1]}"
        rest = seg[2:]
        if not rest or rest[0] == "revision":
            sha, err = self._commit(repo_type, repo_id, rest[1] if len(rest) > 1 else "main")
            if err:
                return self._error(h, method, err)
            info = {"id": repo_id, "sha": sha, "lastModified": self.repos[(repo_type, repo_id)]["dates"][sha],
                    "private": False}
            return self._send(h, 200, json.dumps(info).encode(), {"Content-Type": "application/json"}, method)
        if rest[0] == "tree" and len(rest) >= 2:
            sha, err = self._commit(repo_type, repo_id, rest[1])
            if err:
                return self._error(h, method, err)
            files = self.repos[(repo_type, repo_id)]["commits"][sha]
            under = "/".join(rest[2:]).strip("/")
            recursive = query.get("recursive", ["false"])[0].lower() == "true"
            pre = f"{under}/" if under else ""
            if under and not any(p.startswith(pre) for p in files):
                return self._error(h, method, "EntryNotFound")
            out, dirs = [], set()
            for p in sorted(files):
                if not p.startswith(pre):
                    continue
                rel = p[len(pre):]
                if "/" in rel and not recursive:
                    dirs.add(pre + rel.split("/")[0])
                    continue
                if recursive:
                    d = p.rsplit("/", 1)[0] if "/" in rel else None
                    while d and d.startswith(pre) and d not in dirs:
                        dirs.add(d)
                        d = d.rsplit("/", 1)[0] if "/" in d[len(pre):] else None
                out.append({"type": "file", "path": p, "size": len(files[p]),
                            "oid": hashlib.sha1(files[p]).hexdigest()})
            out += [{"type": "directory", "path": d, "oid": hashlib.sha1(d.encode()).hexdigest()}
                    for d in sorted(dirs)]
            return self._send(h, 200, json.dumps(out).encode(), {"Content-Type": "application/json"}, method)
        self._send(h, 404, b"not found", method=method)

    def _resolve(self, h, method, repo_type, repo_id, rev, path) -> None:
        sha, err = self._commit(repo_type, repo_id, rev)
        if err:
            return self._error(h, method, err)
        files = self.repos[(repo_type, repo_id)]["commits"][sha]
        if path not in files:
            return self._send(h, 404, b"", {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": sha}, method)
        body = files[path]
        headers = {"X-Repo-Commit": sha, "ETag": f'"{hashlib.sha1(body).hexdigest()}"',
                   "Content-Type": "application/octet-stream"}
        if method == "GET" and path in self.truncate:
            return self._send(h, 200, body[: len(body) // 2], headers, method)
        self._send(h, 200, body, headers, method)


# ---------------------------------------------------------------------------------------------- test setup
DATA = Path(__file__).parent / "data" / "hub"
CONTENTS = "open-llm-leaderboard/contents"
V1 = "open-llm-leaderboard-old/results"
PARQUET = "data/train-00000-of-00001.parquet"


def v2_files() -> dict:
    return {PARQUET: (DATA / "contents" / PARQUET).read_bytes(), "README.md": b"# contents\n"}


def v1_files() -> dict:
    root = DATA / "results"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.json"))}


@contextmanager
def serving(monkeypatch, tmp_path):
    """A stub Hub with the leaderboard datasets; HF_ENDPOINT points at it and HF_HOME at ``tmp_path/hf``."""
    import huggingface_hub.constants as hc

    stub = StubHub()
    stub.add("dataset", CONTENTS, v2_files())
    stub.add("dataset", V1, v1_files())
    monkeypatch.setattr(hc, "HF_HUB_OFFLINE", False)
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", stub.url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("CAPE_HUB_TIMEOUT", "2")
    monkeypatch.setenv("CAPE_HUB_RETRIES", "1")
    try:
        yield stub
    finally:
        stub.close()
