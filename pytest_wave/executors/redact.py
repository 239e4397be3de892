"""Keep credentials out of everything pytest-wave writes: logs, prompts, previews, results, reports.

Two nets, applied together:

* **Known variables.** The value of every environment variable whose name says it is a secret
  (``ANTHROPIC_API_KEY``, ``*_TOKEN``, ``*_SECRET``, ...) is replaced by ``[redacted:NAME]``
  wherever it appears, whatever its shape. Values shorter than 8 characters are left alone: a
  placeholder such as ``mock`` would otherwise blank out ordinary words.
* **Key-shaped strings.** Well-known credential formats (Anthropic and OpenAI keys, GitHub and
  Slack tokens, AWS access keys, Google API keys, bearer tokens, PEM private keys) are replaced
  by ``[redacted:<kind>]`` even when no variable holds them (a key pasted into a prompt).

Agent CLIs write their logs themselves, so a log is redacted in place once its process has exited;
everything the engine writes itself goes through :meth:`Redactor.text` first, and every coordination
record (seeds quote the wave's prompts; agents post whatever they like) through
:meth:`Redactor.record` before it is appended.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pytest_wave.engine.files import write_text_atomic

MIN_SECRET_LENGTH = 8
KNOWN_SECRET_NAMES = frozenset(
    {
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "CLAUDE_CODE_OAUTH_TOKEN",
        "OPENAI_API_KEY",
        "CODEX_API_KEY",
        "AZURE_OPENAI_API_KEY",
        "OPENROUTER_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        "GROQ_API_KEY",
        "MISTRAL_API_KEY",
        "DEEPSEEK_API_KEY",
        "XAI_API_KEY",
        "CONTEXT7_API_KEY",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "NPM_TOKEN",
        "HF_TOKEN",
    }
)
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:API_?KEY|AUTH_?TOKEN|ACCESS_?TOKEN|REFRESH_?TOKEN|TOKEN|SECRET|SECRET_?KEY|PASSWORD|PASSWD|"
    r"PRIVATE_?KEY|KEY|CREDENTIALS?)$",
    re.IGNORECASE,
)
_NOT_SECRET = frozenset({"TOKENIZERS_PARALLELISM"})

KEY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private-key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----")),
    ("anthropic-key", re.compile(r"(?<![A-Za-z0-9])sk-ant-[A-Za-z0-9_-]{16,}")),
    ("openai-key", re.compile(r"(?<![A-Za-z0-9])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}")),
    ("github-token", re.compile(r"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("aws-access-key", re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])")),
    ("google-key", re.compile(r"(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}")),
    ("slack-token", re.compile(r"(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}")),
)
_BEARER = re.compile(r"(?i)(\bbearer\s+)([A-Za-z0-9._~+/-]{20,}=*)")


def _strings(value: Any) -> Iterator[str]:
    """Every string in a decoded JSON value, at any depth."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


def is_secret_name(name: str) -> bool:
    upper = name.upper()
    return upper in KNOWN_SECRET_NAMES or (upper not in _NOT_SECRET and bool(_SECRET_NAME.search(upper)))


class Redactor:
    """Replaces secrets in text; built from an environment (``os.environ`` by default)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        source = os.environ if env is None else env
        values: dict[str, str] = {}
        for name, value in source.items():
            if is_secret_name(name) and len(value.strip()) >= MIN_SECRET_LENGTH:
                values.setdefault(value.strip(), name)
        # Longest first: a secret that contains another must be replaced whole.
        self._values = sorted(values.items(), key=lambda item: -len(item[0]))

    def text(self, text: str) -> str:
        for value, name in self._values:
            if value in text:
                text = text.replace(value, f"[redacted:{name}]")
        for kind, pattern in KEY_PATTERNS:
            text = pattern.sub(f"[redacted:{kind}]", text)
        return _BEARER.sub(lambda m: m.group(1) + "[redacted:bearer]", text)

    def record(self, record: dict[str, Any]) -> dict[str, Any]:
        """``record`` with every string in it redacted, at any depth (an extra field may hold a JSON
        object); the very same dict when it holds no secret (one scan of all its strings decides)."""
        texts = list(_strings(record))
        joined = "\n".join(texts)
        if self.text(joined) == joined:
            return record
        cleaned: dict[str, Any] = self._json(record)
        return cleaned

    def _json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self._json(item) for item in value]
        if isinstance(value, dict):
            return {key: self._json(item) for key, item in value.items()}
        return value

    def file(self, path: Path) -> bool:
        """Redact a file in place (atomically); True when something was replaced."""
        try:
            original = path.read_text(encoding="utf-8", errors="surrogateescape")
        except OSError:
            return False
        cleaned = self.text(original)
        if cleaned == original:
            return False
        data = cleaned.encode("utf-8", errors="surrogateescape")
        tmp = path.with_name(f".{path.name}.redact")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return True

    def write(self, path: Path, text: str) -> None:
        write_text_atomic(path, self.text(text))


def redact_env(env: Mapping[str, str]) -> dict[str, str]:
    """An environment for display: secret-named variables show ``[redacted]`` instead of a value."""
    return {name: "[redacted]" if is_secret_name(name) and value else value for name, value in env.items()}


def secret_names_set(env: Mapping[str, str] | None = None) -> list[str]:
    """Names (never values) of the secret-looking variables that are set and non-empty."""
    source = os.environ if env is None else env
    return sorted(name for name, value in source.items() if value and is_secret_name(name))
