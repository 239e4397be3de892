"""Where the ``wave coord|feedback|dep`` commands find a lane's files.

Inside an agent, the launcher's ``WAVE_*`` variables say everything (lane, wave, agent, repository,
state dir), so an agent never needs flags beyond what it posts. Outside, ``--repo-root`` (or
``$WAVE_REPO_ROOT``, or the nearest config above the current directory) and ``--lane`` resolve the
lane from the project's config, exactly as a wave run does.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

from pytest_wave.config import find_repo_root, load_config, resolve_lane
from pytest_wave.coordination.log import CoordinationLog
from pytest_wave.coordination.store import CoordinationPaths
from pytest_wave.errors import WaveError
from pytest_wave.model.config import LaneConfig

ENV_LANE = "WAVE_LANE"
ENV_WAVE = "WAVE_NUMBER"
ENV_AGENT = "WAVE_AGENT_ID"
ENV_REPO = "WAVE_REPO_ROOT"
ENV_STATE = "WAVE_STATE_DIR"


def add_location_options(parser: argparse.ArgumentParser, *, wave: bool = True) -> None:
    parser.add_argument("--repo-root", type=Path, default=None, help=f"repository root (default: ${ENV_REPO})")
    parser.add_argument("--lane", default=None, help=f"lane (default: ${ENV_LANE}, else the config's defaultLane)")
    if wave:
        parser.add_argument("--wave", default=None, help=f"wave number (default: ${ENV_WAVE})")
    parser.add_argument("--dry-run", action="store_true", help="use the lane's dry-run state")


@dataclass(frozen=True)
class Location:
    repo_root: Path
    lane: str
    state_dir: Path
    orchestrator_dir: Path
    lane_config: LaneConfig | None
    dry_run: bool = False

    def paths(self, wave: int) -> CoordinationPaths:
        return CoordinationPaths(self.state_dir, self.orchestrator_dir, wave)

    def log(self, wave: int) -> CoordinationLog:
        """The wave's log where the run keeps it: the JSONL file, or the shared server the lane's
        ``[tool.wave.coordination]`` names (an agent on another host must post to the same log)."""
        path = self.paths(wave).log
        lane = self.lane_config
        if lane is not None and not self.dry_run and lane.coordination.backend != "jsonl":
            from pytest_wave.coordination.redis_store import configured_log

            shared = configured_log(
                lane.coordination, path, repo_root=self.repo_root, project=lane.project_name, lane=lane.name, wave=wave
            )
            if shared is not None:
                return shared
        return CoordinationLog(path)


def wave_number(value: str | None, *, field: str = "wave") -> int:
    raw = value if value is not None else os.environ.get(ENV_WAVE, "")
    raw = raw.strip()
    if not raw:
        raise WaveError(f"{field}: missing", fix=f"pass --{field} <n> or set ${ENV_WAVE}")
    if not raw.isdigit():
        raise WaveError(f"{field}: must be a non-negative integer (got {raw!r})")
    return int(raw)


def locate(args: argparse.Namespace) -> Location:
    """The lane's state and orchestrator dirs for these arguments and the environment."""
    env_lane = os.environ.get(ENV_LANE, "").strip() or None
    lane_name: str | None = args.lane or env_lane
    env_state = os.environ.get(ENV_STATE, "").strip()
    repo = args.repo_root or (Path(os.environ[ENV_REPO]) if os.environ.get(ENV_REPO) else None)
    root = (repo or find_repo_root(Path.cwd())).resolve()
    try:
        lane = resolve_lane(load_config(root), lane_name)
    except WaveError:
        if not (env_state and lane_name):
            raise
        lane = None  # inside an agent the launcher's variables are enough
    name = lane.name if lane is not None else str(lane_name)
    if env_state and (lane_name is None or lane_name == env_lane):
        state = Path(env_state)
    elif lane is not None:
        state = (root / lane.state_dir).resolve()
        if getattr(args, "dry_run", False):
            state = state / "dry-run"
    else:  # pragma: no cover - guarded above
        raise WaveError("cannot find the lane's state dir", fix=f"set ${ENV_STATE} or pass --repo-root")
    orchestrator = (root / lane.orchestrator_state_dir).resolve() if lane else root / ".tmp" / "wave-orchestrator"
    if getattr(args, "dry_run", False):
        orchestrator = state / "orchestrator"
    return Location(root, name, state, orchestrator, lane, dry_run=bool(getattr(args, "dry_run", False)))


def wave_file(location: Location, wave: int, explicit: Path | None) -> Path:
    if explicit is not None:
        return explicit
    if location.lane_config is None:
        raise WaveError("cannot find the wave file without the project's config", fix="pass --wave-file")
    waves_dir = location.repo_root / location.lane_config.waves_dir
    path = waves_dir / f"wave-{wave}.md"
    if not path.is_file():
        raise WaveError(f"Wave {wave} not found", path=path, fix="pass --wave-file")
    return path
