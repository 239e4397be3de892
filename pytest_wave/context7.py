"""Context7: library docs for an agent's prompt, chosen by bundle, fetched once, cached on disk.

- The bundle index (``docs/context7/bundles.json``) is a :class:`BundleIndex`.
- :func:`select` picks the bundle and query for an agent (agent, then wave defaults, then the lane
  default, then the index default) and hashes the choice (it enters the prompt fingerprint).
- :func:`prefetch` fetches the docs through a :class:`DocsClient` (the real one speaks Context7's HTTP
  API), caching them under ``<state dir>/context7-cache/`` for 24 hours. It never raises: with no API
  key, no network or an error it returns a result whose ``mode`` says why nothing is attached, and the
  prompt stays exactly as it would be without Context7. An unreachable API is remembered for
  :data:`UNREACHABLE_SECONDS`, so the other agents of the run do not each wait on the network again.
- :func:`record_notice` notes such a miss (one JSON line per agent in the cache folder); the controller
  prints them once, as one line, at the end of the session (:func:`notice_line`).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pytest_wave.errors import WaveError

API_BASE = "https://context7.com/api/v2"
API_KEY_ENV = "CONTEXT7_API_KEY"
API_BASE_ENV = "CONTEXT7_API_BASE"  # lets tests (and mirrors) point the client elsewhere
CACHE_SECONDS = 24 * 3600
PROMPT_BUDGET = 12_000
TRUNCATED = "[Context7 output truncated to fit prompt budget]"
UNREACHABLE_SECONDS = 300
UNREACHABLE_FILE = "unreachable.json"
NOTICE_FILE = "notices.jsonl"
MISSED: frozenset[str] = frozenset({"missing-key", "unavailable", "error", "empty"})

Mode = Literal["none", "disabled", "unavailable", "missing-key", "cached", "fetched", "empty", "error"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Library(_Model):
    library_id: str | None = Field(None, alias="libraryId")
    library_name: str | None = Field(None, alias="libraryName")
    query_hint: str | None = Field(None, alias="queryHint")

    @model_validator(mode="after")
    def _one_of(self) -> Library:
        if not (self.library_id or self.library_name):
            raise ValueError("a library needs libraryId or libraryName")
        return self

    @property
    def label(self) -> str:
        return self.library_name or self.library_id or "?"


class Bundle(_Model):
    description: str = ""
    libraries: list[Library] = Field(default_factory=list)


class BundleIndex(_Model):
    version: int = 1
    default_bundle: str = Field("none", alias="defaultBundle")
    lane_defaults: dict[str, str] = Field(default_factory=dict, alias="laneDefaults")
    bundles: dict[str, Bundle]

    @model_validator(mode="after")
    def _known(self) -> BundleIndex:
        if "none" not in self.bundles:
            raise ValueError('the index must define a "none" bundle')
        if self.default_bundle not in self.bundles:
            raise ValueError(f'defaultBundle "{self.default_bundle}" is not a bundle')
        for lane, bundle in self.lane_defaults.items():
            if bundle not in self.bundles:
                raise ValueError(f'laneDefaults.{lane} names unknown bundle "{bundle}"')
        return self

    def content_hash(self) -> str:
        return _sha(self.model_dump(by_alias=True, mode="json"))


NONE_INDEX = BundleIndex(bundles={"none": Bundle(description="No external docs")})


def _sha(payload: object) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def load_bundle_index(path: Path, *, strict: bool = True) -> BundleIndex | None:
    """The index at ``path``. Missing: ``None``. Invalid: a :class:`WaveError` (``strict``) or ``None``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        if strict:
            raise WaveError(f"cannot read the Context7 bundle index: {exc.strerror}", path=path) from None
        return None
    try:
        return BundleIndex.model_validate_json(text)
    except ValidationError as exc:
        if not strict:
            return None
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise WaveError(f"invalid Context7 bundle index: {where}: {first['msg']}", path=path) from None


class Selection(_Model):
    bundle_id: str = Field(alias="bundleId")
    description: str = ""
    libraries: list[Library] = Field(default_factory=list)
    query: str | None = None
    bundle_source: Literal["agent", "wave", "lane", "default"] = Field(alias="bundleSource")
    query_source: Literal["agent", "wave", "derived", "none"] = Field(alias="querySource")
    index_hash: str = Field(alias="indexHash")

    @property
    def selection_hash(self) -> str:
        return _sha(self.model_dump(by_alias=True, mode="json"))


def derive_query(prompt: str, title: str) -> str:
    """The first six meaningful prompt lines (not ownership, validation or output), at most 260 chars."""
    lines = [
        line.strip()
        for line in prompt.splitlines()
        if line.strip() and not line.strip().startswith(("File ownership", "Validation", "Output"))
    ][:6]
    text = " ".join(" ".join(lines).split())[:260]
    return text or title


