"""The evidence page: one self-contained HTML file a person (or a court) can read.

No scripts, no fonts or styles from elsewhere: the CSS is inline, the watermark chart is
inline SVG drawn here, and the pictures are JPEG files beside the page in the bundle (each
listed with its hash in the signed statement). Everything shown comes from the statement.
"""

from __future__ import annotations

from html import escape

from ..verify.verifier import HARD_BINDING_CODES
from ..watermark import PAYLOAD_BITS
from .model import Clause, EvidenceVerdict, FileEvidence, LicenseFinding, Statement

__all__ = ["render_page"]

_VERDICTS: dict[EvidenceVerdict, tuple[str, str]] = {
    EvidenceVerdict.IN_SCOPE: ("Licensed, in scope", "ok"),
    EvidenceVerdict.OUT_OF_SCOPE: ("Out of scope", "bad"),
    EvidenceVerdict.NO_LICENSE: ("No license", "bad"),
    EvidenceVerdict.NOT_THIS_FACE: ("Not this face", "muted"),
    EvidenceVerdict.UNVERIFIED: ("Provenance does not verify", "warn"),
    EvidenceVerdict.UNREADABLE: ("Unreadable file", "muted"),
}
# A single frame decodes when at most 10 of its bits are wrong (BCH t=10, spec/payload.md).
_DECODE_LINE = 1 - 10 / PAYLOAD_BITS

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232b;
 background:#f4f5f7;margin:0;padding:24px}
