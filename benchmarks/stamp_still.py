"""Cost of stamping one still against the baseline of just encoding it, in the same run.

    python benchmarks/stamp_still.py [--frames 5] [--sizes 1280x720,1920x1080]

For each size and format it prints the median time of: the baseline (encode the frame to the
output format), a full stamp (consent check, content ID, watermark, fingerprint, encode, C2PA
signature, repository write), and the watermark embed alone, with the ratio stamp/baseline.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from provenance.consent import License, grant_license
from provenance.media import ImageFormat, LoadedImage, encode_image
from provenance.media.synthetic import avatar_frame
from provenance.stamp import Stamper
from provenance.watermark import ContentId
from provenance.workspace import Workspace


def _median_ms(action: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def _bench_size(stamper: Stamper, license: License, width: int, height: int, frames: int) -> None:
    rgb = avatar_frame(height, width, seed=1)
    image = LoadedImage(rgb=rgb, alpha=None, format=ImageFormat.PNG)
    embed = _median_ms(lambda: stamper.engine.embed(rgb, ContentId.mint(1)), frames)
    for fmt in (ImageFormat.PNG, ImageFormat.JPEG):
        base = _median_ms(functools.partial(encode_image, rgb, fmt), frames)
        stamp = _median_ms(
            functools.partial(
                stamper.stamp_image, image, license=license, purpose="education", output_format=fmt
            ),
            frames,
        )
        print(
            f"{width}x{height:<5} {fmt.name:>6} {base:12.1f} {stamp:9.1f} {embed:9.1f} "
            f"{stamp / base:6.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--sizes", default="1280x720,1920x1080")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Workspace.create(Path(tmp) / "ws", vendor="Bench Studio")
        license = grant_license(
            owner_key=workspace.owner_key(),
            owner_name="Bench",
            face_id="face-bench",
            licensee="Bench Studio",
            allow=["education"],
            deny=[],
            territories=["US"],
            not_after=date.today() + timedelta(days=30),
            intended_uses="Benchmark lecture frames rendered for a physics course",
        )
        stamper = Stamper.from_workspace(workspace)
        stamper.engine.embed(avatar_frame(256, 256), ContentId.mint(1))  # load the engine
        print(f"engine {stamper.engine.name}, median of {args.frames} frames")
        print(
            f"{'size':>10} {'format':>6} {'baseline ms':>12} {'stamp ms':>9} "
            f"{'embed ms':>9} {'ratio':>6}"
        )
        for size in args.sizes.split(","):
            width, height = (int(v) for v in size.split("x"))
            _bench_size(stamper, license, width, height, args.frames)
        stamper.close()


if __name__ == "__main__":
    main()
