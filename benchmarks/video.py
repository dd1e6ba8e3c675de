"""The video targets, each a ratio against a baseline measured in the same run.

    python -m benchmarks.video [--quick] [--preset veryfast] [--out benchmarks/results]

1. **Stamp vs transcode** (720p, 1080p): ``stamp_video`` end to end (consent, watermark
   on every frame, encode, C2PA signature, repository) against
   ``provenance.media.transcode`` with a no-op frame hook (the same decoder, encoder
   settings and audio remux, no watermark, no signature), and a hand-written PyAV loop
   (``_clips.reencode``) to show what the adapter itself costs. Target <= 1.25 (goal 1.10).
   A breakdown encodes the same frames unmarked and marked, to separate the mark's own
   cost from x264's cost of coding it.
2. **Verify vs decode**: ``Verifier.verify_file`` on a stamped 1080p clip (60 s) against
   decoding every frame's luma (``decode_luma``). Target <= 0.2. The same for a stripped
   480p CRF 28 re-encode, where the manifest comes from the repository (no target).
3. **Peak memory**: a 10-minute against a 10-second 1080p stamp, each in a fresh process.
   Target: within 10 %.

Each timing is the median of ``--repeat`` runs taken in alternating order. One markdown
table goes to stdout, the numbers to ``<out>/video.json``, progress lines to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from fractions import Fraction
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Literal, TypeVar

import av

from provenance.clip import stamp_video
from provenance.consent import License, grant_license
from provenance.media import Encoding, VideoWriter, YuvFrame, decode_luma, transcode
from provenance.stamp import Stamper
from provenance.verify import Verifier
from provenance.watermark import ContentId
from provenance.watermark.luma import LumaMarker
from provenance.workspace import Workspace

from . import _clips

Part = Literal["stamp", "verify", "memory"]
PARTS: tuple[Part, ...] = ("stamp", "verify", "memory")
Size = tuple[int, int]
_T = TypeVar("_T")

STAMP_TARGET = 1.25
STAMP_GOAL = 1.10
VERIFY_TARGET = 0.2
MEMORY_TARGET = 1.10
STRIP_HEIGHT = 480
STRIP_CRF = 28
PURPOSE = "education"
# Frames decoded and held for the encoder-cost breakdown (about 0.5 GB of planes at 1080p).
BREAKDOWN_FRAMES = 90


@dataclass(frozen=True)
class Settings:
    """Everything that shapes a run; written into the JSON so results are self-describing."""

    sizes: tuple[Size, ...] = ((1280, 720), (1920, 1080))
    seconds: float = 10.0
    preset: str = "medium"
    repeat: int = 3
    verify_size: Size = (1920, 1080)
    verify_seconds: float = 60.0
    memory_size: Size = (1920, 1080)
    memory_short_seconds: float = 10.0
    memory_long_seconds: float = 600.0
    # The long memory run encodes 18,000 1080p frames; at the default preset that alone
    # takes over half an hour on two cores. Memory does not depend on the preset's speed.
    memory_preset: str = "ultrafast"
    parts: tuple[Part, ...] = PARTS
    quick: bool = False


def quick_settings() -> Settings:
    """A smoke test: the smallest clip the stamper takes, a few seconds, one run each."""
    smallest = (480, 270)
    return Settings(
        sizes=(smallest,),
        seconds=2.0,
        repeat=1,
        verify_size=smallest,
        verify_seconds=4.0,
        memory_size=smallest,
        memory_short_seconds=1.0,
        memory_long_seconds=4.0,
        quick=True,
    )


def _progress(message: str) -> None:
    print(f"[video] {message}", file=sys.stderr, flush=True)


def _cpu_s() -> float:
    """CPU seconds of this process, all threads: steadier than wall time on a shared host."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class _Samples:
    """Wall and CPU seconds of repeated runs of one action."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def time(self, action: Callable[[], _T]) -> _T:
        wall, cpu = time.perf_counter(), _cpu_s()
        result = action()
        self.cpu.append(round(_cpu_s() - cpu, 3))
        self.wall.append(round(time.perf_counter() - wall, 3))
        return result

    @property
    def wall_s(self) -> float:
        return round(statistics.median(self.wall), 3)

    @property
    def cpu_s(self) -> float:
        return round(statistics.median(self.cpu), 3)


def _size_name(size: Size) -> str:
    return f"{size[0]}x{size[1]}"


@dataclass
class _Bench:
    """What every part shares: settings, a workspace with its license, scratch space."""

    settings: Settings
    workspace: Workspace
    license: License
    license_path: Path
    stamper: Stamper
    scratch: Path
    cache: Path

    def encoding(self) -> Encoding:
        return Encoding(preset=self.settings.preset)

    def stamp(self, source: Path, destination: Path, encoding: Encoding) -> None:
        stamp_video(
            self.stamper,
            source,
            destination,
            license=self.license,
            purpose=PURPOSE,
            encoding=encoding,
        )


def _open_bench(settings: Settings, scratch: Path, cache: Path) -> _Bench:
    workspace = Workspace.create(scratch / "workspace", vendor="Bench Studio")
    license = grant_license(
        owner_key=workspace.owner_key(),
        owner_name="Bench",
        face_id="face-bench",
        licensee="Bench Studio",
        allow=[PURPOSE],
        deny=[],
        territories=["US"],
        not_after=date.today() + timedelta(days=30),
        intended_uses="Benchmark lecture clips rendered for a physics course",
    )
    license_path = scratch / "license.json"
    license.save(license_path)
    stamper = Stamper.from_workspace(workspace)
    return _Bench(settings, workspace, license, license_path, stamper, scratch, cache)


# ---------------------------------------------------------------------------------------
# 1. Stamp vs transcode


def _stamp_vs_transcode(bench: _Bench, size: Size) -> dict[str, Any]:
    """Raw loop, transcode and stamp on one source, in ABC CBA ABC order."""
    settings = bench.settings
    width, height = size
    _progress(f"{_size_name(size)}: source clip ({settings.seconds:g} s)")
    source = _clips.source_clip(
        bench.cache,
        width=width,
        height=height,
        seconds=settings.seconds,
        preset=_clips.SOURCE_PRESET,
    )
    encoding = bench.encoding()
    warm_up = bench.scratch / "warm-up.mp4"
    frames = _clips.reencode(source, warm_up, encoding)
    threads = _clips.x264_settings(warm_up)
    warm_up.unlink()
    actions: dict[str, Callable[[Path], object]] = {
        "raw": lambda dst: _clips.reencode(source, dst, encoding),
        "transcode": lambda dst: transcode(source, dst, encoding, on_frame=lambda f: None),
        "stamp": lambda dst: bench.stamp(source, dst, encoding),
    }
    samples = {name: _Samples() for name in actions}
    for run in range(settings.repeat):
        order = list(actions) if run % 2 == 0 else list(reversed(actions))
        for name in order:
            dst = bench.scratch / f"{name}-{run}.mp4"
            samples[name].time(functools.partial(actions[name], dst))
            dst.unlink()
        walls = {name: s.wall[-1] for name, s in samples.items()}
        _progress(f"{_size_name(size)}: run {run + 1}/{settings.repeat}, wall s {walls}")
    stamp, plain, raw = samples["stamp"], samples["transcode"], samples["raw"]
    return {
        "frames": frames,
        "seconds_of_video": settings.seconds,
        **{f"{name}_s": s.wall_s for name, s in samples.items()},
        **{f"{name}_fps": round(frames / s.wall_s, 1) for name, s in samples.items()},
        **{f"{name}_cpu_s": s.cpu_s for name, s in samples.items()},
        "ratio": round(stamp.wall_s / plain.wall_s, 3),
        "cpu_ratio": round(stamp.cpu_s / plain.cpu_s, 3),
        "adapter_vs_raw": round(plain.wall_s / raw.wall_s, 3),
        "encoder_threads": threads,
        "samples": {name: asdict(s) for name, s in samples.items()},
        "breakdown": _encoder_cost(bench, source, min(frames, BREAKDOWN_FRAMES)),
    }


def _encode(dst: Path, frames: Sequence[YuvFrame], encoding: Encoding) -> int:
    """Encode ``frames`` at 30 fps with the stamper's encoder; returns the file's size."""
    height, width = frames[0].y.shape
    with VideoWriter(
        dst, width=width, height=height, fps=Fraction(_clips.FPS), encoding=encoding
    ) as writer:
        for frame in frames:
            writer.write(frame)
    return dst.stat().st_size


def _encoder_cost(bench: _Bench, source: Path, frames: int) -> dict[str, Any]:
    """Where the stamp's extra time goes: the mark itself, and x264 coding it.

    The first ``frames`` frames are decoded once; the same planes are encoded with the
    stamper's encoder (``VideoWriter``, the run's encoding) unmarked and marked, in
    alternating order, and the mark's own cost is timed on its own. CPU seconds only:
    this is a breakdown, not a target.
    """
    planes = _clips.decode_yuv(source, frames)
    marker = LumaMarker(ContentId.mint(issuer=bench.workspace.settings.issuer))
    start = _cpu_s()
    marked = [YuvFrame(marker.mark(f.y), f.u, f.v) for f in planes]
    mark_cpu = _cpu_s() - start
    frames_of = {"unmarked": planes, "marked": marked}
    samples = {name: _Samples() for name in frames_of}
    sizes = {}
    for run in range(bench.settings.repeat):
        order = list(frames_of) if run % 2 == 0 else list(reversed(frames_of))
        for name in order:
            dst = bench.scratch / f"encode-{name}.mp4"
            encode = functools.partial(_encode, dst, frames_of[name], bench.encoding())
            sizes[name] = samples[name].time(encode)
            dst.unlink()
    per_frame = {name: round(s.cpu_s / len(planes) * 1000, 1) for name, s in samples.items()}
    return {
        "frames": len(planes),
        "mark_cpu_ms_per_frame": round(mark_cpu / len(planes) * 1000, 1),
        "encode_unmarked_cpu_ms_per_frame": per_frame["unmarked"],
        "encode_marked_cpu_ms_per_frame": per_frame["marked"],
        "encode_ratio": round(samples["marked"].cpu_s / samples["unmarked"].cpu_s, 3),
        "bytes_ratio": round(sizes["marked"] / sizes["unmarked"], 3),
        "samples": {name: asdict(s) for name, s in samples.items()},
    }


# ---------------------------------------------------------------------------------------
# 2. Verify vs decode


def _decode_all(path: Path) -> int:
    return sum(1 for _ in decode_luma(path))


def _verify_vs_decode(bench: _Bench, verifier: Verifier, path: Path) -> dict[str, Any]:
    """Verify and a full decode of ``path``, alternating, medians of the settings' repeat."""
    verify, decode = _Samples(), _Samples()
    reports, frames = [], 0
    for run in range(bench.settings.repeat):
        if run % 2:
            frames = decode.time(functools.partial(_decode_all, path))
        reports.append(verify.time(functools.partial(verifier.verify_file, path)))
        if run % 2 == 0:
            frames = decode.time(functools.partial(_decode_all, path))
    report = reports[-1]
    video = report.video
    return {
        "verify_s": verify.wall_s,
        "decode_s": decode.wall_s,
        "ratio": round(verify.wall_s / decode.wall_s, 3),
        "verify_cpu_s": verify.cpu_s,
        "decode_cpu_s": decode.cpu_s,
        "cpu_ratio": round(verify.cpu_s / decode.cpu_s, 3),
        "frames_decoded": frames,
        "frames_checked": video.frames_checked if video is not None else 0,
        "fingerprints_checked": video.fingerprints_checked if video is not None else 0,
        "verdict": report.verdict.value,
        "manifest_source": report.manifest.source,
        "samples": {"verify": asdict(verify), "decode": asdict(decode)},
    }


