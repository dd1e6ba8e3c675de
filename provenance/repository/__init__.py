"""The vendor's manifest repository: watermark payload to signed manifest.

A stripped re-upload still carries the watermark; its payload is the key under which the
stamper stored the signed manifest here. :class:`ManifestRepository` is the interface;
:class:`SQLiteRepository` the default backend (a PostgreSQL backend implements the same
protocol later).
"""

from .base import ManifestRecord, ManifestRepository
from .sqlite import SQLiteRepository

__all__ = ["ManifestRecord", "ManifestRepository", "SQLiteRepository"]
