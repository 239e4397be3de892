"""Context7 offline: no API key, or no network. The wave closes, prompts are unchanged, the run says so once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from plannerkit import sample_repo

from pytest_wave import context7

INDEX = {
    "version": 1,
    "defaultBundle": "none",
    "bundles": {
        "none": {"description": "none", "libraries": []},
        "web": {"description": "web", "libraries": [{"libraryName": "flask"}]},
    },
}


@pytest.fixture
def repo(pytester: pytest.Pytester) -> Path:
    path = sample_repo(pytester.path / "repo")
    (path / "docs" / "context7").mkdir()
    (path / "docs" / "context7" / "bundles.json").write_text(json.dumps(INDEX))
    wave = path / "waves" / "wave-1.md"
    text = wave.read_text().replace("## Agent A1:", "## Context7 defaults\n\n- bundle: web\n\n## Agent A1:", 1)
    wave.write_text(text)
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "why"),
    [
        ({}, "missing-key: CONTEXT7_API_KEY is not set"),
        (
            {"CONTEXT7_API_KEY": "k", "CONTEXT7_API_BASE": "http://127.0.0.1:9"},
            "error: cannot reach http://127.0.0.1:9",
        ),
    ],
)
def test_offline_context7_never_blocks_a_wave(
    pytester: pytest.Pytester, repo: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], why: str
) -> None:
    monkeypatch.delenv("CONTEXT7_API_KEY", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = pytester.runpytest_subprocess("repo/waves/wave-1.md", "-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()
    out = result.stdout.str()
    lines = [line for line in out.splitlines() if "Context7 docs not attached" in line]
    assert len(lines) == 1, out  # said once for the whole run
    assert lines[0].startswith("wave: Context7 docs not attached for A1, ") and f"(bundle web: {why}" in lines[0]
    assert "the agents ran with their prompts unchanged" in lines[0]
    prompts = list((repo / ".tmp/main-wave-launcher/prompts").glob("*.prompt.md"))
    assert prompts and not any("Context7" in p.read_text() for p in prompts)


def test_unreachable_api_is_remembered_for_the_run(tmp_path: Path) -> None:
    index = context7.BundleIndex.model_validate(INDEX)
    selection = context7.select(
        index,
        lane="main",
        agent_bundle="web",
        agent_query="routes",
        wave_bundle=None,
        wave_query=None,
        prompt="p",
        title="t",
    )
    client = context7.HttpDocsClient("k", base="http://127.0.0.1:9", timeout=2, attempts=1)
    first = context7.prefetch(selection, tmp_path, client=client)
    assert first.mode == "error" and first.prompt_block() == ""

    class NeverCalled:
        def resolve_library(self, name: str, query: str) -> str | None:
            raise AssertionError("the network was tried again")

        def fetch(self, library_id: str, query: str) -> str:
            raise AssertionError("the network was tried again")

    second = context7.prefetch(selection, tmp_path, client=NeverCalled())
    assert second.mode == "error" and "remembered" in second.detail
    context7.record_notice(tmp_path, "A1", first)
    context7.record_notice(tmp_path, "A2", second)
    context7.record_notice(tmp_path, "A3", context7.Prefetch(mode="none", bundle_id="none"))
    line = context7.notice_line(context7.notices_since(tmp_path, 0))
    assert line is not None and line.startswith("Context7 docs not attached for A1, A2 (bundle web: error: ")
