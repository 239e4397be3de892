"""The opencode launch: every ``opencode.*`` Executor key mapped to today's opencode flag or config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from launchkit import after, agent, lane, request

from pytest_wave.executors.opencode import DEFAULT_PERMISSION, OpenCodeExecutor, agent_name

OPENCODE = OpenCodeExecutor()


def config_of(spec_files: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(spec_files["opencode.json"])
    return data


def test_default_launch(tmp_path: Path) -> None:
    req = request(tmp_path, agent("- id: opencode"))
    spec = OPENCODE.build_launch(req)
    assert spec.argv == [
        "opencode",
        "run",
        "--agent",
        "wave-a1",
        "--format",
        "default",
        "--title",
        "wave-A1",
        "--dir",
        str(tmp_path),
    ]
    assert spec.stdin_path == req.prompt_path
    assert "--auto" not in spec.argv  # opencode's blanket auto-approve stays off
    # opencode reads $PWD, not getcwd() (finding 7): both are pinned to the repository.
    assert spec.env["PWD"] == str(tmp_path)
    assert spec.env["OPENCODE_CONFIG"] == str((req.overlay_dir / "opencode.json").resolve())
    config = config_of(spec.overlay_files)
    assert config == {
        "$schema": "https://opencode.ai/config.json",
        "agent": {
            "wave-a1": {
                "description": "Wave agent A1: Part one",
                "mode": "primary",
                "prompt": "{file:./opencode-agent-prompt.txt}",
                "permission": DEFAULT_PERMISSION,
            }
        },
    }
    prompt = spec.overlay_files["opencode-agent-prompt.txt"]
    assert prompt.startswith("You are running inside the Wave orchestration harness.\nResolved executor: opencode.\n")


def test_every_opencode_key(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# r\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "style.md").write_text("be brief\n")
    lines = [
        "- id: opencode",
        "- model: mock/mock-model",
        "- opencode.command: /opt/opencode",
        "- opencode.agent: Docs Writer!",
        "- opencode.attach: http://localhost:4096",
        "- opencode.files: README.md, docs/missing.md",
        "- opencode.instructions: docs/style.md, Keep shared plan docs concise and factual., docs/*.md",
        "- opencode.format: json",
        "- opencode.steps: 6",
        '- opencode.permission: {"bash":"deny","webfetch":"ask"}',
        '- opencode.config_json: {"instructions":["Answer in English."],"share":"disabled",'
        '"agent":{"docs-writer":{"temperature":0.1}}}',
    ]
    spec = OPENCODE.build_launch(request(tmp_path, agent("\n".join(lines))))
    argv = spec.argv
    assert argv[0] == "/opt/opencode"
    assert after(argv, "--agent") == ["docs-writer"]
    assert after(argv, "--format") == ["json"]
    assert after(argv, "--model") == ["mock/mock-model"]
    assert after(argv, "--attach") == ["http://localhost:4096"]
    assert [a for a in argv if a.startswith("--file")] == [f"--file={tmp_path / 'README.md'}"]
    assert "docs/missing.md does not exist yet" in spec.overlay_files["launch-notes.txt"]
    config = config_of(spec.overlay_files)
    assert config["share"] == "disabled"
    # Instructions are paths for opencode (finding 6): paths stay (made absolute), sentences move to the prompt.
    assert config["instructions"] == [str(tmp_path / "docs" / "style.md"), str(tmp_path / "docs" / "*.md")]
    entry = config["agent"]["docs-writer"]
    assert entry["temperature"] == 0.1  # what config_json said about the agent is kept
    assert entry["model"] == "mock/mock-model"
    assert entry["steps"] == 6
    assert entry["permission"] == {**DEFAULT_PERMISSION, "bash": "deny", "webfetch": "ask"}
    prompt = spec.overlay_files["opencode-agent-prompt.txt"]
    assert "- Answer in English." in prompt
    assert "- Keep shared plan docs concise and factual." in prompt


def test_permission_string_replaces_the_policy(tmp_path: Path) -> None:
    spec = OPENCODE.build_launch(request(tmp_path, agent('- id: opencode\n- opencode.permission: "deny"')))
    assert config_of(spec.overlay_files)["agent"]["wave-a1"]["permission"] == "deny"


def test_steps_precedence(tmp_path: Path) -> None:
    config = {
        "executors": {
            "opencode": {"steps": 30},
            "profiles": {"ops": {"id": "opencode", "budget": {"turns": 8}, "opencode": {"steps": 12}}},
        }
    }

    def steps(lines: str) -> int | None:
        spec = OPENCODE.build_launch(request(tmp_path, agent(lines), lane(config)))
        value = next(iter(config_of(spec.overlay_files)["agent"].values())).get("steps")
        return int(value) if value is not None else None

    assert steps("- id: opencode") == 30
    assert steps("- id: opencode\n- budget.turns: 4") == 4
    assert steps("- profile: ops") == 12
    assert steps("- profile: ops\n- opencode.steps: 2") == 2


def test_lane_model_and_lists_union(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("a")
    (tmp_path / "b.md").write_text("b")
    config = {"executors": {"opencode": {"model": "mock/lane", "files": ["a.md"], "format": "json"}}}
    spec = OPENCODE.build_launch(request(tmp_path, agent("- id: opencode\n- opencode.files: b.md, a.md"), lane(config)))
    assert after(spec.argv, "--model") == ["mock/lane"]
    assert after(spec.argv, "--format") == ["json"]
    assert [a for a in spec.argv if a.startswith("--file")] == [
        f"--file={tmp_path / 'a.md'}",
        f"--file={tmp_path / 'b.md'}",
    ]


def test_agent_names() -> None:
    assert agent_name(None, "A1") == "wave-a1"
    assert agent_name("  My Agent!!  ", "A1") == "my-agent"
    assert agent_name("!!!", "A7") == "wave-a7"


def test_scan_and_usage_read_opencode_json(tmp_path: Path) -> None:
    log = tmp_path / "a9.log"
    step = {
        "type": "step_finish",
        "part": {"tokens": {"total": 120, "input": 100, "output": 20, "cache": {"read": 5}}, "cost": 0.5},
    }
    text = {"type": "text", "part": {"type": "text", "text": "Done.\n[wave-doc-closure] state=no-change detail=ok"}}
    log.write_text("\n".join(json.dumps(x) for x in (step, text, step)) + "\n")
    assert [m.kind for m in OPENCODE.scan_output(log).accepted] == ["wave-doc-closure"]
    usage = OPENCODE.usage(log)
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens, usage.cached_input_tokens) == (
        200,
        40,
        240,
        10,
    )
    assert (usage.cost_usd, usage.turns) == (1.0, 2)
