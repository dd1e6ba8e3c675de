"""Counters, gauges and histograms in the Prometheus text exposition format (0.0.4).

A few dozen lines instead of a client library: the service exposes a handful of series,
and every update is one lock-protected dict operation.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Sequence

__all__ = ["Metrics"]

Labels = tuple[tuple[str, str], ...]
# Seconds; spans a cached manifest lookup (sub-millisecond) to a clip upload (seconds).
DEFAULT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _Histogram:
    def __init__(self, buckets: Sequence[float]) -> None:
        self.bounds = tuple(buckets)
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value


class Metrics:
    """A registry of named series; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._help: dict[str, tuple[str, str]] = {}
        self._values: dict[str, dict[Labels, float]] = {}
        self._histograms: dict[str, dict[Labels, _Histogram]] = {}
        self._gauges: dict[str, Callable[[], float]] = {}

    def describe(self, name: str, kind: str, text: str) -> None:
        """Declare a series: ``kind`` is counter, gauge or histogram."""
        self._help[name] = (kind, text)

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._values.setdefault(name, {})
            series[key] = series.get(key, 0.0) + amount

    def observe(self, name: str, value: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._histograms.setdefault(name, {})
            histogram = series.get(key)
            if histogram is None:
                histogram = series[key] = _Histogram(DEFAULT_BUCKETS)
            histogram.observe(value)

    def gauge(self, name: str, read: Callable[[], float]) -> None:
        """A gauge read at scrape time."""
        self._gauges[name] = read

    def render(self) -> str:
        """The text exposition of every series."""
        lines: list[str] = []
        with self._lock:
            values = {name: dict(series) for name, series in self._values.items()}
            histograms = {
                name: {k: (h.bounds, list(h.counts), h.sum) for k, h in series.items()}
                for name, series in self._histograms.items()
            }
        for name, series in sorted(values.items()):
            lines += self._header(name)
            lines += [f"{name}{_labels(key)} {_number(v)}" for key, v in sorted(series.items())]
        for name, read in sorted(self._gauges.items()):
            lines += self._header(name)
            try:
                lines.append(f"{name} {_number(read())}")
            except Exception:  # a failing gauge must not break the scrape
                lines.append(f"{name} NaN")
        for name, hseries in sorted(histograms.items()):
            lines += self._header(name)
            for key, (bounds, counts, total) in sorted(hseries.items()):
                lines += _histogram_lines(name, key, bounds, counts, total)
        return "\n".join(lines) + "\n"

    def _header(self, name: str) -> list[str]:
        kind, text = self._help.get(name, ("untyped", name))
        return [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]


def _histogram_lines(
    name: str, key: Labels, bounds: Sequence[float], counts: Sequence[int], total: float
) -> list[str]:
    lines, running = [], 0
    for bound, count in zip((*bounds, float("inf")), counts, strict=True):
        running += count
        le = "+Inf" if bound == float("inf") else _number(bound)
        lines.append(f"{name}_bucket{_labels((*key, ('le', le)))} {running}")
    lines.append(f"{name}_sum{_labels(key)} {_number(total)}")
    lines.append(f"{name}_count{_labels(key)} {running}")
    return lines


def _labels(key: Labels) -> str:
    if not key:
        return ""
    body = ",".join(f'{k}="{_escape(v)}"' for k, v in key)
    return "{" + body + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return repr(float(value)) if value != int(value) else str(int(value))
