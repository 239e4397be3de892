"""Property tests: the parser only ever raises WaveError, and rendered waves read back unchanged."""

from __future__ import annotations

import json
import string
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_wave.errors import WaveError
from pytest_wave.model.executor import (
    EXECUTOR_IDS,
    EXECUTOR_KEYS,
    Budget,
    ClaudeSettings,
    CodexSettings,
    ExecutorSpec,
    OpenCodeSettings,
    field_name,
)
from pytest_wave.model.wave import (
    Agent,
    ComponentPromotion,
    Context7Settings,
    DeployEnvironment,
    EvalTarget,
    ExitContract,
    FreeSection,
    PathEntry,
    ProofArtifact,
    ValidationCommand,
    Wave,
    slugify,
)
from pytest_wave.parse.render import render_wave
from pytest_wave.parse.wave import parse_wave_file, parse_wave_text

# database=None: property runs leave nothing behind in the working tree.
SETTINGS = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
ROUND_TRIP_SETTINGS = settings(SETTINGS, max_examples=100)


def parse_or_wave_error(text: str, path: str = "waves/wave-1.md") -> Wave | None:
    try:
        return parse_wave_text(text, path=path)
    except WaveError as exc:
        one = exc.one_line()
        assert one.startswith(f"{path}:") or one.startswith(f"{path}: ")
        assert "\n" not in one
        return None


# --------------------------------------------------------------------------------------------------
# (a) arbitrary input
# --------------------------------------------------------------------------------------------------


@SETTINGS
@given(st.text())
def test_arbitrary_text_only_raises_wave_error(text: str) -> None:
    parse_or_wave_error(text)


@settings(SETTINGS, max_examples=100)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_wave_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wave-2.md"
        path.write_bytes(data)
        try:
            parse_wave_file(path)
        except WaveError as exc:
            assert exc.one_line().startswith(str(path))


# --------------------------------------------------------------------------------------------------
# (b) text assembled from wave-like fragments
# --------------------------------------------------------------------------------------------------

TOP_FRAGMENTS = [
    "# Wave 3 - Fragments",
    "# Wave x",
    "**Commit message**: `Feat: fragments`",
    "## Agent A1: First",
    "## Agent A2: Second",
    "## Agent A1: Duplicate",
    "## Agent : no id",
    "## Agent: no space",
    "## Agents overview",
    "## Component promotions",
    "## Deploy environments",
    "## Eval targets",
    "## Context7 defaults",
    "## Sequencing note",
]
SECTION_FRAGMENTS = [
    "### Prompt",
    "### Prompt ",
    "#### Prompt",
    "### Executor",
    "### Context7",
    "### Skills",
    "### Components",
    "### Capabilities",
    "### Deliverables",
    "### Proof artifacts",
    "### Exit contract",
    "### Role prompts",
    "### Validation",
    "### Notes",
]
FENCE_FRAGMENTS = ["```text", "```", "````", "````markdown", "```bash", "    ```bash", "    ```", "~~~", "~~~text"]
BODY_FRAGMENTS = [
    "- id: codex",
    "- id: claude",
    "- id: gpt",
    '- model: "gpt-5"',
    "- fallbacks: claude, opencode",
    "- codex.search: true",
    "- codex.serach: true",
    "- codex.sandbox: yolo",
    "- budget.turns: 0",
    "- budget.minutes: 12abc",
    '- claude.settings_json: {"a": [1, 2]}',
    "- claude.settings_json: [1]",
    "- claude.settings_json: {",
    '- opencode.permission: "allow"',
    "- opencode.permission: []",
    "- opencode.steps: 3",
    "- retry-policy: sticky",
    "- bundle: none",
    '- query: "some query"',
    "- completion: live",
    "- docImpact: owned",
    "- api: repo-landed",
    "- Comp-A: pilot-live",
    "- prod: kubernetes default (main)",
    "- path: .tmp/x.json | kind: live | required-for: pilot-live",
    "- id: t1 | selection: pinned",
    "- src/x.py",
    "- src/",
    "- ../escape.py",
    "- /etc/passwd",
    "- role-a",
    "- Bad Skill!",
    "- `pytest -q`",
    "  - indented bullet",
    "* star bullet",
    "File ownership:",
    "Validation:",
    "Notes:",
    "Some prose line.",
    "<!-- comment -->",
    "",
    "",
    "   ",
    "\t",
    "page\x0cbreak",
]
FRAGMENTS = TOP_FRAGMENTS + SECTION_FRAGMENTS + FENCE_FRAGMENTS + BODY_FRAGMENTS

