"""Robustness, quality, speed and bitrate of every registered watermark engine, side by side.

    python -m benchmarks.robustness [--quick] [--engines a,b] [--out benchmarks/results]

One command builds its own avatar-like content (1080p stills and 1080p30 clips, see
``_media``), marks every frame with each engine, delivers each clip as libx264 CRF 18 (what
a platform receives), attacks stills and delivered clips (``_attacks``), and reads them
back. It prints one markdown table (rows: attacks; columns per engine: recovered and bit
accuracy; then summary rows) to stdout, writes the same numbers to ``robustness.json`` and
imperceptibility pictures to ``--out``. Progress goes to stderr only when it is a TTY.
The method is the one of the watermark notes, sections 3 and 6 (``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np
from numpy.typing import NDArray

from provenance.watermark import ContentId, engine_names, get_engine

from . import _media, _report
from ._attacks import CLIP_ATTACKS, STILL_ATTACKS
from ._jobs import (
    ClipJob,
    FramesJob,
    Reader,
    ReadResult,
    StillJob,
    frame_batches,
    init_worker,
    make_frames,
    run_clip_job,
    run_still_job,
    sample_indices,
)
from ._metrics import psnr, ssim

RGB = NDArray[np.uint8]

REFERENCE_ENGINE = "imwm-dwtdct"
_T = TypeVar("_T")
_R = TypeVar("_R")


@dataclass(frozen=True)
class Settings:
    """Everything that shapes a run; written into the JSON so results are self-describing."""

    engines: tuple[str, ...]
    height: int = 1080
    width: int = 1920
    frames: int = 48
    stills: int = 2
    kinds: tuple[_media.ClipKind, ...] = _media.CLIP_KINDS
    still_attacks: tuple[str, ...] = tuple(STILL_ATTACKS)
    clip_attacks: tuple[str, ...] = ("delivered", *CLIP_ATTACKS)
    sample: int = 8
    timing_runs: int = 5
    workers: int = 2
    seed: int = 7
    quick: bool = False


def quick_settings(engines: tuple[str, ...]) -> Settings:
    """A smoke test: 720p, 8 frames, one clip kind, a handful of attacks."""
    return Settings(
        engines=engines,
        height=720,
        width=1280,
        frames=8,
        stills=1,
        kinds=("talking",),
        still_attacks=("none", "jpeg75", "crop10", "480p+jpeg75"),
        clip_attacks=("delivered", "h264-crf23", "480p+crf28"),
        sample=3,
        timing_runs=2,
        workers=1,
        quick=True,
    )


def _progress(message: str) -> None:
    if sys.stderr.isatty():
        print(f"[robustness] {message}", file=sys.stderr, flush=True)


class _InlineExecutor(Executor):
    """Runs jobs in this process: for ``--workers 1`` and tests (no spawn, no torch reload)."""

    def submit(self, fn: Callable[..., _R], /, *args: Any, **kwargs: Any) -> Future[_R]:
        future: Future[_R] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def _median_ms(action: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def _timings(settings: Settings, names: Iterable[str]) -> dict[str, dict[str, float | None]]:
    """Median single-thread embed/detect ms per frame at the run's size, in this process."""
    rgb = _media.still(settings.height, settings.width, seed=settings.seed)
    cid = ContentId.mint(issuer=1)
    luma = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)[: settings.height].copy()
    out: dict[str, dict[str, float | None]] = {}
    for name in names:
        engine = get_engine(name)
        marked = engine.embed(rgb, cid)  # warm-up: imports, caches
        embed_luma = getattr(engine, "embed_luma", None)
        runs = settings.timing_runs
        luma_ms = None
        if embed_luma is not None:
            luma_ms = _median_ms(functools.partial(embed_luma, luma, cid), runs)
        out[name] = {
            "embed_ms": _median_ms(functools.partial(engine.embed, rgb, cid), runs),
            "embed_luma_ms": luma_ms,
            "detect_ms": _median_ms(functools.partial(engine.detect, marked), runs),
        }
        _progress(f"timed {name}: {out[name]}")
    return out


def _submit_all(pool: Executor, fn: Callable[[_T], _R], jobs: Sequence[_T]) -> list[Future[_R]]:
    return [pool.submit(fn, job) for job in jobs]


def _still_jobs(settings: Settings, ids: dict[str, ContentId]) -> list[StillJob]:
    """Marked stills per engine, and unmarked stills (avatars and flat grey) for all."""
    base = StillJob(
        seed=None,
        height=settings.height,
        width=settings.width,
        attacks=settings.still_attacks,
        readers=(),
    )
    seeds = [settings.seed + 100 + i for i in range(settings.stills)]
    jobs = [
        replace(base, seed=seed, marked_by=name, readers=(Reader(name, ids[name]),))
        for name in settings.engines
        for seed in seeds
    ]
    unmarked = tuple(Reader(name, None) for name in settings.engines)
    jobs += [replace(base, seed=seed, readers=unmarked) for seed in [*seeds, None]]
    return jobs


@dataclass
class _ClipPrep:
    """Quality numbers and encoded sizes from the raw frames; the pending clip reads."""

    quality: dict[str, dict[str, list[float]]]
    sizes: dict[str, dict[str, dict[str, int]]]
    reads: list[Future[list[ReadResult]]]


