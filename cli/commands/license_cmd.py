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
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
def grant(face_id: str, licensee: str | None, allow: str, deny: str, territories: str,
          not_before: datetime | None, not_after: datetime, intended_uses: str | None,
          representation: str, minor: bool, owner_name: str, owner_key: Path | None,
          royalty_per_use: str | None, royalty_per_minute: str | None,
          royalty_per_licensee: str | None, currency: str, output: Path, force: bool) -> None:
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
    )
    license.save(output, force=force)
    status(f"granted {license.license_id} for face {face_id} to {licensee} -> {output}")


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
