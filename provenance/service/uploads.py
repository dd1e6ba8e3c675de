"""Verify uploaded files for a platform's ingest pipeline and for the web page.

An upload is spooled to a private temporary file (clips are verified from disk, seeking),
verified exactly as ``provenance verify`` does, and deleted. The report is the same JSON
``verify --json`` prints, with ``file`` set to the uploaded name.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path, PurePath

from ..errors import InputError
from ..media import first_frame_rgb, load_image, thumbnail_jpeg
from ..resolution import ManifestResolver
from ..trust import TrustAnchors
from ..verify import VerificationReport, Verifier
from .repositories import ThreadRepositories

__all__ = ["UploadResult", "UploadVerifier", "display_name"]

_THUMBNAIL_EDGE = 320
_NAME_LIMIT = 200


@dataclass(frozen=True)
class UploadResult:
    report: VerificationReport
    thumbnail_jpeg: bytes | None = None


class UploadVerifier:
    """Verifies uploads; thread-safe (each worker thread has its own :class:`Verifier`)."""

    def __init__(
        self,
        *,
        trust: TrustAnchors,
        resolver: ManifestResolver | None,
        repositories: ThreadRepositories | None,
        allow_untrusted: bool = False,
        spool_dir: Path | None = None,
    ) -> None:
        self.trust = trust
        self.resolver = resolver
        self.repositories = repositories
        self.allow_untrusted = allow_untrusted
        self.spool_dir = spool_dir
        self._local = threading.local()

    def verify(self, data: bytes, *, filename: str | None, thumbnail: bool = False) -> UploadResult:
        """Verify one uploaded file.

        Raises:
            InputError: empty, truncated or not a supported image or video.
        """
        name = display_name(filename)
        if not data:
            raise InputError(f"{name}: empty upload")
        fd, spooled = tempfile.mkstemp(prefix="upload-", suffix=_suffix(name), dir=self.spool_dir)
        path = Path(spooled)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            try:
                report = self._verifier().verify_file(path)
            except InputError as exc:
                # Same error class (415 vs 400), but naming the upload, not the spool file.
                raise type(exc)(str(exc).replace(str(path), name)) from exc
            report = report.model_copy(update={"file": name})
            thumb = _thumbnail(report, data, path) if thumbnail else None
            return UploadResult(report, thumb)
        finally:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _verifier(self) -> Verifier:
        verifier: Verifier | None = getattr(self._local, "verifier", None)
        if verifier is None:
            verifier = Verifier(
                trust=self.trust,
                repository=self.repositories.get() if self.repositories else None,
                allow_untrusted=self.allow_untrusted,
                resolver=self.resolver,
            )
            self._local.verifier = verifier
        return verifier


def display_name(filename: str | None) -> str:
    """The uploaded file's base name, made safe to show: no path, no control characters."""
    base = PurePath((filename or "").replace("\\", "/")).name
    clean = "".join(ch for ch in base if ch.isprintable()).strip()
    return clean[:_NAME_LIMIT] or "upload"


def _suffix(name: str) -> str:
    suffix = PurePath(name).suffix.lower()
    return suffix if suffix[1:].isalnum() and len(suffix) <= 6 else ""


def _thumbnail(report: VerificationReport, data: bytes, path: Path) -> bytes | None:
    # A picture for people, never evidence: any failure just leaves it out.
    try:
        if report.video is not None:
            rgb = first_frame_rgb(path)
        else:
            rgb = load_image(data, source=report.file).rgb
        return thumbnail_jpeg(rgb, long_edge=_THUMBNAIL_EDGE)
    except InputError:
        return None
