"""Load on ``provenance serve --verifier`` from a second process: concurrent clip uploads.

    python -m benchmarks.serve_load [--uploads 50] [--seconds 1] [--size 480x270]

Makes a workspace, a synthetic clip, stamps it and strips it with the real ffmpeg (CRF 23,
metadata dropped), starts ``serve --verifier`` in a child process, then sends every upload
at once (httpx, asyncio) and prints the latency distribution. Baselines measured in the same
run: one in-process ``Verifier.verify_file`` of the same clip (sequential, median of 5), and
one upload at a time over HTTP (median of 5). Every request must answer 200 ``verified``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
# This checkout's CLI in a child process: cli/ is installed as provenance.cli.
_CHILD = (
    "import importlib.util, sys; sys.path.insert(0, {root!r}); import provenance; "
    "spec = importlib.util.spec_from_file_location('provenance.cli', {init!r}, "
    "submodule_search_locations=[{cli!r}]); module = importlib.util.module_from_spec(spec); "
    "sys.modules['provenance.cli'] = module; spec.loader.exec_module(module); "
    "from provenance.cli.main import main; main(sys.argv[1:])"
)


def cli(*args: str, stderr: int | None = subprocess.DEVNULL) -> list[str]:
    code = _CHILD.format(root=str(ROOT), init=str(ROOT / "cli" / "__init__.py"),
                         cli=str(ROOT / "cli"))  # fmt: skip
    return [sys.executable, "-c", code, *args]


def prepare(base: Path, seconds: float, size: str) -> tuple[Path, Path]:
    """A workspace and a stamped, stripped clip; returns (workspace, clip)."""
    ws = base / "studio"
    until = (date.today() + timedelta(days=30)).isoformat()
    steps = [
        ("init", str(ws), "--vendor", "Load Studio"),
        ("-w", str(ws), "sample", str(base / "src.mp4"), "--size", size, "--seconds",
         str(seconds)),
        ("-w", str(ws), "license", "grant", "--face-id", "face-load", "--allow", "education",
         "--territory", "EU", "--until", until, "-o", str(base / "license.json")),
        ("-w", str(ws), "stamp", str(base / "src.mp4"), "-o", str(base / "signed.mp4"),
         "--license", str(base / "license.json"), "--purpose", "education", "--json"),
    ]  # fmt: skip
    for step in steps:
        subprocess.run(cli(*step), check=True, stdout=subprocess.DEVNULL)
    clip = base / "upload.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(base / "signed.mp4"), "-c:v",
                    "libx264", "-crf", "23", "-map_metadata", "-1", str(clip)],
                   check=True)  # fmt: skip
    return ws, clip


class Server:
    def __init__(self, ws: Path, workers: int | None) -> None:
        args = ["-w", str(ws), "serve", "--verifier", "--port", "0"]
        if workers:
            args += ["--workers", str(workers)]
        self.process = subprocess.Popen(cli(*args), stderr=subprocess.PIPE, text=True)
        self.url = ""
        ready = threading.Event()

        def read() -> None:
            assert self.process.stderr is not None
            for line in self.process.stderr:
                if " on http://" in line:
                    self.url = line.rsplit(" on ", 1)[1].strip()
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(60) or not self.url:
            raise SystemExit("the server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)


def baseline_in_process(ws: Path, clip: Path, repeats: int) -> float:
    from provenance.verify import Verifier
    from provenance.workspace import Workspace

    workspace = Workspace.open(ws)
    with workspace.repository() as repository:
        verifier = Verifier(trust=workspace.trust_anchors(), repository=repository)
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            report = verifier.verify_file(clip)
            samples.append(time.perf_counter() - start)
            assert report.verdict.value == "verified", report.problems
    return statistics.median(samples)


async def upload(client: httpx.AsyncClient, data: bytes) -> tuple[float, int, str]:
    start = time.perf_counter()
    response = await client.post("/verify", params={"filename": "upload.mp4"}, content=data)
    elapsed = time.perf_counter() - start
    verdict = response.json().get("verdict", "?") if response.status_code == 200 else "?"
    return elapsed, response.status_code, verdict


async def load(url: str, data: bytes, uploads: int) -> tuple[list[tuple[float, int, str]], float]:
    limits = httpx.Limits(max_connections=uploads, max_keepalive_connections=uploads)
    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as client:
        start = time.perf_counter()
        results = await asyncio.gather(*(upload(client, data) for _ in range(uploads)))
        return list(results), time.perf_counter() - start


async def sequential(url: str, data: bytes, repeats: int) -> float:
    async with httpx.AsyncClient(base_url=url, timeout=600) as client:
        samples = [(await upload(client, data))[0] for _ in range(repeats)]
    return statistics.median(samples)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--size", default="480x270")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        raise SystemExit("needs the ffmpeg command line (make setup)")
    with tempfile.TemporaryDirectory() as tmp:
        ws, clip = prepare(Path(tmp), args.seconds, args.size)
        data = clip.read_bytes()
        single = baseline_in_process(ws, clip, 5)
        server = Server(ws, args.workers)
        try:
            one_at_a_time = asyncio.run(sequential(server.url, data, 5))
            results, wall = asyncio.run(load(server.url, data, args.uploads))
            metrics = httpx.get(server.url + "/metrics").text
        finally:
            server.stop()
    report(args, len(data), single, one_at_a_time, results, wall, metrics)


def report(
    args: argparse.Namespace,
    size: int,
    single: float,
    one_at_a_time: float,
    results: list[tuple[float, int, str]],
    wall: float,
    metrics: str,
) -> None:
    latencies = [r[0] for r in results]
    ok = sum(1 for _, status, verdict in results if status == 200 and verdict == "verified")
    print(f"clip: {args.size}, {args.seconds:g} s, stripped and re-encoded, {size} bytes")
    print(f"baseline, in-process verify_file (median of 5): {single * 1000:8.1f} ms")
    print(f"baseline, one HTTP upload at a time (median of 5): {one_at_a_time * 1000:8.1f} ms")
    print(f"{args.uploads} concurrent uploads: {ok}/{len(results)} answered 200 verified, "
          f"wall {wall:.2f} s, {len(results) / wall:.2f} uploads/s")  # fmt: skip
    print("latency ms: " + ", ".join(
        f"{name} {quantile(latencies, q) * 1000:.0f}"
        for name, q in (("min", 0), ("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1))))
    print(f"throughput vs sequential in-process verify: "
          f"{(len(results) / wall) * single:.2f}x")  # fmt: skip
    print(f"p50 under load / one upload at a time: "
          f"{quantile(latencies, 0.5) / one_at_a_time:.1f}x")  # fmt: skip
    verdicts = [line for line in metrics.splitlines()
                if line.startswith("provenance_verifications_total")]  # fmt: skip
    print("server metrics: " + "; ".join(verdicts))
    print(json.dumps({"ok": ok, "uploads": len(results)}))
    if ok != len(results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