fragment_line = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=20).map(lambda s: s.replace("\n", " ")))


@SETTINGS
@given(st.lists(fragment_line, max_size=40), st.sampled_from(["\n", "\r\n", "\r"]))
def test_wave_like_fragments_only_raise_wave_error(lines: list[str], newline: str) -> None:
    parse_or_wave_error(newline.join(lines))


def _agent_block(agent_id: str, sections: list[str], body: list[str]) -> list[str]:
    return [f"## Agent {agent_id}: Title", "", *sections, "### Prompt", "", "```text", *body, "```", ""]


structured_wave = st.lists(
    st.tuples(
        st.sampled_from(["A1", "A2", "B7", "x-1"]),
        st.lists(st.sampled_from(SECTION_FRAGMENTS[3:] + BODY_FRAGMENTS), max_size=8),
        st.lists(
            st.sampled_from([*BODY_FRAGMENTS, "### Heading in prompt", "## Agent Z9: in prompt", "```"]), max_size=8
        ),
    ),
    min_size=1,
    max_size=4,
)


@SETTINGS
@given(st.lists(st.sampled_from(TOP_FRAGMENTS[:3] + TOP_FRAGMENTS[9:] + BODY_FRAGMENTS), max_size=10), structured_wave)
def test_whatever_parses_round_trips(head: list[str], agents: list[tuple[str, list[str], list[str]]]) -> None:
    """Mostly-valid waves: any text that parses renders back to the same meaning, and rendering is stable."""
    lines = list(head)
    for agent_id, sections, body in agents:
        lines += _agent_block(agent_id, sections, body)
    wave = parse_or_wave_error("\n".join(lines))
    if wave is None:
        return
    rendered = render_wave(wave)
    again = parse_wave_text(rendered, path=wave.path)
    assert again.semantic_dump() == wave.semantic_dump()
    assert render_wave(again) == rendered


# --------------------------------------------------------------------------------------------------
# (c) generated well-formed waves round-trip through render -> parse
# --------------------------------------------------------------------------------------------------

WORD_CHARS = string.ascii_letters + string.digits
PUNCT = ".,;:!?()[]{}<>/\\|@$%^&*+=_-#~'\""
ids = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,12}", fullmatch=True)
word = st.text(WORD_CHARS, min_size=1, max_size=8)
safe_value = st.lists(word, min_size=1, max_size=4).map(" ".join)  # no quotes, commas or edge spaces
safe_lower = safe_value.map(str.lower)
path_segment = st.from_regex(r"[a-z0-9_][a-z0-9_.-]{0,8}", fullmatch=True).filter(lambda s: s not in (".", ".."))
file_path = st.lists(path_segment, min_size=1, max_size=4).map("/".join)
prose = st.text(WORD_CHARS + PUNCT + " ", min_size=1, max_size=40).map(str.strip).filter(bool)

json_scalar = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), st.text(max_size=10))
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8,
)
json_object = st.dictionaries(st.text(max_size=6), json_value, max_size=3)

