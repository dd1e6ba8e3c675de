"""A vendor's workspace: signing identity, demo face-owner key, manifest repository, settings.

``Workspace.create`` makes everything a newcomer needs to stamp at once; every command then
finds the workspace from an explicit path, the ``PROVENANCE_WORKSPACE`` environment variable,
or the current directory and its parents (as git finds a repository). Layout and the
settings file are specified in ``spec/workspace.md``.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ._internal.files import write_atomic
from .consent_registry import ConsentRegistry
from .errors import OutputExistsError, WorkspaceError
from .identity import CertificateAuthority, SigningAlgorithm, SigningIdentity
from .labels import LabelSettings
from .ledger import UsageLedger
from .lifecycle import StatusList
from .owner import OwnerKey, load_public_key
from .repository import ManifestRepository, RepositoryUrl, configured_url, open_repository
from .trust import TrustAnchors
from .watermark import DEFAULT_ENGINE, get_engine

__all__ = ["ENV_VAR", "SETTINGS_FILE", "Workspace", "WorkspaceSettings"]

ENV_VAR = "PROVENANCE_WORKSPACE"
SETTINGS_FILE = "provenance-workspace.json"
_SCHEMA = "avatar-provenance/workspace/v1"


@dataclass(frozen=True)
class WorkspaceSettings:
    """What ``provenance-workspace.json`` holds."""

    vendor: str
    issuer: int
    engine: str
    created_at: str
    repository: str | None = None  # a repository URL; None: repository.sqlite in the workspace
    labels: LabelSettings = field(default_factory=LabelSettings)
    """The vendor's labelling profile (spec/labels.md); absent in older files: defaults."""

    def to_json(self) -> bytes:
        body: dict[str, object] = {
            "schema": _SCHEMA,
            "vendor": self.vendor,
            "issuer": self.issuer,
            "engine": self.engine,
            "created_at": self.created_at,
            "labels": self.labels.to_dict(),
        }
        if self.repository is not None:
            body["repository"] = self.repository
        return (json.dumps(body, indent=2) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes, *, source: Path) -> WorkspaceSettings:
        try:
            body = json.loads(data)
            if body.get("schema") != _SCHEMA:
                raise ValueError(f"schema is not {_SCHEMA}")
            issuer = int(body["issuer"])
            if not 0 <= issuer < 1 << 16:
                raise ValueError("issuer must fit in 16 bits")
            repository = body.get("repository")
            if repository is not None and not isinstance(repository, str):
                raise ValueError("repository must be a URL string")
            labels = LabelSettings.from_dict(body.get("labels", {}))
            return cls(
                str(body["vendor"]),
                issuer,
                str(body["engine"]),
                str(body["created_at"]),
                repository,
                labels,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise WorkspaceError(f"{source}: not a workspace settings file ({exc})") from exc


class Workspace:
    """An opened workspace directory."""

    def __init__(self, root: Path, settings: WorkspaceSettings) -> None:
        self.root = root
        self.settings = settings

    # Paths, fixed by spec/workspace.md.
    @property
    def keys_dir(self) -> Path:
        return self.root / "keys"

    @property
    def root_ca_cert(self) -> Path:
        return self.keys_dir / "root-ca.pem"

    @property
    def root_ca_key(self) -> Path:
        return self.keys_dir / "root-ca.key"

    @property
    def signer_chain(self) -> Path:
        return self.keys_dir / "signer-chain.pem"

    @property
    def signer_key(self) -> Path:
        return self.keys_dir / "signer.key"

    @property
    def owner_key_path(self) -> Path:
        return self.keys_dir / "owner.key"

    @property
    def owner_public_path(self) -> Path:
        return self.keys_dir / "owner.pub"

    @property
    def repository_path(self) -> Path:
        return self.root / "repository.sqlite"

    @property
    def registry_path(self) -> Path:
        """The issuer registry ``verify`` uses when present (``spec/resolution.md``)."""
        return self.root / "issuers.json"

    @property
    def licenses_dir(self) -> Path:
        return self.root / "licenses"

    @property
    def consent_path(self) -> Path:
        return self.root / "consent.sqlite"

    @property
    def ledger_path(self) -> Path:
        return self.root / "ledger.sqlite"

    @property
    def ledger_key_path(self) -> Path:
        return self.keys_dir / "ledger.key"

    @property
    def ledger_public_path(self) -> Path:
        return self.keys_dir / "ledger.pub"

    @classmethod
    def create(
        cls,
        root: Path,
        *,
        vendor: str,
        algorithm: SigningAlgorithm = SigningAlgorithm.ES256,
        engine: str = DEFAULT_ENGINE,
        passphrase: bytes | None = None,
        force: bool = False,
        repository: str | None = None,
        labels: LabelSettings | None = None,
    ) -> Workspace:
        """Create a workspace: root CA, signing certificate, demo owner key, empty repository.

        Args:
            repository: a repository URL to record in the settings (``spec/repository.md``);
                by default ``repository.sqlite`` in the workspace. With ``force``, only that
                default file is emptied: a configured repository may be shared.
            labels: the vendor's labelling profile (default: visible label off, English).

        Raises:
            WorkspaceError: a workspace already exists there and ``force`` is false, or
                ``repository`` carries a password.
            InputError: ``repository`` is not a repository URL.
            RepositoryError: the repository cannot be opened or migrated.
            WatermarkError: ``engine`` is unknown.
        """
        settings_path = root / SETTINGS_FILE
        if settings_path.exists() and not force:
            raise WorkspaceError(f"{root}: a workspace already exists (use --force to replace it)")
        get_engine(engine)
        if repository is not None:
            _check_recordable(RepositoryUrl.parse(repository, base=root))
        settings = WorkspaceSettings(
            vendor=vendor,
            issuer=secrets.randbelow(1 << 16),
            engine=engine,
            created_at=datetime.now(UTC).isoformat(),
            repository=repository,
            labels=labels or LabelSettings(),
        )
        workspace = cls(root.resolve(), settings)
        workspace.generate_identity(algorithm=algorithm, passphrase=passphrase, force=True)
        OwnerKey.generate().save(workspace.owner_key_path, passphrase=passphrase, force=True)
        OwnerKey.generate().save(workspace.ledger_key_path, passphrase=passphrase, force=True)
        workspace.licenses_dir.mkdir(parents=True, exist_ok=True)
        if force and workspace.repository_path.exists():
            workspace.repository_path.unlink()
        for store in (workspace.ledger_path, workspace.consent_path):
            if force and store.exists():
                store.unlink()
        # The repository --repository names, even where $PROVENANCE_REPOSITORY would win later.
        recorded = settings.repository
        open_repository(
            RepositoryUrl.parse(recorded, base=workspace.root)
            if recorded is not None
            else workspace.repository_url()
        ).close()
        write_atomic(settings_path, settings.to_json(), force=True)
        return workspace

    def generate_identity(
        self,
        *,
        algorithm: SigningAlgorithm = SigningAlgorithm.ES256,
        passphrase: bytes | None = None,
        force: bool = False,
    ) -> SigningIdentity:
        """Make a new root CA and a signing certificate it issues, and install both."""
        ca = CertificateAuthority.generate(
            common_name=f"{self.settings.vendor} Root CA", organization=self.settings.vendor
        )
        identity = ca.issue_signer(
            common_name=f"{self.settings.vendor} C2PA Signer",
            organization=self.settings.vendor,
            algorithm=algorithm,
        )
        ca.save(
            cert_path=self.root_ca_cert,
            key_path=self.root_ca_key,
            passphrase=passphrase,
            force=force,
        )
        identity.save(
            key_path=self.signer_key,
            chain_path=self.signer_chain,
            passphrase=passphrase,
            force=force,
        )
        return identity

    @classmethod
    def open(cls, root: Path) -> Workspace:
        """Open the workspace at ``root``.

        Raises:
            WorkspaceError: ``root`` holds no workspace settings file.
        """
        settings_path = root / SETTINGS_FILE
        try:
            data = settings_path.read_bytes()
        except FileNotFoundError as exc:
            raise WorkspaceError(
                f"{root}: no avatar-provenance workspace here (run 'provenance init')"
            ) from exc
        except OSError as exc:
            raise WorkspaceError(f"{settings_path}: cannot read ({exc.strerror})") from exc
        return cls(root.resolve(), WorkspaceSettings.from_json(data, source=settings_path))

    @classmethod
    def find(
        cls,
        explicit: Path | None = None,
        *,
        environ: Mapping[str, str] = os.environ,
        cwd: Path | None = None,
    ) -> Workspace:
        """Find the workspace: ``explicit``, then ``$PROVENANCE_WORKSPACE``, then the cwd upward.

        Raises:
            WorkspaceError: none was found.
        """
        if explicit is not None:
            return cls.open(explicit)
        if environ.get(ENV_VAR):
            return cls.open(Path(environ[ENV_VAR]))
        start = (cwd or Path.cwd()).resolve()
        for candidate in (start, *start.parents):
            if (candidate / SETTINGS_FILE).is_file():
                return cls.open(candidate)
        raise WorkspaceError(
            f"no workspace found (give --workspace, set {ENV_VAR}, or run 'provenance init')"
        )

    @classmethod
    def find_optional(
        cls, explicit: Path | None = None, *, environ: Mapping[str, str] = os.environ
    ) -> Workspace | None:
        """Like :meth:`find`, but None where no workspace is configured or found."""
        try:
            return cls.find(explicit, environ=environ)
        except WorkspaceError:
            if explicit is not None or environ.get(ENV_VAR):
                raise
            return None

    def signer(self, passphrase: bytes | None = None) -> SigningIdentity:
        """The installed signing identity."""
        return SigningIdentity.from_files(
            key=self.signer_key, chain=self.signer_chain, passphrase=passphrase
        )

    def owner_key(self, passphrase: bytes | None = None) -> OwnerKey:
        """The demo face owner's key."""
        return OwnerKey.load(self.owner_key_path, passphrase=passphrase)

    def trust_anchors(self) -> TrustAnchors:
        """The workspace root CA as a trust anchor (none if it was never created)."""
        if not self.root_ca_cert.exists():
            return TrustAnchors.none()
        return TrustAnchors.from_files(self.root_ca_cert)

    def repository_url(
        self, explicit: str | None = None, *, environ: Mapping[str, str] = os.environ
    ) -> RepositoryUrl:
        """Where the repository is: ``explicit``, ``$PROVENANCE_REPOSITORY``, the settings'
        ``repository`` (relative paths from the workspace root), else ``repository.sqlite``.

        Raises:
            InputError: the chosen URL is malformed.
        """
        override = configured_url(explicit, environ=environ)
        if override is not None:
            return RepositoryUrl.parse(override)
        if self.settings.repository is not None:
            return RepositoryUrl.parse(self.settings.repository, base=self.root)
        return RepositoryUrl.parse(self.repository_path)

    def repository(
        self, explicit: str | None = None, *, environ: Mapping[str, str] = os.environ
    ) -> ManifestRepository:
        """Open (and migrate) the manifest repository :meth:`repository_url` names.

        Raises:
            InputError: the URL is malformed.
            RepositoryError: the repository is unusable or unreachable.
        """
        return open_repository(self.repository_url(explicit, environ=environ))

    def consent_registry(self) -> ConsentRegistry:
        """Open the record of licenses, revocations and supersessions."""
        return ConsentRegistry(self.consent_path)

    def status_list(self) -> StatusList:
        """The revocations and supersessions recorded here, for a verifier (creates nothing)."""
        if not self.consent_path.exists():
            return StatusList(description="workspace")
        with self.consent_registry() as registry:
            return registry.status_list()

    def ledger(self, passphrase: bytes | None = None) -> UsageLedger:
        """Open the usage ledger for appending (the ledger key is made if it is missing).

        Workspaces created before the ledger existed get their key on first use.
        """
        if not self.ledger_key_path.exists():
            try:
                OwnerKey.generate().save(self.ledger_key_path, passphrase=passphrase)
            except OutputExistsError:
                pass  # another stamping process made it first; load theirs
        key = OwnerKey.load(self.ledger_key_path, passphrase=passphrase)
        return UsageLedger(self.ledger_path, key=key)

    def ledger_reader(self) -> UsageLedger:
        """Open the usage ledger to read and verify; needs only the public ledger key."""
        public_key = (
            load_public_key(self.ledger_public_path) if self.ledger_public_path.exists() else None
        )
        return UsageLedger(self.ledger_path, public_key=public_key)


def _check_recordable(url: RepositoryUrl) -> None:
    # The settings file is 0644 and may be committed along with the workspace.
    if url.has_password:
        raise WorkspaceError(
            f"{url}: a password does not belong in the workspace settings; give it in "
            "PGPASSWORD or ~/.pgpass, or the whole URL in $PROVENANCE_REPOSITORY"
        )
