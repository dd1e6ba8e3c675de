"""Verification: a :class:`Verifier` returns a typed :class:`VerificationReport`.

Live streams: :class:`StreamVerifier` per segment as they arrive, or
:func:`verify_playlist` / :func:`verify_segments` for a whole stream.
"""

from .report import (
    Check,
    CheckStatus,
    Verdict,
    VerificationFailedError,
    VerificationReport,
)
from .stream import StreamVerifier, verify_playlist, verify_segments
from .verifier import Verifier

__all__ = [
    "Check",
    "CheckStatus",
    "StreamVerifier",
    "Verdict",
    "VerificationFailedError",
    "VerificationReport",
    "Verifier",
    "verify_playlist",
    "verify_segments",
]
