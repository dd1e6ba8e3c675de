"""Manifest definition: what stamping writes is what verification reads back."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from provenance.consent import grant_license
from provenance.errors import ManifestError
from provenance.fingerprint import (
    ALGORITHM,
    CLIP_GRID,
    FingerprintTimeline,
    TimelineBuilder,
    fingerprint,
)
from provenance.manifest import (
    CLIP_LABEL,
    CONSENT_LABEL,
    FINGERPRINT_LABEL,
    POSTER_IDENTIFIER,
    TRAINED_ALGORITHMIC_MEDIA,
    ClipFacts,
    DeclaredUse,
    StampClaims,
    build_definition,
    parse_claims,
)
from provenance.media.synthetic import avatar_frame
from provenance.owner import OwnerKey
from provenance.watermark import ContentId


def _claims(timespan: tuple[int, int] | None = None) -> StampClaims:
    license = grant_license(
        owner_key=OwnerKey.generate(),
        owner_name="Ada",
        face_id="face-7",
        licensee="Studio",
        allow=["education"],
        deny=["politics"],
        territories=["EU"],
        not_after=date.today() + timedelta(days=30),
        intended_uses="Recorded lecture videos for an online university course in physics",
    )
    return StampClaims(
        content_id=ContentId.from_hex("00ff112233445566"),
        watermark_alg="org.example.alg.1",
        watermark_alg_params="bits=156",
        grant=license.grant,
        owner_signature=license.signature,
        license_sha256=license.sha256(),
        use=DeclaredUse("education", "DE", "Studio"),
        stamped_at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC),
        vendor="Studio",
        fingerprint=fingerprint(avatar_frame(64, 64)),
        timespan_ms=timespan,
    )


def _as_read(definition: dict[str, object]) -> dict[str, object]:
    return {a["label"]: a["data"] for a in definition["assertions"]}  # type: ignore[attr-defined]


@pytest.mark.parametrize("timespan", [None, (0, 10_000)])
def test_round_trip(timespan: tuple[int, int] | None) -> None:
    claims = _claims(timespan)
    definition = build_definition(claims, title="t.png")
    actions = _as_read(definition)["c2pa.actions.v2"]["actions"]  # type: ignore[index]
    assert actions[0]["action"] == "c2pa.created"
    assert actions[0]["digitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
    assert actions[1]["action"] == "c2pa.watermarked"
    parsed = parse_claims(_as_read(definition))
    assert parsed.content_id == claims.content_id
    assert parsed.grant == claims.grant
    assert parsed.use == claims.use
    assert parsed.timespan_ms == timespan
    assert parsed.fingerprint is not None
    parsed.grant.verify(parsed.owner_signature)


def test_missing_or_malformed_assertions() -> None:
    assertions = _as_read(build_definition(_claims(), title="t"))
    with pytest.raises(ManifestError, match=CONSENT_LABEL):
        parse_claims({k: v for k, v in assertions.items() if k != CONSENT_LABEL})
    broken = dict(assertions)
    broken[CONSENT_LABEL] = {"grant": "nonsense"}
    with pytest.raises(ManifestError, match="malformed"):
        parse_claims(broken)


def _clip() -> ClipFacts:
    builder = TimelineBuilder(interval_ms=1000)
    for i in range(0, 100, 10):
        t_ms = i * 1001 // 30
        builder.offer(t_ms, np.full((48, 64), 16 + 2 * i, np.uint8), full_range=False)
    return ClipFacts(
        frames=100,
        duration_ms=3337,
        width=64,
        height=48,
        fps="30000/1001",
        timeline=builder.build(),
    )


def test_still_definition_is_unchanged() -> None:
    definition = build_definition(_claims(), title="t.png")
    assert list(definition) == ["claim_generator_info", "title", "assertions"]
    labels = [a["label"] for a in definition["assertions"]]
    assert labels == [
        "c2pa.actions.v2",
        "c2pa.soft-binding",
        CONSENT_LABEL,
        "cawg.training-mining",
        FINGERPRINT_LABEL,
    ]
    assert definition["assertions"][-1]["data"]["grid"] == 32
    assert parse_claims(_as_read(definition)).clip is None


def test_clip_round_trip() -> None:
    claims = dataclasses.replace(_claims((0, 3337)), fingerprint=None, clip=_clip())
    definition = build_definition(claims, title="clip.mp4", poster=True)
    assert definition["thumbnail"] == {"format": "image/jpeg", "identifier": POSTER_IDENTIFIER}
    # What c2pa stores is the JSON of the definition; read it back the same way.
    data = json.loads(json.dumps(_as_read(definition)))
    clip = data[CLIP_LABEL]
    assert {k: clip[k] for k in ("frames", "duration_ms", "width", "height", "fps")} == {
        "frames": 100,
        "duration_ms": 3337,
        "width": 64,
        "height": 48,
        "fps": "30000/1001",
    }
    timeline = clip["timeline"]
    assert (timeline["alg"], timeline["grid"], timeline["interval_ms"]) == (ALGORITHM, 16, 1000)
    assert [e["t_ms"] for e in timeline["entries"]] == [0, 1001, 2002, 3003]
    parsed = parse_claims(data)
    assert parsed.timespan_ms == (0, 3337)
    assert parsed.fingerprint is None
    assert parsed.clip == claims.clip
    assert parsed.clip is not None and parsed.clip.timeline is not None
    assert parsed.clip.timeline.grid == CLIP_GRID
    # Equality is entry by entry: a timeline missing its last entry is another clip's.
    shorter = FingerprintTimeline(grid=CLIP_GRID, entries=parsed.clip.timeline.entries[:-1])
    assert parsed.clip != dataclasses.replace(parsed.clip, timeline=shorter)


def test_clip_without_timeline_or_poster() -> None:
    clip = dataclasses.replace(_clip(), timeline=None)
    definition = build_definition(dataclasses.replace(_claims(), clip=clip), title="c.mp4")
    assert "thumbnail" not in definition
    assert "timeline" not in _as_read(definition)[CLIP_LABEL]  # type: ignore[operator]
    assert parse_claims(_as_read(definition)).clip == clip


def _broken_clips(good: dict[str, Any]) -> list[Any]:
    timeline = good["timeline"]
    return [
        "not an object",
        {k: v for k, v in good.items() if k != "frames"},
        {**good, "frames": -1},
        {**good, "width": 0},
        {**good, "duration_ms": 1.5},
        {**good, "fps": "30"},
        {**good, "fps": "30/0"},
        {**good, "timeline": {**timeline, "alg": "org.example.other"}},
        {**good, "timeline": {**timeline, "entries": [{"t_ms": 0, "value": "AAAA"}]}},
    ]


def test_malformed_clip_assertion() -> None:
    claims = dataclasses.replace(_claims(), clip=_clip())
    assertions = json.loads(json.dumps(_as_read(build_definition(claims, title="c.mp4"))))
    for broken in _broken_clips(assertions[CLIP_LABEL]):
        with pytest.raises(ManifestError, match=CLIP_LABEL):
            parse_claims({**assertions, CLIP_LABEL: broken})


def test_clip_facts_validate() -> None:
    with pytest.raises(ValueError, match="fps"):
        ClipFacts(frames=1, duration_ms=33, width=2, height=2, fps="29.97")
    with pytest.raises(ValueError, match="size"):
        ClipFacts(frames=1, duration_ms=33, width=0, height=2, fps="30/1")
