"""Small helpers shared by the planner modules: repo context, timestamps, all-or-nothing writes."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pytest_wave.config import find_repo_root, load_config, resolve_lane
from pytest_wave.errors import WaveError
from pytest_wave.model.config import LaneConfig, WaveConfig


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass(frozen=True)
class Repo:
    root: Path
    config: WaveConfig

    @classmethod
    def find(cls, root: Path | None = None) -> Repo:
        base = (root or find_repo_root(Path.cwd())).resolve()
        return cls(root=base, config=load_config(base))

    def lane(self, name: str | None) -> LaneConfig:
        return resolve_lane(self.config, name)

    def lanes(self) -> list[str]:
        return list(dict.fromkeys([self.config.default_lane, *self.config.lanes]))

    def config_path(self) -> str:
        source = self.config.source_path
        if source is None:
            return ""
        return os.path.relpath(source, self.root)

    def closed_waves(self, lane: LaneConfig) -> list[int]:
        """``completedWaves`` of the lane's ``run-state.json`` (waves that closed: immutable)."""
        path = self.root / lane.state_dir / "run-state.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise WaveError(f"cannot read run state: {exc}", path=path, fix="repair or delete the file") from None
        waves = data.get("completedWaves", []) if isinstance(data, dict) else []
        return sorted(int(w) for w in waves if isinstance(w, int) or (isinstance(w, str) and w.isdigit()))


def write_all(files: dict[Path, str]) -> None:
    """Write every file or none: each goes to a temp file first, then all are renamed into place.

    A failure while staging removes the temp files and leaves the tree untouched.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise
    for tmp, path in staged:
        os.replace(tmp, path)