def _verify_part(bench: _Bench) -> dict[str, Any]:
    settings = bench.settings
    width, height = settings.verify_size
    seconds = settings.verify_seconds
    _progress(f"verify: source and stamped clip ({width}x{height}, {seconds:g} s)")
    source = _clips.source_clip(
        bench.cache, width=width, height=height, seconds=seconds, preset=_clips.SOURCE_PRESET
    )
    stamped = bench.scratch / "verify-stamped.mp4"
    bench.stamp(source, stamped, bench.encoding())
    strip_height = min(STRIP_HEIGHT, height)
    _progress(f"verify: stripped copy ({strip_height}p, CRF {STRIP_CRF})")
    stripped = bench.scratch / "verify-stripped.mp4"
    _clips.reencode(stamped, stripped, Encoding(crf=STRIP_CRF), height=strip_height)
    verifier = Verifier(
        trust=bench.workspace.trust_anchors(), repository=bench.workspace.repository()
    )
    results = {}
    for name, path in (("stamped", stamped), ("stripped", stripped)):
        results[name] = _verify_vs_decode(bench, verifier, path)
        _progress(f"verify: {name} {results[name]['samples']}")
    results["stripped"]["height"] = strip_height
    return {"size": _size_name(settings.verify_size), "seconds_of_video": seconds, **results}


