"""Rebuild the visible-label font: Noto Sans CJK SC Bold cut down to the label's glyphs.

Run only when a label text in provenance/labels.py (LANGUAGES) gains new characters:
    apt-get install fonts-noto-cjk && pip install fonttools
    python scripts/subset-label-font.py
The full font is 20 MB; the subset is a few KB and is committed as package data with its
SIL Open Font License (provenance/media/fonts/OFL.txt).
"""

from __future__ import annotations

import string
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from provenance.labels import LANGUAGES  # noqa: E402

SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
FAMILY = "Noto Sans CJK SC"
TARGET = ROOT / "provenance" / "media" / "fonts" / "NotoSansCJKsc-Bold-label.otf"


def main() -> None:
    collection = TTCollection(str(SOURCE))
    font = next(f for f in collection.fonts if f["name"].getDebugName(1) == FAMILY)
    # Printable ASCII as well, so a vendor's own Latin label text renders too.
    text = "".join(LANGUAGES.values()) + string.printable.strip() + " "
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    font.save(str(TARGET))
    print(f"{TARGET}: {TARGET.stat().st_size} bytes; {font['name'].getDebugName(0)}")


if __name__ == "__main__":
    main()
