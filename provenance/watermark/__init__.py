"""Invisible watermarks that carry a content id, behind one engine interface.

Engines are looked up lazily by name; the payload codec (BCH + CRC, ``spec/payload.md``)
is shared by all of them, so "detected" means the same thing for every engine.

Example:
    >>> from provenance.watermark import ContentId, get_engine
    >>> engine = get_engine("imwm-dwtdctsvd")  # imports imwatermark only now
    >>> marked = engine.embed(rgb, ContentId.mint(issuer=1))  # doctest: +SKIP
    >>> engine.detect(marked).detected  # doctest: +SKIP
    True
"""

from ._registry import DEFAULT_ENGINE as DEFAULT_ENGINE
from ._registry import detect_any as detect_any
from ._registry import engine_algs as engine_algs
from ._registry import engine_for_alg as engine_for_alg
from ._registry import engine_names as engine_names
from ._registry import get_engine as get_engine
from .aggregate import ClipDecoder as ClipDecoder
from .aggregate import decode_soft as decode_soft
from .base import Detection as Detection
from .base import SoftBits as SoftBits
from .base import WatermarkEngine as WatermarkEngine
from .payload import PAYLOAD_BITS as PAYLOAD_BITS
from .payload import PAYLOAD_LAYOUT as PAYLOAD_LAYOUT
from .payload import ContentId as ContentId
from .payload import DecodedPayload as DecodedPayload
from .payload import decode_payload as decode_payload
from .payload import encode_payload as encode_payload
from .payload import false_alarm_probability as false_alarm_probability
from .thirdparty import ThirdPartyMark as ThirdPartyMark
from .thirdparty import detect_third_party as detect_third_party

__all__ = [
    "DEFAULT_ENGINE",
    "PAYLOAD_BITS",
    "PAYLOAD_LAYOUT",
    "ClipDecoder",
    "ContentId",
    "DecodedPayload",
    "Detection",
    "SoftBits",
    "ThirdPartyMark",
    "WatermarkEngine",
    "decode_payload",
    "decode_soft",
    "detect_any",
    "detect_third_party",
    "encode_payload",
    "engine_algs",
    "engine_for_alg",
    "engine_names",
    "false_alarm_probability",
]
