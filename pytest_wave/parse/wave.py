"""Wave markdown -> :class:`~pytest_wave.model.wave.Wave`.

Reads the format of the Node.js Wave Orchestration tool (0.5.x to 0.9.x) section by section, keeping
the source line of everything it reads. Only structural problems raise here (one
:class:`WaveParseError` naming file, line and fix); rules about the *content* of a well-formed wave
live in :mod:`pytest_wave.lint`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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
from pytest_wave.parse.blocks import Document, Section, scan
from pytest_wave.parse.executor import build_executor_spec, suggest_key
from pytest_wave.parse.values import (
    PROMPT_HEADING,
    bullet_item,
    escapes_repo,
    inline_command,
    normalize_repo_path,
    remove_quotes,
    strip_edge_quotes,
    strip_matching_quotes,
)

WAVE_FILE_NAME = re.compile(r"^wave-(\d+)\.md$")
_WAVE_HEADING = re.compile(r"^#\s+Wave\s+(\d+)\b")
# Both groups are stripped by the caller, so greedy groups do (lazy ones before \s*$ are slow).
_AGENT_HEADING = re.compile(r"^Agent\s+([^:]+):\s*(.+)$")
_AGENT_WORD = re.compile(r"^Agent\b")
_COMMIT = re.compile(r"\*\*Commit message\*\*:\s*`([^`]+)`")
# The same, searched over the whole text at once: it must not run across a line break.
_COMMIT_IN_TEXT = re.compile(r"\*\*Commit message\*\*:[^\S\n]*`([^`\n]+)`")
_PROMOTION = re.compile(r"^-\s+([a-z0-9._-]+)\s*:\s*([a-z0-9._-]+)\s*$", re.IGNORECASE)
_DEPLOY = re.compile(
    r"^-\s+`?([a-z0-9][a-z0-9._-]*)`?\s*:\s*`?([a-z0-9][a-z0-9._-]*)`?\s*(default)?(?:\s+\((.*)\))?\s*$",
    re.IGNORECASE,
)
_COMPONENT = re.compile(r"^-\s+([a-z0-9._-]+)\s*$", re.IGNORECASE)
# Readers see stripped lines (see _content), so these need no trailing-whitespace handling (and a
# lazy group before \s*$ makes the regex engine retry the tail at every character).
_EXIT_KEY = re.compile(r"^-\s+([a-zA-Z0-9_-]+)\s*:\s*(.*)$")
_KEY_VALUE = re.compile(r"^-\s+([a-zA-Z0-9._-]+)\s*:\s*(.+)$")  # KEY_VALUE_BULLET for stripped lines
# Start lines of the prompt's ownership and validation lists, searched over the whole prompt: each
# match follows a "\n" (the prompt is searched with one prepended) and stays on its line.
_FILE_OWNERSHIP = re.compile(r"\n[^\S\n]*File ownership\b", re.IGNORECASE)
_VALIDATION_START = re.compile(r"\n[^\S\n]*Validation[^\S\n]*:[^\S\n]*$", re.IGNORECASE | re.MULTILINE)
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
_KNOWN_AGENT_KEYS = frozenset(KNOWN_AGENT_SECTIONS)
KNOWN_WAVE_SECTIONS = ("component promotions", "context7 defaults", "deploy environments", "eval targets")

FIX_FORMAT = "see docs/wave-format.md"


def _prompt_list(
    prompt: tuple[str, str, list[str]], first_line: int, start: re.Pattern[str], keyword: str
) -> list[tuple[int, str]]:
    """``(line, bullet text)`` of the bullets after each line matching ``start``, up to the next
    ``Word words:`` heading line (how prompts list file ownership and validation commands).

    ``prompt`` is ``(text, lowered, lines)``: the prompt's ``lines`` joined with a "\\n" in front, and
    that text lowercased. A start line must contain ``keyword`` (lowercase), so a prompt whose
    lowered text lacks it has no list (the common case for validation lists), and otherwise
    ``start`` is searched over the whole text at once rather than line by line.
    """
    text, lowered, lines = prompt
    if keyword not in lowered:
        return []
    starts: list[int] = []
    index, offset = 0, 0
    for match in start.finditer(text):
        index += text.count("\n", offset, match.start())
        offset = match.start()
        if keyword in lines[index].lower():
            starts.append(index)
    out: list[tuple[int, str]] = []
    scanned_to = 0
    for first in starts:
        if first < scanned_to:
            continue  # a start line inside a list being read just continues it
        index = first + 1
        while index < len(lines):
            line = lines[index]
            if index not in starts:
                item = bullet_item(line)
                if item is not None:
                    out.append((first_line + index, item))
                elif PROMPT_HEADING.match(line):
                    break
            index += 1
        scanned_to = index
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
        self.doc: Document

    def error(self, message: str, line: int | None, fix: str = FIX_FORMAT) -> WaveParseError:
        return WaveParseError(message, path=self.path, line=line, fix=fix)

    # -- the whole file ---------------------------------------------------------------------------
    def parse(self) -> Wave:
        if not self.text.strip():
            raise self.error("wave file is empty", 1, "add at least one '## Agent <ID>: <title>' section")
        self.doc = scan(self.text, self.path)
        root = self.doc.sections()
        wave: dict[str, Any] = {"path": self.path, "number": wave_number_from_name(self.file_name)}
        preamble = self._preamble(root, wave)
        wave["preamble"] = preamble
        self._commit_message(wave)

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

    def _preamble(self, root: Section, wave: dict[str, Any]) -> str:
        kept: list[str] = []
        in_fence = self.doc.in_fence
        for index, text in enumerate(root.lines(), root.start):
            if not in_fence[index] and wave.get("heading") is None and text.startswith("# "):
                wave["heading"] = text[2:].strip()
                wave["heading_line"] = index + 1
                heading_number = _WAVE_HEADING.match(text)
                # Example waves (wave-example-*.md) carry their number only in the heading.
                if wave["number"] is None and heading_number:
                    wave["number"] = int(heading_number.group(1))
                continue
            if not in_fence[index] and _COMMIT.search(text):
                continue
            kept.append(text)
        return "\n".join(kept).strip("\n")

    def _commit_message(self, wave: dict[str, Any]) -> None:
        """The first commit message line outside fences (one search over the text, not per line)."""
        text = self.doc.text
        for match in _COMMIT_IN_TEXT.finditer(text):
            index = text.count("\n", 0, match.start())
            if not self.doc.in_fence[index]:
                wave["commit_message"] = match.group(1)
                wave["commit_message_line"] = index + 1
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

    def _content(self, section: Section) -> list[tuple[int, str]]:
        """``(line number, stripped text)`` of the non-blank lines of a section body that are not HTML
        comments. Every reader works on stripped lines, so they are stripped once, here."""
        return [
            (number, text)
            for number, line in enumerate(section.lines(), section.start + 1)
            if (text := line.strip()) and not text.startswith("<!--")
        ]

    def _promotions(self, section: Section) -> list[ComponentPromotion]:
        out: list[ComponentPromotion] = []
        seen: set[str] = set()
        for number, text in self._content(section):
            match = _PROMOTION.match(text)
            if not match:
                raise self.error(f'malformed component promotion "{text}"', number, "write '- <component-id>: <level>'")
            component, level = match.group(1), match.group(2)
            if not ID_PATTERN.match(component):
                raise self.error(
                    f'invalid component id "{component}" in component promotions',
                    number,
                    "component ids are lowercase letters, digits, '.', '_' and '-'",
                )
            if component in seen:
                raise self.error(f'duplicate component promotion "{component}"', number, "promote each component once")
            seen.add(component)
            out.append(ComponentPromotion(line=number, component_id=component, target_level=level))
        return out

    def _context7(self, section: Section, label: str) -> Context7Settings | None:
        bundle: str | None = None
        query: str | None = None
        for number, text in self._content(section):
            match = _KEY_VALUE.match(text)
            if not match:
                raise self.error(
                    f'malformed Context7 setting "{text}" in {label}',
                    number,
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
        for number, text in self._content(section):
            match = _DEPLOY.match(text)
            if not match:
                raise self.error(
                    f'malformed deploy environment "{text}"',
                    number,
                    "write '- <id>: <kind> [default] [(notes)]'",
                )
            env_id = match.group(1).lower()
            if any(env.id == env_id for env in out):
                raise self.error(f'duplicate deploy environment "{env_id}"', number, "declare it once")
            out.append(
                DeployEnvironment(
                    line=number,
                    id=env_id,
                    kind=match.group(2).lower(),
                    is_default=bool(match.group(3)),
                    notes=match.group(4),
                )
            )
        if out and not any(env.is_default for env in out):
            out[0] = out[0].model_copy(update={"is_default": True})
        return out

    def _pipe_fields(self, number: int, text: str, what: str, example: str) -> dict[str, str]:
        item = bullet_item(text)
        if item is None:
            raise self.error(f'malformed {what} entry "{text}"', number, f"write '- {example}'")
        fields: dict[str, str] = {}
        for part in item.split("|"):
            key, sep, value = part.partition(":")
            if not sep or not key.strip():
                raise self.error(f'malformed {what} field "{part.strip()}"', number, f"write '- {example}'")
            fields[key.strip().lower()] = strip_edge_quotes(value)
        return fields

    def _eval_targets(self, section: Section) -> list[EvalTarget]:
        out: list[EvalTarget] = []
        for number, text in self._content(section):
            fields = self._pipe_fields(number, text, "eval target", "id: <id> | selection: <delegated|pinned> | ...")
            target_id = fields.pop("id", "")
            if not target_id:
                raise self.error("eval target has no id", number, "start the bullet with 'id: <id>'")
            out.append(EvalTarget(line=number, id=target_id, fields=fields))
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
        for sub in section.children:
            heading_text = sub.title.strip()
            key = heading_text.lower()
            section_lines.setdefault(heading_text, sub.line)
            if key not in _KNOWN_AGENT_KEYS:
                extra.append(FreeSection(line=sub.line, heading=heading_text, body=sub.text()))
                continue
            if key in seen:
                raise self.error(
                    f'{label} repeats "### {heading_text}" (first at line {seen[key]})',
                    sub.line,
                    "merge the two sub-sections into one",
                )
            seen[key] = sub.line
            if key == "validation":
                validation.extend(self._validation_section(sub, label))
            elif key == "prompt":
                self._prompt(sub, label, data)
            else:
                field, read = _AGENT_FIELDS[key]
                data[field] = read(self, sub, label, agent_id)
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

    def _list_lines(self, section: Section) -> list[tuple[int, str]]:
        """Bullet lines of a list section; prose between them is kept as a note (0.8.x files have it)."""
        out: list[tuple[int, str]] = []
        prose: list[str] = []
        in_fence = self.doc.in_fence
        for number, text in self._content(section):
            if text[0] in "-*+" and not in_fence[number - 1]:
                out.append((number, text))
            else:
                prose.append(text)
        if prose:
            self.notes[section.title.strip()] = "\n".join(prose)
        return out

    def _bullets(self, section: Section, what: str, example: str) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        for number, text in self._list_lines(section):
            item = bullet_item(text)
            if item is None:
                raise self.error(f'malformed {what} "{text}"', number, f"write '- {example}'")
            out.append((item, number))
        return out

    def _role_prompts(self, section: Section, label: str, agent_id: str) -> list[PathEntry]:
        out: list[PathEntry] = []
        seen: set[str] = set()
        for raw, number in self._bullets(section, f"role prompt entry for {label}", "docs/agents/<role>.md"):
            path = normalize_repo_path(remove_quotes(raw))
            if not path:
                raise self.error(f"empty role prompt entry for {label}", number, "name a role prompt file")
            if path not in seen:
                seen.add(path)
                out.append(PathEntry(line=number, path=path))
        return out

    def _skills(self, section: Section, label: str, agent_id: str) -> list[str]:
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

    def _agent_context7(self, section: Section, label: str, agent_id: str) -> Context7Settings | None:
        return self._context7(section, label)

    def _components(self, section: Section, label: str, agent_id: str) -> list[str]:
        return self._ids(section, f"{label} components")

    def _capabilities(self, section: Section, label: str, agent_id: str) -> list[str]:
        return self._ids(section, f"{label} capabilities")

    def _ids(self, section: Section, label: str) -> list[str]:
        out: list[str] = []
        for number, text in self._list_lines(section):
            match = _COMPONENT.match(text)
            if not match:
                raise self.error(f'malformed entry "{text}" in {label}', number, "write '- <component-id>'")
            value = match.group(1)
            if not ID_PATTERN.match(value):
                raise self.error(
                    f'invalid id "{value}" in {label}',
                    number,
                    "ids are lowercase letters, digits, '.', '_' and '-', starting with a letter or digit",
                )
            if value in out:
                raise self.error(f'duplicate "{value}" in {label}', number, "list it once")
            out.append(value)
        return out

    def _deliverables(self, section: Section, label: str, agent_id: str) -> list[PathEntry]:
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

    def _proof_artifacts(self, section: Section, label: str, agent_id: str) -> list[ProofArtifact]:
        out: list[ProofArtifact] = []
        for number, text in self._content(section):
            fields = self._pipe_fields(
                number, text, "proof artifact", "path: <path> | kind: <kind> | required-for: <level>"
            )
            path = normalize_repo_path(fields.pop("path", ""))
            if not path:
                raise self.error("proof artifact has no path", number, "start the bullet with 'path: <path>'")
            kind = fields.pop("kind", None)
            required_for = fields.pop("required-for", None)
            out.append(ProofArtifact(line=number, path=path, kind=kind, required_for=required_for, fields=fields))
        return out

    def _exit_contract(self, section: Section, label: str, agent_id: str) -> ExitContract | None:
        values: dict[str, str] = {}
        for number, text in self._content(section):
            match = _EXIT_KEY.match(text)
            if not match:
                raise self.error(
                    f'malformed exit contract setting "{text}" in {label}',
                    number,
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
        doc = self.doc
        try:
            opening = doc.in_fence.index(True, section.start, section.end)  # always a block's opening line
        except ValueError:
            raise self.error(
                f"{label} has no fenced prompt block under ### Prompt",
                section.line,
                "put the prompt between a '```text' line and a closing '```' line",
            ) from None
        match = _OPEN_FENCE.match(doc.lines[opening])
        content = doc.lines[opening + 1 : doc.block_end[opening]]
        text = "\n" + "\n".join(content)
        prompt = (text, text.lower(), content)  # unstripped, so list items get their real line numbers
        data["prompt"] = text.strip()
        data["prompt_line"] = opening + 2
        data["prompt_fence"] = match.group(2) if match else ""
        data["owned_paths"] = self._owned_paths(prompt, opening + 2)
        data["_prompt_lines"] = prompt

    def _owned_paths(self, prompt: tuple[str, str, list[str]], first_line: int) -> list[PathEntry]:
        out: list[PathEntry] = []
        seen: set[str] = set()
        for line, item in _prompt_list(prompt, first_line, _FILE_OWNERSHIP, "file ownership"):
            path = normalize_repo_path(remove_quotes(item))
            if path and path not in seen:
                seen.add(path)
                out.append(PathEntry(line=line, path=path))
        return out

    def _prompt_validation(self, prompt: tuple[str, str, list[str]], first_line: int) -> list[ValidationCommand]:
        out: list[ValidationCommand] = []
        for line, item in _prompt_list(prompt, first_line, _VALIDATION_START, "validation"):
            command = inline_command(item)
            if command:
                out.append(ValidationCommand(line=line, command=command, source="prompt"))
        return out

    # -- executor ----------------------------------------------------------------------------------
    def _executor(self, section: Section, label: str, agent_id: str) -> ExecutorSpec:
        values: dict[str, tuple[str, int]] = {}
        for number, text in self._content(section):
            match = _KEY_VALUE.match(text)
            if not match:
                raise self.error(
                    f'malformed executor setting "{text}" in agent {agent_id}',
                    number,
                    "write '- <key>: <value>', for example '- id: codex'",
                )
            key, value = match.groups()
            spec = EXECUTOR_KEYS.get(key) or EXECUTOR_KEYS.get(key.replace("_", "-"))
            if spec is None:
                raise self.error(
                    f'unknown executor setting "{key}" in agent {agent_id}',
                    number,
                    suggest_key(key),
                )
            values[spec.key] = (value, number)  # a repeated key keeps the last value
        return build_executor_spec(values, agent_id, self.error, section.line)


_AgentReader = Callable[[_WaveParser, Section, str, str], Any]
# Interpreted agent sub-sections other than validation and prompt: heading -> (model field, reader).
_AGENT_FIELDS: dict[str, tuple[str, _AgentReader]] = {
    "role prompts": ("role_prompts", _WaveParser._role_prompts),
    "executor": ("executor", _WaveParser._executor),
    "context7": ("context7", _WaveParser._agent_context7),
    "skills": ("skills", _WaveParser._skills),
    "components": ("components", _WaveParser._components),
    "capabilities": ("capabilities", _WaveParser._capabilities),
    "deliverables": ("deliverables", _WaveParser._deliverables),
    "proof artifacts": ("proof_artifacts", _WaveParser._proof_artifacts),
    "exit contract": ("exit_contract", _WaveParser._exit_contract),
}
