"""``.wave/install-state.json``: what ``wave init`` wrote, so ``wave upgrade`` knows what it may refresh.

The Node.js tool's fields (artifacts.md 4.4) plus ``starterFiles``: each file init (or upgrade) wrote,
with the template it came from and the sha256 of the bytes written. A file whose bytes still match
was not edited by the user and may be refreshed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class StarterFile(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    template: str
    sha256: str


class InstallEvent(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    at: str
    action: Literal["init-fresh", "init-adopt-existing", "upgrade"]
    version: str | None = None
    report: dict[str, list[str]] = Field(default_factory=dict)


class InstallState(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    schema_version: int = Field(1, alias="schemaVersion")
    package_name: str = Field("pytest-wave", alias="packageName")
    installed_version: str = Field(alias="installedVersion")
    initialized_at: str = Field(alias="initializedAt")
    last_upgrade_at: str | None = Field(None, alias="lastUpgradeAt")
    init_mode: Literal["fresh", "adopt-existing"] = Field(alias="initMode")
    seeded_files: list[str] = Field(default_factory=list, alias="seededFiles")
    adopted_files: list[str] = Field(default_factory=list, alias="adoptedFiles")
    starter_files: dict[str, StarterFile] = Field(default_factory=dict, alias="starterFiles")
    history: list[InstallEvent] = Field(default_factory=list)
