"""The native luma engine: round trips, resolutions, attacks, clip aggregation, null."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from provenance.errors import ImageTooSmallError, InputError
from provenance.media.synthetic import avatar_frame
from provenance.watermark import ClipDecoder, ContentId, encode_payload
from provenance.watermark._luma_pattern import pattern_for, render, sample_cells
from provenance.watermark._luma_sync import FRACTIONS, SYNC_FOUND_Z, ZOOM_RANGE, _Search, align
from provenance.watermark.luma import LumaIssEngine, LumaMarker

ENGINE = LumaIssEngine()
CID = ContentId.from_hex("00010000deadbeef")
BITS = encode_payload(CID)

Image8 = NDArray[np.uint8]


def _textured(height: int, width: int, seed: int = 0) -> Image8:
    """An avatar frame with mid-frequency texture, like real footage."""
    rng = np.random.default_rng(seed)
    frame = avatar_frame(height, width, seed=seed).astype(np.float32)
    noise = cv2.resize(
        rng.normal(0, 8, (height // 8, width // 8)).astype(np.float32),
        (width, height),
        interpolation=cv2.INTER_CUBIC,
    )
    marked: Image8 = np.clip(frame + noise[..., None], 0, 255).astype(np.uint8)
    return marked


def _gray(rgb: Image8) -> Image8:
    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)


def _jpeg(rgb: Image8, quality: int) -> Image8:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def _psnr(a: Image8, b: Image8) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float(10 * np.log10(255**2 / mse))


@pytest.fixture(scope="module")
def frame_1080() -> Image8:
    return _textured(1080, 1920)


@pytest.fixture(scope="module")
def marked_1080(frame_1080: Image8) -> Image8:
    return ENGINE.embed(frame_1080, CID)


def test_round_trip_and_input_untouched(frame_1080: Image8, marked_1080: Image8) -> None:
    before = frame_1080.copy()
    marked = ENGINE.embed(frame_1080, CID)
    assert np.array_equal(frame_1080, before)
    assert marked.shape == frame_1080.shape and marked.dtype == np.uint8
    found = ENGINE.detect(marked)
    assert found.content_id == CID and found.corrected_bits == 0
    assert found.false_alarm_probability is not None and found.false_alarm_probability < 1e-12


def test_quality(frame_1080: Image8, marked_1080: Image8) -> None:
    assert _psnr(frame_1080, marked_1080) >= 40.0
    # Luma only: R, G and B move together, so chroma is untouched.
    delta = marked_1080.astype(np.int16) - frame_1080.astype(np.int16)
    unclipped = (frame_1080 > 10).all(axis=-1) & (frame_1080 < 245).all(axis=-1)
    assert np.array_equal(delta[..., 0][unclipped], delta[..., 1][unclipped])
    assert np.array_equal(delta[..., 0][unclipped], delta[..., 2][unclipped])


@pytest.mark.parametrize("height", [720, 480, 360])
def test_survives_downscale(marked_1080: Image8, height: int) -> None:
    width = height * 16 // 9
    small = np.asarray(
        cv2.resize(marked_1080, (width, height), interpolation=cv2.INTER_AREA), np.uint8
    )
    assert ENGINE.detect(small).content_id == CID


@pytest.mark.parametrize(("height", "width"), [(720, 1280), (480, 640), (512, 512), (1280, 720)])
def test_round_trip_at_native_resolutions(height: int, width: int) -> None:
    frame = _textured(height, width, seed=3)
    assert ENGINE.detect(ENGINE.embed(frame, CID)).content_id == CID


@pytest.mark.parametrize("quality", [90, 75, 50])
def test_survives_jpeg(marked_1080: Image8, quality: int) -> None:
    assert ENGINE.detect(_jpeg(marked_1080, quality)).content_id == CID


def test_survives_shift_crop_and_gain(marked_1080: Image8) -> None:
    shifted = np.roll(marked_1080, (2, 2), axis=(0, 1))
    assert ENGINE.detect(shifted).content_id == CID
    height, width = marked_1080.shape[:2]
    cropped = marked_1080[height // 40 : height - height // 40, width // 40 : width - width // 40]
    assert ENGINE.detect(np.ascontiguousarray(cropped)).content_id == CID
    brighter = np.clip(marked_1080.astype(np.float32) * 1.1, 0, 255).astype(np.uint8)
    assert ENGINE.detect(brighter).content_id == CID


def test_luma_plane_path_matches_rgb_path(frame_1080: Image8) -> None:
    luma = _gray(frame_1080)
    before = luma.copy()
    marked = ENGINE.embed_luma(luma, CID)
    assert np.array_equal(luma, before)
    assert ENGINE.read_soft_luma(marked).hard_bits.tolist() == BITS.tolist()
    # A limited-range plane (16..235, as in yuv420p video) reads the same.
    limited = (16 + marked.astype(np.float32) * 219 / 255).round().astype(np.uint8)
    assert np.array_equal(ENGINE.read_soft_luma(limited).hard_bits, BITS)


def test_unmarked_content_is_never_detected() -> None:
    """The null: many unmarked frames and attacked versions; none may decode."""
    rng = np.random.default_rng(7)
    frames = [_textured(360, 640, seed=s) for s in range(12)]
    frames += [rng.integers(0, 256, (360, 640, 3), dtype=np.uint8) for _ in range(6)]
    frames += [np.full((360, 640, 3), v, np.uint8) for v in (0, 128, 255)]
    frames += [_jpeg(f, 75) for f in frames[:6]]
    z_scores = []
    for frame in frames:
        soft = ENGINE.read_soft(frame)
        assert not ENGINE.detect(frame).detected
        z_scores.append(soft.values)
    z = np.concatenate(z_scores[:18])
    # Per-bit evidence on unmarked content is close to standard normal, which is what
    # the payload code's false-alarm bound assumes about the bits it is handed.
    assert abs(float(z.mean())) < 0.1 and 0.7 < float(z.std()) < 1.3


def test_clip_aggregation_recovers_where_frames_fail(frame_1080: Image8) -> None:
    rng = np.random.default_rng(3)
    small = np.asarray(cv2.resize(frame_1080, (640, 360), interpolation=cv2.INTER_AREA), np.uint8)
    marker = LumaMarker(CID)
    decoder = ClipDecoder(ENGINE)
    single_frame_hits = 0
    for _ in range(16):
        luma = _gray(small)
        noisy = np.clip(marker.mark(luma) + rng.normal(0, 28, luma.shape), 0, 255).astype(np.uint8)
        evidence = ENGINE.read_soft_luma(noisy)
        single_frame_hits += int(np.array_equal(evidence.hard_bits, BITS))
        decoder.add_evidence(evidence)
    assert single_frame_hits < 16
    assert decoder.result().content_id == CID and decoder.frames == 16


def test_marker_follows_a_pan() -> None:
    canvas = _textured(540, 1100, seed=5)
    marker = LumaMarker(CID)
    offsets = []
    for step in range(8):
        frame = np.ascontiguousarray(canvas[:, 8 * step : 8 * step + 960])
        luma = _gray(frame)
        marked = marker.mark(luma)
        offsets.append(marker.offset)
        assert ENGINE.read_soft_luma(marked).hard_bits.tolist() == BITS.tolist()
    # 8 px per frame at 960 px wide is 2.13 cells of the 256-cell grid, to the left.
    assert offsets[-1][1] == pytest.approx(-7 * 8 * 256 / 960, abs=0.3)
    assert abs(offsets[-1][0]) < 0.3


def _zoomed(canvas: Image8, zoom: float, shift: float, size: tuple[int, int]) -> Image8:
    """A ``size`` view of ``canvas``, magnified ``zoom`` times about its centre and moved
    ``shift`` pixels to the left: a camera zooming in while it pans right."""
    height, width = size
    rows, cols = canvas.shape[:2]
    transform = np.array(
        [
            [zoom, 0, (width - 1) / 2 - zoom * (cols - 1) / 2 - shift],
            [0, zoom, (height - 1) / 2 - zoom * (rows - 1) / 2],
        ]
    )
    view = cv2.warpAffine(canvas, transform, (width, height), flags=cv2.INTER_LINEAR)
    return np.asarray(view, dtype=np.uint8)


def test_marker_follows_a_zoom() -> None:
    canvas = _textured(480, 800, seed=8)
    marker = LumaMarker(CID)
    for step in range(5):
        frame = _zoomed(canvas, 1 + 0.001 * step, 2.0 * step, (360, 640))
        marked = marker.mark(_gray(frame))
        assert ENGINE.read_soft_luma(marked).hard_bits.tolist() == BITS.tolist()
    # 0.4 % in four frames, inside the band the detector reads as unzoomed, measured to
    # within 0.1 % (0.13 cells at the frame's edge); the pan is 8 px at 640 px wide, 3.2
    # cells of the 256-cell grid, to the left.
    assert marker.zoom == pytest.approx(1.004, abs=0.001)
    assert marker.offset[1] == pytest.approx(-8 * 256 / 640, abs=0.15)
    assert abs(marker.offset[0]) < 0.15


def test_a_long_zoom_is_followed_in_a_band_and_stays_readable() -> None:
    """10 % of zoom over 48 frames: more than the detector searches, so the followed zoom
    re-anchors whenever it leaves the band, and every frame still decodes."""
    canvas = _textured(480, 800, seed=9)
    marker = LumaMarker(CID)
    decoder = ClipDecoder(ENGINE)
    zooms = []
    for step in range(48):
        frame = _zoomed(canvas, 1 + 0.10 * step / 47, 1.0 * step, (360, 640))
        marked = marker.mark_rgb(frame)
        zooms.append(marker.zoom)
        assert ENGINE.detect(_jpeg(marked, 75)).content_id == CID
        decoder.add(_jpeg(marked, 40))
    assert decoder.result().content_id == CID
    steps = np.diff(zooms)
    assert max(abs(z - 1) for z in zooms) <= ZOOM_RANGE
    # Between re-anchors the pattern grows with the picture (~0.2 % per frame, 0.7 px at
    # the edge of a 640 px frame), in steps of at least 1 px at the edge: every other frame.
    growing = steps[steps > 0]
    assert float(np.median(growing)) == pytest.approx(2 * 0.10 / 47, rel=0.25)
    # ...and it jumps back across the band every 5.8 % of zoom: at +3 % and at +9.3 %.
    assert int(np.sum(steps < -0.05)) == 2


def _rescaled(rgb: Image8, zoom: float) -> Image8:
    """``rgb`` magnified (or shrunk) ``zoom`` times about its centre, same size: a
    platform's crop-and-rescale, or a zoomed-out copy with a replicated border."""
    height, width = rgb.shape[:2]
    transform = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), 0, zoom)
    out = cv2.warpAffine(
        rgb, transform, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return np.asarray(out, dtype=np.uint8)


@pytest.mark.parametrize("zoom", [1.015, 1.03, 0.985, 0.97])
def test_scale_search_reads_zoomed_frames_and_not_unmarked_ones(zoom: float) -> None:
    frame = _textured(360, 640, seed=11)
    marked = _rescaled(ENGINE.embed(frame, CID), zoom)
    pattern = pattern_for(portrait=False)
    found = align(_gray(marked), pattern)
    # The search finds the scale to within a quarter step of 1 %...
    assert found.fraction == pytest.approx(1 / zoom, abs=0.003)
    assert ENGINE.detect(marked).content_id == CID
    # ...and does not invent one in the same frame unmarked.
    unmarked = _rescaled(frame, zoom)
    assert align(_gray(unmarked), pattern).sync_z == 0.0
    assert not ENGINE.detect(unmarked).detected


def test_scale_search_stops_early_only_on_a_sure_peak() -> None:
    frame = _textured(360, 640, seed=14)
    pattern = pattern_for(portrait=False)
    marked = _Search(_gray(ENGINE.embed(frame, CID)), pattern)
    assert marked.coarse() == 400 and len(marked.peaks) <= 5
    unmarked = _Search(_gray(frame), pattern)
    unmarked.coarse()
    assert len(unmarked.peaks) == len(FRACTIONS)


def _captioned(rgb: Image8) -> Image8:
    """An opaque caption bar with white text over 80-92 % of the height."""
    out = rgb.copy()
    height, width = out.shape[:2]
    out[int(0.80 * height) : int(0.92 * height)] = 16
    cv2.putText(
        out,
        "BREAKING: avatar says hello",
        (width // 20, int(0.89 * height)),
        cv2.FONT_HERSHEY_SIMPLEX,
        height / 400,
        (255, 255, 255),
        max(1, height // 180),
    )
    return out


def test_scale_search_sees_through_a_caption_bar() -> None:
    """The bar's edges and text are far stronger than the mark; the search clips them."""
    frame = _textured(360, 640, seed=13)
    captioned = _jpeg(_captioned(_rescaled(ENGINE.embed(frame, CID), 1.02)), 75)
    found = align(_gray(captioned), pattern_for(portrait=False))
    assert found.sync_z >= SYNC_FOUND_Z
    assert found.fraction == pytest.approx(1 / 1.02, abs=0.003)
    assert ENGINE.detect(captioned).content_id == CID


def test_scale_search_reads_a_crop_of_a_zoomed_clip_frame() -> None:
    """The worst case the search covers: a 10 % crop of a frame whose pattern the clip
    marker had zoomed by the whole band."""
    canvas = _textured(480, 800, seed=12)
    marker = LumaMarker(CID)
    # Slowly enough that the followed zoom steps by under 0.4 % (1.0 px at the edge plus
    # one frame's zoom) and lands within 0.4 % of the band's edge before it jumps.
    for step in range(30):
        marked = marker.mark_rgb(_zoomed(canvas, 1 + 0.0015 * step, 0.0, (360, 640)))
        if marker.zoom > 1 + ZOOM_RANGE - 0.004:
            break
    assert marker.zoom > 1 + ZOOM_RANGE - 0.004
    cropped = np.ascontiguousarray(marked[18:342, 32:608])
    assert ENGINE.detect(_jpeg(cropped, 75)).content_id == CID


def test_static_shot_keeps_a_static_pattern() -> None:
    frame = _textured(360, 640, seed=2)
    luma = _gray(frame)
    marker = LumaMarker(CID)
    first = marker.mark(luma)
    for _ in range(4):
        assert np.array_equal(marker.mark(luma), first)
    assert marker.offset == (0.0, 0.0) and marker.zoom == 1.0


def test_a_pan_after_a_still_stretch_is_followed() -> None:
    """Repeated frames reuse the last residual; the first moving frame is tracked again."""
    canvas = _textured(540, 1100, seed=5)
    marker = LumaMarker(CID)
    still = _gray(np.ascontiguousarray(canvas[:, :960]))
    first = marker.mark(still)
    for _ in range(3):
        assert np.array_equal(marker.mark(still), first)
    for step in range(1, 6):
        luma = _gray(np.ascontiguousarray(canvas[:, 8 * step : 8 * step + 960]))
        assert ENGINE.read_soft_luma(marker.mark(luma)).hard_bits.tolist() == BITS.tolist()
    assert marker.offset[1] == pytest.approx(-5 * 8 * 256 / 960, abs=0.3)
    assert abs(marker.offset[0]) < 0.3


def test_a_moving_centre_under_still_borders_changes_the_mark_only_around_it() -> None:
    """Unchanged border strips skip tracking, not the host's mask: the held grid follows
    the moved texture there and nowhere else (``_luma_iss``)."""
    luma = _gray(_textured(360, 640, seed=2))
    moved = luma.copy()
    moved[140:220, 280:360] = np.roll(luma[140:220, 280:360], 9, axis=1)
    marker = LumaMarker(CID)
    first = marker.mark(luma).astype(np.int16) - luma
    marked = marker.mark(moved)
    assert marker.offset == (0.0, 0.0) and marker.zoom == 1.0
    changed = np.argwhere(marked.astype(np.int16) - moved != first)
    assert len(changed) > 0
    # A cell is 2.5 px here and the mask blurs over 2 cells: 30 px of margin is ample.
    assert changed[:, 0].min() >= 140 - 30 and changed[:, 0].max() < 220 + 30
    assert changed[:, 1].min() >= 280 - 30 and changed[:, 1].max() < 360 + 30
    assert ENGINE.read_soft_luma(marked).hard_bits.tolist() == BITS.tolist()


def test_integer_add_rounds_and_saturates_like_the_float_residual() -> None:
    luma = _gray(_textured(360, 640, seed=3))
    luma[:60] = 254
    luma[60:120] = 1
    residual = LumaMarker(CID, follow_motion=False).residual(luma)
    expected = np.clip(np.rint(luma + residual), 0, 255)
    marked = LumaMarker(CID, follow_motion=False).mark(luma)
    off = np.abs(marked.astype(np.int16) - expected)
    assert off.max() <= 1 and np.count_nonzero(off) < 1e-3 * off.size
    assert marked[:60].max() == 255 and marked[60:120].min() == 0


def test_flat_frames_get_a_weaker_mark() -> None:
    grey = np.full((360, 640, 3), 128, np.uint8)
    textured = _textured(360, 640, seed=4)
    flat_change = np.abs(ENGINE.embed(grey, CID).astype(np.int16) - 128).mean()
    texture_change = np.abs(ENGINE.embed(textured, CID).astype(np.int16) - textured).mean()
    assert 0 < flat_change < 0.6 * texture_change


@pytest.mark.parametrize("zoom", [1.0, 0.995, 1.004, 1.05])
def test_render_and_sample_are_inverse_at_any_placement(zoom: float) -> None:
    pattern = pattern_for(portrait=False)
    rows, cols = pattern.shape
    for offset in [(0.0, 0.0), (3.0, 5.0), (10.5, 20.25), (-7.3, -30.6), (80.2, 300.7)]:
        rendered = render(pattern.sync, 2 * rows * 4, 2 * cols * 4, offset, zoom)
        assert rendered.shape == (2 * rows * 4, 2 * cols * 4)
        fine = np.asarray(
            cv2.resize(rendered, (2 * cols, 2 * rows), interpolation=cv2.INTER_AREA), np.float32
        )
        back = sample_cells(fine, pattern.shape, offset, zoom=zoom)
        # Zoomed in, the cells pushed out of the frame read 0.
        shown = back != 0
        assert float(np.mean(shown)) > 0.99 / zoom**2 - 0.01
        assert float(np.mean(np.sign(back[shown]) == pattern.sync[shown])) > 0.97


def test_pattern_is_keyed_and_balanced() -> None:
    pattern = pattern_for(portrait=False)
    assert pattern.shape == (144, 256)
    assert abs(float(pattern.sync.mean())) < 0.02 and abs(float(pattern.chips.mean())) < 0.02
    assert pattern.cells_per_bit.min() >= 236 and pattern.cells_per_bit.max() <= 237
    portrait = pattern_for(portrait=True)
    assert portrait.shape == (256, 144) and np.array_equal(portrait.sync, pattern.sync.T)


def test_bad_input() -> None:
    with pytest.raises(ImageTooSmallError, match="needs at least 144x144"):
        ENGINE.embed(np.zeros((100, 300, 3), np.uint8), CID)
    with pytest.raises(InputError, match="RGB array"):
        ENGINE.detect(np.zeros((300, 300), np.uint8))
    with pytest.raises(InputError, match="uint8"):
        ENGINE.read_soft_luma(np.zeros((300, 300), np.float32))


def test_clip_marker_marks_rgb_like_the_luma_path() -> None:
    frame = _textured(360, 640, seed=6)
    marker = ENGINE.clip_marker(CID)
    marked = marker.mark_rgb(frame)
    assert np.array_equal(marked, ENGINE.embed(frame, CID))
    # R, G and B move together, so chroma is untouched (up to rounding at saturation).
    delta = marked.astype(np.int16) - frame.astype(np.int16)
    inside = (frame > 8).all(axis=2) & (frame < 247).all(axis=2)
    assert np.array_equal(delta[..., 0][inside], delta[..., 1][inside])
    assert ENGINE.detect(marked).content_id == CID