prompt_line = st.one_of(
    st.text(WORD_CHARS + PUNCT + " \t\x0c\u2028\u00e9\u4e2d", max_size=30),
    st.sampled_from(
        [
            "",
            "",
            "### Heading inside the prompt",
            "## Agent Q1: not an agent",
            "## Component promotions",
            "# Wave 42 - not the heading",
            "- a bullet",
            "```",
            "~~~",
            "````",
            "    indented code",
            "Primary goal:",
            "**Commit message**: `not the commit`",
        ]
    ),
)
snippet = st.lists(prompt_line.filter(lambda s: not s.lstrip(" ").startswith("`")), max_size=4).map(
    lambda body: ["```bash", *body, "```"]
)
prompt = (
    st.lists(st.one_of(prompt_line.map(lambda s: [s]), snippet, st.just(["", "", ""])), max_size=8)
    .map(lambda blocks: "\n".join(line for block in blocks for line in block).strip())
    .filter(lambda p: "validation" not in p.lower() and "file ownership" not in p.lower())
)


def _value_strategy(kind: str, choices: tuple[str, ...]) -> st.SearchStrategy[Any]:
    if kind == "id":
        return st.sampled_from(EXECUTOR_IDS)
    if kind == "idlist":
        return st.lists(st.sampled_from(EXECUTOR_IDS), max_size=3)
    if kind == "str":
        return safe_value
    if kind == "lower":
        return safe_lower
    if kind == "int":
        return st.integers(1, 10_000)
    if kind == "bool":
        return st.booleans()
    if kind == "list":
        return st.lists(safe_value, max_size=3)
    if kind == "json":
        return json_value
    if kind == "jsonobj":
        return json_object
    return st.sampled_from(choices)


@st.composite
def executor_specs(draw: st.DrawFn) -> ExecutorSpec:
    keys = draw(st.lists(st.sampled_from(sorted(EXECUTOR_KEYS)), unique=True, max_size=6))
    groups: dict[str, dict[str, Any]] = {"codex": {}, "claude": {}, "opencode": {}, "budget": {}}
    top: dict[str, Any] = {}
    for key in keys:
        spec = EXECUTOR_KEYS[key]
        value = draw(_value_strategy(spec.kind, spec.choices))
        (top if spec.group is None else groups[spec.group])[field_name(spec)] = value
    return ExecutorSpec(
        budget=Budget(**groups["budget"]),
        codex=CodexSettings(**groups["codex"]),
        claude=ClaudeSettings(**groups["claude"]),
        opencode=OpenCodeSettings(**groups["opencode"]),
        **top,
    )


context7 = st.one_of(
    st.none(),
    st.tuples(st.one_of(st.none(), ids), st.one_of(st.none(), safe_value))
    .filter(lambda bq: bq != (None, None))
    .map(lambda bq: Context7Settings(bundle=bq[0], query=bq[1])),
)
exit_value = st.one_of(st.none(), st.sampled_from(["contract", "live", "none", "owned", "unit", "weird-value"]))
exit_contract = st.one_of(
    st.none(),
    st.tuples(exit_value, exit_value, exit_value, exit_value)
    .filter(lambda values: any(values))
    .map(lambda v: ExitContract(completion=v[0], durability=v[1], proof=v[2], doc_impact=v[3])),
)
pipe_fields = st.dictionaries(
    st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True).filter(
        lambda k: k not in ("id", "path", "kind", "required-for")
    ),
    safe_value,
    max_size=3,
)
proof_artifact = st.builds(
    ProofArtifact,
    path=file_path,
    kind=st.one_of(st.none(), ids),
    required_for=st.one_of(st.none(), ids),
    fields=pipe_fields,
)
section_command = st.text(WORD_CHARS + " -./=", min_size=1, max_size=20).map(str.strip).filter(bool)


@st.composite
def agents(draw: st.DrawFn, number: int, agent_id: str) -> Agent:
    return Agent(
        id=agent_id,
        title=draw(prose),
        slug=slugify(f"{number}-{agent_id}"),
        role_prompts=[PathEntry(path=p) for p in draw(st.lists(file_path, unique=True, max_size=2))],
        executor=draw(st.one_of(st.none(), executor_specs())),
        context7=draw(context7),
        skills=draw(st.lists(ids, unique=True, max_size=3)),
        components=draw(st.lists(ids, unique=True, max_size=3)),
        capabilities=draw(st.lists(ids, unique=True, max_size=3)),
        deliverables=[PathEntry(path=p) for p in draw(st.lists(file_path, unique=True, max_size=3))],
        proof_artifacts=draw(st.lists(proof_artifact, max_size=2)),
        exit_contract=draw(exit_contract),
        validation=[
            ValidationCommand(command=c, source="section") for c in draw(st.lists(section_command, max_size=2))
        ],
        prompt=draw(prompt),
    )


