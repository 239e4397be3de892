"""OpenCode (``opencode run``), as measured with opencode 1.18.33.

Launch: ``opencode run --agent <name> --format F --title wave-<id> --dir <repo> [--model M]
[--attach URL] [--file=P]...`` with the task prompt on stdin, ``OPENCODE_CONFIG`` pointing at the
overlay's ``opencode.json`` and ``PWD`` set to the repository.

Why it looks like this (``spec/executors.md``, "Real agent CLIs", findings 6 and 7):

* ``opencode.json`` defines a primary agent whose ``prompt`` is ``{file:./opencode-agent-prompt.txt}``
  (the harness text): that is the one system-prompt route verified to reach the model.
* ``instructions`` in opencode's config are file paths or globs, never text. Entries that name a
  path (existing, absolute or a glob) stay instructions, made absolute; literal sentences (the Node.js
  tool wrote those, and they never reached the model) are appended to the agent prompt file instead.
* opencode takes its working directory from ``$PWD``, not ``getcwd()``: we pass ``--dir`` and
  ``PWD`` both.
* ``--file`` of a missing file aborts the run, so missing attachments are left out (noted in
  ``launch-notes.txt``); ``--file=P`` keeps the variadic flag from eating anything after it.
* Permission posture: ``opencode run`` auto-rejects any permission that resolves to ``ask`` (it
  never waits on a prompt), and we never pass ``--auto``. The agent gets an explicit policy: edits
  and shell allowed in the project, files outside it denied; ``opencode.permission`` overrides it
  (an object is merged key by key, a single string replaces it).
* ``OPENCODE_CONFIG`` is merged by opencode with the user's global config, so providers and
  credentials configured there keep working.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_wave.engine.markers import scan_log
from pytest_wave.executors.base import LaunchRequest, LaunchSpec
from pytest_wave.executors.common import (
    deep_merge,
    dumps,
    harness_text,
    notes_file,
    repo_path,
    runtime_settings,
    skills_of,
    slug_name,
    turn_limit,
)
from pytest_wave.executors.usage import opencode_usage, read_log
from pytest_wave.model.config import LaneConfig
from pytest_wave.model.markers import MarkerScan
from pytest_wave.model.result import Usage

CONFIG_FILE = "opencode.json"
PROMPT_FILE = "opencode-agent-prompt.txt"
SKILLS_FILE = "opencode-skills.txt"
SCHEMA = "https://opencode.ai/config.json"
DEFAULT_PERMISSION: dict[str, Any] = {
    "edit": "allow",
    "bash": "allow",
    "webfetch": "allow",
    "external_directory": "deny",
}
_GLOB = frozenset("*?[")


def agent_name(configured: str | None, agent_id: str) -> str:
    fallback = f"wave-{agent_id.lower()}"
    return slug_name(configured or f"wave-{agent_id}", fallback)


def split_instructions(request: LaunchRequest, entries: list[str]) -> tuple[list[str], list[str]]:
    """(paths for opencode's ``instructions``, literal sentences that must go into the prompt)."""
    paths: list[str] = []
    texts: list[str] = []
    for entry in entries:
        text = entry.strip()
        if not text:
            continue
        looks_like_path = not any(ch.isspace() for ch in text) and (
            repo_path(request, text).exists() or text.startswith(("/", "./", "~/")) or bool(_GLOB & set(text))
        )
        if looks_like_path:
            paths.append(str(repo_path(request, text)))
        else:
            texts.append(text)
    return list(dict.fromkeys(paths)), list(dict.fromkeys(texts))


def permission_policy(configured: Any) -> Any:
    if configured is None:
        return dict(DEFAULT_PERMISSION)
    if isinstance(configured, dict):
        return deep_merge(DEFAULT_PERMISSION, configured)
    return configured  # "allow" / "deny" / "ask": the wave's explicit word for everything


class OpenCodeExecutor:
    id = "opencode"

    def command(self, lane: LaneConfig) -> str:
        return lane.executors.opencode.command or "opencode"

    def config_document(self, request: LaunchRequest) -> tuple[dict[str, Any], str]:
        """The overlay ``opencode.json`` and the agent prompt text."""
        opencode = runtime_settings(request, "opencode")
        task = request.task
        base = dict(opencode.config_json or {})
        listed = base.get("instructions")
        configured = [str(item) for item in listed] if isinstance(listed, list) else []
        paths, texts = split_instructions(request, [*configured, *opencode.instructions])
        if skills_of(request) is not None:  # an instructions *file* (the overlay's opencode-skills.txt)
            paths.append(str((request.overlay_dir / SKILLS_FILE).resolve()))
        name = agent_name(opencode.agent, task.agent_id)
        agent: dict[str, Any] = {
            "description": f"Wave agent {task.agent_id}: {task.title}",
            "mode": "primary",
            "prompt": "{file:./" + PROMPT_FILE + "}",
            "permission": permission_policy(opencode.permission),
        }
        model = request.model or opencode.model
        if model:
            agent["model"] = model
        steps = turn_limit(request, "opencode")
        if steps is not None:
            agent["steps"] = steps
        existing = (base.get("agent") or {}).get(name)
        document = deep_merge(base, {"$schema": base.get("$schema", SCHEMA), "instructions": paths})
        document.setdefault("agent", {})
        document["agent"][name] = deep_merge(existing if isinstance(existing, dict) else {}, agent)
        if not paths:
            document.pop("instructions", None)
        prompt = harness_text("opencode", request)
        if texts:
            prompt += "\n\nAdditional instructions:\n" + "\n".join(f"- {text}" for text in texts)
        return document, prompt + "\n"

    def build_launch(self, request: LaunchRequest) -> LaunchSpec:
        opencode = runtime_settings(request, "opencode")
        task = request.task
        document, prompt = self.config_document(request)
        notes: list[str] = []
        name = agent_name(opencode.agent, task.agent_id)
        program = opencode.command or self.command(request.lane)  # an agent or profile may name its own binary
        argv = [program, "run", "--agent", name, "--format", opencode.format or "default"]
        argv += ["--title", f"wave-{task.agent_id}", "--dir", str(request.repo_root)]
        model = request.model or opencode.model
        if model:
            argv += ["--model", model]
        if opencode.attach:
            argv += ["--attach", opencode.attach]
        for path in opencode.files:
            if repo_path(request, path).is_file():
                argv.append(f"--file={repo_path(request, path)}")
            else:
                notes.append(f"opencode.files: {path} does not exist yet; not attached")
        skills = skills_of(request)
        skill_file = {SKILLS_FILE: skills.prompt_text} if skills is not None else {}
        env = {
            "OPENCODE_CONFIG": str((request.overlay_dir / CONFIG_FILE).resolve()),
            "PWD": str(request.repo_root),
            # An unattended agent must not replace its own binary halfway through a wave.
            "OPENCODE_DISABLE_AUTOUPDATE": "1",
        }
        return LaunchSpec(
            executor_id=self.id,
            argv=argv,
            cwd=request.repo_root,
            env=env,
            stdin_path=request.prompt_path,
            overlay_files={CONFIG_FILE: dumps(document), PROMPT_FILE: prompt, **skill_file, **notes_file(notes)},
        )

    def scan_output(self, log_path: Path) -> MarkerScan:
        return scan_log(log_path)

    def usage(self, log_path: Path) -> Usage | None:
        return opencode_usage(read_log(log_path))
