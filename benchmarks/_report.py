"""Turn raw read results into the JSON document, the markdown table and the pictures.

Why separate: the harness decides what to measure, this module only how to summarise and
show it, so the table and the JSON cannot disagree (the table is rendered from the JSON).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from provenance.watermark import ContentId, WatermarkEngine

from . import _media
from ._jobs import ReadResult
from ._metrics import psnr

if TYPE_CHECKING:
    from .robustness import Settings

__all__ = ["collect", "save_crop", "save_grey", "table"]

RGB = NDArray[np.uint8]


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.fmean(present), 4) if present else None


def _per_attack(results: Sequence[ReadResult], engine: str) -> dict[str, dict[str, Any]]:
    """Marked items an engine read, grouped by attack (over stills or clip kinds)."""
    grouped: dict[str, list[ReadResult]] = {}
    for r in results:
        if r.engine == engine and r.frame_accuracy is not None:
            grouped.setdefault(r.attack, []).append(r)
    return {
        attack: {
            "recovered": sum(r.recovered for r in rs),
            "tried": len(rs),
            "bit_accuracy_frame": _mean([r.frame_accuracy for r in rs]),
            "bit_accuracy_clip": _mean([r.clip_accuracy for r in rs]),
            "frames_read": sum(r.frames_read for r in rs),
            "frames_total": sum(r.frames_total for r in rs),
        }
        for attack, rs in grouped.items()
    }


def _overhead(
    sizes: Mapping[str, Mapping[str, Mapping[str, int]]], engine: str
) -> dict[str, dict[str, float | None]]:
    """% size increase of marked over unmarked raw frames at the same CRF, per kind."""
    out: dict[str, dict[str, float | None]] = {}
    for crf in ("crf23", "crf28"):
        per_kind: dict[str, float | None] = {
            kind: round(100 * (by_source[engine][crf] / by_source["unmarked"][crf] - 1), 1)
            for kind, by_source in sizes.items()
        }
        per_kind["mean"] = _mean(list(per_kind.values()))
        out[crf] = per_kind
    return out


def collect(
    settings: Settings,
    timings: Mapping[str, Mapping[str, float | None]],
    stills: Sequence[ReadResult],
    clips: Sequence[ReadResult],
    quality: Mapping[str, Mapping[str, list[float]]],
    sizes: Mapping[str, Mapping[str, Mapping[str, int]]],
    grey_psnr: Mapping[str, float],
    reference: str,
) -> dict[str, Any]:
    """The JSON document: per engine, per attack and summary numbers."""
    reference_ms = timings.get(reference, {}).get("embed_ms")
    engines: dict[str, Any] = {}
    for name in settings.engines:
        unmarked = [r for r in (*stills, *clips) if r.engine == name and r.frame_accuracy is None]
        embed_ms = timings[name]["embed_ms"]
        engines[name] = {
            "stills": _per_attack(stills, name),
            "clips": _per_attack(clips, name),
            "psnr_db": _mean(quality[name]["psnr"]),
            "ssim": _mean(quality[name]["ssim"]),
            "psnr_grey_db": round(grey_psnr[name], 2),
            "embed_ms": timings[name]["embed_ms"],
            "embed_luma_ms": timings[name]["embed_luma_ms"],
            "detect_ms": timings[name]["detect_ms"],
            "speedup_vs_reference": _ratio(reference_ms, embed_ms),
            "speedup_luma_vs_reference": _ratio(reference_ms, timings[name]["embed_luma_ms"]),
            "false_positives": {
                "detections": sum(r.detected for r in unmarked),
                "tried": len(unmarked),
            },
            "bitrate_overhead_pct": _overhead(sizes, name),
        }
    return {"reference_engine": reference, "reference_embed_ms": reference_ms, "engines": engines}


def _ratio(reference_ms: float | None, ms: float | None) -> float | None:
    return round(reference_ms / ms, 2) if reference_ms and ms else None


def _recovered(cell: Mapping[str, Any] | None) -> str:
    if cell is None:
        return "-"
    if cell["recovered"] == cell["tried"]:
        return "yes"
    return "no" if cell["recovered"] == 0 else f"{cell['recovered']}/{cell['tried']}"


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def _summary_rows(engines: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    def row(label: str, pick: Any) -> tuple[str, list[str]]:
        return label, [pick(e) for e in engines.values()]

    rows = [
        row("PSNR dB (marked vs unmarked clip frames)", lambda e: _fmt(e["psnr_db"], ".2f")),
        row("PSNR dB (flat grey frame)", lambda e: _fmt(e["psnr_grey_db"], ".2f")),
        row("SSIM (luma)", lambda e: _fmt(e["ssim"], ".4f")),
        row("embed ms / frame", lambda e: _fmt(e["embed_ms"], ".1f")),
        row("embed ms (luma)", lambda e: _fmt(e["embed_luma_ms"], ".2f")),
        row("detect ms / frame", lambda e: _fmt(e["detect_ms"], ".1f")),
        row("embed speed-up vs imwm-dwtdct (x)", lambda e: _fmt(e["speedup_vs_reference"], ".2f")),
        row(
            "embed speed-up, luma path (x)",
            lambda e: _fmt(e["speedup_luma_vs_reference"], ".1f"),
        ),
        row(
            "false positives (unmarked, all attacks)",
            lambda e: f"{e['false_positives']['detections']}/{e['false_positives']['tried']}",
        ),
    ]
    first = next(iter(engines.values()))
    for crf, per_kind in first["bitrate_overhead_pct"].items():
        for kind in per_kind:
            rows.append(
                row(
                    f"bitrate +% x264 {crf.upper()} ({kind})",
                    lambda e, c=crf, k=kind: _fmt(e["bitrate_overhead_pct"][c][k], "+.1f"),
                )
            )
    return rows


def table(results: Mapping[str, Any]) -> str:
    """Markdown table: attacks as rows, ``recovered | bit accuracy`` per engine."""
    engines: Mapping[str, Any] = results["engines"]
    settings = results["settings"]
    header = ["attack"]
    for name, e in engines.items():
        delivered = e["clips"].get("delivered") or next(iter(e["clips"].values()), None)
        reads = (
            "all frames"
            if delivered is None or delivered["frames_read"] == delivered["frames_total"]
            else f"{delivered['frames_read'] // len(settings['kinds'])} of "
            f"{delivered['frames_total'] // len(settings['kinds'])} frames"
        )
        header += [f"{name} recovered", f"{name} bit acc (clips: {reads}, frame / clip)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for attack in settings["still_attacks"]:
        cells = []
        for e in engines.values():
            cell = e["stills"].get(attack)
            cells += [_recovered(cell), _fmt(cell and cell["bit_accuracy_frame"])]
        lines.append(f"| still: {attack} | " + " | ".join(cells) + " |")
    for attack in settings["clip_attacks"]:
        cells = []
        for e in engines.values():
            cell = e["clips"].get(attack)
            acc = (
                f"{_fmt(cell['bit_accuracy_frame'])} / {_fmt(cell['bit_accuracy_clip'])}"
                if cell
                else "-"
            )
            cells += [_recovered(cell), acc]
        lines.append(f"| clip: {attack} | " + " | ".join(cells) + " |")
    for label, values in _summary_rows(engines):
        cells = []
        for value in values:
            cells += [value, ""]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    size = f"{settings['width']}x{settings['height']}"
    lines.append("")
    lines.append(
        f"{size}, {settings['frames']} frames per clip, kinds "
        f"{', '.join(settings['kinds'])}; {settings['stills']} still(s) per engine; "
        f"runtime {results['runtime_s']} s."
    )
    return "\n".join(lines)


def _amplified(marked: RGB, unmarked: RGB, gain: float = 10.0) -> RGB:
    diff = marked.astype(np.float32) - unmarked.astype(np.float32)
    return _media.to_u8(128 + gain * diff)


def save_crop(
    out_dir: Path, engine: str, unmarked: RGB, marked: RGB, box: tuple[int, int, int]
) -> None:
    """A 100 % crop, marked left and unmarked right, and their difference x10."""
    top, left, side = box
    window = (slice(top, top + side), slice(left, left + side))
    gap = np.full((side, 8, 3), 255, np.uint8)
    pair = np.concatenate([marked[window], gap, unmarked[window]], axis=1)
    Image.fromarray(pair).save(out_dir / f"{engine}-crop-marked-vs-unmarked.png")
    diff = _amplified(marked[window], unmarked[window])
    Image.fromarray(diff).save(out_dir / f"{engine}-crop-diff-x10.png")


def save_grey(
    out_dir: Path,
    settings: Settings,
    engines: Mapping[str, WatermarkEngine],
    ids: Mapping[str, ContentId],
) -> dict[str, float]:
    """The marked flat grey frame and its difference x10 per engine; returns their PSNR."""
    grey = _media.flat_grey(settings.height, settings.width)
    out = {}
    for name, engine in engines.items():
        marked = engine.embed(grey, ids[name])
        Image.fromarray(marked).save(out_dir / f"{name}-grey.png")
        Image.fromarray(_amplified(marked, grey)).save(out_dir / f"{name}-grey-diff-x10.png")
        out[name] = psnr(grey, marked)
    return out
