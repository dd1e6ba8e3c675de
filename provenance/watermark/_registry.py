"""Lazy registry of watermark engines by name.

Entries hold a module path and a class name, as imageio's plugin registry does, so listing
engines imports nothing and an engine's dependencies load only when it is first used.
Adding an engine is one module plus one line in :data:`_KNOWN`.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterable
from functools import cache

import numpy as np
from numpy.typing import NDArray

from ..errors import WatermarkError
from .base import Detection, WatermarkEngine

__all__ = [
    "DEFAULT_ENGINE",
    "detect_any",
    "engine_algs",
    "engine_for_alg",
    "engine_names",
    "get_engine",
]


@dataclasses.dataclass(frozen=True)
class _EngineEntry:
    name: str
    alg: str
    module_name: str
    class_name: str


# The alg ids are repeated here (not read from the classes) so that looking one up by
# soft-binding alg does not import every engine. test_registry checks they agree.
_KNOWN: dict[str, _EngineEntry] = {
    entry.name: entry
    for entry in (
        _EngineEntry(
            name="luma-iss",
            alg="org.avatar-provenance.luma-iss.1",
            module_name="provenance.watermark.luma",
            class_name="LumaIssEngine",
        ),
        _EngineEntry(
            name="imwm-dwtdctsvd",
            alg="org.avatar-provenance.imwatermark.dwtdctsvd.1",
            module_name="provenance.watermark.imwm",
            class_name="DwtDctSvdEngine",
        ),
        _EngineEntry(
            name="imwm-dwtdct",
            alg="org.avatar-provenance.imwatermark.dwtdct.1",
            module_name="provenance.watermark.imwm",
            class_name="DwtDctEngine",
        ),
    )
}

DEFAULT_ENGINE: str = "luma-iss"


def engine_names() -> tuple[str, ...]:
    """Names of all registered engines, the default first."""
    return (DEFAULT_ENGINE, *sorted(name for name in _KNOWN if name != DEFAULT_ENGINE))


def engine_algs() -> dict[str, str]:
    """Each registered engine's C2PA soft-binding ``alg`` by engine name, default first
    (without importing any engine)."""
    return {name: _KNOWN[name].alg for name in engine_names()}


@cache
def get_engine(name: str) -> WatermarkEngine:
    """The engine registered as ``name``, imported on first use and then reused.

    Args:
        name: a name from :func:`engine_names`.

    Raises:
        WatermarkError: no engine has that name, or its module failed to import.
    """
    entry = _KNOWN.get(name)
    if entry is None:
        known = ", ".join(engine_names())
        raise WatermarkError(f"unknown watermark engine {name!r} (known: {known})")
    try:
        module = importlib.import_module(entry.module_name)
    except ImportError as exc:
        raise WatermarkError(f"watermark engine {name!r} is unavailable: {exc}") from exc
    engine: WatermarkEngine = getattr(module, entry.class_name)()
    return engine


def engine_for_alg(alg: str) -> WatermarkEngine:
    """The engine whose C2PA soft-binding algorithm id is ``alg``.

    Args:
        alg: a soft-binding ``alg`` value read from a manifest.

    Raises:
        WatermarkError: no registered engine uses that id.
    """
    for entry in _KNOWN.values():
        if entry.alg == alg:
            return get_engine(entry.name)
    known = ", ".join(sorted(entry.alg for entry in _KNOWN.values()))
    raise WatermarkError(f"unknown watermark algorithm {alg!r} (known: {known})")


def detect_any(rgb: NDArray[np.uint8], names: Iterable[str] | None = None) -> Detection:
    """Try engines in order and return the first detection.

    Each engine is one more hypothesis, so the returned ``false_alarm_probability`` is the
    engine's own value times the number of engines in the list (a union bound over the whole
    search, ``spec/payload.md`` section 6), not just the engine that matched.

    Args:
        rgb: ``(height, width, 3)`` RGB ``uint8`` image.
        names: engines to try, in order; all registered engines (default first) if None.

    Returns:
        The first detection, else a not-detected result of the default engine.

    Raises:
        WatermarkError: an engine name is unknown or an engine failed.
        ImageTooSmallError: the image is below an engine's minimum size.
        InputError: ``rgb`` is not an ``(H, W, 3)`` ``uint8`` array.
    """
    candidates = engine_names() if names is None else tuple(names)
    for name in candidates:
        detection = get_engine(name).detect(rgb)
        if detection.detected and detection.false_alarm_probability is not None:
            scaled = min(1.0, detection.false_alarm_probability * len(candidates))
            return dataclasses.replace(detection, false_alarm_probability=scaled)
    return Detection(engine=DEFAULT_ENGINE)
