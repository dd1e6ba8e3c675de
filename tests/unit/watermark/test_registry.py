"""Engine registry: names, lazy import, alg lookup and multi-engine detection."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from provenance.errors import WatermarkError
from provenance.watermark import (
    DEFAULT_ENGINE,
    ContentId,
    Detection,
    _registry,
    detect_any,
    engine_for_alg,
    engine_names,
    get_engine,
)

_ROOT = Path(__file__).resolve().parents[3]


def test_names() -> None:
    assert DEFAULT_ENGINE == "luma-iss"
    assert engine_names() == ("luma-iss", "imwm-dwtdct", "imwm-dwtdctsvd")


def test_get_engine_is_cached() -> None:
    assert get_engine("imwm-dwtdct") is get_engine("imwm-dwtdct")


def test_unknown_engine_lists_known_names() -> None:
    with pytest.raises(WatermarkError, match="known: luma-iss, imwm-dwtdct, imwm-dwtdctsvd"):
        get_engine("trustmark")


@pytest.mark.parametrize("name", ["luma-iss", "imwm-dwtdctsvd", "imwm-dwtdct"])
def test_registry_entries_agree_with_engines(name: str) -> None:
    engine = get_engine(name)
    assert engine.name == name
    assert engine.alg == _registry._KNOWN[name].alg
    assert engine_for_alg(engine.alg) is engine


def test_unknown_alg() -> None:
    message = re.escape("unknown watermark algorithm 'com.adobe.trustmark.Q' (known: ")
    with pytest.raises(WatermarkError, match=message):
        engine_for_alg("com.adobe.trustmark.Q")


def test_import_is_lazy() -> None:
    # `provenance --help` must not pay for torch (pulled in by imwatermark) or OpenCV.
    code = (
        "import sys, provenance.watermark as w; w.engine_names(); "
        "print(sorted(m for m in ('imwatermark', 'torch', 'cv2') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(_ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_detection_values() -> None:
    missing = Detection(engine="e")
    assert not missing.detected and missing.confidence == 0.0
    found = Detection("e", ContentId(1), corrected_bits=2, false_alarm_probability=0.25)
    assert found.detected and found.confidence == 0.75


def test_detect_any() -> None:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:256, 0:256]
    frame = np.stack([yy, xx, (yy + xx) // 2], axis=-1).astype(np.uint8)
    frame = np.clip(frame + rng.normal(0, 2, frame.shape), 0, 255).astype(np.uint8)
    cid = ContentId.from_hex("0001000000000abc")
    marked = get_engine("imwm-dwtdctsvd").embed(frame, cid)

    found = detect_any(marked)
    assert found.engine == "imwm-dwtdctsvd" and found.content_id == cid
    single = get_engine("imwm-dwtdctsvd").detect(marked).false_alarm_probability
    assert single is not None and found.false_alarm_probability == pytest.approx(3 * single)

    only = detect_any(marked, names=["imwm-dwtdctsvd"])
    assert only.false_alarm_probability == pytest.approx(single)

    none = detect_any(frame)
    assert none == Detection(engine=DEFAULT_ENGINE)

    with pytest.raises(WatermarkError, match="unknown watermark engine"):
        detect_any(frame, names=["nope"])
