"""``provenance license``: the face owner grants, anyone shows and verifies."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .._output import emit_fields, emit_json, status
from .._state import app_state

if TYPE_CHECKING:
    from provenance.consent import License


@click.group("license")
def license_group() -> None:
    """Consent licenses signed by a face owner."""


@license_group.command("grant")
@click.option("--face-id", required=True, help="The licensed face's ID.")
@click.option("--licensee", help="Who may use the face (default: the workspace vendor).")
@click.option("--allow", required=True, help="Allowed purposes, comma-separated.")
@click.option("--deny", default="", help="Prohibited purposes, comma-separated.")
@click.option("--territory", "territories", required=True,
              help="ISO 3166 codes or EU, comma-separated.")
@click.option("--from", "not_before", type=click.DateTime(["%Y-%m-%d"]),
              help="First valid day (default: today).")
@click.option("--until", "not_after", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="Last valid day.")
@click.option("--uses", "intended_uses",
              help="A reasonably specific description of the intended uses "
              "(default: composed from the scope).")
@click.option("--representation", type=click.Choice(["counsel", "union", "none"]),
              default="none", show_default=True)
@click.option("--minor", is_flag=True, help="The face owner is a minor (term at most 5 years).")
@click.option("--owner-name", default="Demo Face Owner", show_default=True)
@click.option("--owner-key", type=click.Path(dir_okay=False, path_type=Path),
              help="Face owner's private key (default: the workspace's demo owner key).")
@click.option("--royalty-per-use", help="Royalty per use, a decimal like 0.50.")
@click.option("--royalty-per-minute", help="Royalty per minute of video.")
@click.option("--royalty-per-licensee", help="Royalty per new licensee.")
@click.option("--currency", default="EUR", show_default=True, help="ISO 4217 currency.")
@click.option("--supersedes", help="The license this one replaces: its file or its ID "
              "(same face, same owner key).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
def grant(face_id: str, licensee: str | None, allow: str, deny: str, territories: str,
          not_before: datetime | None, not_after: datetime, intended_uses: str | None,
          representation: str, minor: bool, owner_name: str, owner_key: Path | None,
          royalty_per_use: str | None, royalty_per_minute: str | None,
          royalty_per_licensee: str | None, currency: str, supersedes: str | None,
          output: Path, force: bool) -> None:
    """Sign a license letting LICENSEE render FACE-ID for the given scope."""
    from provenance.consent import Royalties, grant_license, parse_purposes, parse_territories
    from provenance.errors import OutputExistsError
    from provenance.owner import OwnerKey

    if output.exists() and not force:
        raise OutputExistsError(f"{output}: already exists (use --force to replace it)")
    state = app_state()
    if owner_key is not None and licensee is not None:
        key = OwnerKey.load(owner_key, passphrase=state.passphrase())
    else:
        workspace = state.workspace()
        key = (OwnerKey.load(owner_key, passphrase=state.passphrase()) if owner_key
               else workspace.owner_key(state.passphrase()))
        licensee = licensee or workspace.settings.vendor
    allowed, denied = parse_purposes(allow), parse_purposes(deny) if deny else ()
    codes = parse_territories(territories)
    first = not_before.date() if not_before else None
    last = not_after.date()
    royalties = None
    if royalty_per_use or royalty_per_minute or royalty_per_licensee:
        royalties = Royalties.parse(currency=currency, per_use=royalty_per_use,
                                    per_minute=royalty_per_minute,
                                    per_new_licensee=royalty_per_licensee)
    license = grant_license(
        owner_key=key, owner_name=owner_name, face_id=face_id, licensee=licensee,
        allow=allowed, deny=denied, territories=codes, not_before=first, not_after=last,
        intended_uses=intended_uses or _describe(face_id, licensee, allowed, denied, codes, last),
        representation=representation, minor=minor, royalties=royalties,
        supersedes=_superseded_id(supersedes, face_id, key.public_key),
    )
    license.save(output, force=force)
    status(f"granted {license.license_id} for face {face_id} to {licensee} -> {output}")


def _superseded_id(value: str | None, face_id: str, owner_key: str) -> str | None:
    """The ID --supersedes names; a file is checked to be the same face and owner."""
    from provenance.consent import License
    from provenance.errors import ConsentError

    if value is None or not Path(value).is_file():
        return value
    older = License.load(Path(value))
    if older.face_id != face_id or older.grant.owner.public_key != owner_key:
        raise ConsentError(
            f"{value}: cannot supersede {older.license_id}: it is for face {older.face_id!r} "
            "or signed by another owner key"
        )
    return older.license_id


def _describe(face_id: str, licensee: str, allowed: tuple[object, ...],
              denied: tuple[object, ...], codes: tuple[str, ...], last: date) -> str:
    def words(items: tuple[object, ...]) -> str:
        return ", ".join(str(getattr(item, "value", item)) for item in items)

    text = (f"Synthetic avatar media of face {face_id} rendered by {licensee} for "
            f"{words(allowed)} content distributed in {', '.join(codes)} until {last.isoformat()}")
    return text + (f"; never for {words(denied)}." if denied else ".")


@license_group.command("show")
@click.argument("license_file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the license as JSON.")
def show(license_file: Path, as_json: bool) -> None:
    """Show a license and whether its owner signature verifies."""
    from provenance.consent import License
    from provenance.errors import ConsentError

    license = License.load(license_file)
    try:
        license.verify()
        signature = "valid"
    except ConsentError as exc:
        signature = f"INVALID ({exc})"
    if as_json:
        body = license.model_dump(mode="json", by_alias=True)
        emit_json({"license": body, "sha256": license.sha256(), "signature": signature})
        return
    _render(license, signature)


def _render(license: License, signature: str) -> None:
    grant, scope = license.grant, license.grant.scope
    emit_fields([
        ("license", license.license_id),
        ("face", license.face_id),
        ("owner", f"{grant.owner.name} ({grant.owner.public_key})"),
        ("licensee", grant.licensee),
        ("allow", ", ".join(p.value for p in scope.allow)),
        ("deny", ", ".join(p.value for p in scope.deny) or "-"),
        ("territories", ", ".join(scope.territories)),
        ("valid", f"{scope.not_before} to {scope.not_after}"),
        ("uses", license.terms.intended_uses),
        ("representation", license.terms.representation.value),
        ("sha256", license.sha256()),
        ("signature", signature),
    ])


@license_group.command("verify")
@click.argument("license_file", type=click.Path(path_type=Path))
def verify(license_file: Path) -> None:
    """Check a license's owner signature and integrity (exit 4 when it fails)."""
    from provenance.consent import License

    license = License.load(license_file)
    license.verify()
    status(f"{license_file}: valid license {license.license_id} for face {license.face_id}, "
           f"signed by {license.grant.owner.public_key}")


