"""Runs on a remote host through ``gateway.remote_exec(checkout)``: the host's clone at the base commit.

Standard library only (it is sent as source). Receives ``{"url", "commit", "name", "run"}``;
clones ``url`` into ``<cwd>/<name>`` (the gateway's ``chdir``) or fetches into the existing clone,
checks out ``commit`` detached on a clean tree, and answers ``{"root": <clone>}`` or
``{"error": <one line>}``. It does not change directory: xdist copies its own files into the gateway's
directory next, and they must not land in the clone (the plugin moves the worker in afterwards).
A second gateway of the same run on the same host reuses the clone as is.
"""

from __future__ import annotations

import os
import subprocess
from typing import Any


def _git(args: list[str], cwd: str | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args[:2])} failed: {' '.join(done.stderr.split())[:300]}")
    return done.stdout.strip()


def prepare(request: dict[str, Any]) -> dict[str, str]:
    clone = os.path.abspath(request["name"])
    marker = os.path.join(clone, ".git", "wave-prepared-" + request["run"])
    try:
        if not os.path.isdir(os.path.join(clone, ".git")):
            _git(["clone", "--quiet", "--no-checkout", request["url"], clone])
        if not os.path.exists(marker):
            _git(["fetch", "--quiet", request["url"], "+refs/heads/*:refs/remotes/wave-base/*"], cwd=clone)
            if subprocess.run(["git", "cat-file", "-e", request["commit"] + "^{commit}"], cwd=clone).returncode:
                _git(["fetch", "--quiet", request["url"], request["commit"]], cwd=clone)  # a detached HEAD
            _git(["checkout", "--quiet", "--force", "--detach", request["commit"]], cwd=clone)
            _git(["clean", "-q", "-ffdx"], cwd=clone)
            with open(marker, "w") as handle:
                handle.write(request["commit"] + "\n")
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
        return {"error": " ".join(str(exc).split())}
    return {"root": clone}


if __name__ == "__channelexec__":
    channel.send(prepare(channel.receive()))  # type: ignore[name-defined]  # noqa: F821