# ---------------------------------------------------------------------------------------
# 3. Peak memory, each stamp in a fresh process


@dataclass(frozen=True)
class MemoryJob:
    """One stamp to run in a child process; paths only, so it pickles."""

    workspace: str
    license: str
    source: str
    destination: str
    preset: str


def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB, since its last ``exec``.

    On Linux a child started by ``spawn`` reports at least its parent's peak in
    ``ru_maxrss`` (the high-water mark survives the ``exec``; measured: 848 MiB for a
    29 MiB child of an 800 MiB parent), while ``VmHWM`` in ``/proc/self/status`` belongs
    to the child's own address space. Without ``/proc``, fall back to ``ru_maxrss``
    (KiB on Linux, bytes on macOS).
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024


def stamp_in_child(job: MemoryJob) -> dict[str, float]:
    """Stamp in this (fresh) process; its peak RSS in MiB after setup, encoding and signing."""
    stamper = Stamper.from_workspace(Workspace.open(Path(job.workspace)))
    license = License.load(Path(job.license))
    setup_mb = peak_rss_mb()
    # Progress is reported while frames stream and once when the MP4 is complete, before
    # signing: the last reading is the peak of decoding, marking and encoding.
    encoded_mb = [setup_mb]
    start = time.perf_counter()
    clip = stamp_video(
        stamper,
        Path(job.source),
        Path(job.destination),
        license=license,
        purpose=PURPOSE,
        encoding=Encoding(preset=job.preset),
        progress=lambda _: encoded_mb.append(peak_rss_mb()),
    )
    elapsed = time.perf_counter() - start
    return {
        "frames": clip.frames,
        "stamp_s": round(elapsed, 1),
        "setup_peak_mb": round(setup_mb, 1),
        "encode_peak_mb": round(encoded_mb[-1], 1),
        # The kernel syncs RSS counters lazily: never report less than an earlier reading.
        "peak_mb": round(max(peak_rss_mb(), encoded_mb[-1]), 1),
        "output_mb": round(Path(job.destination).stat().st_size / 2**20, 1),
    }


