"""What the consent registry and the usage ledger add to stamping a still, in the same run.

    python -m benchmarks.ledger [--frames 15] [--size 1280x720]

Baseline: a ``Stamper`` without registry or ledger (consent checked against the license
only, nothing recorded). Measured: ``Stamper.from_workspace`` (revocation check, ledger
append with its signed checkpoint). Prints the median of each, their ratio, the ledger
append alone, and ``ledger verify`` per entry. Clips and streams pay the append once per
clip or stream, so only still render loops see it per frame.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from provenance.consent import grant_license
from provenance.ledger import MediaKind, Usage
from provenance.media import ImageFormat, LoadedImage
from provenance.media.synthetic import avatar_frame
from provenance.stamp import Stamper
from provenance.workspace import Workspace


def _median_ms(action: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=15)
    parser.add_argument("--size", default="1280x720")
    args = parser.parse_args(argv)
    width, height = (int(n) for n in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Workspace.create(Path(tmp) / "ws", vendor="Bench")
        license = grant_license(
            owner_key=workspace.owner_key(), owner_name="Bench", face_id="face-bench",
            licensee="Bench", allow=["education"], deny=[], territories=["EU"],
            not_after=date.today() + timedelta(days=30),
            intended_uses="Benchmark frames of a presenter explaining physics experiments",
        )  # fmt: skip
        image = LoadedImage(rgb=avatar_frame(height, width), alpha=None, format=ImageFormat.PNG)
        full = Stamper.from_workspace(workspace)
        bare = Stamper(signer=full.signer, repository=workspace.repository(), vendor="Bench",
                       issuer=full.issuer, engine=full.engine)  # fmt: skip

        def stamp(stamper: Stamper) -> Callable[[], object]:
            return lambda: stamper.stamp_image(
                image, license=license, purpose="education", output_format=ImageFormat.JPEG
            )

        stamp(full)()  # warm both (registry insert, first checkpoint)
        stamp(bare)()
        baseline = _median_ms(stamp(bare), args.frames)
        measured = _median_ms(stamp(full), args.frames)
        assert full.ledger is not None
        ledger = full.ledger
        usage = Usage("face-append", license.license_id, license.sha256(), "Bench",
                      "education", "EU", "0" * 16, MediaKind.STILL, 1, None)  # fmt: skip
        append = _median_ms(lambda: ledger.append(usage), args.frames)
        reader = workspace.ledger_reader()
        start = time.perf_counter()
        checked = reader.verify()
        verify_per_entry = (time.perf_counter() - start) * 1000 / max(checked.entries, 1)
        full.close()
        bare.close()
        reader.close()
    results = {
        "stamp_baseline_ms": baseline,
        "stamp_with_ledger_ms": measured,
        "ratio": measured / baseline,
        "append_ms": append,
        "verify_ms_per_entry": verify_per_entry,
    }
    print(f"still {width}x{height}, median of {args.frames}")
    print(f"  stamp without registry/ledger  {baseline:8.1f} ms")
    print(f"  stamp with registry + ledger   {measured:8.1f} ms   ratio {results['ratio']:.2f}")
    print(f"  ledger append alone            {append:8.2f} ms")
    print(f"  ledger verify, per entry       {verify_per_entry:8.3f} ms")
    return results


if __name__ == "__main__":
    main()
