"""Verification: a :class:`Verifier` returns a typed :class:`VerificationReport`."""

from .report import (
    Check,
    CheckStatus,
    VerificationFailedError,
    VerificationReport,
    Verdict,
)
from .verifier import Verifier

__all__ = [
    "Check",
    "CheckStatus",
    "VerificationFailedError",
    "VerificationReport",
    "Verdict",
    "Verifier",
]