def _memory_part(bench: _Bench) -> dict[str, Any]:
    settings = bench.settings
    width, height = settings.memory_size
    results: dict[str, Any] = {"size": _size_name(settings.memory_size)}
    lengths = {"short": settings.memory_short_seconds, "long": settings.memory_long_seconds}
    for name, seconds in lengths.items():
        preset = settings.memory_preset
        _progress(f"memory: {name} source ({width}x{height}, {seconds:g} s, {preset})")
        source = _clips.source_clip(
            bench.cache, width=width, height=height, seconds=seconds, preset=preset
        )
        destination = bench.scratch / f"memory-{name}.mp4"
        job = MemoryJob(
            workspace=str(bench.workspace.root),
            license=str(bench.license_path),
            source=str(source),
            destination=str(destination),
            preset=settings.memory_preset,
        )
        _progress(f"memory: stamping the {name} clip in a fresh process")
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            results[name] = {
                "seconds_of_video": seconds,
                **pool.submit(stamp_in_child, job).result(),
            }
        destination.unlink()
        _progress(f"memory: {name} {results[name]}")
    short, long = results["short"], results["long"]
    results["ratio"] = round(long["peak_mb"] / short["peak_mb"], 3)
    results["encode_ratio"] = round(long["encode_peak_mb"] / short["encode_peak_mb"], 3)
    results["preset"] = settings.memory_preset
    return results


# ---------------------------------------------------------------------------------------
# Report


def _verdict(ratio: float, target: float) -> str:
    return "yes" if ratio <= target else "no"


