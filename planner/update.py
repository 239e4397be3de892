"""``wave update --from-wave N``: regenerate the open wave and later ones from their specs.

Closed waves (``completedWaves`` in the lane's ``run-state.json``) are immutable: their spec, markdown and
matrix entries are never rewritten. Each open wave from ``N`` on is regenerated from its spec plus what the
closed waves recorded:

- the component catalog takes the matrix's current levels (closed waves' documentation stewards moved them);
- a promotion whose target a component already reached is dropped (unless it is the wave's only one);
- workers read the closed waves' integration summaries as earlier wave outputs;
- the markdown is re-rendered from the spec, so hand edits to an open wave's markdown are replaced.

Every regenerated wave is validated before anything is written; then all files, the replan record
(``specs/replan-<N>.json``) and its summary (``specs/replan-<N>.md``) are written together.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from planner.common import Repo, now, write_all
from planner.draft import _read_matrix, build_draft, load_spec, spec_file, wave_file
from planner.models import DraftSpec, ReplanChange, ReplanRecord
from planner.rendering import render
from pytest_wave.errors import WaveError
from pytest_wave.model.matrix import parse_matrix

_SPEC = re.compile(r"^wave-(\d+)\.json$")


@dataclass
class ReplanResult:
    record: ReplanRecord
    summary: str
    written: list[str] = field(default_factory=list)


def _spec_numbers(repo: Repo, waves_dir: str) -> list[int]:
    folder = repo.root / waves_dir / "specs"
    if not folder.is_dir():
        return []
    return sorted(int(m.group(1)) for p in folder.iterdir() if (m := _SPEC.match(p.name)))


def replan(repo: Repo, lane_name: str | None, from_wave: int, *, write: bool = True) -> ReplanResult:
    lane = repo.lane(lane_name)
    closed = repo.closed_waves(lane)
    if from_wave in closed:
        raise WaveError(
            f"wave {from_wave} is closed; closed waves are immutable",
            fix=f"replan from the first open wave (--from-wave {max(closed) + 1})",
        )
    numbers = [n for n in _spec_numbers(repo, lane.waves_dir) if n >= from_wave and n not in closed]
    if not numbers:
        raise WaveError(
            f"no open wave spec from wave {from_wave} on in {lane.waves_dir}/specs/",
            fix="draft waves with 'wave draft --wave N' first",
        )
    matrix: dict[str, Any] = _read_matrix(repo, lane)
    levels: list[str] = list(matrix["levels"])
    rank = {level: i for i, level in enumerate(levels)}
    outputs = [
        f"{lane.waves_dir}/integration/wave-{c}.md"
        for c in closed
        if (repo.root / lane.waves_dir / "integration" / f"wave-{c}.md").is_file()
    ]
    changes: list[ReplanChange] = []
    files: dict[Any, str] = {}
    for n in numbers:
        spec = load_spec(repo.root, lane, n)
        if spec is None:
            continue
        new, wave_changes = _regenerate(spec, matrix, rank, outputs, closed)
        draft = build_draft(repo, new, matrix)
        matrix = draft.matrix
        old_md = (
            (repo.root / wave_file(lane, n)).read_text(encoding="utf-8")
            if (repo.root / wave_file(lane, n)).is_file()
            else None
        )
        if old_md is not None and old_md != draft.markdown and not wave_changes:
            wave_changes.append(
                ReplanChange(
                    wave=n,
                    what="markdown re-rendered from the spec",
                    why="it differed from its spec (hand edits are replaced; edit the spec instead)",
                )
            )
        changes.extend(wave_changes)
        files.update(draft.files)
    parse_matrix(matrix, lane.component_matrix_json_path)
    record = ReplanRecord(
        generated_at=now(),
        from_wave=from_wave,
        lane=lane.name,
        closed_waves=closed,
        regenerated_waves=numbers,
        changes=changes,
    )
    summary = render("replan-summary.md.j2", record=record)
    base = repo.root / lane.waves_dir / "specs"
    files[base / f"replan-{from_wave}.json"] = record.model_dump_json(by_alias=True, indent=2) + "\n"
    files[base / f"replan-{from_wave}.md"] = summary
    # Closed waves are never rewritten, whatever the drafts produced.
    for c in closed:
        for rel in (wave_file(lane, c), spec_file(lane, c)):
            files.pop(repo.root / rel, None)
    if write:
        write_all(files)
    return ReplanResult(
        record=record, summary=summary, written=[os.path.relpath(p, repo.root) for p in files] if write else []
    )


def _regenerate(
    spec: DraftSpec, matrix: dict[str, Any], rank: dict[str, int], outputs: list[str], closed: list[int]
) -> tuple[DraftSpec, list[ReplanChange]]:
    n = spec.wave
    changes: list[ReplanChange] = []
    components = matrix.get("components", {})
    catalog = []
    for c in spec.components_catalog:
        current = components.get(c.component_id, {}).get("currentLevel", c.current_level)
        if current != c.current_level:
            changes.append(
                ReplanChange(
                    wave=n,
                    what=f"{c.component_id}: current level {c.current_level} -> {current}",
                    why="the component matrix moved since the spec was drafted (closed waves recorded it)",
                )
            )
        catalog.append(c.model_copy(update={"current_level": current}))
    reached = [c for c in catalog if rank.get(c.current_level, -1) >= rank.get(c.target_level, 10**6)]
    keep = [c for c in catalog if c not in reached]
    if reached and keep:
        for c in reached:
            changes.append(
                ReplanChange(
                    wave=n,
                    what=f"dropped promotion {c.component_id} -> {c.target_level}",
                    why=f"{c.component_id} is already at {c.current_level}",
                )
            )
        catalog = keep
    kept_ids = {c.component_id for c in catalog}
    agents = []
    closure_ids = {a.agent_id for a in spec.agents if a.role_prompt_paths}
    for agent in spec.agents:
        update: dict[str, Any] = {"components": [c for c in agent.components if c in kept_ids]}
        if agent.agent_id not in closure_ids:
            earlier = list(dict.fromkeys([*agent.earlier_wave_outputs, *outputs]))
            added = [o for o in earlier if o not in agent.earlier_wave_outputs]
            if added:
                changes.append(
                    ReplanChange(
                        wave=n,
                        what=f"{agent.agent_id}: reads {', '.join(added)}",
                        why=f"closed waves {', '.join(map(str, closed))} recorded their integration summaries",
                    )
                )
            update["earlier_wave_outputs"] = earlier
        agents.append(agent.model_copy(update=update))
    new = spec.model_copy(
        update={
            "generated_at": now(),
            "components_catalog": catalog,
            "component_promotions": [p for p in spec.component_promotions if p.component_id in kept_ids],
            "agents": agents,
        }
    )
    return new, changes
