"""Where a lane's runtime state lives on disk (``.tmp/<lane>-wave-launcher/``).

The layout follows the Node.js tool's so existing users' tooling (``tail -f`` on logs, scripts reading
status files) keeps working; attempt-scoped folders are ours, so no attempt can read another's output.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LanePaths:
    repo_root: Path
    state_dir: Path  # absolute

    @classmethod
    def for_lane(cls, repo_root: Path, state_dir: str, *, dry_run: bool = False) -> LanePaths:
        base = (repo_root / state_dir).resolve()
        return cls(repo_root=repo_root, state_dir=base / "dry-run" if dry_run else base)

    @staticmethod
    def safe(wave: int | None, agent_slug: str) -> str:
        """``wave-<n>-<slug>`` with the slug ``<n>-<agent id>``: the Node.js tool's file stem."""
        return f"wave-{_num(wave)}-{agent_slug}"

    def prompt(self, safe: str) -> Path:
        return self.state_dir / "prompts" / f"{safe}.prompt.md"

    def log(self, safe: str) -> Path:
        return self.state_dir / "logs" / f"{safe}.log"

    def status(self, safe: str) -> Path:
        return self.state_dir / "status" / f"{safe}.status"

    def overlay_dir(self, wave: int | None, slug: str) -> Path:
        return self.state_dir / "executors" / f"wave-{_num(wave)}" / slug

    def attempt_dir(self, wave: int | None, run_id: str, attempt: int) -> Path:
        return self.state_dir / "results" / f"wave-{_num(wave)}" / run_id / f"attempt-{attempt}"

    def run_dir(self, wave: int | None, run_id: str) -> Path:
        return self.state_dir / "results" / f"wave-{_num(wave)}" / run_id

    def locks_dir(self) -> Path:
        return self.state_dir / "locks"

    def run_state(self) -> Path:
        return self.state_dir / "run-state.json"


def _num(wave: int | None) -> str:
    return "x" if wave is None else str(wave)