def _utc_time(text: str | None, option: str) -> datetime | None:
    from datetime import UTC

    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"'{text}' is not an ISO 8601 date or time",
                                 param_hint=option) from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@license_group.command("revoke")
@click.argument("license_file", type=click.Path(path_type=Path))
@click.option("--reason", required=True, help="Why consent is withdrawn (kept in the document).")
@click.option("--effective", help="When consent ends: ISO date or time, UTC unless a zone is "
              "given (default: now; never earlier than now).")
@click.option("--owner-key", type=click.Path(dir_okay=False, path_type=Path),
              help="Face owner's private key (default: the workspace's demo owner key).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the signed revocation here (to hand to the vendor or a platform).")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
def revoke(license_file: Path, reason: str, effective: str | None, owner_key: Path | None,
           output: Path | None, force: bool) -> None:
    """Withdraw consent: the face owner signs a revocation of LICENSE_FILE.

    In a workspace the revocation is also recorded there, so the next stamp under the
    license is refused (exit 4, clause revoked).
    """
    from provenance.consent import License
    from provenance.errors import OutputExistsError, WorkspaceError
    from provenance.lifecycle import revoke_license
    from provenance.owner import OwnerKey

    if output is not None and output.exists() and not force:
        raise OutputExistsError(f"{output}: already exists (use --force to replace it)")
    state = app_state()
    workspace = state.optional_workspace()
    if owner_key is None and workspace is None:
        raise WorkspaceError("give --owner-key, or run inside a workspace (its demo owner key)")
    if output is None and workspace is None:
        raise click.UsageError("without a workspace, give -o FILE for the revocation")
    license = License.load(license_file)
    key = (OwnerKey.load(owner_key, passphrase=state.passphrase()) if owner_key
           else workspace.owner_key(state.passphrase()) if workspace else None)
    assert key is not None
    revocation = revoke_license(license, owner_key=key, reason=reason,
                                effective_at=_utc_time(effective, "--effective"))
    if output is not None:
        revocation.save(output, force=force)
    if workspace is not None:
        with workspace.consent_registry() as registry:
            registry.record_revocation(revocation, license)
    when = revocation.effective_at.isoformat()
    where = f" -> {output}" if output else ""
    recorded = " (recorded in the workspace)" if workspace else ""
    status(f"revoked {license.license_id} effective {when}{recorded}{where}")


