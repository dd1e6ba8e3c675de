"""What one ``provenance serve`` process offers, assembled before any web code runs."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from .metrics import Metrics
from .soft_binding import SoftBindingService
from .uploads import UploadVerifier

__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "ServiceConfig", "default_workers"]

DEFAULT_MAX_UPLOAD_BYTES = 256 * 1024 * 1024


def default_workers() -> int:
    """Verifications run at once: one per core; more only queue for the same cores."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


@dataclass
class ServiceConfig:
    """The parts of a service process.

    Attributes:
        soft_binding: the vendor's Soft Binding Resolution API, or None (a pure verifier).
        uploads: the platform verifier (``/verify`` and the page at ``/``), or None.
        metrics: the series ``/metrics`` exposes.
        vendor: the vendor name shown by ``/healthz``.
        issuer: the vendor's 16-bit issuer code, shown by ``/healthz`` for registries.
        workers: verifications allowed to run at once; further uploads wait their turn.
        max_upload_bytes: larger uploads are refused with HTTP 413.
        on_shutdown: called once when the server stops (close pools and connections).
    """

    soft_binding: SoftBindingService | None = None
    uploads: UploadVerifier | None = None
    metrics: Metrics = field(default_factory=Metrics)
    vendor: str | None = None
    issuer: int | None = None
    workers: int = field(default_factory=default_workers)
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    on_shutdown: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        describe = self.metrics.describe
        describe("provenance_http_requests_total", "counter", "HTTP requests by route and status")
        describe(
            "provenance_http_request_duration_seconds", "histogram", "request latency by route"
        )
        describe("provenance_resolution_queries_total", "counter", "byBinding queries by result")
        describe("provenance_manifests_served_total", "counter", "manifest stores returned")
        describe("provenance_verifications_started_total", "counter", "uploads accepted")
        describe("provenance_verifications_total", "counter", "verifications by verdict")
