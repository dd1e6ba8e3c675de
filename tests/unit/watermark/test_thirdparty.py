"""Third-party (Stable Diffusion) imwatermark marks: each embedder's path, the null, hazards.

Marked images are made the way each tool makes them. The content is ``avatar_frame`` with
seeds whose plain round trip works for every path: dwtDct cannot hold a mark everywhere
(the float path misreads where chroma straddles zero, e.g. seed 2 at 512x512 reads 27/48
even straight from the encoder), which is the library's limit, not this detector's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

from provenance.errors import InputError, WatermarkError
from provenance.media.synthetic import avatar_frame
from provenance.watermark.thirdparty import (
    HYPOTHESES_PER_SCHEME,
    MAX_FALSE_ALARM_PROBABILITY,
    SCHEMES,
    ThirdPartyScheme,
    detect_third_party,
)

_Image = NDArray[np.uint8]
_SCHEMES = {scheme.scheme: scheme for scheme in SCHEMES}
_GOOD_SEEDS = (0, 3)


def _encoder(message: NDArray[np.bool_]) -> object:
    from imwatermark import WatermarkEncoder

    encoder = WatermarkEncoder()
    encoder.set_watermark("bits", [int(bit) for bit in message])
    return encoder


def _to_uint8(image: NDArray[np.generic]) -> _Image:
    rounded: _Image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return rounded


def mark_uint8_bgr(rgb: _Image, message: NDArray[np.bool_]) -> _Image:
    """imwatermark's own recipe: a uint8 BGR array in, 'bits' with dwtDct."""
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    marked = _encoder(message).encode(bgr, "dwtDct")  # type: ignore[attr-defined]
    return np.ascontiguousarray(np.asarray(marked, np.uint8)[..., ::-1])


def mark_float_bgr(rgb: _Image, message: NDArray[np.bool_]) -> _Image:
    """Stability's embedder and diffusers since PR #7013: float32 0..255 BGR."""
    bgr = np.ascontiguousarray(rgb[..., ::-1]).astype(np.float32)
    marked = _encoder(message).encode(bgr, "dwtDct")  # type: ignore[attr-defined]
    return _to_uint8(np.asarray(marked)[..., ::-1])


def mark_float_rgb_as_bgr(rgb: _Image, message: NDArray[np.bool_]) -> _Image:
    """diffusers before PR #7013: float32 RGB handed over as if it were BGR."""
    marked = _encoder(message).encode(rgb.astype(np.float32), "dwtDct")  # type: ignore[attr-defined]
    return _to_uint8(np.asarray(marked))


_PATHS: dict[str, Callable[[_Image, NDArray[np.bool_]], _Image]] = {
    "uint8-bgr": mark_uint8_bgr,
    "float32-bgr": mark_float_bgr,
    "float32-rgb-as-bgr": mark_float_rgb_as_bgr,
}


@pytest.mark.parametrize("seed", _GOOD_SEEDS)
@pytest.mark.parametrize("path", sorted(_PATHS))
@pytest.mark.parametrize("scheme", sorted(_SCHEMES))
def test_each_embedder_is_detected(scheme: str, path: str, seed: int) -> None:
    expected = _SCHEMES[scheme]
    marked = _PATHS[path](avatar_frame(512, 512, seed=seed), expected.bit_array())
    marks = detect_third_party(marked)
    assert [mark.scheme for mark in marks] == [scheme]
    mark = marks[0]
    assert mark.bits == expected.bits and mark.message == expected.message_hex
    assert mark.matches >= expected.threshold
    assert mark.false_alarm_probability <= MAX_FALSE_ALARM_PROBABILITY
    assert mark.label.startswith("Stable Diffusion")


def test_sdxl_at_1024_reads_every_bit() -> None:
    sdxl = _SCHEMES["sdxl"]
    marks = detect_third_party(mark_uint8_bgr(avatar_frame(1024, 1024, seed=1), sdxl.bit_array()))
    assert len(marks) == 1 and marks[0].matches == 48 and marks[0].hypothesis == "uint8 BGR"
    assert marks[0].message == "b3ec907bb19e"


