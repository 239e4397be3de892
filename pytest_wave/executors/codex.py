"""OpenAI Codex (``codex exec``), as measured with codex-cli 0.169.0.

Launch: ``codex --ask-for-approval never exec [--image P]... --skip-git-repo-check --sandbox S
--cd <repo> [--model M] [--profile P] [-c developer_instructions=<skills>] [-c k=v]... [--add-dir D]...
[--json] [--ephemeral] -`` with
the task prompt on stdin (``-``).

Why it looks like this (``spec/executors.md``, "Real agent CLIs", findings 1-3):

* ``--ask-for-approval never`` is a top-level flag (before ``exec``): an unattended run must never
  wait for an approval; a refused command goes back to the model as a failure.
* ``codex.search: true`` becomes ``-c web_search="live"``: ``codex exec --search`` is rejected by
  today's codex (exit 2), and the top-level ``--search`` did not reliably reach an ``exec`` run.
* Sandbox: the lane's ``executors.codex.sandbox`` unless the profile or agent sets one. We never
  emit ``--dangerously-bypass-approvals-and-sandbox``. (The Node.js tool's lane default is
  ``danger-full-access``; ``workspace-write`` is the safer choice where bubblewrap works.)
* ``--add-dir`` entries that do not exist are left out (noted in ``launch-notes.txt``): under
  ``workspace-write`` a missing one makes every sandboxed command fail at bind-mount time.
* ``--image`` takes several values, so it comes right after ``exec`` where a flag ends the list.
* ``codex --json`` output is JSONL; :func:`~pytest_wave.engine.markers.scan_log` unwraps it.
* Resolved skill bundles reach codex as ``-c developer_instructions="<skill text>"`` (a developer
  message, verified against 0.169.0), besides the task prompt. The Node.js tool passed each bundle dir
  as ``--add-dir`` instead; under codex's sandbox that only adds *write* access (everything is readable
  already), so we do not.
* Provider settings (a custom ``base_url``, retries) come from ``$CODEX_HOME/config.toml`` or the
  lane's ``codex.config`` ``-c`` entries; we do not replace ``CODEX_HOME``, so the user's login works.
"""

from __future__ import annotations

import json
from pathlib import Path

from pytest_wave.engine.markers import scan_log
from pytest_wave.executors.base import LaunchRequest, LaunchSpec
from pytest_wave.executors.common import notes_file, repo_path, runtime_settings, skills_of
from pytest_wave.executors.usage import codex_usage, read_log
from pytest_wave.model.config import LaneConfig
from pytest_wave.model.markers import MarkerScan
from pytest_wave.model.result import Usage

WEB_SEARCH = 'web_search="live"'
SKILLS_KEY = "developer_instructions"


class CodexExecutor:
    id = "codex"

    def command(self, lane: LaneConfig) -> str:
        return lane.executors.codex.command or "codex"

    def build_launch(self, request: LaunchRequest) -> LaunchSpec:
        codex = runtime_settings(request, "codex")
        notes: list[str] = []
        program = codex.command or self.command(request.lane)  # an agent or profile may name its own binary
        argv = [program, "--ask-for-approval", "never", "exec"]
        for image in codex.images:
            argv += ["--image", image]
        argv += ["--skip-git-repo-check", "--sandbox", codex.sandbox or "workspace-write"]
        argv += ["--cd", str(request.repo_root)]
        if request.model:
            argv += ["--model", request.model]
        if codex.profile_name:
            argv += ["--profile", codex.profile_name]
        skills = skills_of(request)
        if skills is not None:  # before the lane's -c entries, so an explicit setting of the key wins
            argv += ["-c", f"{SKILLS_KEY}={json.dumps(skills.prompt_text)}"]
        for entry in codex.config:
            argv += ["-c", entry]
        if codex.search:
            argv += ["-c", WEB_SEARCH]
        for directory in codex.add_dirs:
            if repo_path(request, directory).is_dir():
                argv += ["--add-dir", directory]
            else:
                notes.append(f"codex.add_dirs: {directory} does not exist; left out of --add-dir")
        if codex.json_output:
            argv.append("--json")
        if codex.ephemeral:
            argv.append("--ephemeral")
        argv.append("-")
        return LaunchSpec(
            executor_id=self.id,
            argv=argv,
            cwd=request.repo_root,
            stdin_path=request.prompt_path,
            overlay_files=notes_file(notes),
        )

    def scan_output(self, log_path: Path) -> MarkerScan:
        return scan_log(log_path)

    def usage(self, log_path: Path) -> Usage | None:
        return codex_usage(read_log(log_path))
