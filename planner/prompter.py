"""Questions on a terminal (or piped stdin), each answerable ahead of time by a flag.

An answer given as a flag is used as is (and checked); otherwise the question is asked on stdout and
read from stdin; an empty answer or the end of stdin takes the default. An invalid choice re-prompts
with ``Expected one of: ...`` on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from pytest_wave.errors import WaveError


class Prompter:
    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None, *, interactive: bool = True) -> None:
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.interactive = interactive
        self._eof = False

    def _read(self, question: str, default: str) -> str:
        if not self.interactive or self._eof:
            return default
        shown = f" [{default}]" if default else ""
        self.stdout.write(f"{question}{shown}: ")
        self.stdout.flush()
        line = self.stdin.readline()
        if not line:
            self._eof = True
            self.stdout.write("\n")
            return default
        answer = line.strip()
        return answer or default

    def text(self, question: str, default: str = "", given: str | None = None) -> str:
        if given is not None:
            return given.strip()
        return self._read(question, default)

    def choice(self, question: str, choices: Sequence[str], default: str, given: str | None = None) -> str:
        if given is not None:
            if given not in choices:
                raise WaveError(
                    f'"{given}" is not a valid answer to "{question}"', fix=f"use one of: {', '.join(choices)}"
                )
            return given
        while True:
            answer = self._read(f"{question} ({'/'.join(choices)})", default)
            if answer in choices:
                return answer
            print(f"Expected one of: {', '.join(choices)}", file=sys.stderr)
            if self._eof or not self.interactive:
                return default

    def yes_no(self, question: str, default: bool, given: bool | None = None) -> bool:
        if given is not None:
            return given
        while True:
            answer = self._read(f"{question} (y/n)", "y" if default else "n").lower()
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no"):
                return False
            print("Expected one of: y, n", file=sys.stderr)

    def integer(self, question: str, default: int, minimum: int = 0, given: int | None = None) -> int:
        if given is not None:
            if given < minimum:
                raise WaveError(f'"{question}" needs a number of at least {minimum} (got: {given})')
            return given
        while True:
            answer = self._read(question, str(default))
            if answer.isdigit() and int(answer) >= minimum:
                return int(answer)
            print(f"Expected a whole number of at least {minimum}", file=sys.stderr)
            if self._eof:
                return default

    def items(self, question: str, default: Sequence[str], given: Sequence[str] | None = None) -> list[str]:
        """A list answered as ``a, b`` or ``a | b``."""
        if given is not None:
            return [item for item in given if item]
        answer = self._read(question, ", ".join(default))
        return split_items(answer)


def split_items(text: str) -> list[str]:
    sep = "|" if "|" in text else ","
    return [part.strip() for part in text.split(sep) if part.strip()]
