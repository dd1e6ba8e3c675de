"""The perceptual fingerprint: stable under re-encoding and resizing, broken by a patch."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from provenance.fingerprint import Fingerprint, fingerprint
from provenance.media.synthetic import avatar_frame


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reencode_and_resize_match(seed: int) -> None:
    frame = avatar_frame(360, 640, seed=seed)
    signed = fingerprint(frame)
    for quality in (95, 85, 75):
        assert signed.compare(fingerprint(_jpeg(frame, quality))).matches
    half = np.asarray(Image.fromarray(frame).resize((320, 180), Image.Resampling.BICUBIC))
    assert signed.compare(fingerprint(half)).matches


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pasted_patch_does_not_match(seed: int) -> None:
    frame = avatar_frame(360, 640, seed=seed)
    patched = frame.copy()
    patched[140:200, 280:360] = frame[0:60, 0:80]  # background pasted over the face
    comparison = fingerprint(frame).compare(fingerprint(_jpeg(patched, 90)))
    assert not comparison.matches
    assert comparison.changed_cells > 0


def test_encode_round_trip_and_errors() -> None:
    value = fingerprint(avatar_frame(64, 64))
    again = Fingerprint.decode(value.encode())
    assert np.array_equal(again.means, value.means)
    assert np.array_equal(again.contrasts, value.contrasts)
    with pytest.raises(ValueError, match="bytes"):
        Fingerprint.decode("AAAA")
