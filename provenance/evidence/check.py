"""Check an evidence bundle: its signature, every artifact, the suspect files, its time-stamp.

``provenance report verify`` (``spec/evidence.md`` section 6). The signature is checked over
the canonical bytes of the statement exactly as stored, so any edit to it shows; each
artifact's bytes against the hash the statement lists; each examined file, when it is still
at the path it was examined at, against its recorded hash and size. A file no longer there
is noted, not failed: evidence outlives downloads.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography import x509
from pydantic import ValidationError

from .._internal.canonical import canonical_bytes
from .._internal.files import read_input, sha256_file
from ..errors import ConsentError, InputError
from ..owner import verify_owner_signature
from .bundle import BUNDLE_FILE
from .model import Artifact, EvidenceBundle

__all__ = ["BundleCheck", "verify_bundle"]


@dataclass
class BundleCheck:
    """The outcome of checking a bundle; ``valid`` when there is no problem.

    Attributes:
        bundle: the ``evidence.json`` checked.
        problems: one line per failure (edited statement, artifact or file; bad signature).
        notes: facts that are not failures (files no longer present, time-stamp untrusted).
        reporter: the public key that signed the statement, when readable.
        artifacts_checked: artifacts whose bytes matched.
        files_checked: examined files still present whose bytes matched.
        timestamp: the time-stamp outcome, or None when the bundle has none.
    """

    bundle: Path
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reporter: str | None = None
    artifacts_checked: int = 0
    files_checked: int = 0
    timestamp: str | None = None

    @property
    def valid(self) -> bool:
        return not self.problems


def verify_bundle(
    path: Path,
    *,
    reporter_key: str | None = None,
    tsa_roots: Sequence[x509.Certificate] = (),
) -> BundleCheck:
    """Check the bundle at ``path`` (its directory or its ``evidence.json``).

    Args:
        path: the bundle.
        reporter_key: the ``ed25519:`` key the statement must be signed by, if pinned.
        tsa_roots: TSA root certificates; with none, a time-stamp's trust is not judged.

    Raises:
        InputError: ``path`` holds no readable ``evidence.json``.
    """
    file = path / BUNDLE_FILE if path.is_dir() else path
    raw = _load(file)
    check = BundleCheck(bundle=file)
    try:
        bundle = EvidenceBundle.model_validate(raw)
    except ValidationError as exc:
        check.problems.append(f"{file}: not a valid evidence bundle ({exc.error_count()} errors)")
        return check
    signature = _check_signature(raw, bundle, reporter_key, check)
    root = file.parent
    statement = bundle.statement
    artifacts = [a for f in statement.files for a in f.artifacts]
    for artifact in [*artifacts, *([statement.page] if statement.page else [])]:
        _check_artifact(root, artifact, check)
    for item in statement.files:
        _check_suspect(Path(item.path), item.name, item.sha256, item.size, check)
    if bundle.timestamp is not None and signature is not None:
        from ._tsa import check_timestamp

        outcome = check_timestamp(bundle.timestamp, signature, roots=tsa_roots)
        if outcome.problem:
            check.problems.append(outcome.problem)
        elif outcome.trusted is False:
            check.problems.append(outcome.detail)
        else:
            check.timestamp = outcome.detail
    return check


def _load(file: Path) -> dict[str, Any]:
    data = read_input(file)
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{file}: not JSON ({exc})") from exc
    if not isinstance(raw, dict) or "statement" not in raw:
        raise InputError(f"{file}: not an evidence bundle (no statement)")
    return raw


def _check_signature(
    raw: dict[str, Any], bundle: EvidenceBundle, pinned: str | None, check: BundleCheck
) -> bytes | None:
    """Check the signature over the statement as stored; returns its bytes when decodable."""
    key = bundle.signature.public_key
    check.reporter = key
    if key != bundle.statement.reporter.public_key:
        check.problems.append("the signing key is not the reporter key the statement names")
    if pinned is not None and key != pinned:
        check.problems.append(f"signed by {key}, not by the expected {pinned}")
    try:
        signature = base64.b64decode(bundle.signature.value, validate=True)
        verify_owner_signature(key, canonical_bytes(raw["statement"]), signature)
    except (binascii.Error, ValueError, ConsentError) as exc:
        check.problems.append(f"the statement's signature does not verify ({exc})")
        return None
    return signature


def _check_artifact(root: Path, artifact: Artifact, check: BundleCheck) -> None:
    relative = PurePosixPath(artifact.path)
    if relative.is_absolute() or ".." in relative.parts:
        check.problems.append(f"{artifact.path}: an artifact path must stay inside the bundle")
        return
    target = root.joinpath(*relative.parts)
    if not target.is_file():
        check.problems.append(f"{artifact.path}: missing from the bundle")
        return
    if sha256_file(target) != artifact.sha256 or target.stat().st_size != artifact.size:
        check.problems.append(f"{artifact.path}: changed since the bundle was signed")
        return
    check.artifacts_checked += 1


def _check_suspect(
    path: Path, name: str, sha256: str | None, size: int | None, check: BundleCheck
) -> None:
    if sha256 is None:
        return
    if not path.is_file():
        check.notes.append(f"{name}: no longer at {path}; its hash was not re-checked")
        return
    if path.stat().st_size != size or sha256_file(path) != sha256:
        check.problems.append(f"{name}: {path} differs from the file that was examined")
        return
    check.files_checked += 1
