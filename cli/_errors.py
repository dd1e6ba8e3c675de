"""The one place where errors become messages and exit codes (spec/exit-codes.md)."""

from __future__ import annotations

import os
import traceback
from typing import IO, Any

import click

EXIT_FAILED = 1


class CommandFailed(click.ClickException):
    """A ProvenanceError (or an unexpected one) rendered as one line with its exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(" ".join(message.split()))
        self.exit_code = exit_code

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.message}", err=True)


class ProvenanceGroup(click.Group):
    """A group that translates SDK errors at one boundary; no traceback unless asked."""

    def invoke(self, ctx: click.Context) -> Any:
        from provenance.errors import ProvenanceError

        try:
            return super().invoke(ctx)
        except ProvenanceError as exc:
            raise CommandFailed(exc.diagnostics(), exc.exit_code) from exc
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if os.environ.get("PROVENANCE_DEBUG"):
                traceback.print_exc()
            raise CommandFailed(
                f"internal error: {type(exc).__name__}: {exc} "
                "(set PROVENANCE_DEBUG=1 for a traceback)",
                EXIT_FAILED,
            ) from exc