def _rows(settings: Settings, results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per measurement: what, baseline, result, ratio, target, pass."""
    rows: list[dict[str, Any]] = []
    preset = settings.preset
    for size, r in results.get("stamp_vs_transcode", {}).items():
        b = r["breakdown"]
        verdict = _verdict(r["ratio"], STAMP_TARGET)
        if r["ratio"] <= STAMP_GOAL:
            verdict += " (goal met)"
        rows += [
            {
                "measurement": f"stamp vs transcode, {size}, {r['frames']} frames, {preset}",
                "baseline": f"transcode {r['transcode_s']:.2f} s ({r['transcode_fps']} fps)",
                "result": f"stamp {r['stamp_s']:.2f} s ({r['stamp_fps']} fps); "
                f"CPU ratio {r['cpu_ratio']:.2f}",
                "ratio": r["ratio"],
                "target": f"<= {STAMP_TARGET} (goal {STAMP_GOAL})",
                "pass": verdict,
            },
            {
                "measurement": f"x264 on marked vs unmarked frames, {size}, "
                f"{b['frames']} frames (breakdown)",
                "baseline": f"unmarked {b['encode_unmarked_cpu_ms_per_frame']} ms CPU/frame",
                "result": f"marked {b['encode_marked_cpu_ms_per_frame']} ms CPU/frame, "
                f"{b['bytes_ratio'] - 1:+.0%} bytes; the mark itself "
                f"{b['mark_cpu_ms_per_frame']} ms CPU/frame",
                "ratio": b["encode_ratio"],
                "target": "-",
                "pass": "-",
            },
            {
                "measurement": f"adapter vs raw PyAV loop, {size}",
                "baseline": f"raw loop {r['raw_s']:.2f} s ({r['raw_fps']} fps)",
                "result": f"transcode {r['transcode_s']:.2f} s",
                "ratio": r["adapter_vs_raw"],
                "target": "-",
                "pass": "-",
            },
        ]
    verify = results.get("verify_vs_decode")
    if verify is not None:
        for name, target in (("stamped", VERIFY_TARGET), ("stripped", None)):
            r = verify[name]
            what = (
                f"verify vs full decode, stamped {verify['size']} {verify['seconds_of_video']:g} s"
                if name == "stamped"
                else f"verify vs full decode, stripped {r['height']}p CRF {STRIP_CRF} copy"
            )
            rows.append(
                {
                    "measurement": what,
                    "baseline": f"decode {r['frames_decoded']} frames {r['decode_s']:.2f} s",
                    "result": f"verify {r['verify_s']:.2f} s, {r['frames_checked']} frames "
                    f"read, {r['verdict']}; CPU ratio {r['cpu_ratio']:.2f}",
                    "ratio": r["ratio"],
                    "target": f"<= {target}" if target is not None else "none (reported)",
                    "pass": _verdict(r["ratio"], target) if target is not None else "-",
                }
            )
    memory = results.get("memory")
    if memory is not None:
        short, long = memory["short"], memory["long"]
        rows.append(
            {
                "measurement": f"peak RSS, {long['seconds_of_video']:g} s vs "
                f"{short['seconds_of_video']:g} s stamp, {memory['size']}, {memory['preset']}",
                "baseline": f"{short['seconds_of_video']:g} s: {short['peak_mb']:.0f} MiB",
                "result": f"{long['seconds_of_video']:g} s: {long['peak_mb']:.0f} MiB; until "
                f"signing {long['encode_peak_mb']:.0f} vs {short['encode_peak_mb']:.0f} MiB "
                f"(ratio {memory['encode_ratio']:.2f})",
                "ratio": memory["ratio"],
                "target": f"<= {MEMORY_TARGET}",
                "pass": _verdict(memory["ratio"], MEMORY_TARGET),
            }
        )
    return rows


def table(results: dict[str, Any]) -> str:
    """The markdown table of every row, then what the baselines are."""
    lines = [
        "| measurement | baseline | result | ratio | target | pass |",
        "|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        lines.append(
            f"| {row['measurement']} | {row['baseline']} | {row['result']} | "
            f"{row['ratio']:.3f} | {row['target']} | {row['pass']} |"
        )
    env = results["environment"]
    lines += [
        "",
        "- transcode: `provenance.media.transcode` with a no-op frame hook: the stamper's "
        "decoder, encoder settings and audio remux, no watermark, no signature. raw: a "
        "minimal PyAV decode -> encode loop with the same x264 settings (`_clips.reencode`).",
        "- stamp: `stamp_video` end to end: consent check, watermark on every frame, "
        "fingerprints, poster, encode, C2PA signature, repository store.",
        f"- medians of {results['settings']['repeat']} runs in alternating order; "
        f"one process, {env['cpus']} CPUs; x264 threads: {env['x264_threads']}; "
        f"load average {env['load_average_1min']}. CPU ratio: the same medians of this "
        "process's CPU seconds (all threads), steadier than wall time on a busy host.",
        "- verify: `Verifier.verify_file` with the workspace's trust anchors and repository; "
        "decode: every frame's luma through `decode_luma`.",
        "- peak RSS: `VmHWM` of a fresh (spawned) process per stamp, after setup, when the "
        "MP4 is encoded (until signing) and after the stamp; sources and stamps at x264 "
        "preset ultrafast.",
        "- breakdown: the same decoded frames encoded unmarked and marked with the stamper's "
        "encoder (`VideoWriter`), CPU time; the mark (`LumaMarker.mark`) timed alone.",
    ]
    return "\n".join(lines)


def _environment(results: dict[str, Any], load_before: float) -> dict[str, Any]:
    threads = {
        size: r["encoder_threads"] for size, r in results.get("stamp_vs_transcode", {}).items()
    }
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "pyav": av.__version__,
        "libavcodec": ".".join(map(str, av.library_versions["libavcodec"])),
        "x264_threads": threads or "not measured",
        # Another job on the host shows here; the CPU ratios are the steadier numbers then.
        "load_average_1min": {"start": load_before, "end": round(os.getloadavg()[0], 2)},
    }


def run(settings: Settings, out_dir: Path) -> dict[str, Any]:
    """Run the selected parts, write ``video.json`` to ``out_dir``, return the results."""
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    load_before = round(os.getloadavg()[0], 2)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".video-") as tmp:
        bench = _open_bench(settings, Path(tmp), out_dir / "cache")
        if "stamp" in settings.parts:
            results["stamp_vs_transcode"] = {
                _size_name(size): _stamp_vs_transcode(bench, size) for size in settings.sizes
            }
        if "verify" in settings.parts:
            results["verify_vs_decode"] = _verify_part(bench)
        if "memory" in settings.parts:
            results["memory"] = _memory_part(bench)
        bench.stamper.close()
    results["environment"] = _environment(results, load_before)
    results["rows"] = _rows(settings, results)
    results["settings"] = asdict(settings)
    results["runtime_s"] = round(time.perf_counter() - started, 1)
    (out_dir / "video.json").write_text(json.dumps(results, indent=2) + "\n")
    return results


def _size(text: str) -> Size:
    width, height = (int(v) for v in text.lower().split("x"))
    return width, height


def _parse(argv: Sequence[str] | None) -> tuple[Settings, Path]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke test, < 60 s")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--parts", help="comma-separated: stamp,verify,memory (default all)")
    parser.add_argument("--sizes", help="WIDTHxHEIGHT list for stamp vs transcode")
    parser.add_argument("--seconds", type=float, help="clip length for stamp vs transcode")
    parser.add_argument("--preset", help="x264 preset for stamp, transcode and the verify clip")
    parser.add_argument("--repeat", type=int, help="runs per timing (median; default 3)")
    parser.add_argument("--verify-seconds", type=float, help="stamped clip length (default 60)")
    parser.add_argument("--memory-long-seconds", type=float, help="long stamp (default 600)")
    args = parser.parse_args(argv)
    settings = quick_settings() if args.quick else Settings()
    if args.parts:
        wanted = args.parts.split(",")
        unknown = sorted(set(wanted) - set(PARTS))
        if unknown:
            parser.error(f"unknown parts {unknown}; choose from {','.join(PARTS)}")
        settings = replace(settings, parts=tuple(p for p in PARTS if p in wanted))
    if args.sizes:
        settings = replace(settings, sizes=tuple(_size(s) for s in args.sizes.split(",")))
    if args.preset:
        Encoding(preset=args.preset)  # fail fast on unknown names
    overrides = {
        "seconds": args.seconds,
        "preset": args.preset,
        "repeat": args.repeat,
        "verify_seconds": args.verify_seconds,
        "memory_long_seconds": args.memory_long_seconds,
    }
    settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    return settings, args.out


def main(argv: Sequence[str] | None = None) -> None:
    """Run from the command line; the markdown table goes to stdout."""
    settings, out_dir = _parse(argv)
    results = run(settings, out_dir)
    print(table(results))
    _progress(f"done in {results['runtime_s']} s; results in {out_dir / 'video.json'}")


if __name__ == "__main__":
    main()
