"""Bad wave files give exactly one WaveParseError naming file, line and a fix; odd-but-valid ones parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_wave.errors import WaveParseError
from pytest_wave.model.wave import Wave
from pytest_wave.parse.render import render_wave
from pytest_wave.parse.wave import parse_wave_file, parse_wave_text

PROMPT = "### Prompt\n\n```text\nDo the work.\n\nFile ownership:\n- src/x.py\n```\n"


def agent(sections: str = "", agent_id: str = "A1", title: str = "Worker", prompt: str = PROMPT) -> str:
    return f"## Agent {agent_id}: {title}\n\n{sections}{prompt}\n"


def executor(*bullets: str) -> str:
    return agent("### Executor\n\n" + "".join(f"{b}\n" for b in bullets) + "\n")


def section(heading: str, *lines: str) -> str:
    return agent(f"### {heading}\n\n" + "".join(f"{ln}\n" for ln in lines) + "\n")


def top(heading: str, *lines: str) -> str:
    return f"# Wave 1 - Test\n\n## {heading}\n\n" + "".join(f"{ln}\n" for ln in lines) + "\n" + agent()


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in test input")


def parse_failure(path: Path) -> WaveParseError:
    """Parse ``path``, which must fail with exactly one WaveParseError (and nothing else)."""
    try:
        parse_wave_file(path)
    except Exception as exc:  # any other exception type is a test failure below
        assert type(exc) is WaveParseError, f"{type(exc).__name__}: {exc}"
        assert not isinstance(exc, ExceptionGroup)
        return exc
    raise AssertionError("parse succeeded")


def assert_error(err: WaveParseError, path: Path, line: int, message: str, fix: str = "") -> None:
    one = err.one_line()
    assert one.startswith(f"{path}:{line}: error: "), one
    assert err.path == str(path)
    assert err.line == line
    assert message in one, one
    assert err.fix, one
    assert one.endswith(f"(fix: {err.fix})")
    assert fix in err.fix, one
    assert "\n" not in one


# (id, wave text, needle locating the error line (None = line 1), message fragment, fix fragment)
TEXT_CASES: list[tuple[str, str, str | tuple[str, int] | None, str, str]] = [
    ("empty", "", None, "empty", "## Agent"),
    ("whitespace-only", "  \n\t\n\n   \n", None, "empty", "## Agent"),
    (
        "unterminated-fence",
        "# Wave 1\n\n## Agent A1: W\n\n### Prompt\n\n```text\nhello\n\nstill open\n",
        "```text",
        "unterminated code fence opened at line 7",
        "close the block",
    ),
    (
        "unterminated-tilde-fence",
        "# Wave 1\n\n~~~~\nnotes\n~~~\n" + agent(),
        "~~~~",
        "unterminated code fence",
        "4 '~'",
    ),
    (
        "no-prompt",
        "# Wave 1\n\n## Agent A1: Worker\n\n### Executor\n\n- id: codex\n",
        "## Agent A1",
        'agent A1 has no "### Prompt" section',
        "### Prompt",
    ),
    (
        "prompt-without-fence",
        agent(prompt="### Prompt\n\nJust prose, no fence.\n"),
        "### Prompt",
        "no fenced prompt block",
        "```text",
    ),
    (
        "duplicate-agent-id",
        agent() + agent(title="Second"),
        "## Agent A1: Second",
        'duplicate agent id "A1" (first declared at line 1)',
        "own id",
    ),
    ("executor-unknown-id", executor("- id: gpt"), "- id: gpt", "agent A1.id must be one of", "supported executors"),
    (
        "executor-unknown-fallback",
        executor("- id: codex", "- fallbacks: claude, gpt"),
        "- fallbacks",
        "agent A1.fallbacks[1] must be one of",
        "supported executors",
    ),
    (
        "executor-unknown-key",
        executor("- id: codex", "- codex.turbo: true"),
        "codex.turbo",
        'unknown executor setting "codex.turbo" in agent A1',
        "",
    ),
    (
        "executor-key-typo",
        executor("- codex.serach: true"),
        "codex.serach",
        'unknown executor setting "codex.serach"',
        "did you mean 'codex.search'?",
    ),
    (
        "executor-malformed-line",
        executor("- id: codex", "id codex"),
        "id codex",
        'malformed executor setting "id codex"',
        "- id: codex",
    ),
    (
        "executor-empty-value",
        executor('- model: ""'),
        "- model",
        'empty executor setting "model"',
        "value",
    ),
    ("budget-zero", executor("- budget.turns: 0"), "budget.turns", 'invalid agent A1.budget.turns "0"', "12"),
    ("budget-negative", executor("- budget.minutes: -5"), "budget.minutes", "expected a positive integer", ""),
    ("budget-word", executor("- budget.turns: abc"), "budget.turns", 'invalid agent A1.budget.turns "abc"', ""),
    ("steps-word", executor("- opencode.steps: many"), "opencode.steps", "positive integer", ""),
    ("bad-bool", executor("- codex.search: maybe"), "codex.search", 'invalid agent A1.codex.search "maybe"', "true"),
    (
        "bad-sandbox",
        executor("- codex.sandbox: yolo"),
        "codex.sandbox",
        'invalid agent A1.codex.sandbox "yolo"',
        "read-only, workspace-write, danger-full-access",
    ),
    (
        "bad-output-format",
        executor("- claude.output_format: xml"),
        "claude.output_format",
        'invalid agent A1.claude.output_format "xml"',
        "text, json, stream-json",
    ),
    (
        "bad-opencode-format",
        executor("- opencode.format: yaml"),
        "opencode.format",
        'invalid agent A1.opencode.format "yaml"',
        "default, json",
    ),
    (
        "settings-json-invalid",
        executor('- claude.settings_json: {"permissions": '),
        "settings_json",
        "invalid JSON for agent A1.claude.settings_json",
        "valid JSON",
    ),
    (
        "settings-json-array",
        executor("- claude.settings_json: [1, 2]"),
        "settings_json",
        "agent A1.claude.settings_json must be a JSON object",
        "{...}",
    ),
    (
        "hooks-json-string",
        executor('- claude.hooks_json: "Stop"'),
        "hooks_json",
        "claude.hooks_json must be a JSON object",
        "",
    ),
    (
        "opencode-permission-bare-word",
        executor("- opencode.permission: allow"),
        "opencode.permission",
        "invalid JSON for agent A1.opencode.permission",
        "",
    ),
    ("agent-heading-blank-id", agent(agent_id=""), "## Agent", "has no id or no title", "## Agent <ID>"),
    ("agent-heading-no-space", "## Agent: Title\n\n" + PROMPT, "## Agent", "has no id or no title", "Agent A1"),
    ("agent-heading-no-title", "## Agent A1:\n\n" + PROMPT, "## Agent", "has no id or no title", ""),
    ("deliverable-parent", section("Deliverables", "- ../x.py"), "../x.py", 'deliverable "../x.py"', "'..'"),
    ("deliverable-absolute", section("Deliverables", "- /etc/passwd"), "/etc/passwd", "escapes the repository", ""),
    (
        "deliverable-sneaky-parent",
        section("Deliverables", "- src/../../x.py"),
        "src/../../x.py",
        "escapes the repository",
        "",
    ),
    ("deliverable-drive", section("Deliverables", "- C:/x.py"), "C:/x.py", "escapes the repository", ""),
    (
        "deliverable-directory",
        section("Deliverables", "- src/pkg/"),
        "src/pkg/",
        "is a directory path",
        "File ownership",
    ),
    (
        "deliverable-duplicate",
        section("Deliverables", "- src/x.py", "- ./src/x.py"),
        "./src/x.py",
        'duplicate deliverable "src/x.py" in agent A1',
        "once",
    ),
    (
        "component-duplicate",
        section("Components", "- api", "- api"),
        ("- api", 2),
        'duplicate "api" in agent A1 components',
        "once",
    ),
    ("component-malformed", section("Components", "- two words"), "two words", 'malformed entry "- two words"', ""),
    ("component-uppercase", section("Components", "- Comp-A"), "Comp-A", 'invalid id "Comp-A"', "lowercase"),
    (
        "capability-duplicate",
        section("Capabilities", "- design", "- design"),
        ("- design", 2),
        'duplicate "design" in agent A1 capabilities',
        "",
    ),
    (
        "skill-duplicate",
        section("Skills", "- role-design", "- `Role-Design`"),
        "Role-Design",
        'duplicate skill "role-design"',
        "once",
    ),
    ("skill-invalid", section("Skills", "- Bad Skill!"), "Bad Skill!", 'skill "bad skill!" must match', "lowercase"),
    ("skill-empty", section("Skills", '- ""'), '- ""', 'skill "" must match', ""),
    (
        "promotion-malformed",
        top("Component promotions", "- wave parser is ready"),
        "wave parser",
        'malformed component promotion "- wave parser is ready"',
        "<component-id>: <level>",
    ),
    (
        "promotion-invalid-id",
        top("Component promotions", "- Comp-A: repo-landed"),
        "Comp-A",
        'invalid component id "Comp-A"',
        "",
    ),
    (
        "promotion-duplicate",
        top("Component promotions", "- api: repo-landed", "- api: pilot-live"),
        "pilot-live",
        'duplicate component promotion "api"',
        "",
    ),
    (
        "deploy-malformed",
        top("Deploy environments", "- prod kubernetes"),
        "prod kubernetes",
        'malformed deploy environment "- prod kubernetes"',
        "[default]",
    ),
    (
        "deploy-duplicate",
        top("Deploy environments", "- prod: kubernetes", "- PROD: docker"),
        "PROD",
        'duplicate deploy environment "prod"',
        "",
    ),
    (
        "context7-defaults-malformed",
        top("Context7 defaults", "bundle: none"),
        "bundle: none",
        'malformed Context7 setting "bundle: none" in wave defaults',
        "- bundle:",
    ),
    (
        "context7-agent-malformed",
        section("Context7", "- bundle: none", "query about things"),
        "query about",
        'malformed Context7 setting "query about things" in agent A1',
        "",
    ),
    (
        "exit-contract-malformed",
        section("Exit contract", "- completion: contract", "durability none"),
        "durability none",
        'malformed exit contract setting "durability none" in agent A1',
        "- completion: contract",
    ),
    (
        "eval-target-malformed",
        top("Eval targets", "- id: x | selection"),
        "selection",
        'malformed eval target field "selection"',
        "id: <id>",
    ),
    ("eval-target-no-id", top("Eval targets", "- selection: pinned"), "pinned", "eval target has no id", ""),
    (
        "proof-artifact-no-path",
        section("Proof artifacts", "- kind: live-status"),
        "live-status",
        "proof artifact has no path",
        "path: <path>",
    ),
    (
        "role-prompt-malformed",
        section("Role prompts", "- `docs/agents/a.md`", "-docs/agents/b.md"),
        "-docs/agents/b.md",
        'malformed role prompt entry for agent A1 "-docs/agents/b.md"',
        "docs/agents/<role>.md",
    ),
    ("role-prompt-empty", section("Role prompts", "- ``"), "- ``", "empty role prompt entry for agent A1", ""),
    (
        "duplicate-subsection",
        agent("### Skills\n\n- a\n\n### Skills\n\n- b\n\n"),
        ("### Skills", 2),
        'agent A1 repeats "### Skills" (first at line 3)',
        "merge",
    ),
    (
        "duplicate-top-section",
        "# Wave 1\n\n## Context7 defaults\n\n- bundle: a\n\n## Context7 defaults\n\n- bundle: b\n\n" + agent(),
        ("## Context7 defaults", 2),
        'duplicate "## Context7 defaults" section (first at line 3)',
        "merge",
    ),
]


@pytest.mark.parametrize(
    ("text", "needle", "message", "fix"),
    [pytest.param(t, n, m, f, id=i) for i, t, n, m, f in TEXT_CASES],
)
def test_bad_wave_text(tmp_path: Path, text: str, needle: str | tuple[str, int] | None, message: str, fix: str) -> None:
    path = tmp_path / "wave-1.md"
    path.write_text(text, encoding="utf-8", newline="")
    if needle is None:
        line = 1
    elif isinstance(needle, tuple):
        line = line_of(text, *needle)
    else:
        line = line_of(text, needle)
    assert_error(parse_failure(path), path, line, message, fix)


def test_error_line_numbers_with_crlf(tmp_path: Path) -> None:
    text = executor("- id: codex", "- codex.turbo: true").replace("\n", "\r\n")
    path = tmp_path / "wave-2.md"
    path.write_bytes(text.encode())
    assert_error(parse_failure(path), path, line_of(text, "codex.turbo"), "codex.turbo")


@pytest.mark.parametrize(
    ("data", "line", "message", "fix"),
    [
        pytest.param(b"# Wave 1\n\x00\x01\x02binary", 1, "not a text file", "markdown", id="nul-bytes"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 1, "binary", "", id="png-header"),
        pytest.param(b"# Wave 1\n\nok\n\xff\xfe bad\n", 4, "not valid UTF-8", "UTF-8", id="invalid-utf8"),
        pytest.param(b"\xc3", 1, "not valid UTF-8", "", id="truncated-utf8"),
        pytest.param(b"# Wave 1\r\n\r\n\r\nabc \xe9t\xe9\r\n", 4, "not valid UTF-8", "", id="latin1-crlf"),
    ],
)
def test_bad_bytes(tmp_path: Path, data: bytes, line: int, message: str, fix: str) -> None:
    path = tmp_path / "wave-1.md"
    path.write_bytes(data)
    assert_error(parse_failure(path), path, line, message, fix)


def test_display_path_is_used_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "wave-1.md"
    path.write_text(executor("- id: gpt"))
    with pytest.raises(WaveParseError) as info:
        parse_wave_file(path, display_path="waves/wave-1.md")
    assert info.value.one_line().startswith(f"waves/wave-1.md:{line_of(path.read_text(), '- id: gpt')}: error: ")


def test_parse_wave_text_names_the_given_path() -> None:
    with pytest.raises(WaveParseError) as info:
        parse_wave_text(executor("- budget.turns: 0"), path="plans/wave-7.md")
    assert info.value.one_line().startswith("plans/wave-7.md:5: error: ")


def test_file_without_agents_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "wave-1.md"
    path.write_text("# Wave 1 - Nothing\n\nJust prose.\n\n## Context7 defaults\n\n- bundle: none\n")
    err = parse_failure(path)
    assert err.one_line().startswith(f"{path}: error: wave declares no agents")
    assert err.fix


def test_unreadable_path_is_a_parse_error(tmp_path: Path) -> None:
    err = parse_failure(tmp_path)  # a directory
    assert err.one_line().startswith(f"{tmp_path}: error: cannot read wave file")
    missing = parse_failure(tmp_path / "wave-9.md")
    assert "cannot read wave file" in missing.one_line()


# --------------------------------------------------------------------------------------------------
# Odd but valid input
# --------------------------------------------------------------------------------------------------


def parse(text: str, name: str = "wave-1.md") -> Wave:
    return parse_wave_text(text, path=f"waves/{name}")


def only_agent(text: str):  # type: ignore[no-untyped-def]
    wave = parse(text)
    assert len(wave.agents) == 1
    return wave.agents[0]


def test_headings_inside_a_fenced_prompt_do_not_split_it() -> None:
    body = (
        "Intro line.\n"
        "### Validation\n"
        "## Agent A2: Not an agent\n"
        "## Component promotions\n"
        "- x: y\n"
        "# Wave 7 - not a heading\n"
        "Last line."
    )
    text = f"# Wave 1\n\n## Agent A1: Worker\n\n### Prompt\n\n```text\n{body}\n```\n"
    wave = parse(text)
    assert [a.id for a in wave.agents] == ["A1"]
    assert wave.agents[0].prompt == body
    assert wave.component_promotions == []
    assert wave.number == 1
    assert wave.agents[0].validation == []


def test_heading_inside_fence_in_preamble_is_not_a_section() -> None:
    text = "# Wave 1\n\n```md\n## Agent X: inside a fence\n```\n\n" + agent()
    wave = parse(text)
    assert [a.id for a in wave.agents] == ["A1"]
    assert "## Agent X: inside a fence" in wave.preamble


def test_nested_info_fence_inside_text_prompt() -> None:
    body = "Run the suite:\n```bash\nmake test\n```\nThen report.\n```python\nprint(1)\n```\nDone."
    a = only_agent(agent(prompt=f"### Prompt\n\n```text\n{body}\n```\n"))
    assert a.prompt == body
    assert a.prompt_fence == "text"


def test_indented_nested_fence_inside_prompt() -> None:
    body = "Steps:\n1. Build:\n    ```bash\n    make\n    ```\n2. Report.\n\nFile ownership:\n- src/"
    a = only_agent(agent(prompt=f"### Prompt\n\n```text\n{body}\n```\n"))
    assert a.prompt == body
    assert a.owned == ["src/"]


def test_four_backtick_outer_fence() -> None:
    body = "Example:\n```\nplain block\n```\n```python\nprint(1)\n```\n~~~\ntilde\n~~~\nend"
    a = only_agent(agent(prompt=f"### Prompt\n\n````markdown\n{body}\n````\n"))
    assert a.prompt == body
    assert a.prompt_fence == "markdown"


def test_tilde_outer_fence_ignores_backtick_lines() -> None:
    body = "```bash\nnot closed inside tildes\nend"
    a = only_agent(agent(prompt=f"### Prompt\n\n~~~text\n{body}\n~~~\n"))
    assert a.prompt == body


def test_crlf_line_endings(tmp_path: Path) -> None:
    text = (
        "# Wave 4 - CRLF\n\n**Commit message**: `Fix: crlf`\n\n"
        + executor("- id: codex", "- codex.search: true")
        + "## Agent A2: Second\n\n### Skills\n\n- role-x\n\n"
        + PROMPT
    ).replace("\n", "\r\n")
    path = tmp_path / "wave-4.md"
    path.write_bytes(text.encode())
    wave = parse_wave_file(path)
    assert wave.number == 4
    assert wave.heading == "Wave 4 - CRLF"
    assert wave.commit_message == "Fix: crlf"
    assert [(a.id, a.title) for a in wave.agents] == [("A1", "Worker"), ("A2", "Second")]
    a1, a2 = wave.agents
    assert a1.executor is not None and a1.executor.codex.search is True
    assert a2.skills == ["role-x"]
    assert a1.prompt == "Do the work.\n\nFile ownership:\n- src/x.py"
    assert "\r" not in render_wave(wave)
    assert a2.line == line_of(text, "## Agent A2")
    assert a1.owned_paths[0].line == line_of(text, "- src/x.py")


def test_unusual_line_separators_are_content_not_line_breaks() -> None:
    # Editors count lines by \n; form feeds and U+2028 inside a prompt must survive as text and must not
    # shift the line numbers of anything below them.
    body = "Page one\x0cpage two\u2028same line\x1cstill"
    text = agent(prompt=f"### Prompt\n\n```text\n{body}\n```\n") + agent(agent_id="A2", prompt="### Prompt\n\nnone\n")
    a = only_agent(agent(prompt=f"### Prompt\n\n```text\n{body}\n```\n"))
    assert a.prompt == body
    with pytest.raises(WaveParseError) as info:
        parse(text)
    assert info.value.line == line_of(text, "none") - 2  # the "### Prompt" line of A2
    assert text.split("\n")[info.value.line - 1] == "### Prompt"


def test_prompt_validation_block() -> None:
    body = (
        "Do the work.\n"
        "\n"
        "Validation:\n"
        "- pytest -q tests/\n"
        "- `ruff check .`\n"
        "- Run `mypy pytest_wave` before you finish.\n"
        "  - indented `nested`\n"
        "Notes:\n"
        "- not a command\n"
        "\n"
        "File ownership:\n"
        "- src/"
    )
    text = agent(
        "### Validation\n\n- `pytest -q tests/unit`\n- make lint\n- Then run `tox -e py311`.\n\n",
        prompt=f"### Prompt\n\n```text\n{body}\n```\n",
    )
    a = only_agent(text)
    assert [(v.command, v.source) for v in a.validation] == [
        ("pytest -q tests/", "prompt"),
        ("ruff check .", "prompt"),
        ("mypy pytest_wave", "prompt"),
        ("nested", "prompt"),
        ("pytest -q tests/unit", "section"),
        ("make lint", "section"),
        ("tox -e py311", "section"),
    ]
    assert [v.line for v in a.validation] == [
        line_of(text, "- pytest -q tests/"),
        line_of(text, "ruff check"),
        line_of(text, "mypy"),
        line_of(text, "nested"),
        line_of(text, "tests/unit"),
        line_of(text, "make lint"),
        line_of(text, "tox -e"),
    ]


def test_prompt_validation_lines_with_leading_blank_prompt_lines() -> None:
    text = agent(prompt="### Prompt\n\n```text\n\n\nValidation:\n- pytest -q\n```\n")
    a = only_agent(text)
    assert [(v.command, v.line) for v in a.validation] == [("pytest -q", line_of(text, "- pytest -q"))]
    assert a.prompt_line == line_of(text, "```text") + 1


def test_validation_block_stops_at_next_heading_line() -> None:
    body = "Validation:\n- make check\nAfterwards:\n- not run\nValidation:\n- make docs"
    a = only_agent(agent(prompt=f"### Prompt\n\n```text\n{body}\n```\n"))
    assert [v.command for v in a.validation] == ["make check", "make docs"]


def test_file_ownership_blocks() -> None:
    body = (
        "File ownership (only touch these paths):\n"
        "- src/a.py\n"
        "(and nothing else)\n"
        "- `src/b/`\n"
        "  - 'src\\c.py'\n"
        "Notes for reviewers:\n"
        "- not/owned.py\n"
        "Also:\n"
        "file ownership, continued:\n"
        '- "docs/c.md"\n'
        "- ./src/a.py\n"
        "Done:\n"
        "- not/owned/either.py"
    )
    text = agent(prompt=f"### Prompt\n\n```text\n{body}\n```\n")
    a = only_agent(text)
    assert a.owned == ["src/a.py", "src/b/", "src/c.py", "docs/c.md"]
    assert [p.line for p in a.owned_paths] == [
        line_of(text, "- src/a.py"),
        line_of(text, "src/b/"),
        line_of(text, "c.py'"),
        line_of(text, "docs/c.md"),
    ]
    assert a.owns("src/b/deep/x.py")
    assert not a.owns("src/bb.py")


def test_list_sections_keep_prose_as_notes() -> None:
    text = agent(
        "### Skills\n\n- role-a\nSome prose about skills.\n- `Role-B`\n\n"
        "### Deliverables\n\n- src/x.py\nMore prose.\n\n"
        "### Capabilities\n\nOnly prose here.\n\n"
    )
    a = only_agent(text)
    assert a.skills == ["role-a", "role-b"]
    assert a.deliverable_paths == ["src/x.py"]
    assert a.capabilities == []
    assert a.section_notes == {
        "Skills": "Some prose about skills.",
        "Deliverables": "More prose.",
        "Capabilities": "Only prose here.",
    }
    again = parse(render_wave(parse(text)))
    assert again.agents[0].section_notes == a.section_notes


def test_fenced_example_inside_a_list_section_is_not_a_list() -> None:
    text = agent("### Skills\n\n- role-a\n\nFor example:\n\n```md\n- not-a-skill\n```\n\n")
    a = only_agent(text)
    assert a.skills == ["role-a"]
    assert "- not-a-skill" in a.section_notes["Skills"]


def test_executor_value_cleaning() -> None:
    a = only_agent(
        executor(
            "- id: `CODEX`",
            '- model: "gpt-5"',
            "- profile: Fast-Lane",
            "- budget.turns: 12abc",
            "- codex.search: YES",
            "- codex.json: off",
            "- codex.ephemeral: 1",
            '- opencode.permission: "allow"',
            '- opencode.config_json: `{"a": [1, 2]}`',
            "- tags: 'x', `y`, , z",
            "- model: gpt-5.1",
            "- retry_policy: Sticky",
        )
    )
    spec = a.executor
    assert spec is not None
    assert spec.id == "codex"
    assert spec.model == "gpt-5.1"  # a repeated key keeps the last value
    assert spec.profile == "fast-lane"
    assert spec.budget.turns == 12
    assert (spec.codex.search, spec.codex.json_output, spec.codex.ephemeral) == (True, False, True)
    assert spec.opencode.permission == "allow"
    assert spec.opencode.config_json == {"a": [1, 2]}
    assert spec.tags == ["x", "y", "z"]
    assert spec.retry_policy == "sticky"
    assert list(spec.key_lines)[:2] == ["id", "model"]


def test_opencode_permission_accepts_any_json() -> None:
    spec = only_agent(executor('- opencode.permission: {"edit": "ask", "bash": "deny"}')).executor
    assert spec is not None and spec.opencode.permission == {"edit": "ask", "bash": "deny"}
    spec = only_agent(executor("- opencode.permission: true")).executor
    assert spec is not None and spec.opencode.permission is True


def test_context7_query_cleaning() -> None:
    long_query = " ".join(["word"] * 100)
    wave = parse(top("Context7 defaults", "- bundle: 'node'", '- query: "  spaced   out\tquery  "'))
    assert wave.context7_defaults is not None
    assert (wave.context7_defaults.bundle, wave.context7_defaults.query) == ("node", "spaced out query")
    wave = parse(top("Context7 defaults", f"- query: {long_query}"))
    assert wave.context7_defaults is not None and wave.context7_defaults.query is not None
    assert len(wave.context7_defaults.query) == 280
    assert wave.context7_defaults.query.endswith("\u2026")
    assert wave.context7_defaults.bundle is None
    assert parse(top("Context7 defaults", "- other: x")).context7_defaults is None


def test_exit_contract_doc_impact_spellings() -> None:
    a = only_agent(section("Exit contract", "- docImpact: owned", "- doc-impact: none", "- completion: live"))
    assert a.exit_contract is not None
    assert (a.exit_contract.completion, a.exit_contract.doc_impact) == ("live", "owned")
    b = only_agent(section("Exit contract", "- doc-impact: none", "- docImpact: shared-plan", "- owner: x"))
    assert b.exit_contract is not None and b.exit_contract.doc_impact == "shared-plan"
    assert only_agent(section("Exit contract", "- owner: x")).exit_contract is None


def test_deploy_environments_default_and_notes() -> None:
    wave = parse(top("Deploy environments", "- `Prod`: `Kubernetes` (main)", "- stage: docker default"))
    assert [(e.id, e.kind, e.is_default, e.notes) for e in wave.deploy_environments] == [
        ("prod", "kubernetes", False, "main"),
        ("stage", "docker", True, None),
    ]
    wave = parse(top("Deploy environments", "- a: docker", "- b: docker"))
    assert [e.is_default for e in wave.deploy_environments] == [True, False]


def test_prompt_heading_with_trailing_space_and_odd_agent_ids() -> None:
    wave = parse(
        "## Agent  x-1 : Title: with colon \n\n### Prompt \n\n```\nhi\n```\n"
        "## Agent A 2: Spaced id\n\n### Prompt\n\n```text\nyo\n```\n"
    )
    assert [(a.id, a.title, a.slug) for a in wave.agents] == [
        ("x-1", "Title: with colon", "1-x-1"),
        ("A 2", "Spaced id", "1-a-2"),
    ]
    assert wave.agents[0].prompt_fence == ""


def test_html_comments_in_list_sections_are_ignored() -> None:
    a = only_agent(section("Components", "<!-- owned by A1 -->", "- api"))
    assert a.components == ["api"]
    assert a.section_notes == {}


def test_utf8_bom_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "wave-5.md"
    path.write_bytes(b"\xef\xbb\xbf# Wave 5 - BOM\n\n" + agent().encode())
    wave = parse_wave_file(path)
    assert wave.heading == "Wave 5 - BOM"
    assert [a.id for a in wave.agents] == ["A1"]