@st.composite
def waves(draw: st.DrawFn) -> Wave:
    number = draw(st.integers(0, 500))
    agent_ids = draw(
        st.lists(st.from_regex(r"[A-Z][0-9]{1,2}|[a-z]-[0-9]", fullmatch=True), min_size=1, max_size=3, unique=True)
    )
    example = draw(st.booleans())  # wave-example-*.md files take their number from the heading
    path = "waves/wave-example-x.md" if example else f"waves/wave-{number}.md"
    environments = [
        DeployEnvironment(id=env_id, kind=draw(ids), is_default=draw(st.booleans()), notes=draw(st.none() | prose))
        for env_id in draw(st.lists(ids, unique=True, max_size=3))
    ]
    if environments and not any(e.is_default for e in environments):
        environments[0] = environments[0].model_copy(update={"is_default": True})
    return Wave(
        path=path,
        number=number,
        heading=f"Wave {number} - {draw(prose)}" if example or draw(st.booleans()) else None,
        preamble=draw(st.one_of(st.just(""), prose.filter(lambda s: not s.startswith(("#", "`", "~", "*"))))),
        commit_message=draw(st.one_of(st.none(), prose.filter(lambda s: "`" not in s))),
        component_promotions=[
            ComponentPromotion(component_id=c, target_level=draw(ids))
            for c in draw(st.lists(ids, unique=True, max_size=3))
        ],
        context7_defaults=draw(context7),
        deploy_environments=environments,
        eval_targets=[EvalTarget(id=t, fields=draw(pipe_fields)) for t in draw(st.lists(ids, unique=True, max_size=2))],
        agents=[draw(agents(number, agent_id)) for agent_id in agent_ids],
        extra_sections=[
            FreeSection(heading=h, body=draw(st.one_of(st.just(""), prose.filter(lambda s: not s.startswith("#")))))
            for h in draw(st.lists(st.sampled_from(["Sequencing note", "Reference rule", "Notes"]), unique=True))
        ],
    )


@ROUND_TRIP_SETTINGS
@given(waves())
def test_generated_waves_round_trip(wave: Wave) -> None:
    rendered = render_wave(wave)
    parsed = parse_wave_text(rendered, path=wave.path)
    assert parsed.semantic_dump() == wave.semantic_dump()
    assert render_wave(parsed) == rendered
    assert [a.prompt for a in parsed.agents] == [a.prompt for a in wave.agents]
    assert parsed.preamble == wave.preamble
    assert [(s.heading, s.body) for s in parsed.extra_sections] == [(s.heading, s.body) for s in wave.extra_sections]


def test_generated_wave_strategy_covers_the_interesting_cases() -> None:
    """Guard against the strategy silently degenerating (e.g. every prompt filtered away)."""
    seen: dict[str, bool] = {"nested": False, "heading": False, "executor-json": False, "blank-run": False}

    @settings(ROUND_TRIP_SETTINGS, max_examples=40, derandomize=True)  # a fixed sample: no flaky guard
    @given(waves())
    def probe(wave: Wave) -> None:
        for a in wave.agents:
            seen["nested"] |= "```bash" in a.prompt
            seen["heading"] |= "\n### Heading inside" in a.prompt
            seen["blank-run"] |= "\n\n\n" in a.prompt
            if a.executor is not None:
                dumped = json.dumps(a.executor.model_dump(mode="json"))
                seen["executor-json"] |= '"settings_json": {' in dumped or '"config_json": {' in dumped

    probe()
    assert all(seen.values()), seen
