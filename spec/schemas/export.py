"""Regenerate ``license.schema.json`` from the pydantic model.

Run from the repository root after changing ``provenance/consent.py``::

    PYTHONPATH=. python spec/schemas/export.py

``tests/unit/test_consent.py`` fails while the committed file differs from a fresh export.
"""

from __future__ import annotations

import json
from pathlib import Path

from provenance.consent import export_json_schema

TARGET = Path(__file__).resolve().parent / "license.schema.json"


def main() -> None:
    """Write the schema next to this script, with sorted keys so diffs stay small."""
    text = json.dumps(export_json_schema(), indent=2, sort_keys=True, ensure_ascii=False)
    TARGET.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
