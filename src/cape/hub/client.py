"""The thin layer over :mod:`huggingface_hub`: settings, revision resolution, listings, cached downloads.

Everything goes through ``huggingface_hub`` (its cache layout, ``HF_ENDPOINT``, ``HF_HOME``/``HF_HUB_CACHE``,
``HF_HUB_OFFLINE`` and tokens from the usual places), imported only inside these functions. What this module
adds is the offline-first policy:

* one short probe per repository (``timeout`` seconds, ``retries`` extra tries on a timeout, a refused
  connection or a 5xx answer), which resolves the revision to a commit;
* downloads pinned to that commit, so a file already in the cache is never fetched again;
* when the Hub cannot be reached (or ``HF_HUB_OFFLINE`` is set), the last cached snapshot of the revision;
* every failure becomes one sentence (:class:`~cape.errors.HubUnavailableError`, :class:`~cape.errors.NotFoundError`
  or :class:`~cape.errors.DataError`), never a stack of retries.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataError, DependencyError, HubUnavailableError, NotFoundError

DEFAULT_ENDPOINT = "https://huggingface.co"
#: seconds to wait for the Hub's answer (``CAPE_HUB_TIMEOUT`` overrides)
DEFAULT_TIMEOUT = 10.0
#: extra tries after a timeout, a refused connection or a 5xx answer (``CAPE_HUB_RETRIES`` overrides)
DEFAULT_RETRIES = 1
_SHA = re.compile(r"[0-9a-f]{40}")
_TRUE = {"1", "true", "yes", "on"}


def _hf():
    try:
        import huggingface_hub  # noqa: PLC0415
    except ImportError:  # pragma: no cover - pinned in requirements
        raise DependencyError("fetching from the Hub needs huggingface_hub: pip install 'cape[hub]'") from None
    return huggingface_hub


def _errors():
    _hf()
    import huggingface_hub.errors as errs  # noqa: PLC0415

    return errs


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        v = float(raw)
    except ValueError:
        raise DataError(f"environment variable {name}={raw!r}: expected a number of seconds") from None
    if not v > 0:
        raise DataError(f"environment variable {name}={raw!r}: expected a positive number")
    return v


def _env_retries() -> int:
    raw = os.environ.get("CAPE_HUB_RETRIES", "").strip()
    if not raw:
        return DEFAULT_RETRIES
    if not raw.isdigit():
        raise DataError(f"environment variable CAPE_HUB_RETRIES={raw!r}: expected a whole number of extra tries "
                        "(0 or more)")
    return int(raw)


@dataclass(frozen=True)
class HubSettings:
    """Where and how to reach the Hub.

    Attributes:
        endpoint: base URL of the Hub (``HF_ENDPOINT``, default ``https://huggingface.co``).
        cache_dir: the huggingface_hub cache (``HF_HUB_CACHE``, else ``HF_HOME/hub``, else
            ``~/.cache/huggingface/hub``).
        timeout: seconds to wait for an answer.
        retries: extra tries after a transient failure (timeout, refused connection, 5xx).
        offline: never touch the network, use the cache only (``HF_HUB_OFFLINE=1``).
        token: a token, or None for the usual places (``HF_TOKEN``, ``hf auth login``).
        progress: called as ``progress(i, n, path)`` before the i-th of n files is fetched (or found cached).
    """

    endpoint: str
    cache_dir: Path
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    offline: bool = False
    token: str | None = None
    progress: Callable[[int, int, str], None] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_env(cls, *, endpoint: str | None = None, cache_dir: str | os.PathLike | None = None,
                 timeout: float | None = None, retries: int | None = None, offline: bool | None = None,
                 token: str | None = None, progress: Callable[[int, int, str], None] | None = None) -> HubSettings:
        """Settings from the arguments, else the environment (read now, not at import), else the defaults."""
        ep = (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        if not re.match(r"https?://[^/\s]+", ep):
            raise DataError(f"Hub endpoint {ep!r}: expected a URL such as https://huggingface.co (HF_ENDPOINT)")
        if cache_dir is None:
            cache_dir = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
        if cache_dir is None:
            home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache",
                                                             "huggingface")
            cache_dir = os.path.join(home, "hub")
        t = _env_float("CAPE_HUB_TIMEOUT", DEFAULT_TIMEOUT) if timeout is None else float(timeout)
        if not t > 0:
            raise DataError(f"--timeout must be a positive number of seconds, got {timeout}")
        r = _env_retries() if retries is None else int(retries)
        if offline is None:
            offline = any(os.environ.get(v, "").strip().lower() in _TRUE for v in ("HF_HUB_OFFLINE",
                                                                                     "TRANSFORMERS_OFFLINE"))
        return cls(endpoint=ep, cache_dir=Path(os.path.expanduser(os.fspath(cache_dir))), timeout=t,
                   retries=max(0, r), offline=bool(offline), token=token, progress=progress)


@dataclass(frozen=True)
class Snapshot:
    """Files of one repository at one commit, on local disk (the Hub cache).

    Attributes:
        repo_id: ``org/name``.
        repo_type: ``dataset`` or ``model``.
        revision: the revision asked for (branch, tag or commit).
        sha: the commit it resolved to.
        files: ``{path in the repository: local path}``.
        from_cache: True when the Hub was not asked (offline, unreachable, or a pinned commit already cached).
        date: ISO date of the commit (online) or of the download (cached copy).
        message: one sentence for the user when the copy is a fallback (else empty).
    """

    repo_id: str
    repo_type: str
    revision: str
    sha: str
    files: dict
    from_cache: bool
    date: str
    message: str = ""

    def source(self, path: str) -> str:
        """The provenance written on every row read from ``path``: ``hf://<type>s/<repo>@<sha>/<path>``."""
        return f"hf://{self.repo_type}s/{self.repo_id}@{self.sha}/{path}"

    def to_dict(self) -> dict:
        return {"repo_id": self.repo_id, "repo_type": self.repo_type, "revision": self.revision, "sha": self.sha,
                "files": {k: str(v) for k, v in self.files.items()}, "from_cache": self.from_cache,
                "date": self.date, "message": self.message}


# ----------------------------------------------------------------------------------------------- errors
def _where(repo_id: str, repo_type: str, revision: str | None = None) -> str:
    kind = "dataset " if repo_type == "dataset" else ""
    return f"{kind}{repo_id}" + (f"@{revision}" if revision and revision != "main" else "")


def _translate(e: BaseException, settings: HubSettings, what: str) -> Exception:
    """One sentence for a failure of ``huggingface_hub`` / ``httpx2`` while getting ``what``."""
    errs = _errors()
    name = type(e).__name__
    if isinstance(e, errs.RevisionNotFoundError):
        return NotFoundError(f"{what}: that revision does not exist on {settings.endpoint}")
    if isinstance(e, (errs.RepositoryNotFoundError, errs.GatedRepoError)):
        return NotFoundError(f"{what}: no such repository on {settings.endpoint} (or it is private or gated: log in "
                             "with `hf auth login` or set HF_TOKEN)")
    if isinstance(e, (errs.RemoteEntryNotFoundError, errs.EntryNotFoundError)):
        return NotFoundError(f"{what}: not in the repository")
    if isinstance(e, errs.OfflineModeIsEnabled):
        return HubUnavailableError(f"{what}: HF_HUB_OFFLINE is set, so the Hub was not asked")
    if isinstance(e, errs.HfHubHTTPError) and getattr(e, "response", None) is not None:
        return HubUnavailableError(f"{what}: {settings.endpoint} answered HTTP {e.response.status_code}")
    if "Timeout" in name:
        return HubUnavailableError(f"{what}: no answer from {settings.endpoint} within {settings.timeout:g} s "
                                   f"({settings.retries + 1} tries)")
    if "Connect" in name or "Network" in name or "Protocol" in name or isinstance(e, ConnectionError):
        return HubUnavailableError(f"{what}: cannot reach {settings.endpoint} ({settings.retries + 1} tries)")
    if isinstance(e, OSError) and "Consistency check failed" in str(e):
        m = re.search(r"size (\d+) but has size (\d+)", str(e))
        got = f" (got {m.group(2)} of {m.group(1)} bytes)" if m else ""
        return HubUnavailableError(f"{what}: the download was cut short{got}; nothing was kept, run it again")
    if isinstance(e, ValueError) and "Invalid repo" in str(e):
        return DataError(f"{what}: {e}")
    return HubUnavailableError(f"{what}: {name}: {e}".split("\n")[0])


def _transient(e: BaseException) -> bool:
    errs = _errors()
    if isinstance(e, errs.HfHubHTTPError) and getattr(e, "response", None) is not None:
        return e.response.status_code >= 500 or e.response.status_code == 429
    n = type(e).__name__
    return "Timeout" in n or "Connect" in n or "Protocol" in n


def _call(settings: HubSettings, what: str, fn, *args, **kwargs):
    """Run one Hub call with the bounded retry policy; failures become one sentence."""
    last = None
    for attempt in range(settings.retries + 1):
        try:
            return fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - translated below
            last = e
            if not _transient(e) or attempt == settings.retries:
                break
            time.sleep(min(0.5 * (attempt + 1), 2.0))
    raise _translate(last, settings, what) from None


def _quiet() -> None:
    """Keep huggingface_hub's own warnings and progress bars out of CAPE's one-sentence output."""
    _hf()
    from huggingface_hub.utils import logging  # noqa: PLC0415

    logging.set_verbosity_error()


# ----------------------------------------------------------------------------------------------- Hub calls
def resolve(repo_id: str, repo_type: str, revision: str, settings: HubSettings) -> tuple[str, str]:
    """Resolve ``revision`` to ``(commit sha, ISO date of the last change)`` with one short request."""
    hf = _hf()
    _quiet()
    api = hf.HfApi(endpoint=settings.endpoint, token=settings.token)
    what = _where(repo_id, repo_type, revision)
    info = _call(settings, what, api.repo_info, repo_id, repo_type=repo_type, revision=revision,
                 timeout=settings.timeout, expand=["sha", "lastModified"])
    sha = getattr(info, "sha", None)
    if not sha:
        raise HubUnavailableError(f"{what}: {settings.endpoint} did not say which commit it serves")
    lm = getattr(info, "last_modified", None)
    return sha, (lm.date().isoformat() if lm is not None else "")


def list_tree(repo_id: str, repo_type: str, sha: str, path: str, settings: HubSettings, *,
              recursive: bool = False) -> list[tuple[str, str]]:
    """``[(path, "file" | "directory"), ...]`` under ``path`` at commit ``sha`` (all pages, bounded timeouts).

    ``HfApi.list_repo_tree`` has no timeout, so the same route is asked through huggingface_hub's session.
    """
    from urllib.parse import quote  # noqa: PLC0415

    _quiet()
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status  # noqa: PLC0415

    url = f"{settings.endpoint}/api/{repo_type}s/{repo_id}/tree/{sha}" + (f"/{quote(path, safe='')}" if path else "")
    headers = build_hf_headers(token=settings.token)
    what = f"{_where(repo_id, repo_type)}: folder {path or '/'}"
    out: list[tuple[str, str]] = []
    params: dict | None = {"recursive": str(recursive).lower()}

    def get(u, p):
        r = get_session().get(u, params=p, headers=headers, timeout=settings.timeout)
        hf_raise_for_status(r)
        return r

    while url:
        r = _call(settings, what, get, url, params)
        try:
            page = r.json()
        except ValueError:
            raise HubUnavailableError(f"{what}: {settings.endpoint} answered something that is not JSON") from None
        out += [(str(e["path"]), str(e.get("type", "file"))) for e in page if isinstance(e, dict) and "path" in e]
        url, params = r.links.get("next", {}).get("url"), None
    return out


def download(repo_id: str, repo_type: str, sha: str, filename: str, settings: HubSettings) -> Path:
    """One file at commit ``sha`` into the cache (no request at all when it is already there).

    The body is fetched by huggingface_hub with its own bounded retries (``HF_HUB_DOWNLOAD_TIMEOUT`` seconds per
    read, resuming a download cut by a network error); a file that arrives shorter than announced is discarded."""
    hf = _hf()
    _quiet()
    what = f"{_where(repo_id, repo_type)}: {filename}"
    cached = hf.try_to_load_from_cache(repo_id, filename, cache_dir=settings.cache_dir, revision=sha,
                                       repo_type=repo_type)
    if isinstance(cached, str):
        return Path(cached)
    # hf_hub_download retries a failed metadata request for up to minutes; one short request first keeps a Hub
    # that stops answering to a single sentence after ``timeout`` seconds
    url = hf.hf_hub_url(repo_id, filename, repo_type=repo_type, revision=sha, endpoint=settings.endpoint)
    _call(settings, what, hf.get_hf_file_metadata, url, token=settings.token, timeout=settings.timeout,
          endpoint=settings.endpoint)
    p = _call(settings, what, hf.hf_hub_download, repo_id, filename, repo_type=repo_type, revision=sha,
              cache_dir=settings.cache_dir, endpoint=settings.endpoint, etag_timeout=settings.timeout,
              token=settings.token)
    return Path(p)


# ----------------------------------------------------------------------------------------------- the cache
def storage_folder(repo_id: str, repo_type: str, settings: HubSettings) -> Path:
    """The cache folder of a repository (huggingface_hub's layout: ``datasets--org--name``)."""
    return settings.cache_dir / f"{repo_type}s--{repo_id.replace('/', '--')}"


def cached_commit(repo_id: str, repo_type: str, revision: str, settings: HubSettings) -> str | None:
    """The commit the cache holds for ``revision`` (a ref written by an earlier download), or None."""
    folder = storage_folder(repo_id, repo_type, settings)
    if _SHA.fullmatch(revision):
        return revision if (folder / "snapshots" / revision).is_dir() else None
    ref = folder / "refs" / revision
    try:
        sha = ref.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return sha if _SHA.fullmatch(sha) and (folder / "snapshots" / sha).is_dir() else None


def cached_files(repo_id: str, repo_type: str, sha: str, settings: HubSettings) -> dict[str, Path]:
    """``{path in the repository: local path}`` of every complete file cached for commit ``sha``."""
    snap = storage_folder(repo_id, repo_type, settings) / "snapshots" / sha
    out: dict[str, Path] = {}
    if not snap.is_dir():
        return out
    for root, _dirs, files in os.walk(snap):
        for f in files:
            p = Path(root) / f
            if p.exists():  # a dangling link is a blob that never finished
                out[p.relative_to(snap).as_posix()] = p
    return dict(sorted(out.items()))


def remember_ref(repo_id: str, repo_type: str, revision: str, sha: str, settings: HubSettings) -> None:
    """Record ``revision -> sha`` in the cache's ``refs/`` (as huggingface_hub does), so that an offline run finds
    the snapshot of a branch fetched by commit."""
    if is_sha(revision):
        return
    ref = storage_folder(repo_id, repo_type, settings) / "refs" / revision
    try:
        ref.parent.mkdir(parents=True, exist_ok=True)
        if not ref.is_file() or ref.read_text(encoding="utf-8").strip() != sha:
            tmp = ref.with_name(ref.name + ".tmp")
            tmp.write_text(sha, encoding="utf-8")
            os.replace(tmp, ref)
    except OSError:  # a read-only cache still serves this run
        pass


def file_date(path: Path) -> str:
    """ISO date a cached file was downloaded (its blob's modification time)."""
    try:
        return _dt.datetime.fromtimestamp(path.stat().st_mtime, tz=_dt.timezone.utc).date().isoformat()
    except OSError:
        return ""


def is_sha(revision: str) -> bool:
    return bool(_SHA.fullmatch(revision))
