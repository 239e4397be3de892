"""The claude launch: every ``claude.*`` Executor key mapped to today's Claude Code flag or setting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from launchkit import after, agent, lane, request, variadic

from pytest_wave.errors import WaveError
from pytest_wave.executors import claude as claude_module
from pytest_wave.executors.claude import ClaudeExecutor, normalize_hooks

CLAUDE = ClaudeExecutor()
HARNESS = [
    "You are running inside the Wave orchestration harness.",
    "Resolved executor: claude.",
    "Assigned wave agent: A1 (Part one).",
    "Treat the incoming task prompt as the authoritative assignment.",
    "Preserve structured Wave markers exactly when they are required by the task.",
    "Do not omit or rewrite message-board requirements, exit-contract requirements, or ownership boundaries.",
    "Prefer plain text output unless the task explicitly requires code blocks.",
]


def test_default_launch(tmp_path: Path) -> None:
    req = request(tmp_path, agent("- id: claude"))
    spec = CLAUDE.build_launch(req)
    overlay = req.overlay_dir
    assert spec.argv == [
        "claude",
        "-p",
        "--no-session-persistence",
        "--output-format",
        "text",
        "--permission-mode",
        "acceptEdits",  # explicit, safe, works as root; never a bypass mode by default
        "--settings",
        str(overlay / "claude-settings.json"),
        "--append-system-prompt-file",
        str(overlay / "claude-system-prompt.txt"),
    ]
    # The prompt goes on stdin: variadic flags would swallow a trailing positional prompt (finding 5).
    assert spec.stdin_path == req.prompt_path
    assert spec.env == {"DISABLE_AUTOUPDATER": "1"}
    assert json.loads(spec.overlay_files["claude-settings.json"]) == {}
    assert spec.overlay_files["claude-system-prompt.txt"] == "\n".join(HARNESS) + "\n"
    assert not any("dangerously" in arg for arg in spec.argv)


def test_every_claude_key(tmp_path: Path) -> None:
    base = tmp_path / "conf" / "claude.json"
    base.parent.mkdir()
    base.write_text(json.dumps({"env": {"A": "1"}, "permissions": {"deny": ["WebFetch"]}}))
    lines = [
        "- id: claude",
        "- model: claude-sonnet-4-6",
        "- claude.command: /opt/claude",
        "- claude.agent: reviewer",
        "- claude.permission_mode: dontAsk",
        "- claude.permission_prompt_tool: mcp__perm__ask",
        "- claude.settings: conf/claude.json",
        "- claude.max_turns: 7",
        "- claude.mcp_config: conf/mcp.json, /abs/mcp2.json",
        "- claude.allowed_http_hook_urls: https://hooks.example/*",
        "- claude.allowed_tools: Read, Bash(npm test:*)",
        "- claude.disallowed_tools: WebSearch",
        '- claude.settings_json: {"permissions":{"allow":["Read"]}}',
        '- claude.hooks_json: {"Stop":[{"command":"touch stop"}]}',
        "- claude.output_format: stream-json",
        "- claude.effort: HIGH",
    ]
    req = request(tmp_path, agent("\n".join(lines)))
    spec = CLAUDE.build_launch(req)
    argv = spec.argv
    assert argv[0] == "/opt/claude"
    assert after(argv, "--output-format") == ["stream-json"]
    assert "--verbose" in argv  # stream-json in -p mode needs it
    assert after(argv, "--model") == ["claude-sonnet-4-6"]
    assert after(argv, "--agent") == ["reviewer"]
    assert after(argv, "--permission-mode") == ["dontAsk"]
    assert after(argv, "--permission-prompt-tool") == ["mcp__perm__ask"]
    assert after(argv, "--max-turns") == ["7"]
    assert after(argv, "--effort") == ["high"]
    assert variadic(argv, "--mcp-config") == [str(tmp_path / "conf" / "mcp.json"), "/abs/mcp2.json"]
    assert variadic(argv, "--allowedTools") == ["Read", "Bash(npm test:*)"]
    assert variadic(argv, "--disallowedTools") == ["WebSearch"]
    # Variadic flags come last: nothing positional follows them.
    assert argv.index("--append-system-prompt-file") < argv.index("--mcp-config")
    settings = json.loads(spec.overlay_files["claude-settings.json"])
    assert settings == {
        "env": {"A": "1"},
        "permissions": {"deny": ["WebFetch"], "allow": ["Read"]},
        "hooks": {"Stop": [{"matcher": "", "hooks": [{"command": "touch stop", "type": "command"}]}]},
        "allowedHttpHookUrls": ["https://hooks.example/*"],
    }


def test_hooks_in_the_anchor_shape_become_claude_hooks() -> None:
    # Finding 4: {"Stop":[{"command":...}]} is ignored by Claude; the matcher/hooks shape runs.
    assert normalize_hooks({"Stop": [{"command": "echo stop"}], "PostToolUse": "echo post"}) == {
        "Stop": [{"matcher": "", "hooks": [{"command": "echo stop", "type": "command"}]}],
        "PostToolUse": [{"matcher": "", "hooks": [{"command": "echo post", "type": "command"}]}],
    }
    documented = {"Stop": [{"matcher": "", "hooks": [{"type": "command", "command": "x"}]}]}
    assert normalize_hooks(documented) == documented
    assert normalize_hooks({"Stop": [{"matcher": "Bash", "url": "https://h"}]}) == {
        "Stop": [{"matcher": "Bash", "hooks": [{"url": "https://h", "type": "http"}]}]
    }


def test_turn_limit_precedence(tmp_path: Path) -> None:
    config = {
        "executors": {
            "claude": {"maxTurns": 40},
            "profiles": {"review": {"id": "claude", "budget": {"turns": 9}, "claude": {"maxTurns": 11}}},
        }
    }

    def turns(lines: str) -> list[str]:
        return after(CLAUDE.build_launch(request(tmp_path, agent(lines), lane(config))).argv, "--max-turns")

    assert turns("- id: claude") == ["40"]  # lane
    assert turns("- id: claude\n- budget.turns: 5") == ["5"]  # budget.turns beats the lane
    assert turns("- profile: review") == ["11"]  # profile block beats the budget
    assert turns("- profile: review\n- claude.max_turns: 3") == ["3"]  # agent beats all


def test_replace_mode_and_lane_model_and_strict_mcp(tmp_path: Path) -> None:
    config = {
        "executors": {"claude": {"appendSystemPromptMode": "replace", "model": "lane-model", "strictMcpConfig": True}}
    }
    argv = CLAUDE.build_launch(request(tmp_path, agent("- id: claude"), lane(config))).argv
    assert "--system-prompt-file" in argv and "--append-system-prompt-file" not in argv
    assert after(argv, "--model") == ["lane-model"]
    assert "--strict-mcp-config" in argv
    argv = CLAUDE.build_launch(request(tmp_path, agent("- id: claude\n- model: m2"), lane(config))).argv
    assert after(argv, "--model") == ["m2"]  # the agent's model beats the lane's


def test_bypass_is_refused_as_root_unless_sandboxed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    req = request(tmp_path, agent("- id: claude\n- claude.permission_mode: bypassPermissions"))
    monkeypatch.setattr(claude_module, "is_root", lambda: True)
    monkeypatch.delenv("IS_SANDBOX", raising=False)
    with pytest.raises(WaveError, match="refuses permission_mode bypassPermissions as root"):
        CLAUDE.build_launch(req)
    monkeypatch.setenv("IS_SANDBOX", "1")
    assert after(CLAUDE.build_launch(req).argv, "--permission-mode") == ["bypassPermissions"]
    monkeypatch.setattr(claude_module, "is_root", lambda: False)
    monkeypatch.delenv("IS_SANDBOX")
    assert after(CLAUDE.build_launch(req).argv, "--permission-mode") == ["bypassPermissions"]


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "Claude settings file not found"), ("[1]", "must be a JSON object"), ("{", "invalid Claude settings")],
)
def test_bad_settings_file(tmp_path: Path, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / "s.json").write_text(content)
    with pytest.raises(WaveError, match=message):
        CLAUDE.build_launch(request(tmp_path, agent("- id: claude\n- claude.settings: s.json")))


def test_scan_and_usage_read_stream_json(tmp_path: Path) -> None:
    log = tmp_path / "a8.log"
    text = "Done.\n[wave-integration] state=ready-for-doc-closure claims=0 conflicts=0 blockers=0 detail=ok"
    log.write_text(
        json.dumps({"type": "assistant", "message": {"content": [{"type": "text", "text": text}]}})
        + "\n"
        + json.dumps(
            {
                "type": "result",
                "result": text,
                "num_turns": 2,
                "total_cost_usd": 0.0123,
                "usage": {
                    "input_tokens": 200,
                    "cache_creation_input_tokens": 10,
                    "cache_read_input_tokens": 30,
                    "output_tokens": 40,
                },
            }
        )
        + "\n"
    )
    assert [m.kind for m in CLAUDE.scan_output(log).accepted] == ["wave-integration"]
    usage = CLAUDE.usage(log)
    assert usage is not None
    assert (usage.input_tokens, usage.cached_input_tokens, usage.output_tokens) == (240, 30, 40)
    assert (usage.total_tokens, usage.cost_usd, usage.turns) == (280, 0.0123, 2)
    (tmp_path / "plain.log").write_text(text + "\n")
    assert CLAUDE.usage(tmp_path / "plain.log") is None  # text output reports no usage
