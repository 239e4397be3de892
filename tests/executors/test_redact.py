"""Secrets out of everything written: known variables by value, key-shaped strings by shape."""

from __future__ import annotations

from pathlib import Path

from pytest_wave.executors.redact import Redactor, is_secret_name, redact_env, secret_names_set

ANTHROPIC = "sk-ant-api03-" + "a1B2" * 12
OPENAI = "sk-proj-" + "Zz09" * 10
GITHUB = "ghp_" + "x" * 36
AWS = "AKIA" + "ABCDEFGHIJKLMNOP"
GOOGLE = "AIza" + "y" * 35


def test_secret_names() -> None:
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "MOCK_MODEL_KEY", "DB_PASSWORD", "GH_TOKEN", "MY_SECRET"):
        assert is_secret_name(name), name
    for name in ("PATH", "HOME", "WAVE_AGENT_ID", "TOKENIZERS_PARALLELISM", "ANTHROPIC_BASE_URL"):
        assert not is_secret_name(name), name


def test_known_variable_values_are_replaced_whatever_their_shape() -> None:
    redactor = Redactor({"ANTHROPIC_API_KEY": "plain-looking-value", "SHORT_TOKEN": "mock", "HOME": "/root"})
    text = redactor.text("key plain-looking-value and mock and /root")
    assert text == "key [redacted:ANTHROPIC_API_KEY] and mock and /root"  # short values are left alone


def test_key_shaped_strings_are_replaced_without_a_variable() -> None:
    redactor = Redactor({})
    text = redactor.text(
        f"a={ANTHROPIC} o={OPENAI} g={GITHUB} aws={AWS} goog={GOOGLE} "
        "Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123 task-sk-notakey"
    )
    assert ANTHROPIC not in text and OPENAI not in text and GITHUB not in text and AWS not in text
    assert "[redacted:anthropic-key]" in text and "[redacted:openai-key]" in text
    assert "[redacted:github-token]" in text and "[redacted:aws-access-key]" in text
    assert "[redacted:google-key]" in text and "Bearer [redacted:bearer]" in text
    assert "task-sk-notakey" in text  # ordinary words with "sk-" inside stay


def test_private_key_blocks() -> None:
    block = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\nBBBB\n-----END OPENSSH PRIVATE KEY-----"
    assert Redactor({}).text(f"x\n{block}\ny") == "x\n[redacted:private-key]\ny"


def test_file_in_place(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"ok \xff " + ANTHROPIC.encode() + b"\n")
    assert Redactor({}).file(log)
    assert log.read_bytes() == b"ok \xff [redacted:anthropic-key]\n"  # undecodable bytes survive
    assert not Redactor({}).file(log)  # nothing left to replace
    assert not Redactor({}).file(tmp_path / "missing.log")


def test_env_for_display_and_names_only() -> None:
    env = {"ANTHROPIC_API_KEY": "x" * 20, "OPENCODE_CONFIG": "/o.json", "EMPTY_TOKEN": ""}
    assert redact_env(env) == {"ANTHROPIC_API_KEY": "[redacted]", "OPENCODE_CONFIG": "/o.json", "EMPTY_TOKEN": ""}
    assert secret_names_set(env) == ["ANTHROPIC_API_KEY"]
