"""Wave markdown -> :class:`~pytest_wave.model.wave.Wave`.

Reads the format of the Node.js Wave Orchestration tool (0.5.x to 0.9.x) section by section, keeping
the source line of everything it reads. Only structural problems raise here (one
:class:`WaveParseError` naming file, line and fix); rules about the *content* of a well-formed wave
live in :mod:`pytest_wave.lint`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pytest_wave.errors import WaveParseError
from pytest_wave.model.executor import (
    EXECUTOR_KEYS,
    ExecutorSpec,
)
from pytest_wave.model.wave import (
    ID_PATTERN,
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
from pytest_wave.parse.blocks import Line, Section, classify_lines, split_sections
from pytest_wave.parse.executor import build_executor_spec, suggest_key
from pytest_wave.parse.values import (
    BULLET,
    KEY_VALUE_BULLET,
    PROMPT_HEADING,
    escapes_repo,
    inline_command,
    normalize_repo_path,
    remove_quotes,
    strip_edge_quotes,
    strip_matching_quotes,
)

WAVE_FILE_NAME = re.compile(r"^wave-(\d+)\.md$")
_WAVE_HEADING = re.compile(r"^#\s+Wave\s+(\d+)\b")
_AGENT_HEADING = re.compile(r"^Agent\s+([^:]+?)\s*:\s*(.+?)\s*$")
_AGENT_WORD = re.compile(r"^Agent\b")
_COMMIT = re.compile(r"\*\*Commit message\*\*:\s*`([^`]+)`")
_PROMOTION = re.compile(r"^-\s+([a-z0-9._-]+)\s*:\s*([a-z0-9._-]+)\s*$", re.IGNORECASE)
_DEPLOY = re.compile(
    r"^-\s+`?([a-z0-9][a-z0-9._-]*)`?\s*:\s*`?([a-z0-9][a-z0-9._-]*)`?\s*(default)?(?:\s+\((.*)\))?\s*$",
    re.IGNORECASE,
)
_COMPONENT = re.compile(r"^-\s+([a-z0-9._-]+)\s*$", re.IGNORECASE)
_EXIT_KEY = re.compile(r"^-\s+([a-zA-Z0-9_-]+)\s*:\s*(.*?)\s*$")
_FILE_OWNERSHIP = re.compile(r"^\s*File ownership\b", re.IGNORECASE)
_VALIDATION_START = re.compile(r"^\s*Validation\s*:\s*$", re.IGNORECASE)
_OPEN_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([A-Za-z0-9_+.-]*)")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_LEADING_INT = re.compile(r"^\s*([+-]?\d+)")
QUERY_LIMIT = 280

# Sub-section headings the parser interprets (lowercased); anything else is kept as free text.
KNOWN_AGENT_SECTIONS = (
    "role prompts",
    "executor",
    "context7",
    "skills",
    "components",
    "capabilities",
    "deliverables",
    "proof artifacts",
    "exit contract",
    "validation",
    "prompt",
)
KNOWN_WAVE_SECTIONS = ("component promotions", "context7 defaults", "deploy environments", "eval targets")

FIX_FORMAT = "see docs/wave-format.md"


def _prompt_list(lines: list[str], first_line: int, start: re.Pattern[str], keyword: str) -> list[tuple[int, str]]:
    """``(line, bullet text)`` of the bullets after each line matching ``start``, up to the next
    ``Word words:`` heading line (how prompts list file ownership and validation commands).

    ``keyword`` (lowercase) must occur in a start line: a substring test skips the regex for the
    other lines, which is most of the parse time of a long prompt.
    """
    out: list[tuple[int, str]] = []
    scanning = False
    for offset, text in enumerate(lines):
        if keyword in text.lower() and start.match(text):
            scanning = True
            continue
        if not scanning:
            continue
        bullet = BULLET.match(text)
        if bullet:
            out.append((first_line + offset, bullet.group(1)))
        elif PROMPT_HEADING.match(text):
            scanning = False
    return out


def wave_number_from_name(name: str) -> int | None:
    match = WAVE_FILE_NAME.match(name)
    return int(match.group(1)) if match else None


def parse_wave_file(path: str | Path, *, display_path: str | None = None) -> Wave:
    """Read and parse one wave file. Unreadable or binary files raise :class:`WaveParseError`."""
    file_path = Path(path)
    shown = display_path or str(path)
    try:
        data = file_path.read_bytes()
    except OSError as exc:
        raise WaveParseError(
            f"cannot read wave file: {exc.strerror or exc}", path=shown, fix="check the path and permissions"
        ) from None
    if b"\x00" in data:
        raise WaveParseError("not a text file (binary content)", path=shown, line=1, fix="pass a markdown file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise WaveParseError(
            "file is not valid UTF-8", path=shown, line=line, fix="save the wave file as UTF-8"
        ) from None
    return parse_wave_text(text, path=shown, file_name=file_path.name)


def parse_wave_text(text: str, *, path: str, file_name: str | None = None) -> Wave:
    """Parse wave markdown held in memory; ``path`` is only used in errors and ``Wave.path``."""
    return _WaveParser(text, path, file_name or Path(path).name).parse()


class _WaveParser:
    def __init__(self, text: str, path: str, file_name: str) -> None:
        self.text = text
        self.path = path
        self.file_name = file_name
        self.notes: dict[str, str] = {}

    def error(self, message: str, line: int | None, fix: str = FIX_FORMAT) -> WaveParseError:
        return WaveParseError(message, path=self.path, line=line, fix=fix)

    # -- the whole file ---------------------------------------------------------------------------
    def parse(self) -> Wave:
        if not self.text.strip():
            raise self.error("wave file is empty", 1, "add at least one '## Agent <ID>: <title>' section")
        lines = classify_lines(self.text, self.path)
        root = split_sections(lines, 2)
        wave: dict[str, Any] = {"path": self.path, "number": wave_number_from_name(self.file_name)}
        preamble = self._preamble(root.body, wave)
        wave["preamble"] = preamble
        self._commit_message(lines, wave)

        agents: list[Agent] = []
        seen_sections: dict[str, int] = {}
        extra: list[FreeSection] = []
        section_lines: dict[str, int] = {}
        for section in root.children:
            title = section.title
            if _AGENT_WORD.match(title):
                agents.append(self._agent(section, wave["number"]))
                continue
            key = title.strip().lower()
            section_lines.setdefault(title.strip(), section.line)
            if key in KNOWN_WAVE_SECTIONS:
                if key in seen_sections:
                    raise self.error(
                        f'duplicate "## {title.strip()}" section (first at line {seen_sections[key]})',
                        section.line,
                        "merge the two sections into one",
                    )
                seen_sections[key] = section.line
                self._wave_section(key, section, wave)
            else:
                extra.append(FreeSection(line=section.line, heading=title.strip(), body=section.text()))
        if not agents:
            raise self.error("wave declares no agents", None, "add at least one '## Agent <ID>: <title>' section")
        self._check_duplicate_agents(agents)
        wave["agents"] = agents
        wave["extra_sections"] = extra
        wave["section_lines"] = section_lines
        return Wave(**wave)

    def _preamble(self, body: list[Line], wave: dict[str, Any]) -> str:
        kept: list[str] = []
        for ln in body:
            if not ln.in_fence and wave.get("heading") is None and ln.text.startswith("# "):
                wave["heading"] = ln.text[2:].strip()
                wave["heading_line"] = ln.number
                heading_number = _WAVE_HEADING.match(ln.text)
                # Example waves (wave-example-*.md) carry their number only in the heading.
                if wave["number"] is None and heading_number:
                    wave["number"] = int(heading_number.group(1))
                continue
            if not ln.in_fence and _COMMIT.search(ln.text):
                continue
            kept.append(ln.text)
        return "\n".join(kept).strip("\n")

    def _commit_message(self, lines: list[Line], wave: dict[str, Any]) -> None:
        for ln in lines:
            if ln.in_fence:
                continue
            match = _COMMIT.search(ln.text)
            if match:
                wave["commit_message"] = match.group(1)
                wave["commit_message_line"] = ln.number
                return

    def _check_duplicate_agents(self, agents: list[Agent]) -> None:
        first: dict[str, Agent] = {}
        for agent in agents:
            if agent.id in first:
                raise self.error(
                    f'duplicate agent id "{agent.id}" (first declared at line {first[agent.id].line})',
                    agent.line,
                    "give every agent its own id",
                )
            first[agent.id] = agent

    # -- top-level sections -------------------------------------------------------------------------
    def _wave_section(self, key: str, section: Section, wave: dict[str, Any]) -> None:
        if key == "component promotions":
            wave["component_promotions"] = self._promotions(section)
        elif key == "context7 defaults":
            wave["context7_defaults"] = self._context7(section, "wave defaults")
        elif key == "deploy environments":
            wave["deploy_environments"] = self._deploy(section)
        elif key == "eval targets":
            wave["eval_targets"] = self._eval_targets(section)

    def _content(self, section: Section) -> list[Line]:
        """Non-blank lines of a section body that are outside fences and not HTML comments."""
        return [ln for ln in section.body if ln.text.strip() and not ln.text.lstrip().startswith("<!--")]

    def _promotions(self, section: Section) -> list[ComponentPromotion]:
        out: list[ComponentPromotion] = []
        seen: set[str] = set()
        for ln in self._content(section):
            text = ln.text.strip()
            match = _PROMOTION.match(text)
            if not match:
                raise self.error(
                    f'malformed component promotion "{text}"', ln.number, "write '- <component-id>: <level>'"
                )
            component, level = match.group(1), match.group(2)
            if not ID_PATTERN.match(component):
                raise self.error(
                    f'invalid component id "{component}" in component promotions',
                    ln.number,
                    "component ids are lowercase letters, digits, '.', '_' and '-'",
                )
            if component in seen:
                raise self.error(
                    f'duplicate component promotion "{component}"', ln.number, "promote each component once"
                )
            seen.add(component)
            out.append(ComponentPromotion(line=ln.number, component_id=component, target_level=level))
        return out

    def _context7(self, section: Section, label: str) -> Context7Settings | None:
        bundle: str | None = None
        query: str | None = None
        for ln in self._content(section):
            text = ln.text.strip()
            match = KEY_VALUE_BULLET.match(text)
            if not match:
                raise self.error(
                    f'malformed Context7 setting "{text}" in {label}',
                    ln.number,
                    "write '- bundle: <id>' and '- query: \"<text>\"'",
                )
            key, value = match.group(1).lower(), strip_matching_quotes(match.group(2))
            if key == "bundle":
                bundle = value or None
            elif key == "query":
                query = " ".join(value.split()) or None
                if query and len(query) > QUERY_LIMIT:
                    query = query[: QUERY_LIMIT - 1] + "\u2026"
        if bundle is None and query is None:
            return None
        return Context7Settings(line=section.line, bundle=bundle, query=query)

    def _deploy(self, section: Section) -> list[DeployEnvironment]:
        out: list[DeployEnvironment] = []
        for ln in self._content(section):
            text = ln.text.strip()
            match = _DEPLOY.match(text)
            if not match:
                raise self.error(
                    f'malformed deploy environment "{text}"',
                    ln.number,
                    "write '- <id>: <kind> [default] [(notes)]'",
                )
            env_id = match.group(1).lower()
            if any(env.id == env_id for env in out):
                raise self.error(f'duplicate deploy environment "{env_id}"', ln.number, "declare it once")
            out.append(
                DeployEnvironment(
                    line=ln.number,
                    id=env_id,
                    kind=match.group(2).lower(),
                    is_default=bool(match.group(3)),
                    notes=match.group(4),
                )
            )
        if out and not any(env.is_default for env in out):
            out[0] = out[0].model_copy(update={"is_default": True})
        return out

    def _pipe_fields(self, ln: Line, what: str, example: str) -> dict[str, str]:
        text = ln.text.strip()
        bullet = BULLET.match(text)
        if not bullet:
            raise self.error(f'malformed {what} entry "{text}"', ln.number, f"write '- {example}'")
        fields: dict[str, str] = {}
        for part in bullet.group(1).split("|"):
            key, sep, value = part.partition(":")
            if not sep or not key.strip():
                raise self.error(f'malformed {what} field "{part.strip()}"', ln.number, f"write '- {example}'")
            fields[key.strip().lower()] = strip_edge_quotes(value)
        return fields

    def _eval_targets(self, section: Section) -> list[EvalTarget]:
        out: list[EvalTarget] = []
        for ln in self._content(section):
            fields = self._pipe_fields(ln, "eval target", "id: <id> | selection: <delegated|pinned> | ...")
            target_id = fields.pop("id", "")
            if not target_id:
                raise self.error("eval target has no id", ln.number, "start the bullet with 'id: <id>'")
            out.append(EvalTarget(line=ln.number, id=target_id, fields=fields))
        return out

    # -- agents -----------------------------------------------------------------------------------
    def _agent(self, section: Section, wave_number: int | None) -> Agent:
        heading = _AGENT_HEADING.match(section.title)
        if not heading or not heading.group(1).strip():
            raise self.error(
                f'agent heading "## {section.title}" has no id or no title',
                section.line,
                "write '## Agent <ID>: <title>', for example '## Agent A1: Parser'",
            )
        agent_id, title = heading.group(1).strip(), heading.group(2).strip()
        label = f"agent {agent_id}"
        subs = split_sections(section.body, 3)
        data: dict[str, Any] = {
            "line": section.line,
            "id": agent_id,
            "title": title,
            "slug": slugify(f"{wave_number if wave_number is not None else 'x'}-{agent_id}"),
        }
        seen: dict[str, int] = {}
        extra: list[FreeSection] = []
        section_lines: dict[str, int] = {}
        self.notes = {}
        validation: list[ValidationCommand] = []
        for sub in subs.children:
            key = sub.title.strip().lower()
            section_lines.setdefault(sub.title.strip(), sub.line)
            if key not in KNOWN_AGENT_SECTIONS:
                extra.append(FreeSection(line=sub.line, heading=sub.title.strip(), body=sub.text()))
                continue
            if key in seen:
                raise self.error(
                    f'{label} repeats "### {sub.title.strip()}" (first at line {seen[key]})',
                    sub.line,
                    "merge the two sub-sections into one",
                )
            seen[key] = sub.line
            if key == "validation":
                validation.extend(self._validation_section(sub, label))
            elif key == "prompt":
                self._prompt(sub, label, data)
            else:
                field, value = self._agent_field(key, sub, label, agent_id)
                data[field] = value
        if "prompt" not in seen:
            raise self.error(
                f'{label} has no "### Prompt" section',
                section.line,
                "add '### Prompt' followed by a fenced block (```text ... ```) holding the agent's task",
            )
        prompt_validation = self._prompt_validation(data.pop("_prompt_lines"), data["prompt_line"])
        data["validation"] = prompt_validation + validation
        data["extra_sections"] = extra
        data["section_lines"] = section_lines
        data["section_notes"] = self.notes
        return Agent(**data)

    def _agent_field(self, key: str, sub: Section, label: str, agent_id: str) -> tuple[str, Any]:
        """Read one interpreted ``###`` sub-section into ``(model field, value)``."""
        if key == "role prompts":
            return "role_prompts", self._role_prompts(sub, label)
        if key == "executor":
            return "executor", self._executor(sub, agent_id)
        if key == "context7":
            return "context7", self._context7(sub, label)
        if key == "skills":
            return "skills", self._skills(sub, label)
        if key in ("components", "capabilities"):
            return key, self._ids(sub, f"{label} {key}")
        if key == "deliverables":
            return "deliverables", self._deliverables(sub, label)
        if key == "proof artifacts":
            return "proof_artifacts", self._proof_artifacts(sub)
        return "exit_contract", self._exit_contract(sub, label)

    def _list_lines(self, section: Section) -> list[Line]:
        """Bullet lines of a list section; prose between them is kept as a note (0.8.x files have it)."""
        out: list[Line] = []
        prose: list[str] = []
        for ln in self._content(section):
            if not ln.in_fence and ln.text.lstrip()[:1] in ("-", "*", "+"):
                out.append(ln)
            else:
                prose.append(ln.text.strip())
        if prose:
            self.notes[section.title.strip()] = "\n".join(prose)
        return out

    def _bullets(self, section: Section, what: str, example: str) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        for ln in self._list_lines(section):
            match = BULLET.match(ln.text)
            if not match:
                raise self.error(f'malformed {what} "{ln.text.strip()}"', ln.number, f"write '- {example}'")
            out.append((match.group(1), ln.number))
        return out

    def _role_prompts(self, section: Section, label: str) -> list[PathEntry]:
        out: list[PathEntry] = []
        for raw, number in self._bullets(section, f"role prompt entry for {label}", "docs/agents/<role>.md"):
            path = normalize_repo_path(remove_quotes(raw))
            if not path:
                raise self.error(f"empty role prompt entry for {label}", number, "name a role prompt file")
            if all(entry.path != path for entry in out):
                out.append(PathEntry(line=number, path=path))
        return out

    def _skills(self, section: Section, label: str) -> list[str]:
        out: list[str] = []
        for raw, number in self._bullets(section, f"skill entry in {label} skills", "<skill-id>"):
            skill = remove_quotes(raw).lower()
            if not ID_PATTERN.match(skill):
                raise self.error(
                    f'{label} skill "{skill}" must match {ID_PATTERN.pattern}',
                    number,
                    "skill ids are lowercase letters, digits, '.', '_' and '-'",
                )
            if skill in out:
                raise self.error(f'duplicate skill "{skill}" in {label} skills', number, "list it once")
            out.append(skill)
        return out

    def _ids(self, section: Section, label: str) -> list[str]:
        out: list[str] = []
        for ln in self._list_lines(section):
            text = ln.text.strip()
            match = _COMPONENT.match(text)
            if not match:
                raise self.error(f'malformed entry "{text}" in {label}', ln.number, "write '- <component-id>'")
            value = match.group(1)
            if not ID_PATTERN.match(value):
                raise self.error(
                    f'invalid id "{value}" in {label}',
                    ln.number,
                    "ids are lowercase letters, digits, '.', '_' and '-', starting with a letter or digit",
                )
            if value in out:
                raise self.error(f'duplicate "{value}" in {label}', ln.number, "list it once")
            out.append(value)
        return out

    def _deliverables(self, section: Section, label: str) -> list[PathEntry]:
        out: list[PathEntry] = []
        for raw, number in self._bullets(section, f"path entry in {label} deliverables", "path/to/file.py"):
            path = normalize_repo_path(remove_quotes(raw))
            if escapes_repo(path):
                raise self.error(
                    f'deliverable "{path}" of {label} escapes the repository',
                    number,
                    "use a path relative to the repository root, without '..'",
                )
            if path.endswith("/"):
                raise self.error(
                    f'deliverable "{path}" of {label} is a directory path',
                    number,
                    "name a file; directories belong in the prompt's File ownership list",
                )
            if any(entry.path == path for entry in out):
                raise self.error(f'duplicate deliverable "{path}" in {label}', number, "list it once")
            out.append(PathEntry(line=number, path=path))
        return out

    def _proof_artifacts(self, section: Section) -> list[ProofArtifact]:
        out: list[ProofArtifact] = []
        for ln in self._content(section):
            fields = self._pipe_fields(ln, "proof artifact", "path: <path> | kind: <kind> | required-for: <level>")
            path = normalize_repo_path(fields.pop("path", ""))
            if not path:
                raise self.error("proof artifact has no path", ln.number, "start the bullet with 'path: <path>'")
            kind = fields.pop("kind", None)
            required_for = fields.pop("required-for", None)
            out.append(ProofArtifact(line=ln.number, path=path, kind=kind, required_for=required_for, fields=fields))
        return out

    def _exit_contract(self, section: Section, label: str) -> ExitContract | None:
        values: dict[str, str] = {}
        for ln in self._content(section):
            text = ln.text.strip()
            match = _EXIT_KEY.match(text)
            if not match:
                raise self.error(
                    f'malformed exit contract setting "{text}" in {label}',
                    ln.number,
                    "write '- completion: contract', '- durability: none', '- proof: unit', '- doc-impact: owned'",
                )
            key = match.group(1).lower().replace("-", "_")
            if key == "docimpact":
                key = "doc_impact"
                values["_camel"] = "1"
            if key == "doc_impact" and "_camel" in values and match.group(1) != "docImpact":
                continue  # docImpact wins over doc-impact when both are given, as in the anchor.
            if key in ("completion", "durability", "proof", "doc_impact"):
                values[key] = match.group(2)
        values.pop("_camel", None)
        if not any(values.values()):
            return None
        return ExitContract(line=section.line, **{k: v or None for k, v in values.items()})

    def _validation_section(self, section: Section, label: str) -> list[ValidationCommand]:
        out: list[ValidationCommand] = []
        for raw, number in self._bullets(section, f"validation command for {label}", "pytest -q tests/"):
            command = inline_command(raw)
            if command:
                out.append(ValidationCommand(line=number, command=command, source="section"))
        return out

    def _prompt(self, section: Section, label: str, data: dict[str, Any]) -> None:
        fenced = [ln for ln in section.body if ln.in_fence]
        if not fenced:
            raise self.error(
                f"{label} has no fenced prompt block under ### Prompt",
                section.line,
                "put the prompt between a '```text' line and a closing '```' line",
            )
        block = [ln for ln in fenced if ln.block == fenced[0].block]
        opening = block[0]
        match = _OPEN_FENCE.match(opening.text)
        content = [ln.text for ln in block[1:-1]]
        data["prompt"] = "\n".join(content).strip()
        data["prompt_line"] = opening.number + 1
        data["prompt_fence"] = match.group(2) if match else ""
        data["owned_paths"] = self._owned_paths(content, opening.number + 1)
        data["_prompt_lines"] = content  # unstripped, so validation commands get their real line numbers

    def _owned_paths(self, prompt_lines: list[str], first_line: int) -> list[PathEntry]:
        out: list[PathEntry] = []
        for line, text in _prompt_list(prompt_lines, first_line, _FILE_OWNERSHIP, "file ownership"):
            path = normalize_repo_path(remove_quotes(text))
            if path and all(entry.path != path for entry in out):
                out.append(PathEntry(line=line, path=path))
        return out

    def _prompt_validation(self, prompt_lines: list[str], first_line: int) -> list[ValidationCommand]:
        out: list[ValidationCommand] = []
        for line, text in _prompt_list(prompt_lines, first_line, _VALIDATION_START, "validation"):
            command = inline_command(text)
            if command:
                out.append(ValidationCommand(line=line, command=command, source="prompt"))
        return out

    # -- executor ----------------------------------------------------------------------------------
    def _executor(self, section: Section, agent_id: str) -> ExecutorSpec:
        values: dict[str, tuple[str, int]] = {}
        for ln in self._content(section):
            text = ln.text.strip()
            match = KEY_VALUE_BULLET.match(text)
            if not match:
                raise self.error(
                    f'malformed executor setting "{text}" in agent {agent_id}',
                    ln.number,
                    "write '- <key>: <value>', for example '- id: codex'",
                )
            key = match.group(1)
            spec = EXECUTOR_KEYS.get(key) or EXECUTOR_KEYS.get(key.replace("_", "-"))
            if spec is None:
                raise self.error(
                    f'unknown executor setting "{key}" in agent {agent_id}',
                    ln.number,
                    suggest_key(key),
                )
            values[spec.key] = (match.group(2), ln.number)  # a repeated key keeps the last value
        return build_executor_spec(values, agent_id, self.error, section.line)
