"""Verification: a :class:`Verifier` returns a typed :class:`VerificationReport`."""

from .report import (
    Check,
    CheckStatus,
    Verdict,
    VerificationFailedError,
    VerificationReport,
)
from .verifier import Verifier

__all__ = [
    "Check",
    "CheckStatus",
    "Verdict",
    "VerificationFailedError",
    "VerificationReport",
    "Verifier",
]
