"""The one place where errors become messages and exit codes (spec/exit-codes.md)."""

from __future__ import annotations

import os
import traceback
from typing import Any

import click

EXIT_FAILED = 1


def fail(message: str, exit_code: int) -> click.exceptions.Exit:
    """Print ``message`` as one ``error:`` line on stderr; return the exit to raise."""
    click.echo(f"error: {' '.join(message.split())}", err=True)
    return click.exceptions.Exit(exit_code)


class ProvenanceGroup(click.Group):
    """A group that translates SDK errors at one boundary; no traceback unless asked."""

    def invoke(self, ctx: click.Context) -> Any:
        from provenance.errors import ProvenanceError

        try:
            return super().invoke(ctx)
        except ProvenanceError as exc:
            raise fail(exc.diagnostics(), exc.exit_code) from exc
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if os.environ.get("PROVENANCE_DEBUG"):
                traceback.print_exc()
            raise fail(
                f"internal error: {type(exc).__name__}: {exc} "
                "(set PROVENANCE_DEBUG=1 for a traceback)",
                EXIT_FAILED,
            ) from exc