def select(
    index: BundleIndex,
    *,
    lane: str,
    agent_bundle: str | None,
    agent_query: str | None,
    wave_bundle: str | None,
    wave_query: str | None,
    prompt: str,
    title: str,
) -> Selection:
    source: Literal["agent", "wave", "lane", "default"]
    if agent_bundle:
        bundle_id, source = agent_bundle, "agent"
    elif wave_bundle:
        bundle_id, source = wave_bundle, "wave"
    elif lane in index.lane_defaults:
        bundle_id, source = index.lane_defaults[lane], "lane"
    else:
        bundle_id, source = index.default_bundle, "default"
    bundle = index.bundles.get(bundle_id)
    if bundle is None:
        raise WaveError(f'unknown Context7 bundle "{bundle_id}"', fix=f"use one of: {', '.join(sorted(index.bundles))}")
    query: str | None = None
    query_source: Literal["agent", "wave", "derived", "none"] = "none"
    if bundle_id != "none":
        if agent_query:
            query, query_source = agent_query, "agent"
        elif wave_query:
            query, query_source = wave_query, "wave"
        else:
            query, query_source = derive_query(prompt, title), "derived"
    return Selection(
        bundle_id=bundle_id,
        description=bundle.description,
        libraries=bundle.libraries,
        query=query,
        bundle_source=source,
        query_source=query_source,
        index_hash=index.content_hash(),
    )


class DocsClient(Protocol):
    """Where library docs come from (the Context7 API, or a stub in tests)."""

    def resolve_library(self, name: str, query: str) -> str | None: ...

    def fetch(self, library_id: str, query: str) -> str: ...


class Context7Unavailable(Exception):
    """The API could not be reached or answered badly (the run goes on without docs)."""


class Context7Unreachable(Context7Unavailable):
    """No connection at all (no network, DNS, refused): worth remembering for the rest of the run."""


class HttpDocsClient:
    """Context7's HTTP API: ``libs/search`` to resolve a name, ``context`` to fetch text."""

    def __init__(self, api_key: str, base: str | None = None, timeout: float = 15.0, attempts: int = 3) -> None:
        self.api_key = api_key
        self.base = (base or os.environ.get(API_BASE_ENV) or API_BASE).rstrip("/")
        self.timeout = timeout
        self.attempts = attempts

    def _get(self, path: str, params: dict[str, str]) -> bytes:
        url = f"{self.base}/{path}?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {self.api_key}"})
        for attempt in range(1, self.attempts + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    if response.status == 202 and attempt < self.attempts:
                        time.sleep(min(2**attempt, 8))
                        continue
                    body: bytes = response.read()
                    return body
            except urllib.error.HTTPError as exc:
                if exc.code in (429, 500, 503) and attempt < self.attempts:
                    retry_after = exc.headers.get("retry-after", "0") if exc.headers else "0"
                    wait = max(float(retry_after) if retry_after.isdigit() else 0.0, 2.0**attempt)
                    time.sleep(min(wait, 8.0))
                    continue
                raise Context7Unavailable(f"HTTP {exc.code} from {path}") from None
            except (urllib.error.URLError, OSError) as exc:
                raise Context7Unreachable(f"cannot reach {self.base}: {getattr(exc, 'reason', exc)}") from None
        raise Context7Unavailable(f"{path} kept answering 'try again later'")

    def resolve_library(self, name: str, query: str) -> str | None:
        data = json.loads(self._get("libs/search", {"libraryName": name, "query": query}) or b"{}")
        results = data.get("results", data) if isinstance(data, dict) else data
        if isinstance(results, list) and results and isinstance(results[0], dict):
            found = results[0].get("id") or results[0].get("name")
            return str(found) if found else None
        return None

    def fetch(self, library_id: str, query: str) -> str:
        return self._get("context", {"libraryId": library_id, "query": query, "type": "txt"}).decode("utf-8", "replace")


class Prefetch(_Model):
    mode: Mode
    bundle_id: str = Field(alias="bundleId")
    text: str = ""
    detail: str = ""
    cache_path: str | None = Field(None, alias="cachePath")

    def prompt_block(self) -> str:
        """What the prompt gets: the docs, else nothing (the run says once why, see :func:`notice_line`)."""
        return self.text if self.mode in ("cached", "fetched") else ""

    @property
    def why(self) -> str:
        return f"{self.mode}: {self.detail}" if self.detail else self.mode


def prefetch(
    selection: Selection,
    cache_dir: Path,
    *,
    client: DocsClient | None = None,
    disabled: bool = False,
    api_key: str | None = None,
) -> Prefetch:
    """Docs for ``selection``; never raises (a failure is a mode, and the wave goes on)."""
    bundle = selection.bundle_id
    if bundle == "none" or not selection.libraries:
        return Prefetch(mode="none", bundle_id=bundle)
    if disabled:
        return Prefetch(mode="disabled", bundle_id=bundle)
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV, "")
    cache = cache_dir / (
        _sha(
            {
                "bundleId": bundle,
                "query": selection.query,
                "libraries": [lib.model_dump(by_alias=True) for lib in selection.libraries],
                "indexHash": selection.index_hash,
            }
        )
        + ".json"
    )
    try:
        if time.time() - cache.stat().st_mtime < CACHE_SECONDS:
            cached = json.loads(cache.read_text(encoding="utf-8"))
            return Prefetch(mode="cached", bundle_id=bundle, text=str(cached.get("text", "")), cache_path=str(cache))
    except (OSError, ValueError):
        pass
    if client is None:
        if not key:
            return Prefetch(mode="missing-key", bundle_id=bundle, detail=f"{API_KEY_ENV} is not set")
        client = HttpDocsClient(key)
    remembered = _remembered_failure(cache_dir)
    if remembered is not None:
        return Prefetch(mode="error", bundle_id=bundle, detail=remembered)
    query = selection.query or ""
    parts: list[str] = []
    try:
        for lib in selection.libraries:
            library_id = lib.library_id or client.resolve_library(lib.library_name or "", query)
            if not library_id:
                continue
            focus = f"{query}. Focus: {lib.query_hint}"[:320] if lib.query_hint else query
            text = client.fetch(library_id, focus).strip()
            if text:
                parts.append(f"### {lib.label}\n- Library ID: {library_id}\n- Query: {focus}\n\n{text}")
    except Context7Unreachable as exc:
        _remember_failure(cache_dir, str(exc))
        return Prefetch(mode="error", bundle_id=bundle, detail=str(exc))
    except (Context7Unavailable, ValueError, OSError) as exc:
        return Prefetch(mode="error", bundle_id=bundle, detail=str(exc))
    if not parts:
        return Prefetch(mode="empty", bundle_id=bundle)
    block = "\n\n".join(parts)
    if len(block) > PROMPT_BUDGET:
        block = block[: PROMPT_BUDGET - len(TRUNCATED) - 1] + "\n" + TRUNCATED
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"bundleId": bundle, "query": query, "text": block}), encoding="utf-8")
    except OSError:
        pass  # the cache is a convenience; the docs still reach this prompt
    return Prefetch(mode="fetched", bundle_id=bundle, text=block, cache_path=str(cache))


