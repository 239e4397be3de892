"""``pytest --wave-dry-run``: validate, then write what every agent's launch would use; start nothing.

State goes under the lane's dry-run folder (``.tmp/<lane>-wave-launcher/dry-run/``, lifecycle.md 7.2):
per agent, closure agents included, the execution prompt, ``task.json``, the executor's overlay files
and ``launch-preview.json`` (the exact argv, cwd and environment additions, secrets redacted). The
coordination state is derived as at attempt 0, so prompts carry their inboxes. No process starts,
no log or status file is written, no result folder is created.
"""

from __future__ import annotations

import json
from typing import Any

from pytest_wave.engine.agent_run import _coordination_section
from pytest_wave.items import WaveItemFailure, _WaveNode
from pytest_wave.model.wave import Agent
from pytest_wave.modes.launch import prepare_launch, write_launch


class DryPlanItem(_WaveNode):
    """Parse and validate the wave (like ``::plan``, without taking a run baseline)."""

    def runtest(self) -> None:
        ctx = self.validated_context("; no agent of this wave would be launched")
        self.user_properties.append(("state_dir", str(ctx.paths.state_dir)))


class DryRunItem(_WaveNode):
    """One agent's launch, written out and not started."""

    def __init__(self, *, agent: Agent, **kwargs: Any) -> None:
        super().__init__(line=agent.line, **kwargs)
        self.agent = agent

    def runtest(self) -> None:
        ctx = self.wave_file.context()
        if not ctx.options.dry_run:
            raise WaveItemFailure("internal: a dry-run item outside a dry run")  # never write live state here
        if self.wave_file.has_validation_errors():
            raise WaveItemFailure(f"{self.agent.id} not prepared: the wave has validation errors (see ::plan)")
        run_id = self.wave_state.run_id
        coordination = _coordination_section(ctx, self.agent, run_id, 0)
        prepared = prepare_launch(ctx, self.agent, run_id=run_id, attempt=1, coordination=coordination)
        try:
            write_launch(prepared)
        except OSError as exc:
            raise WaveItemFailure(
                f"cannot write dry-run state under {ctx.paths.state_dir}: {exc.strerror or exc} "
                "(fix: make it writable or set paths.stateRoot)"
            ) from None
        missing = [str(path) for path in prepared.files() if not path.is_file() or not path.stat().st_size]
        if missing:
            raise WaveItemFailure(f"{self.agent.id}: not written: {', '.join(missing)}")
        self.user_properties += [
            ("agent", self.agent.id),
            ("executor", prepared.task.executor_id),
            ("prompt", str(prepared.prompt_path)),
            ("launch_preview", str(prepared.preview_path)),
            ("prompt_fingerprint", prepared.fingerprint),
        ]
        self.add_report_section("call", "launch preview", json.dumps(prepared.preview, indent=2))
