"""The one exception tree of the SDK.

Every failure the SDK raises on purpose is a :class:`ProvenanceError`. Each class carries
the process exit code the CLI uses for it (``spec/exit-codes.md``), so the CLI renders every
error at one boundary and never decides codes itself. Where the meaning matches a builtin,
the class also inherits it (as PyAV does), so callers may catch either.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ConsentError",
    "EncodingError",
    "ImageTooSmallError",
    "InputError",
    "KeyMaterialError",
    "LabelError",
    "LedgerError",
    "ManifestError",
    "OutputExistsError",
    "ProvenanceError",
    "RepositoryError",
    "ResolutionError",
    "ScopeViolationError",
    "SigningError",
    "TimestampError",
    "UnsupportedMediaError",
    "WatermarkError",
    "WorkspaceError",
]

# Exit codes, mirrored in spec/exit-codes.md.
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_PROVENANCE = 3
EXIT_REFUSED = 4


class ProvenanceError(Exception):
    """Root of every error the SDK raises on purpose."""

    exit_code: ClassVar[int] = EXIT_FAILED

    def diagnostics(self) -> str:
        """One line for a person: what went wrong and where."""
        return str(self)


class InputError(ProvenanceError, ValueError):
    """An input file is missing, unreadable, empty, truncated or not what it claims to be."""

    exit_code = EXIT_USAGE


class UnsupportedMediaError(InputError):
    """The input is readable but of a format or kind this SDK does not handle."""


class OutputExistsError(ProvenanceError, FileExistsError):
    """The output path exists and overwriting was not asked for."""

    exit_code = EXIT_USAGE


class WorkspaceError(ProvenanceError):
    """No workspace was found, or it is incomplete."""

    exit_code = EXIT_USAGE


class KeyMaterialError(ProvenanceError, ValueError):
    """A key or certificate is unreadable, of the wrong kind, or fails the C2PA profile."""

    exit_code = EXIT_USAGE


class ConsentError(ProvenanceError, ValueError):
    """A consent license is malformed, unsigned, or its owner signature does not verify."""

    exit_code = EXIT_REFUSED


class ScopeViolationError(ConsentError):
    """A declared use falls outside what the license allows.

    Attributes:
        clause: the violated clause (``purpose``, ``territory``, ``date``, ``licensee``,
            ``revoked``, ``signature``), as documented in ``spec/consent.md``.
    """

    def __init__(self, clause: str, message: str) -> None:
        super().__init__(message)
        self.clause = clause

    def diagnostics(self) -> str:
        return f"{self} (violates the {self.clause} clause)"


class ManifestError(ProvenanceError):
    """A C2PA manifest could not be built or read."""


class SigningError(ProvenanceError):
    """The C2PA signer refused to sign (certificate profile, key, algorithm)."""


class TimestampError(ProvenanceError):
    """A time-stamp authority could not be reached or gave an unusable answer (RFC 3161)."""


class EncodingError(ProvenanceError):
    """The video encoder or muxer failed while writing an output file."""


class WatermarkError(ProvenanceError):
    """A watermark engine failed or is unknown."""


class ImageTooSmallError(WatermarkError, InputError):
    """The image is below the engine's minimum size."""

    exit_code = EXIT_USAGE


class LabelError(ProvenanceError, ValueError):
    """A labelling-law field (GB 45438 ``AIGC``, XMP) is malformed or cannot be written."""

    exit_code = EXIT_USAGE


class RepositoryError(ProvenanceError):
    """The manifest repository could not store or load a record."""


class LedgerError(ProvenanceError):
    """The usage ledger could not be opened, read or appended to."""


class ResolutionError(ProvenanceError):
    """A remote resolution service could not answer: not configured, not allowed,
    unreachable, timed out, or its answer was malformed (``spec/resolution.md``)."""
