"""``--wave-html PATH``: one self-contained file with each wave's timeline, closure table, logs and failures."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest
from reportkit import FLAKY, WAVE, make_repo, png_colors, run_wave, run_with_faults, wave_text

from pytest_wave.reports.html import render_report

PASS_GREEN = (0x2E, 0x7D, 0x32)
FAIL_RED = (0xC6, 0x28, 0x28)

# Copies the HTML report while the run is still going (on the controller, just before A8 starts).
SNAPSHOT_CONFTEST = """
import os, shutil

def pytest_runtest_logstart(nodeid, location):
    if nodeid.endswith("::A8") and os.path.exists(os.environ["WAVE_HTML"]):
        shutil.copy(os.environ["WAVE_HTML"], os.environ["WAVE_HTML"] + ".live")
"""


def _hrefs(text: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', text)]


def _failing_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, report: Path, *args: str
) -> pytest.RunResult:
    """A1 fails once then passes on the retry; A2 fails on both attempts."""
    make_repo(pytester, monkeypatch, {1: wave_text(1, agents=2, validation={1: [FLAKY]})})
    return run_with_faults(
        pytester,
        monkeypatch,
        "A2=exit-nonzero",
        "-n",
        "2",
        "--wave-max-retries",
        "1",
        "--wave-html",
        str(report),
        *args,
    )


@pytest.mark.slow
def test_html_report_has_timeline_closure_table_logs_and_failures(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = pytester.path / "reports" / "wave.html"
    result = _failing_run(pytester, monkeypatch, report)
    assert result.ret == 1
    result.stdout.fnmatch_lines([f"*wave html report: {report}*"])
    text = report.read_text()
    assert 'data-final="yes"' in text and 'http-equiv="refresh"' not in text
    # Self-contained: no stylesheet, script, image or font from anywhere (the SVG namespace is a name).
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), "the report loads something from the network"
    assert "<link" not in text and "@import" not in text
    # The timeline: one bar per attempt; A1 and A2 have two, the retries striped.
    bars = re.findall(r'<g class="attempt" data-agent="(A\d)" data-attempt="(\d)">', text)
    assert sorted(bars) == [("A1", "1"), ("A1", "2"), ("A2", "1"), ("A2", "2")]
    assert text.count('fill="url(#retry-1)"') == 2
    assert re.search(r'<rect class="bar failed"', text) and re.search(r'<rect class="bar passed"', text)
    # The closure table: every agent, with its verdict and attempts.
    rows = dict(re.findall(r'<tr data-agent="(A\d)" data-verdict="([a-z-]+)">', text))
    assert rows == {"A1": "passed", "A2": "failed", "A8": "not-run", "A9": "not-run", "A0": "not-run"}
    assert "closure not run: A2 did not pass" in text
    assert 'class="verdict NOT-CLOSED"' in text
    # Failures: every failed attempt with its reason and checks.
    assert re.findall(r'<div class="failure" data-agent="(A\d)">', text) == ["A1", "A2", "A2"]
    assert "found exit status 3" in text and "validation `test -f out/a1/flag" in html.unescape(text)
    # Logs are linked relative to the report, and the links resolve.
    logs = [h for h in _hrefs(text) if h.endswith(".log")]
    assert len(logs) >= 6
    for href in logs:
        assert not href.startswith("/"), href
        assert (report.parent / unquote(href)).resolve().is_file(), href


@pytest.mark.slow
def test_html_report_is_refreshed_while_the_run_goes_on(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1, agents=2)})
    report = pytester.path / "live.html"
    (repo / "conftest.py").write_text(SNAPSHOT_CONFTEST)
    monkeypatch.setenv("WAVE_HTML", str(report))
    result = run_wave(pytester, WAVE, "-n", "2", "-p", "no:cacheprovider", "--wave-html", str(report))
    assert result.ret == 0, result.stdout.str()
    live = Path(f"{report}.live").read_text()
    assert 'data-final="no"' in live and 'http-equiv="refresh"' in live
    rows = dict(re.findall(r'<tr data-agent="(A\d)" data-verdict="([a-z-]+)">', live))
    assert rows == {"A1": "passed", "A2": "passed", "A8": "pending", "A9": "pending", "A0": "pending"}
    assert 'class="verdict RUNNING"' in live
    final = report.read_text()
    assert 'data-final="yes"' in final and 'class="verdict CLOSED"' in final


def test_report_without_waves_and_unwritable_path(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "No wave in this session" in render_report([], title="t", final=True, generated_at=0)
    make_repo(pytester, monkeypatch, {1: wave_text(1)})
    blocker = pytester.path / "file"
    blocker.write_text("")
    result = run_wave(
        pytester, WAVE, "-p", "no:xdist", "-p", "no:cacheprovider", "--wave-html", str(blocker / "x.html")
    )
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*wave html report NOT written: */file/x.html: *"])


# --------------------------------------------------------------------------- in a real browser


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("chromium not found on PATH: the browser tests need it (Debian: apt-get install -y chromium)")


def _browse(page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions"]
    flags += ["--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={page.parent / 'chromium-profile'}"]
    return subprocess.run(
        [_chromium(), *flags, *args, page.as_uri()], capture_output=True, text=True, timeout=120, check=False
    )


def _console_problems(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


@pytest.mark.browser
@pytest.mark.slow
def test_html_report_renders_in_headless_chromium(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    _chromium()
    report = pytester.path / "out" / "wave.html"
    result = _failing_run(pytester, monkeypatch, report)
    assert result.ret == 1
    # The screenshot shows the timeline: bars in the passed and failed colours.
    shot = pytester.path / "wave.png"
    done = _browse(report, f"--screenshot={shot}", "--window-size=1100,900", "--hide-scrollbars")
    assert shot.is_file(), done.stderr
    colors = png_colors(shot)
    assert colors[PASS_GREEN] > 300, "no passed bar in the screenshot"
    assert colors[FAIL_RED] > 300, "no failed bar in the screenshot"
    # The page's scripts ran, and nothing was logged to the console.
    dom = _browse(report, "--dump-dom", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=2000")
    assert 'data-ready="yes"' in dom.stdout, dom.stderr
    assert 'data-js-errors="0"' in dom.stdout
    assert _console_problems(dom.stderr) == []


@pytest.mark.browser
def test_browser_check_catches_a_script_error(pytester: pytest.Pytester) -> None:
    """The console check is not vacuous: a page with a broken script fails it."""
    _chromium()
    page = pytester.path / "broken.html"
    text = render_report([], title="broken", final=True, generated_at=0)
    page.write_text(text.replace("</body>", "<script>notAFunction();</script></body>"))
    dom = _browse(page, "--dump-dom", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=2000")
    assert 'data-js-errors="1"' in dom.stdout
    assert any("notAFunction" in line for line in _console_problems(dom.stderr)), dom.stderr