@license_group.command("import")
@click.argument("document", type=click.Path(path_type=Path))
@click.option("--license", "license_file", type=click.Path(path_type=Path),
              help="The license a revocation names, if the workspace has not seen it.")
def import_(document: Path, license_file: Path | None) -> None:
    """Record a revocation or a (superseding) license in the workspace.

    The owner signature is checked first: a revocation not signed by the owner of the
    license it names is refused (exit 4).
    """
    import json

    from provenance._internal.files import read_input
    from provenance.consent import License
    from provenance.errors import ConsentError
    from provenance.lifecycle import Revocation

    data = read_input(document)
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConsentError(f"{document}: not a revocation or license: invalid JSON") from exc
    with app_state().workspace().consent_registry() as registry:
        if isinstance(body, dict) and "revocation" in body:
            revocation = Revocation.from_document(body, source=str(document))
            license = License.load(license_file) if license_file else None
            registry.record_revocation(revocation, license)
            status(f"recorded revocation of {revocation.license_id}, effective "
                   f"{revocation.effective_at.isoformat()}")
            return
        license = License.from_json(data, source=str(document))
        registry.register_license(license)
        replaces = f", superseding {license.grant.supersedes}" if license.grant.supersedes else ""
        status(f"recorded license {license.license_id}{replaces}")


@license_group.command("status")
@click.argument("license_file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status_cmd(license_file: Path, as_json: bool) -> None:
    """Show whether a license is valid now, or since when it is revoked, superseded or
    expired (from the workspace's records)."""
    from datetime import UTC

    from provenance.consent import License
    from provenance.lifecycle import license_status

    license = License.load(license_file)
    with app_state().workspace().consent_registry() as registry:
        events = registry.events_for(license.grant)
    found = license_status(license.grant, events, at=datetime.now(UTC))
    body = {
        "license_id": license.license_id,
        "state": found.state.value,
        "since": found.since.isoformat() if found.since else None,
        "reason": found.reason,
        "superseded_by": found.superseded_by,
    }
    if as_json:
        emit_json(body)
        return
    emit_fields([(key.replace("_", " "), str(value)) for key, value in body.items()
                 if value is not None])


@license_group.command("status-list")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
def status_list(output: Path, force: bool) -> None:
    """Export the workspace's revocations and supersessions (public parts only) for
    `verify --revocations` on a machine without the workspace."""
    from provenance._internal.files import write_atomic

    with app_state().workspace().consent_registry() as registry:
        found = registry.status_list()
    write_atomic(output, found.to_json(), force=force)
    status(f"{len(found.revocations)} revocation(s), {len(found.supersessions)} "
           f"supersession(s) -> {output}")
