# Two entry points for a fresh machine (see README "Quick start"):
#   make demo   set up, then stamp and verify a sample frame the project makes itself
#   make test   set up, then lint, type-check and run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: setup system-deps demo test lint typecheck pytest bench bench-video bench-live bench-ledger bench-serve robustness clean

setup: $(STAMP) system-deps

# ffmpeg/ffprobe command lines (Debian packages), used by the video tests as a platform would,
# and the PostgreSQL server the repository tests start a throwaway cluster of.
system-deps:
	bash scripts/system-deps.sh

# torch is installed first and pinned: imwatermark imports it, and an unpinned torch pulls
# several GB of CUDA wheels, while 2.13.0 is the local CPU build on these machines.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

test: setup lint typecheck pytest

lint: setup
	$(BIN)/ruff check provenance cli tests benchmarks spec

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest -n 2 -q

bench: setup
	$(BIN)/python benchmarks/stamp_still.py

# What the consent registry and usage ledger add to stamping a still (benchmarks/ledger.py).
bench-ledger: setup
	$(BIN)/python -m benchmarks.ledger

# Video targets: stamp vs transcode, verify vs decode, peak memory (benchmarks/README.md).
# About 17 minutes on 2 cores the first time (it makes and caches a 10-minute 1080p
# source), 9 minutes after;
# BENCH_VIDEO_ARGS=--quick for a smoke test, or e.g. --memory-long-seconds 300.
bench-video: setup
	$(BIN)/python -m benchmarks.video $(BENCH_VIDEO_ARGS)

# Live streams: stamping rate, watermark share, signing and verifying per segment, and the
# 60-second done-when stream read by ffprobe (benchmarks/README.md). A few minutes;
# BENCH_LIVE_ARGS=--seconds 10 for a quick run.
bench-live: setup
	$(BIN)/python -m benchmarks.live $(BENCH_LIVE_ARGS)

# 50 concurrent clip uploads to `serve --verifier` from a second process (about 30 s).
bench-serve: setup
	$(BIN)/python -m benchmarks.serve_load $(BENCH_SERVE_ARGS)

# Watermark engines side by side: attacks, quality, speed, bitrate (benchmarks/README.md).
# About 10 minutes on 2 cores; ROBUSTNESS_ARGS=--quick for a 30 s smoke test.
robustness: setup
	$(BIN)/python -m benchmarks.robustness $(ROBUSTNESS_ARGS)

clean:
	rm -rf $(VENV) demo .mypy_cache .ruff_cache .pytest_cache