def _frame_futures(
    settings: Settings, pool: Executor, ids: dict[str, ContentId]
) -> dict[tuple[str, str], list[Future[list[RGB]]]]:
    """Queue every frame of every clip kind and source at once, so workers never idle."""
    out: dict[tuple[str, str], list[Future[list[RGB]]]] = {}
    for kind in settings.kinds:
        base = FramesJob(
            kind=kind,
            indices=(),
            height=settings.height,
            width=settings.width,
            seed=settings.seed,
        )
        for source in ["unmarked", *settings.engines]:
            engine = None if source == "unmarked" else source
            jobs = [
                replace(base, indices=batch, engine=engine, content_id=ids.get(source))
                for batch in frame_batches(engine, settings.frames)
            ]
            out[(kind, source)] = _submit_all(pool, make_frames, jobs)
    return out


def _readers(settings: Settings, ids: dict[str, ContentId], source: str) -> tuple[Reader, ...]:
    """Who reads a delivered clip: its own engine, or every engine when it is unmarked."""
    if source == "unmarked":
        return tuple(Reader(name, None) for name in settings.engines)
    return (Reader(source, ids[source]),)


def _prepare_clips(
    settings: Settings, pool: Executor, ids: dict[str, ContentId], workdir: Path, out_dir: Path
) -> _ClipPrep:
    """Make, mark, measure and deliver every clip, queueing its attacks once delivered."""
    prep = _ClipPrep(
        quality={n: {"psnr": [], "ssim": []} for n in settings.engines}, sizes={}, reads=[]
    )
    checked = sample_indices(settings.frames, settings.sample)
    box = _media.face_border_box(settings.height, settings.width, settings.seed)
    unmarked: list[RGB] = []
    for (kind, source), futures in _frame_futures(settings, pool, ids).items():
        frames = [rgb for f in futures for rgb in f.result()]
        if source == "unmarked":
            unmarked = frames
        else:
            prep.quality[source]["psnr"] += [psnr(unmarked[i], frames[i]) for i in checked]
            prep.quality[source]["ssim"] += [ssim(unmarked[i], frames[i]) for i in checked]
            if kind == settings.kinds[0]:
                _report.save_crop(out_dir, source, unmarked[0], frames[0], box)
        _progress(f"{kind}: {source} frames ready; delivering")
        path = workdir / f"{kind}-{source}.mp4"
        path.write_bytes(_media.encode_clip(frames, _media.Codec.h264(18), threads=2))
        jobs = [
            ClipJob(str(path), attack, _readers(settings, ids, source), settings.sample)
            for attack in settings.clip_attacks
        ]
        prep.reads += _submit_all(pool, run_clip_job, jobs)
        prep.sizes.setdefault(kind, {})[source] = {
            f"crf{crf}": len(_media.encode_clip(frames, _media.Codec.h264(crf), threads=2))
            for crf in (23, 28)
        }
    return prep


def _make_pool(workers: int) -> Executor:
    if workers <= 1:
        return _InlineExecutor()
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("spawn"), initializer=init_worker
    )


def run(settings: Settings, out_dir: Path) -> dict[str, Any]:
    """Run the whole benchmark, write JSON and pictures to ``out_dir``, return the results."""
    cv2.setNumThreads(1)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    ids = {name: ContentId.mint(issuer=1) for name in settings.engines}
    timed = list(settings.engines)
    if REFERENCE_ENGINE not in timed and REFERENCE_ENGINE in engine_names():
        timed.append(REFERENCE_ENGINE)
    timings = _timings(settings, timed)
    grey_psnr = _report.save_grey(
        out_dir, settings, {n: get_engine(n) for n in settings.engines}, ids
    )
    with tempfile.TemporaryDirectory() as tmp, _make_pool(settings.workers) as pool:
        still_futures = _submit_all(pool, run_still_job, _still_jobs(settings, ids))
        prep = _prepare_clips(settings, pool, ids, Path(tmp), out_dir)
        clip_futures = prep.reads
        stills = [r for f in still_futures for r in f.result()]
        _progress("stills read")
        clips = []
        for done, future in enumerate(clip_futures, 1):
            clips += future.result()
            _progress(f"clip jobs {done}/{len(clip_futures)}")
    results = _report.collect(
        settings, timings, stills, clips, prep.quality, prep.sizes, grey_psnr, REFERENCE_ENGINE
    )
    results["settings"] = asdict(settings)
    results["runtime_s"] = round(time.perf_counter() - started, 1)
    (out_dir / "robustness.json").write_text(json.dumps(results, indent=2) + "\n")
    return results


def _parse(argv: Sequence[str] | None) -> tuple[Settings, Path]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", help="comma-separated engine names (default: all)")
    parser.add_argument("--quick", action="store_true", help="smoke test, < 30 s")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--workers", type=int, help="worker processes (default 2)")
    parser.add_argument("--frames", type=int, help="frames per clip")
    parser.add_argument("--size", help="WIDTHxHEIGHT, even (default 1920x1080)")
    args = parser.parse_args(argv)
    names = tuple(args.engines.split(",")) if args.engines else engine_names()
    for name in names:
        get_engine(name)  # fail fast on unknown names
    settings = quick_settings(names) if args.quick else Settings(engines=names)
    if args.workers is not None:
        settings = replace(settings, workers=args.workers)
    if args.frames is not None:
        settings = replace(settings, frames=args.frames)
    if args.size:
        width, height = (int(v) for v in args.size.lower().split("x"))
        settings = replace(settings, width=width, height=height)
    return settings, args.out


def main(argv: Sequence[str] | None = None) -> None:
    """Run from the command line; the markdown table goes to stdout."""
    settings, out_dir = _parse(argv)
    results = run(settings, out_dir)
    print(_report.table(results))
    _progress(f"done in {results['runtime_s']} s; results in {out_dir}")


if __name__ == "__main__":
    main()
