"""Stamping: check consent, watermark, sign, store, write.

A :class:`Stamper` holds what is expensive to load (signer, engine, repository) so that a
render loop stamps frame after frame without reloading keys. Order matters and is
specified in ``spec/stamping.md``: the use is checked against the license *before* any ID is
minted or byte written, so a refused stamp leaves nothing behind.

    >>> stamper = Stamper.from_workspace(Workspace.find())          # doctest: +SKIP
    >>> stamped = stamper.stamp_image(loaded, license=lic, purpose="education",
    ...                               output_format=ImageFormat.PNG)
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import __version__, _c2pa
from ._internal.files import read_input, write_atomic
from .consent import (
    License,
    Purpose,
    Use,
    ensure_permitted,
    parse_purposes,
    parse_territories,
)
from .consent_registry import ConsentRegistry
from .errors import ConsentError, ImageTooSmallError, InputError, OutputExistsError
from .fingerprint import fingerprint
from .identity import Signer
from .labels import (
    LANGUAGES,
    AigcLabel,
    LabelSettings,
    LatentDisclosure,
    VisibleLabelFacts,
    build_xmp,
)
from .ledger import LedgerEntry, MediaKind, StreamTally, Usage, UsageLedger
from .lifecycle import ensure_current
from .manifest import SOFTWARE_NAME, DeclaredUse, StampClaims, build_definition
from .media import ImageFormat, LoadedImage, encode_image, format_for_path, load_image
from .media.metadata import embed_xmp
from .media.overlay import LabelOverlay
from .repository import ManifestRecord, ManifestRepository
from .watermark import ContentId, WatermarkEngine, get_engine
from .workspace import Workspace

__all__ = ["StampedImage", "Stamper", "declared_use", "stamp_file"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StampedImage:
    """A signed, watermarked still, ready to be written."""

    data: bytes
    content_id: ContentId
    format: ImageFormat
    face_id: str
    license_id: str
    engine: str
    purpose: str
    territory: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class Stamper:
    """Stamps assets for one vendor with one signer, engine and repository."""

    def __init__(
        self,
        *,
        signer: Signer,
        repository: ManifestRepository,
        vendor: str,
        issuer: int,
        engine: str | WatermarkEngine,
        tsa_url: str | None = None,
        labels: LabelSettings | None = None,
        consent: ConsentRegistry | None = None,
        ledger: UsageLedger | None = None,
    ) -> None:
        """Set up a stamper; :meth:`from_workspace` is the usual way.

        Args:
            signer: signs the C2PA manifests.
            repository: stores manifests under their content IDs.
            vendor: the licensee every use is checked for.
            issuer: the 16-bit issuer code at the top of every content ID.
            engine: the watermark engine, or its name.
            tsa_url: an RFC 3161 time-stamp authority, if any.
            consent: where revocations and supersessions are recorded; without it only the
                license itself (signature, scope, dates) is checked.
            ledger: where every stamp is recorded (``spec/ledger.md``); None records nothing.
        """
        self.signer = signer
        self.labels = labels or LabelSettings()
        self.repository = repository
        self.vendor = vendor
        self.issuer = issuer
        self.engine = get_engine(engine) if isinstance(engine, str) else engine
        self.tsa_url = tsa_url
        self.consent = consent
        self.ledger = ledger

    @classmethod
    def from_workspace(
        cls,
        workspace: Workspace,
        *,
        passphrase: bytes | None = None,
        engine: str | None = None,
        tsa_url: str | None = None,
        repository: str | None = None,
    ) -> Stamper:
        """A stamper using the workspace's signer, repository, issuer code and engine, its
        consent registry (revocations) and its usage ledger.

        ``repository`` is a repository URL overriding the workspace's (``spec/repository.md``).
        """
        return cls(
            signer=workspace.signer(passphrase),
            repository=workspace.repository(repository),
            vendor=workspace.settings.vendor,
            issuer=workspace.settings.issuer,
            engine=engine or workspace.settings.engine,
            tsa_url=tsa_url,
            labels=workspace.settings.labels,
            consent=workspace.consent_registry(),
            ledger=workspace.ledger(passphrase),
        )

    def label_claims(
        self, content_id: ContentId, stamped_at: datetime
    ) -> tuple[AigcLabel, LatentDisclosure]:
        """The GB 45438 label and SB 942 disclosure of one stamp (``spec/labels.md``)."""
        aigc = AigcLabel.first_write(
            producer=self.labels.producer(self.vendor), content_id=content_id
        )
        disclosure = LatentDisclosure(
            provider=self.vendor,
            system_name=self.labels.system_name or SOFTWARE_NAME,
            system_version=self.labels.system_version or __version__,
            created_at=stamped_at,
            unique_id=content_id.hex,
        )
        return aigc, disclosure

    def overlay(
        self, visible_label: bool | None, *, width: int, height: int
    ) -> LabelOverlay | None:
        """The visible label for this frame size, or None when it is switched off
        (``visible_label`` None: the workspace's labelling profile decides)."""
        enabled = self.labels.visible_label if visible_label is None else visible_label
        if not enabled:
            return None
        return LabelOverlay.for_frame(
            LANGUAGES[self.labels.language], width=width, height=height
        )

    def visible_facts(
        self, overlay: LabelOverlay | None, duration_ms: int | None
    ) -> VisibleLabelFacts | None:
        """What the manifest records about a rendered visible label."""
        if overlay is None:
            return None
        return VisibleLabelFacts(
            text=overlay.text,
            language=self.labels.language,
            position="top-left",
            text_height_px=overlay.text_height_px,
            shorter_side_px=overlay.shorter_side_px,
            duration_ms=duration_ms,
        )

    def check_use(self, license: License, purpose: str, territory: str | None) -> DeclaredUse:
        """Refuse a use the license does not cover, naming the clause.

        Raises:
            ConsentError: the license is tampered, unsigned or otherwise invalid.
            ScopeViolationError: purpose, territory, date or licensee is outside the scope,
                or the license was revoked or superseded (clauses ``revoked``,
                ``superseded``).
        """
        use = declared_use(license, purpose, territory, licensee=self.vendor)
        now = datetime.now(UTC)
        for code in use.territory.split(","):
            ensure_permitted(license, Use(Purpose(use.purpose), code, now, self.vendor))
        if self.consent is not None:
            self.consent.register_license(license)
            ensure_current(license, self.consent.events_for(license.grant), at=now)
        return use

    def record_use(
        self,
        license: License,
        use: DeclaredUse,
        content_id: ContentId,
        *,
        kind: MediaKind,
        frames: int,
        duration_ms: int | None,
    ) -> LedgerEntry | None:
        """Append one stamp to the usage ledger (None when the stamper has no ledger).

        Raises:
            LedgerError: the append failed; the caller must not deliver the output.
        """
        if self.ledger is None:
            return None
        return self.ledger.append(_usage(license, use, content_id, kind, frames, duration_ms))

    def start_stream(
        self, license: License, use: DeclaredUse, content_id: ContentId
    ) -> StreamTally | None:
        """A ledger tally for one live stream: count frames as they are stamped; its one
        entry is appended when the tally closes (None when the stamper has no ledger)."""
        if self.ledger is None:
            return None
        usage = _usage(license, use, content_id, MediaKind.STREAM, 0, 0)
        return self.ledger.start_stream(usage)

    def stamp_image(
        self,
        image: LoadedImage,
        *,
        license: License,
        purpose: str,
        territory: str | None = None,
        output_format: ImageFormat,
        quality: int = 95,
        title: str = "avatar frame",
        visible_label: bool | None = None,
    ) -> StampedImage:
        """Watermark and sign one still under ``license`` for the declared use.

        The GB 45438 label and IPTC digital source type go into the file's XMP, and the
        visible label (``visible_label``; None: the workspace profile decides) into the
        pixels before the watermark, all before signing (``spec/labels.md``).

        Raises:
            ConsentError, ScopeViolationError: the use is refused; nothing was minted.
            ImageTooSmallError: the frame is below the engine's minimum size.
            SigningError, RepositoryError: signing or storing failed; the ID is released.
        """
        use = self.check_use(license, purpose, territory)
        _check_size(self.engine, image)
        content_id = self.repository.reserve(self.issuer)
        try:
            overlay = self.overlay(visible_label, width=image.width, height=image.height)
            stamped = self._sign_image(
                image, content_id, license, use, output_format, quality, title, overlay
            )
        except BaseException:
            self.repository.release(content_id)
            raise
        _logger.info("stamped %s as %s", title, content_id)
        return stamped

    def _sign_image(
        self,
        image: LoadedImage,
        content_id: ContentId,
        license: License,
        use: DeclaredUse,
        output_format: ImageFormat,
        quality: int,
        title: str,
        overlay: LabelOverlay | None,
    ) -> StampedImage:
        rgb = overlay.apply_rgb(image.rgb) if overlay is not None else image.rgb
        marked = self.engine.embed(rgb, content_id)
        stamped_at = datetime.now(UTC)
        aigc, disclosure = self.label_claims(content_id, stamped_at)
        claims = StampClaims(
            content_id=content_id,
            watermark_alg=self.engine.alg,
            watermark_alg_params=self.engine.alg_params,
            grant=license.grant,
            owner_signature=license.signature,
            license_sha256=license.sha256(),
            use=use,
            stamped_at=stamped_at,
            vendor=self.vendor,
            fingerprint=fingerprint(marked),
            aigc=aigc,
            disclosure=disclosure,
            visible_label=self.visible_facts(overlay, None),
        )
        encoded = embed_xmp(
            encode_image(marked, output_format, alpha=image.alpha, quality=quality),
            build_xmp(aigc=aigc),
            source=title,
        )
        signed = _c2pa.sign(
            build_definition(claims, title=title),
            self.signer,
            mime=output_format.mime,
            asset=encoded,
            tsa_url=self.tsa_url,
        )
        self.repository.complete(
            ManifestRecord(
                content_id=content_id,
                manifest_store=signed.manifest_store,
                mime=output_format.mime,
                face_id=license.face_id,
                license_id=license.license_id,
                watermark_alg=self.engine.alg,
                asset_sha256=hashlib.sha256(signed.asset).hexdigest(),
                created_at=claims.stamped_at,
            )
        )
        # After the manifest is stored and before anything is delivered: a stamp whose
        # use could not be recorded is never handed out.
        self.record_use(license, use, content_id, kind=MediaKind.STILL, frames=1, duration_ms=None)
        return StampedImage(
            data=signed.asset,
            content_id=content_id,
            format=output_format,
            face_id=license.face_id,
            license_id=license.license_id,
            engine=self.engine.name,
            purpose=use.purpose,
            territory=use.territory,
        )

    def close(self) -> None:
        """Close the repository, consent registry and ledger connections."""
        self.repository.close()
        if self.consent is not None:
            self.consent.close()
        if self.ledger is not None:
            self.ledger.close()


def _usage(
    license: License,
    use: DeclaredUse,
    content_id: ContentId,
    kind: MediaKind,
    frames: int,
    duration_ms: int | None,
) -> Usage:
    return Usage(
        face_id=license.face_id,
        license_id=license.license_id,
        license_sha256=license.sha256(),
        licensee=use.licensee,
        purpose=use.purpose,
        territory=use.territory,
        content_id=content_id.hex,
        kind=kind,
        frames=frames,
        duration_ms=duration_ms,
    )


def declared_use(
    license: License, purpose: str, territory: str | None, *, licensee: str
) -> DeclaredUse:
    """Normalise a declared use; with no territory, the use is declared for the licensed ones.

    Raises:
        ConsentError: unknown purpose or territory code.
    """
    purposes = parse_purposes(purpose)
    if len(purposes) != 1:
        raise ConsentError(f"declare exactly one purpose per stamp, not '{purpose}'")
    codes: Sequence[str] = (
        parse_territories(territory) if territory else license.grant.scope.territories
    )
    return DeclaredUse(purpose=purposes[0].value, territory=",".join(codes), licensee=licensee)


def _check_size(engine: WatermarkEngine, image: LoadedImage) -> None:
    if image.height < engine.min_height or image.width < engine.min_width:
        raise ImageTooSmallError(
            f"image is {image.width}x{image.height}; the {engine.name} watermark needs at "
            f"least {engine.min_width}x{engine.min_height}"
        )


def stamp_file(
    stamper: Stamper,
    source: Path,
    destination: Path,
    *,
    license: License,
    purpose: str,
    territory: str | None = None,
    quality: int = 95,
    force: bool = False,
    visible_label: bool | None = None,
) -> StampedImage:
    """Stamp the still at ``source`` into ``destination`` (format from its suffix).

    The output is written through a temporary file and renamed into place; on any failure
    nothing is written, and the input is never modified.

    Raises:
        OutputExistsError: ``destination`` exists and ``force`` is false.
        InputError: the input is unreadable or not a supported image.
        ConsentError, ScopeViolationError: the use is refused.
    """
    output_format = format_for_path(destination)
    if destination.exists() and not force:
        raise OutputExistsError(f"{destination}: already exists (use --force to replace it)")
    if destination.resolve() == source.resolve():
        raise InputError(f"{destination}: output would overwrite the input")
    image = load_image(read_input(source), source=str(source))
    stamped = stamper.stamp_image(
        image,
        license=license,
        purpose=purpose,
        territory=territory,
        output_format=output_format,
        quality=quality,
        title=destination.name,
        visible_label=visible_label,
    )
    write_atomic(destination, stamped.data, force=force)
    return stamped