main{max-width:1180px;margin:0 auto}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:0;word-break:break-all}
h3{font-size:14px;text-transform:uppercase;letter-spacing:.04em;color:#5a6572;margin:18px 0 6px}
.sub{color:#5a6572;margin:0 0 16px}
.card{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:18px 20px;margin:0 0 18px}
.head{display:flex;gap:12px;align-items:center;justify-content:space-between;flex-wrap:wrap}
.badge{display:inline-block;padding:3px 10px;border-radius:12px;font-weight:600;font-size:13px;
 white-space:nowrap}
.ok{background:#dcf3e3;color:#17612f}.bad{background:#fde2e1;color:#9b1c1c}
.warn{background:#fff1d6;color:#8a5300}.muted{background:#e8eaed;color:#3c4650}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;vertical-align:top;padding:5px 8px;border-bottom:1px solid #eceef1}
th{color:#5a6572;font-weight:600;width:170px}
td.broken{background:#fde2e1;color:#9b1c1c;font-weight:600}
.terms th{width:130px}.terms thead th{color:#1d232b;width:auto;border-bottom:2px solid #cfd4da}
code,.hash{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
.thumbs{display:flex;gap:10px;flex-wrap:wrap}
figure{margin:0}
figure img{display:block;max-height:150px;border:1px solid #dde1e6;border-radius:4px}
figcaption{font-size:12px;color:#5a6572;text-align:center}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:0 28px}
@media (max-width:900px){.grid{grid-template-columns:1fr}}
ul.reasons{margin:10px 0 0;padding-left:20px}
.summary span{margin-right:8px}
svg text{font:11px system-ui,sans-serif;fill:#5a6572}
"""


def render_page(statement: Statement) -> bytes:
    """The page for ``statement``, as UTF-8 HTML."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Evidence: face {escape(statement.face_id)}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        _header(statement),
        *(_file_card(item, statement) for item in statement.files),
        _footer(),
        "</main></body></html>",
    ]
    return "\n".join(parts).encode()


def _header(statement: Statement) -> str:
    observed = statement.observed
    reporter = statement.reporter
    who = f"{escape(reporter.name)} " if reporter.name else ""
    rows = [
        ("Face", escape(statement.face_id)),
        ("Observed use", _observed_text(statement)),
        ("Observed on", escape(observed.observed_at)),
        ("Source", _link(observed.source_url) if observed.source_url else "not given"),
        ("Reported", f"{escape(statement.created_at)} with {escape(statement.tool)}"),
        ("Signed by", f'{who}<span class="hash">{escape(reporter.public_key)}</span>'),
    ]
    badges = " ".join(
        f'<span class="badge {_VERDICTS[EvidenceVerdict(v)][1]}">'
        f"{escape(_VERDICTS[EvidenceVerdict(v)][0])}: {n}</span>"
        for v, n in sorted(statement.summary.items())
    )
    return (
        f"<h1>Evidence report: use of face {escape(statement.face_id)}</h1>"
        f'<p class="sub">{len(statement.files)} file(s) examined. This page is a view of the '
        "signed <code>evidence.json</code> beside it.</p>"
        f'<section class="card"><div class="summary">{badges}</div>'
        f"<h3>Report</h3>{_table(rows)}</section>"
    )


def _observed_text(statement: Statement) -> str:
    observed = statement.observed
    purpose = escape(observed.purpose) if observed.purpose else "purpose not given"
    territory = escape(observed.territory) if observed.territory else "territory not given"
    return f"{purpose}, in {territory}"


def _file_card(item: FileEvidence, statement: Statement) -> str:
    label, tone = _VERDICTS[item.verdict]
    reasons = "".join(f"<li>{escape(r)}</li>" for r in item.reasons)
    parts = [
        '<section class="card"><div class="head">',
        f"<h2>#{item.index} {escape(item.name)}</h2>",
        f'<span class="badge {tone}">{escape(label)}</span></div>',
        f'<ul class="reasons">{reasons}</ul>',
        _thumbnails(item),
        '<div class="grid"><div>',
        _terms(item.license, item, statement),
        "</div><div>",
        _found(item),
        "</div></div>",
        _chart(item),
        "</section>",
    ]
    return "".join(parts)


def _thumbnails(item: FileEvidence) -> str:
    figures = [
        f'<figure><img src="{escape(a.path)}" alt="frame of {escape(item.name)}">'
        f"<figcaption>{_time_label(a.time_ms)}</figcaption></figure>"
        for a in item.artifacts
        if a.kind == "thumbnail"
    ]
    if not figures:
        return ""
    return f'<h3>Pictures</h3><div class="thumbs">{"".join(figures)}</div>'


def _time_label(time_ms: int | None) -> str:
    return "the image" if time_ms is None else f"at {time_ms / 1000:.2f} s"


def _terms(license: LicenseFinding | None, item: FileEvidence, statement: Statement) -> str:
    if license is None:
        return "<h3>License terms and observed use</h3><p>No license is named by this file.</p>"
    observed = statement.observed
    broken = {c.clause for c in item.clauses}

    def cell(value: str, clause: Clause | None = None) -> str:
        css = ' class="broken"' if clause in broken else ""
        return f"<td{css}>{value}</td>"

    declared = (
        f"{escape(license.declared_purpose or '?')} in {escape(license.declared_territory or '?')}"
    )
    rows = [
        ("Face", escape(license.face_id or ""), escape(statement.face_id), None),
        ("Licensee", escape(license.licensee or ""), "as stamped", Clause.LICENSEE),
        ("Purpose", _purposes(license), escape(observed.purpose or "not observed"), Clause.PURPOSE),
        ("Territory", escape(", ".join(license.territories)),
         escape(observed.territory or "not observed"), Clause.TERRITORY),
        ("Valid", f"{escape(license.not_before or '?')} to {escape(license.not_after or '?')}",
         escape(observed.observed_at[:10]), Clause.DATE),
        ("Revocation", _revocation(item), "", Clause.REVOKED),
        ("Stamped as", declared, f"on {_moment(license.stamped_at)}", None),
    ]  # fmt: skip
    body = "".join(
        f"<tr><th>{name}</th>{cell(terms, clause)}{cell(seen, clause)}</tr>"
        for name, terms, seen, clause in rows
    )
    return (
        "<h3>License terms and observed use</h3>"
        f'<p>License <code>{escape(license.license_id or "")}</code>, signed by the face owner'
        f"{'' if license.owner_signature_valid else ' (signature does NOT verify)'}.</p>"
        '<table class="terms"><thead><tr><th></th><th>License terms</th><th>Observed</th>'
        f"</tr></thead><tbody>{body}</tbody></table>"
    )


def _revocation(item: FileEvidence) -> str:
    revoked = [c for c in item.clauses if c.clause is Clause.REVOKED]
    if revoked:
        return escape(revoked[0].message)
    return "no revocation known to this report"


def _moment(text: str | None) -> str:
    return escape(text[:19].replace("T", " ") + " UTC") if text else "?"


def _short(number: str | None) -> str:
    """A probability in two significant digits; the statement keeps all of them."""
    return "?" if number is None else f"{float(number):.2g}"


def _purposes(license: LicenseFinding) -> str:
    allow = escape(", ".join(license.allow)) or "none"
    deny = escape(", ".join(license.deny)) or "none"
    return f"allowed: {allow}<br>denied: {deny}"


def _found(item: FileEvidence) -> str:
    rows = [
        ("SHA-256", f'<span class="hash">{escape(item.sha256 or "?")}</span>'),
        ("Size", f"{item.size:,} bytes" if item.size is not None else "?"),
    ]
    found = item.finding
    if found is None:
        rows.append(("Error", escape(item.error or "")))
        return f"<h3>What was found</h3>{_table(rows)}"
    manifest = "none"
    if found.manifest_present:
        how = "recovered through the watermark" if found.manifest_source == "repository" else (
            "embedded")
        manifest = f"{escape(found.validation_state or '?')}, {how}"
    mark = "none found"
    if found.watermark_detected:
        mark = (
            f"<code>{escape(found.watermark_payload or '')}</code> "
            f"({escape(found.watermark_engine or '')}), chance of a false detection "
            f"{_short(found.watermark_false_alarm_probability)}"
        )
    recovered = found.manifest_source == "repository"
    codes = ", ".join(
        escape(code) + (" (expected: re-encoded copy)" if recovered and code in
                        HARD_BINDING_CODES else "")
        for code in found.validation_codes
    )
    rows += [
        ("Format", escape(found.format or "?")),
        ("Manifest", manifest),
        ("Signer", escape(found.signer or "none")),
        ("C2PA failures", codes or "none"),
        ("Watermark", mark),
    ]
    if found.frames_checked is not None:
        rows.append(("Frames read", str(found.frames_checked)))
    rows += [("Problem", escape(p)) for p in found.problems]
    return f"<h3>What was found</h3>{_table(rows)}"


def _chart(item: FileEvidence) -> str:
    if not item.timeline:
        return ""
    points = [(p.time_ms / 1000, p.bit_agreement, p.detected) for p in item.timeline]
    if all(value is None for _, value, _ in points):
        return (
            "<h3>Watermark over time</h3><p>No payload decoded from this clip, so there is "
            f"nothing to compare its {len(points)} sampled frames with.</p>"
        )
    return (
        "<h3>Watermark over time</h3>"
        f"{_svg([(t, float(v), d) for t, v, d in points if v is not None])}"
        "<p class='sub'>Share of the 156 payload bits each sampled frame, on its own, reads as "
        "the clip's payload (0.5 is chance). Filled dots: the frame alone decodes the payload "
        f"(at or above the dashed line, {_DECODE_LINE:.3f}). The clip is judged on all frames "
        "together.</p>"
    )


def _svg(points: list[tuple[float, float, bool]]) -> str:
    width, height, left, right, top, bottom = 720, 220, 48, 16, 12, 34
    span = max(max(t for t, _, _ in points), 1e-3)
    low = 0.4

    def x(t: float) -> float:
        return left + (width - left - right) * t / span

    def y(v: float) -> float:
        return top + (height - top - bottom) * (1 - (max(v, low) - low) / (1 - low))

    grid = "".join(
        f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
        f'stroke="{colour}" stroke-dasharray="{dash}"/>'
        f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{label}</text>'
        for v, colour, dash, label in (
            (1.0, "#dde1e6", "0", "1.0"),
            (_DECODE_LINE, "#17612f", "5 4", f"{_DECODE_LINE:.2f}"),
            (0.5, "#9b1c1c", "2 4", "0.5"),
        )
    )
    ticks = "".join(
        f'<text x="{x(span * i / 4):.1f}" y="{height - 14}" text-anchor="middle">'
        f"{span * i / 4:.1f} s</text>"
        for i in range(5)
    )
    line = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v, _ in points)
    dots = "".join(
        f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="4" stroke="#1f5fbf" stroke-width="1.5" '
        f'fill="{"#1f5fbf" if d else "#fff"}"><title>{t:.2f} s: {v:.3f}</title></circle>'
        for t, v, d in points
    )
    return (
        f'<svg viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" '
        'role="img" aria-label="watermark bit agreement over time">'
        f'<rect x="{left}" y="{top}" width="{width - left - right}" '
        f'height="{height - top - bottom}" fill="#fafbfc" stroke="#dde1e6"/>{grid}{ticks}'
        f'<polyline points="{line}" fill="none" stroke="#1f5fbf" stroke-width="1.5"/>{dots}'
        f'<text x="{(left + width - right) / 2}" y="{height - 1}" text-anchor="middle">'
        "time in the clip</text></svg>"
    )


def _table(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in rows)
    return f"<table>{body}</table>"


def _link(url: str) -> str:
    safe = escape(url)
    if url.startswith(("http://", "https://")):
        return f'<a href="{safe}" rel="noreferrer">{safe}</a>'
    return safe


def _footer() -> str:
    return (
        '<section class="card"><h3>Checking this report</h3><p>Every picture and report in '
        "this folder, and this page, is listed with its SHA-256 in <code>evidence.json</code>, "
        "whose statement is signed with the reporter's Ed25519 key (and time-stamped by an "
        "RFC 3161 authority when one was configured). Run <code>provenance report verify "
        "&lt;this folder&gt;</code> to check the signature, every listed hash, and the "
        "examined files if they are still where they were.</p></section>"
    )
