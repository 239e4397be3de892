"""The compiled-template cache: used across processes, never a reason for a render to fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from jinja2 import DictLoader, Environment

from pytest_wave import rendering
from pytest_wave.rendering import CompiledTemplates


def _env(cache: CompiledTemplates, source: str) -> Environment:
    return Environment(loader=DictLoader({"t.j2": source}), bytecode_cache=cache)


def test_a_second_environment_loads_the_compiled_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    cache = CompiledTemplates(str(tmp_path), "tpl_%s.cache")
    assert _env(cache, "hello {{ name }}").get_template("t.j2").render(name="a") == "hello a"
    files = list(tmp_path.glob("tpl_*.cache"))
    assert len(files) == 1
    loaded: list[bool] = []
    original = CompiledTemplates.load_bytecode

    def spy(self: CompiledTemplates, bucket: object) -> None:
        original(self, bucket)  # type: ignore[arg-type]
        loaded.append(bucket.code is not None)  # type: ignore[attr-defined]

    monkeypatch.setattr(CompiledTemplates, "load_bytecode", spy)
    assert _env(cache, "hello {{ name }}").get_template("t.j2").render(name="b") == "hello b"
    assert loaded == [True]
    # A changed template is compiled anew, not served from the cache.
    assert _env(cache, "bye {{ name }}").get_template("t.j2").render(name="c") == "bye c"


def test_a_damaged_cache_file_is_compiled_anew(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    cache = CompiledTemplates(str(tmp_path), "tpl_%s.cache")
    _env(cache, "x={{ x }}").get_template("t.j2")
    (only,) = tmp_path.glob("tpl_*.cache")
    only.write_bytes(only.read_bytes()[:20] + b"\x00garbage")
    assert _env(cache, "x={{ x }}").get_template("t.j2").render(x=1) == "x=1"


def test_an_unwritable_cache_dir_does_not_fail_a_render(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    gone = tmp_path / "removed"
    gone.mkdir()
    cache = CompiledTemplates(str(gone), "tpl_%s.cache")
    gone.rmdir()  # dump_bytecode's temp file now fails with FileNotFoundError
    assert _env(cache, "ok").get_template("t.j2").render() == "ok"
    assert not gone.exists()


def test_no_compiled_file_is_written_under_dont_write_bytecode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    cache = CompiledTemplates(str(tmp_path), "tpl_%s.cache")
    assert _env(cache, "ok").get_template("t.j2").render() == "ok"
    assert list(tmp_path.iterdir()) == []


def test_the_cache_names_carry_version_and_options() -> None:
    cache = rendering.compiled_templates()
    assert isinstance(cache, CompiledTemplates)
    assert cache.pattern.startswith("__pytest_wave_") and cache.pattern.endswith("_%s.cache")


def test_a_fresh_process_loads_what_the_first_compiled(tmp_path: Path) -> None:
    """Two real processes: the first compiles the package's templates and writes them, the
    second loads every one of them from the cache instead of compiling."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["TMPDIR"] = str(tmp_path)
    code = (
        "from pytest_wave.rendering import CompiledTemplates, environment\n"
        "hits = []\n"
        "load = CompiledTemplates.load_bytecode\n"
        "def spy(self, bucket):\n"
        "    load(self, bucket)\n"
        "    hits.append(bucket.code is not None)\n"
        "CompiledTemplates.load_bytecode = spy\n"
        "environment().get_template('prompt.md.j2')\n"
        "print(hits)\n"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    ]
    first, second = (eval(out.strip()) for out in runs)  # a printed list of booleans
    assert first and not any(first)
    assert second and all(second) and len(second) == len(first)
    assert list(tmp_path.glob("_jinja2-cache-*/__pytest_wave_*.cache"))
