"""State shared by every command, built once in the root group."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from provenance.workspace import Workspace

PASSPHRASE_ENV = "PROVENANCE_KEY_PASSPHRASE"


class AppState:
    """What every command shares: where the workspace is, and how to unlock keys."""

    def __init__(self, workspace_path: Path | None) -> None:
        self.workspace_path = workspace_path

    def workspace(self) -> Workspace:
        """The workspace from --workspace, $PROVENANCE_WORKSPACE or the current directory."""
        from provenance.workspace import Workspace

        return Workspace.find(self.workspace_path)

    def optional_workspace(self) -> Workspace | None:
        """The workspace if one is configured or found, else None."""
        from provenance.workspace import Workspace

        return Workspace.find_optional(self.workspace_path)

    @staticmethod
    def passphrase() -> bytes | None:
        """The key passphrase from the environment (never from a flag: flags leak to ps)."""
        value = os.environ.get(PASSPHRASE_ENV)
        return value.encode() if value else None


def app_state() -> AppState:
    """The :class:`AppState` of the running command."""
    state = click.get_current_context().find_object(AppState)
    if state is None:  # a command invoked outside the root group (tests)
        state = AppState(None)
    return state