def test_inverted_reading_is_a_hypothesis() -> None:
    # A float-embedded mark on warm content reads fully inverted through a uint8 decoder
    # (watermark notes section 4); here the inverse message stands in for that reading.
    sdxl = _SCHEMES["sdxl"]
    marked = mark_uint8_bgr(avatar_frame(512, 512, seed=0), ~sdxl.bit_array())
    (mark,) = detect_third_party(marked)
    assert mark.scheme == "sdxl" and mark.hypothesis.endswith("inverted")


def test_other_48_bit_message_is_not_sdxl() -> None:
    other = np.unpackbits(np.frombuffer(bytes.fromhex("0123456789ab"), np.uint8)) != 0
    for seed in _GOOD_SEEDS:
        assert detect_third_party(mark_uint8_bgr(avatar_frame(512, 512, seed=seed), other)) == ()


def _unmarked() -> dict[str, _Image]:
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:512, 0:768]
    images = {
        "grey": np.full((512, 512, 3), 128, np.uint8),
        "black": np.zeros((512, 512, 3), np.uint8),
        "blue": np.tile(np.array([0, 0, 255], np.uint8), (512, 512, 1)),
        "skin": np.tile(np.array([224, 172, 140], np.uint8), (512, 512, 1)),
        "gradient": np.stack([xx * 255 // 767] * 3, -1).astype(np.uint8),
        "colour-gradient": np.stack(
            [xx * 255 // 767, yy * 255 // 511, 255 - xx * 255 // 767], -1
        ).astype(np.uint8),
    }
    for seed in range(6):
        images[f"avatar-{seed}"] = avatar_frame(512 + 64 * (seed % 3), 512, seed=seed)
    for index in range(3):
        images[f"noise-{index}"] = rng.integers(0, 256, (512, 640, 3), dtype=np.uint8)
    return images


@pytest.mark.parametrize("name", sorted(_unmarked()))
def test_unmarked_content_is_not_detected(name: str) -> None:
    assert detect_third_party(_unmarked()[name]) == ()


@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: s.scheme)
def test_all_zero_null_is_far_below_threshold(scheme: ThirdPartyScheme) -> None:
    # Flat chroma reads as all zeros under every hypothesis (notes 2.2 (d)), so the best it
    # can score is the count of the message's majority bit value.
    ones = int(scheme.bit_array().sum())
    assert max(ones, scheme.bits - ones) < scheme.threshold - 10


def test_thresholds_follow_the_documented_union_bound() -> None:
    assert HYPOTHESES_PER_SCHEME * len(SCHEMES) == 24
    assert {s.scheme: (s.threshold, s.bits) for s in SCHEMES} == {
        "sdxl": (43, 48),
        "sd2": (31, 32),
        "sd1": (100, 136),
    }


def test_small_images_are_skipped() -> None:
    sdxl = _SCHEMES["sdxl"]
    marked = mark_uint8_bgr(avatar_frame(512, 512, seed=0), sdxl.bit_array())
    assert detect_third_party(marked[:255]) == ()
    assert detect_third_party(np.zeros((64, 64, 3), np.uint8)) == ()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros((300, 300), np.uint8), "expected an \\(H, W, 3\\) RGB array"),
        (np.zeros((300, 300, 4), np.uint8), "expected an \\(H, W, 3\\) RGB array"),
        (np.zeros((300, 300, 3), np.float32), "expected uint8 pixels"),
    ],
)
def test_bad_input_raises_input_error(bad: NDArray[np.generic], message: str) -> None:
    with pytest.raises(InputError, match=message):
        detect_third_party(bad)  # type: ignore[arg-type]


def test_engine_failure_is_wrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    import imwatermark

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(imwatermark.WatermarkDecoder, "decode", boom)
    with pytest.raises(WatermarkError, match="third-party: dwtDct decoding failed: boom"):
        detect_third_party(avatar_frame(256, 256, seed=0))
