"""The codex launch: every ``codex.*`` Executor key mapped to today's codex-cli flag (no CLI runs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from launchkit import after, agent, lane, request

from pytest_wave.executors.base import LaunchRequest
from pytest_wave.executors.codex import CodexExecutor

CODEX = CodexExecutor()


def build(tmp_path: Path, lines: str, config: dict[str, object] | None = None) -> list[str]:
    return CODEX.build_launch(request(tmp_path, agent(lines), lane(config))).argv


def test_default_launch_is_unattended_and_reads_the_prompt_from_stdin(tmp_path: Path) -> None:
    req = request(tmp_path, agent("- id: codex"))
    spec = CODEX.build_launch(req)
    assert spec.argv == [
        "codex",
        "--ask-for-approval",  # top-level: `codex exec -a` does not exist
        "never",
        "exec",
        "--skip-git-repo-check",
        "--sandbox",
        "danger-full-access",  # the lane default (anchor compatibility)
        "--cd",
        str(tmp_path),
        "-",
    ]
    assert spec.stdin_path == req.prompt_path
    assert spec.cwd == tmp_path
    assert spec.overlay_files == {}
    assert "--dangerously-bypass-approvals-and-sandbox" not in spec.argv


def test_search_becomes_a_config_override_never_exec_search(tmp_path: Path) -> None:
    argv = build(tmp_path, "- id: codex\n- codex.search: true")
    assert "--search" not in argv  # finding 1: `codex exec --search` exits 2
    assert after(argv, "-c") == ['web_search="live"']
    assert "--search" not in build(tmp_path, "- id: codex\n- codex.search: false")


def test_every_codex_key(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    argv = build(
        tmp_path,
        "\n".join(
            [
                "- id: codex",
                "- model: gpt-5-codex",
                "- codex.command: /opt/codex/bin/codex",
                "- codex.sandbox: workspace-write",
                "- codex.profile_name: review",
                "- codex.config: model_reasoning_effort=medium, hide_agent_reasoning=true",
                "- codex.images: shots/a.png, shots/b.png",
                "- codex.add_dirs: docs",
                "- codex.json: true",
                "- codex.ephemeral: yes",
            ]
        ),
    )
    assert argv[0] == "/opt/codex/bin/codex"
    exec_at = argv.index("exec")
    # --image takes several values: it sits right after exec, where the next flag ends its list.
    assert argv[exec_at + 1 : exec_at + 5] == ["--image", "shots/a.png", "--image", "shots/b.png"]
    assert after(argv, "--sandbox") == ["workspace-write"]
    assert after(argv, "--model") == ["gpt-5-codex"]
    assert after(argv, "--profile") == ["review"]
    assert after(argv, "-c") == ["model_reasoning_effort=medium", "hide_agent_reasoning=true"]
    assert after(argv, "--add-dir") == ["docs"]
    assert "--json" in argv and "--ephemeral" in argv
    assert argv[-1] == "-"


def test_missing_add_dirs_are_left_out_and_noted(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    spec = CODEX.build_launch(request(tmp_path, agent("- id: codex\n- codex.add_dirs: docs, scripts")))
    assert after(spec.argv, "--add-dir") == ["docs"]  # a missing dir breaks every sandboxed command
    assert "scripts does not exist" in spec.overlay_files["launch-notes.txt"]


def test_lane_then_profile_then_agent(tmp_path: Path) -> None:
    config = {
        "executors": {
            "codex": {"command": "codex-lane", "sandbox": "read-only", "config": ["a=1"], "json": True},
            "profiles": {
                "fast": {"id": "codex", "model": "gpt-fast", "codex": {"sandbox": "workspace-write", "config": ["b=2"]}}
            },
        }
    }
    argv = build(tmp_path, "- profile: fast\n- codex.config: c=3, a=1", config)
    assert argv[0] == "codex-lane"  # the profile block sets no command: the lane's stays (no null overwrite)
    assert after(argv, "--sandbox") == ["workspace-write"]
    assert after(argv, "-c") == ["a=1", "b=2", "c=3"]  # lists unioned in order, without duplicates
    assert after(argv, "--model") == ["gpt-fast"]
    assert "--json" in argv
    agent_wins = build(tmp_path, "- profile: fast\n- codex.sandbox: danger-full-access\n- model: gpt-x", config)
    assert after(agent_wins, "--sandbox") == ["danger-full-access"]
    assert after(agent_wins, "--model") == ["gpt-x"]


def test_fallback_and_forced_runs_carry_no_model(tmp_path: Path) -> None:
    req = request(tmp_path, agent("- id: claude\n- model: claude-sonnet-4-6"), forced="codex")
    assert "--model" not in CODEX.build_launch(req).argv


def test_plain_launch_request_gets_the_lane_settings(tmp_path: Path) -> None:
    full = request(
        tmp_path, agent("- id: codex\n- codex.json: true"), lane({"executors": {"codex": {"ephemeral": True}}})
    )
    plain = LaunchRequest(
        task=full.task,
        task_path=full.task_path,
        prompt_path=full.prompt_path,
        overlay_dir=full.overlay_dir,
        repo_root=full.repo_root,
        lane=full.lane,
    )
    argv = CODEX.build_launch(plain).argv
    assert "--ephemeral" in argv and "--json" not in argv


@pytest.mark.parametrize("command", [None, "codex-nightly"])
def test_command_comes_from_the_lane(command: str | None) -> None:
    config = {"executors": {"codex": {"command": command}}} if command else {}
    assert CODEX.command(lane(config)) == (command or "codex")


def test_scan_and_usage_read_codex_json(tmp_path: Path) -> None:
    log = tmp_path / "a1.log"
    log.write_text(
        '{"type":"thread.started","thread_id":"t"}\n'
        '{"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"Done.\\n'
        '[wave-proof] completion=contract durability=none proof=unit state=met detail=ok"}}\n'
        '{"type":"turn.completed","usage":{"input_tokens":200,"cached_input_tokens":50,"output_tokens":40}}\n'
    )
    assert [m.kind for m in CODEX.scan_output(log).accepted] == ["wave-proof"]
    usage = CODEX.usage(log)
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.cached_input_tokens, usage.turns) == (200, 40, 50, 1)


def test_usage_from_codex_text_trailer(tmp_path: Path) -> None:
    log = tmp_path / "a1.log"
    log.write_text("codex\nWrote it.\ntokens used\n1,240\n")
    usage = CODEX.usage(log)
    assert usage is not None and usage.total_tokens == 1240
