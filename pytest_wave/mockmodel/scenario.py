"""What the loopback model answers: scripts of steps, per-agent overrides and injected faults.

A script is a list of steps. The server is stateless about conversations: for each request it
counts the tool results the client already sent back and plays that step, so a CLI that retries a
request (or a whole new process for the same agent) gets the same answer for the same history.

Step kinds (exactly one of ``write`` / ``shell`` / ``text`` / ``deliverables``):

* ``{"write": "path", "content": "..."}`` - a tool call that writes the file, with whichever tool
  the client offers (``Write``, ``write``, ``apply_patch``, a shell tool, codex's code-mode ``exec``).
* ``{"shell": "command"}`` - a shell tool call.
* ``{"deliverables": true}`` - one write per deliverable named in the Wave prompt (expanded per
  request from the prompt, so the script stays the same for every agent).
* ``{"text": "...", "markers": true}`` - the final answer; with ``markers`` the role's structured
  Wave markers (parsed from the prompt) are appended, so a wave can close on it.

Faults are counted per fault across the server's life: ``times`` replies with ``status`` (then the
script plays normally), or forever when ``times`` is null. They only hit requests that offer tools:
side requests (opencode's title generator) never consume them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Api = Literal["messages", "responses", "chat", "*"]


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    write: str | None = None
    content: str | None = None
    shell: str | None = None
    deliverables: bool = False
    text: str | None = None
    markers: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        kinds = [self.write is not None, self.shell is not None, self.deliverables, self.text is not None]
        if sum(kinds) != 1:
            raise ValueError("a step is exactly one of: write, shell, deliverables, text")
        return self

    @property
    def is_text(self) -> bool:
        return self.text is not None


class Script(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: list[Step]


class Fault(BaseModel):
    """Reply ``status`` instead of the script, ``times`` times (None = forever)."""

    model_config = ConfigDict(extra="forbid")

    api: Api = "*"
    agent: str = "*"
    status: int = 429
    times: int | None = 1
    retry_after: float | None = None  # seconds, sent as a ``retry-after`` header when set
    message: str | None = None


# A Wave agent: write its deliverables, then report done with the role's markers.
WAVE_SCRIPT = Script(
    steps=[Step(deliverables=True), Step(text="Work complete; files written as required.", markers=True)]
)
PLAIN_SCRIPT = Script(
    steps=[Step(write="wave-proof.txt", content="written by the mock model\n"), Step(text="Wrote wave-proof.txt.")]
)


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: Script = Field(default_factory=lambda: WAVE_SCRIPT.model_copy(deep=True))
    agents: dict[str, Script] = Field(default_factory=dict)  # Wave agent id -> its own script
    faults: list[Fault] = Field(default_factory=list)
    aux_text: str = "OK"  # answer to requests that offer no tools (title generation, probes)

    def script_for(self, agent: str | None) -> Script:
        if agent is not None and agent in self.agents:
            return self.agents[agent]
        return self.default


# --------------------------------------------------------------------------- the Wave prompt


@dataclass(frozen=True)
class WavePrompt:
    """What the mock needs from a pytest-wave execution prompt (``templates/prompt.md.j2``)."""

    agent: str
    workdir: str | None
    runtime: str | None
    evaluator: str = "A0"
    integration: str = "A8"
    documentation: str = "A9"
    contract: dict[str, str] = field(default_factory=dict)
    components: dict[str, str] = field(default_factory=dict)
    deliverables: tuple[str, ...] = ()

    @property
    def role(self) -> str:
        return {
            self.evaluator: "evaluator",
            self.integration: "integration",
            self.documentation: "documentation",
        }.get(self.agent, "implementation")


_AGENT = re.compile(r"You are the Wave executor running Wave \S+ / Agent ([A-Za-z0-9._-]+):")
_WORKDIR = re.compile(r"^Working directory:\s*(/\S+)", re.MULTILINE)
_ANY_CWD = (re.compile(r"<cwd>\s*([^<\n]+?)\s*</cwd>"), re.compile(r"[Ww]orking directory:\s*(/[^\s<]+)"))


def _role_id(text: str, label: str, default: str) -> str:
    match = re.search(rf"^- {label} agent id:\s*([A-Za-z0-9._-]+)", text, re.MULTILINE)
    return match.group(1) if match else default


def _bullets(text: str, heading: str) -> list[str]:
    match = re.search(rf"^{re.escape(heading)}\n((?:- [^\n]*\n?)+)", text, re.MULTILINE)
    if not match:
        return []
    return [line[2:].strip() for line in match.group(1).splitlines() if line.startswith("- ")]


def parse_wave_prompt(text: str) -> WavePrompt | None:
    match = _AGENT.search(text)
    if not match:
        return None
    workdir = _WORKDIR.search(text)
    runtime = re.search(r"^- Resolved executor:\s*(\S+)", text, re.MULTILINE)
    contract: dict[str, str] = {}
    for line in _bullets(text, "Exit contract for this run:"):
        key, sep, value = line.partition(":")
        if sep and " " not in key.strip():
            contract[key.strip()] = value.strip()
    components: dict[str, str] = {}
    for line in _bullets(text, "Components you own in this wave:"):
        name, _, level = line.partition(":")
        components[name.strip()] = level.strip() or "repo-landed"
    return WavePrompt(
        agent=match.group(1),
        workdir=workdir.group(1) if workdir else None,
        runtime=runtime.group(1) if runtime else None,
        evaluator=_role_id(text, "Evaluator", "A0"),
        integration=_role_id(text, "Integration steward", "A8"),
        documentation=_role_id(text, "Documentation steward", "A9"),
        contract=contract,
        components=components,
        deliverables=tuple(_bullets(text, "Deliverables required for this agent:")),
    )


def find_workdir(text: str) -> str | None:
    """The client's working directory as any of the three CLIs tell the model."""
    for pattern in _ANY_CWD:
        match = pattern.search(text)
        if match:
            return match.group(1).rstrip(".,;")
    return None


