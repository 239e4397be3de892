"""pytest-wave's own scripted loopback model: the one thing the real-CLI tests fake.

It speaks the Anthropic Messages, OpenAI Responses and OpenAI Chat Completions APIs (JSON and SSE
streaming) as claude, codex and opencode call them, binds 127.0.0.1 only, plays a
:class:`~pytest_wave.mockmodel.scenario.Scenario` (tool calls that write files or run commands, then
a final text with Wave markers) and injects faults (429 N times, 529 forever, ...).
"""

from pytest_wave.mockmodel.scenario import PLAIN_SCRIPT, WAVE_SCRIPT, Fault, Scenario, Script, Step
from pytest_wave.mockmodel.server import MockModelServer, RequestRecord

__all__ = ["PLAIN_SCRIPT", "WAVE_SCRIPT", "Fault", "MockModelServer", "RequestRecord", "Scenario", "Script", "Step"]
