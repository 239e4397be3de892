"""Find the repository, load ``wave.config.json`` (or ``[tool.wave]``), resolve a lane.

Every problem in the user's config becomes one :class:`~pytest_wave.errors.WaveConfigError`
naming the file, the key path and (when cheap to find) the line. Parsed configs are cached by
file identity because ``load_config`` runs once per wave file.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from pytest_wave.errors import WaveConfigError
from pytest_wave.model.config import LaneConfig, WaveConfig

CONFIG_FILE = "wave.config.json"
PYPROJECT_FILE = "pyproject.toml"
REPO_ROOT_ENV = "WAVE_REPO_ROOT"

_Signature = tuple[int, int] | None  # (mtime_ns, size), None = file absent
_CACHE_LIMIT = 64
_cache: dict[str, tuple[_Signature, _Signature, WaveConfig]] = {}


def clear_config_cache() -> None:
    """Forget every parsed config (tests that rewrite a file within one mtime tick need this)."""
    _cache.clear()


def _signature(path: Path) -> _Signature:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def load_config(repo_root: Path) -> WaveConfig:
    """The config of ``repo_root``: ``wave.config.json``, else ``[tool.wave]``, else all defaults.

    Returns a shared, cached instance: treat it as read-only.
    """
    root = Path(repo_root)
    json_path = root / CONFIG_FILE
    toml_path = root / PYPROJECT_FILE
    json_sig = _signature(json_path)
    toml_sig = _signature(toml_path)
    key = os.fspath(root)
    hit = _cache.get(key)
    if hit is not None and hit[0] == json_sig and hit[1] == toml_sig:
        return hit[2]
    config = _load_uncached(
        root,
        json_path if json_sig is not None else None,
        toml_path if toml_sig is not None else None,
    )
    if len(_cache) >= _CACHE_LIMIT and key not in _cache:
        _cache.pop(next(iter(_cache)))  # oldest first; a process rarely sees more than one repo
    _cache[key] = (json_sig, toml_sig, config)
    return config


def resolve_lane(config: WaveConfig, lane: str | None = None) -> LaneConfig:
    """The flat settings of ``lane`` (``None`` = ``defaultLane``); cached per config object."""
    return config.resolve_lane(lane)


def find_repo_root(start: Path) -> Path:
    """``$WAVE_REPO_ROOT``, else the nearest ancestor of ``start`` holding ``wave.config.json``,
    a ``pyproject.toml`` with a ``[tool.wave]`` table, or ``.git``; else ``start`` (its directory)."""
    env = os.environ.get(REPO_ROOT_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    here = Path(start).absolute()
    if not here.is_dir() and here.parent.is_dir():
        here = here.parent
    for directory in (here, *here.parents):
        if (directory / CONFIG_FILE).is_file():
            return directory
        if _has_tool_wave(directory / PYPROJECT_FILE):
            return directory
        if (directory / ".git").exists():
            return directory
    return here


def _has_tool_wave(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return False
    if "wave" not in text:  # skip the TOML parse for the common case
        return False
    try:
        tool = tomllib.loads(text).get("tool")
    except tomllib.TOMLDecodeError:
        return False  # root discovery must not fail; load_config reports a broken file
    return isinstance(tool, dict) and "wave" in tool


# --------------------------------------------------------------------------- reading


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise WaveConfigError(f"cannot read the file: {exc}", path=path) from exc


def _read_tool_wave(path: Path) -> tuple[dict[str, Any] | None, str]:
    """``[tool.wave]`` of a pyproject (None when absent) and the file text."""
    text = _read(path)
    if "wave" not in text:
        return None, text
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise WaveConfigError(
            f"invalid TOML: {exc}",
            path=path,
            line=int(match.group(1)) if match else None,
            fix="fix the TOML syntax",
        ) from exc
    tool = data.get("tool")
    section = tool.get("wave") if isinstance(tool, dict) else None
    if section is None:
        return None, text
    if not isinstance(section, dict):
        raise WaveConfigError(
            "tool.wave must be a table", path=path, line=_toml_line(text, ("wave",)), fix="use a [tool.wave] table"
        )
    return section, text


def _load_uncached(root: Path, json_path: Path | None, toml_path: Path | None) -> WaveConfig:
    tool_wave: dict[str, Any] | None = None
    toml_text = ""
    if toml_path is not None:
        tool_wave, toml_text = _read_tool_wave(toml_path)

    if json_path is not None:
        if tool_wave:
            raise WaveConfigError(
                f"pytest-wave is configured twice: {CONFIG_FILE} and [tool.wave] in {PYPROJECT_FILE}",
                path=json_path,
                fix=f"keep one: move the settings into one file and delete the other ({toml_path})",
            )
        text = _read(json_path)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise WaveConfigError(
                f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                path=json_path,
                line=exc.lineno,
                fix="fix the JSON syntax: double-quoted keys and strings, no trailing commas or comments",
            ) from exc
        if not isinstance(data, dict):
            raise WaveConfigError(
                f"{CONFIG_FILE} must hold a JSON object (got {type(data).__name__})",
                path=json_path,
                line=1,
                fix='start the file with "{"',
            )
        return _validate(data, root, json_path, text, is_json=True)

    if tool_wave is not None and toml_path is not None:
        return _validate(tool_wave, root, toml_path, toml_text, is_json=False)

    config = WaveConfig()
    config.attach_source(None, root)
    return config


def _validate(data: dict[str, Any], root: Path, path: Path, text: str, *, is_json: bool) -> WaveConfig:
    try:
        config = WaveConfig.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc, path, text, is_json=is_json) from exc
    config.attach_source(path, root)
    return config


# --------------------------------------------------------------------------- error reporting


def format_key_path(loc: tuple[int | str, ...]) -> str:
    """``('lanes', 'main', 'skills', 'base', 1)`` -> ``lanes.main.skills.base[1]``."""
    out = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for "the dict key itself was invalid"
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _config_error(exc: ValidationError, path: Path, text: str, *, is_json: bool) -> WaveConfigError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = tuple(first["loc"])
    key_path = format_key_path(loc) or "(top level)"
    fix: str | None = None
    if first["type"] == "extra_forbidden":
        node_only = len(loc) == 1 and loc[0] in _UNSUPPORTED_NODE_KEYS
        message = f"{key_path}: {'a Node.js 0.9 setting pytest-wave does not support' if node_only else 'unknown key'}"
        fix = _unknown_key_hint(loc)
    else:
        msg = str(first["msg"])
        for prefix in ("Value error, ", "Assertion failed, "):
            msg = msg.removeprefix(prefix)
        given = first.get("input")
        if first["type"] != "value_error" and isinstance(given, str | int | float | bool | type(None)):
            msg = f"{msg} (got: {json.dumps(given)[:60]})"
        # Our validators phrase messages as predicates so they read "<key> must ...".
        message = f"{key_path} {msg}" if msg.startswith(("must ", "is ")) else f"{key_path}: {msg}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    line = _json_line(text, loc) if is_json else _toml_line(text, loc)
    return WaveConfigError(message, path=path, line=line, fix=fix)


def _json_line(text: str, loc: tuple[int | str, ...]) -> int | None:
    """Line of the key at ``loc``: find each key in turn, each after the previous one."""
    pos = -1
    for part in loc:
        if not isinstance(part, str) or part == "[key]":
            continue
        found = text.find(json.dumps(part, ensure_ascii=False), max(pos, 0))
        if found < 0:
            break
        pos = found
    return text.count("\n", 0, pos) + 1 if pos >= 0 else None


def _toml_line(text: str, loc: tuple[int | str, ...]) -> int | None:
    """Best effort for pyproject.toml: the same forward scan, for bare or quoted keys."""
    start = text.find("tool.wave")
    if start < 0:
        return None
    pos = start
    for part in loc:
        if not isinstance(part, str) or part == "[key]":
            continue
        match = re.compile(rf"(?<![\w-]){re.escape(part)}(?![\w-])").search(text, pos)
        if match is None:
            break
        pos = match.start()
    return text.count("\n", 0, pos) + 1


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class that holds the key at ``loc`` (for suggesting valid keys)."""
    current: Any = WaveConfig
    parts = list(loc[:-1])
    while parts:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            part = parts.pop(0)
            field = next(
                (f for name, f in current.model_fields.items() if part in (name, f.alias)),
                None,
            )
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) is dict:
            parts.pop(0)
            current = typing.get_args(current)[1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    # Strip Annotated[...] and "X | None" to reach the model or dict type underneath.
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


# Node.js 0.9 top-level settings for features pytest-wave does not have: a precise reason beats
# "unknown key" for someone bringing a 0.9 config over.
_UNSUPPORTED_NODE_KEYS = {
    "projects": "give each project root its own wave.config.json (or pyproject.toml [tool.wave]) and run "
    "its waves from there, or make the projects lanes",
    "defaultProject": "remove it: lanes are the only namespace above waves",
    "waveControl": "pytest-wave reports to no Wave Control server (its traces stay local); remove it",
    "externalProviders": "pytest-wave calls Context7 directly and has no provider broker; remove it",
}


def _unknown_key_hint(loc: tuple[int | str, ...]) -> str:
    if len(loc) == 1 and loc[0] in _UNSUPPORTED_NODE_KEYS:
        return _UNSUPPORTED_NODE_KEYS[str(loc[0])]
    model = _model_at(loc)
    if model is None or not loc or not isinstance(loc[-1], str):
        return "remove the key"
    keys = [field.alias or name for name, field in model.model_fields.items()]
    close = difflib.get_close_matches(loc[-1], keys, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"remove it; allowed keys here: {', '.join(keys)}"