def marker_text(wave: WavePrompt, detail: str = "mock-model") -> str:
    """The role's structured markers, as a well-behaved agent prints them at the end."""
    role = wave.role
    if role == "evaluator":
        return (
            f"[wave-gate] architecture=pass integration=pass durability=pass live=pass docs=pass detail={detail}\n"
            f"[wave-verdict] pass detail={detail}"
        )
    if role == "integration":
        return f"[wave-integration] state=ready-for-doc-closure claims=0 conflicts=0 blockers=0 detail={detail}"
    if role == "documentation":
        return f"[wave-doc-closure] state=no-change detail={detail}"
    c = wave.contract
    delta = c.get("doc-impact", "none")
    lines = [
        f"[wave-proof] completion={c.get('completion', 'contract')} durability={c.get('durability', 'none')} "
        f"proof={c.get('proof', 'unit')} state=met detail={detail}",
        f"[wave-doc-delta] state={delta if delta in ('none', 'owned', 'shared-plan') else 'none'} detail={detail}",
    ]
    lines += [
        f"[wave-component] component={name} level={level} state=met detail={detail}"
        for name, level in wave.components.items()
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- planned actions


@dataclass(frozen=True)
class WriteFile:
    path: str  # absolute when the working directory is known
    content: str


@dataclass(frozen=True)
class RunShell:
    command: str


@dataclass(frozen=True)
class Answer:
    text: str


Action = WriteFile | RunShell | Answer


def _absolute(path: str, workdir: str | None) -> str:
    if path.startswith("/") or not workdir:
        return path
    return workdir.rstrip("/") + "/" + path


def deliverable_content(wave: WavePrompt, path: str) -> str:
    body = f"# {path}\n\nWritten by the {wave.runtime or 'agent'} CLI for {wave.agent} through its own tool call.\n"
    if wave.role == "evaluator":
        body += "\nVerdict: PASS\n"
    return body


def expand(script: Script, wave: WavePrompt | None, workdir: str | None) -> list[Action]:
    """The script as concrete actions for this request (deliverables resolved from the prompt)."""
    actions: list[Action] = []
    for step in script.steps:
        if step.deliverables:
            for path in wave.deliverables if wave else ():
                actions.append(WriteFile(_absolute(path, workdir), deliverable_content(wave, path) if wave else ""))
        elif step.write is not None:
            path = step.write.replace("{agent}", (wave.agent if wave else "agent").lower())
            actions.append(WriteFile(_absolute(path, workdir), step.content or ""))
        elif step.shell is not None:
            actions.append(RunShell(step.shell))
        else:
            text = step.text or ""
            if step.markers and wave is not None:
                text = f"{text}\n{marker_text(wave)}" if text else marker_text(wave)
            actions.append(Answer(text))
    if not actions or not isinstance(actions[-1], Answer):
        actions.append(Answer("done"))
    return actions


def action_for(actions: list[Action], tool_results: int) -> Action:
    """Step ``tool_results`` of the expanded script; past its end the final answer repeats."""
    if tool_results < len(actions):
        return actions[tool_results]
    return actions[-1]


def collect_text(value: Any, skip: frozenset[str] = frozenset({"tools"})) -> str:
    """Every string in a JSON request body except tool definitions, joined by newlines."""
    out: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, list):
            for entry in item:
                walk(entry)
        elif isinstance(item, dict):
            for key, entry in item.items():
                if key not in skip:
                    walk(entry)

    walk(value)
    return "\n".join(out)