# --------------------------------------------------------------------------- offline memory and notices


def _remembered_failure(cache_dir: Path) -> str | None:
    """The last "cannot reach the API" if it is recent: the rest of the run skips the network."""
    path = cache_dir / UNREACHABLE_FILE
    try:
        if time.time() - path.stat().st_mtime >= UNREACHABLE_SECONDS:
            return None
        detail = str(json.loads(path.read_text(encoding="utf-8")).get("detail", ""))
    except (OSError, ValueError, AttributeError):
        return None
    return f"{detail} (remembered; retried after {UNREACHABLE_SECONDS // 60} minutes)"


def _remember_failure(cache_dir: Path, detail: str) -> None:
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        (cache_dir / UNREACHABLE_FILE).write_text(json.dumps({"detail": detail}), encoding="utf-8")
    except OSError:
        pass  # only an optimisation


class Notice(_Model):
    at: float
    agent: str
    bundle: str
    why: str


def record_notice(cache_dir: Path, agent_id: str, result: Prefetch) -> None:
    """Note that ``agent_id`` ran without the docs it selected (one appended line; never raises)."""
    if result.mode not in MISSED:
        return
    line = Notice(at=time.time(), agent=agent_id, bundle=result.bundle_id, why=result.why).model_dump_json()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        # One short O_APPEND write per line: agents on several xdist workers do not interleave.
        with (cache_dir / NOTICE_FILE).open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    except OSError:
        pass


def notices_since(cache_dir: Path, since: float) -> list[Notice]:
    try:
        lines = (cache_dir / NOTICE_FILE).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    found: list[Notice] = []
    for line in lines:
        try:
            notice = Notice.model_validate_json(line)
        except ValidationError:
            continue
        if notice.at >= since:
            found.append(notice)
    return found


def notice_line(notices: list[Notice]) -> str | None:
    """One line for the whole run: which agents ran without their Context7 docs, and why."""
    if not notices:
        return None
    reasons = list(dict.fromkeys(f"bundle {n.bundle}: {n.why}" for n in notices))
    agents = ", ".join(dict.fromkeys(n.agent for n in notices))
    return (
        f"Context7 docs not attached for {agents} ({'; '.join(reasons)}); the agents ran with their prompts unchanged"
    )
