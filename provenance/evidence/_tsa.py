"""RFC 3161 time-stamps through rfc3161-client: the only module that imports it.

A token is asked for over the bundle signature's bytes (as C2PA time-stamps a claim
signature), so it proves the signed statement existed at the TSA's time. Requests go over
plain HTTP(S) POST (``application/timestamp-query``, RFC 3161 section 3.4).
"""

from __future__ import annotations

import base64
import hashlib
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC

from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from ..errors import TimestampError
from .model import Timestamp

__all__ = ["TimestampCheck", "check_timestamp", "request_timestamp"]

_GRANTED = (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS)


@dataclass(frozen=True)
class TimestampCheck:
    """How a stored token held up.

    Attributes:
        problem: why the token does not belong to this signature, or None.
        trusted: the token's signature chains to a given TSA root (None: no root given).
        detail: one line on the trust outcome.
    """

    problem: str | None
    trusted: bool | None
    detail: str


def request_timestamp(url: str, data: bytes, *, timeout_s: float = 30.0) -> Timestamp:
    """Ask the TSA at ``url`` to time-stamp ``data`` (SHA-256 imprint, nonce, certificate).

    Raises:
        TimestampError: the TSA cannot be reached, refuses, or answers for other data.
    """
    request = (
        TimestampRequestBuilder()
        .data(data)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    raw = _post(url, request.as_bytes(), timeout_s)
    try:
        response = decode_timestamp_response(raw)
    except ValueError as exc:
        raise TimestampError(f"{url}: not an RFC 3161 time-stamp response ({exc})") from exc
    if PKIStatus(response.status) not in _GRANTED:
        text = "; ".join(response.status_string) or PKIStatus(response.status).name
        raise TimestampError(f"{url}: time-stamp refused: {text}")
    imprint = hashlib.sha256(data).digest()
    if response.tst_info.message_imprint.message != imprint:
        raise TimestampError(f"{url}: the token time-stamps other data")
    if response.tst_info.nonce != request.nonce:
        raise TimestampError(f"{url}: the token answers another request (nonce differs)")
    return Timestamp(
        tsa_url=url,
        message_imprint=imprint.hex(),
        gen_time=_utc(response),
        serial_number=str(response.tst_info.serial_number),
        response=base64.b64encode(response.as_bytes()).decode("ascii"),
    )


def _utc(response: TimeStampResponse) -> str:
    return response.tst_info.gen_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _post(url: str, body: bytes, timeout_s: float) -> bytes:
    if not url.startswith(("http://", "https://")):
        raise TimestampError(f"{url}: a time-stamp authority URL must be http(s)")
    post = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/timestamp-query"}
    )
    try:
        with urllib.request.urlopen(post, timeout=timeout_s) as answer:
            return bytes(answer.read())
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TimestampError(f"{url}: time-stamp authority unreachable ({reason})") from exc


def check_timestamp(
    stamp: Timestamp, data: bytes, *, roots: Sequence[x509.Certificate] = ()
) -> TimestampCheck:
    """Check that ``stamp`` time-stamps ``data``, and, given TSA roots, that it is trusted."""
    try:
        response = decode_timestamp_response(base64.b64decode(stamp.response, validate=True))
    except ValueError as exc:
        return TimestampCheck(f"time-stamp token unreadable ({exc})", None, "")
    imprint = hashlib.sha256(data).digest()
    stored = response.tst_info.message_imprint.message
    if stored != imprint or stamp.message_imprint != imprint.hex():
        return TimestampCheck("the time-stamp token covers other data", None, "")
    if _utc(response) != stamp.gen_time:
        problem = f"the token's time is {_utc(response)}, not {stamp.gen_time}"
        return TimestampCheck(problem, None, "")
    if not roots:
        return TimestampCheck(
            None, None, f"time-stamped {stamp.gen_time}; TSA not checked (no TSA root given)"
        )
    return _trust(response, data, roots, stamp.gen_time)


def _trust(
    response: TimeStampResponse, data: bytes, roots: Sequence[x509.Certificate], when: str
) -> TimestampCheck:
    builder = VerifierBuilder()
    for root in roots:
        builder = builder.add_root_certificate(root)
    try:
        builder.build().verify_message(response, data)
    except VerificationError as exc:
        return TimestampCheck(None, False, f"time-stamp does not chain to the TSA root: {exc}")
    return TimestampCheck(None, True, f"time-stamped {when} by a trusted TSA")
