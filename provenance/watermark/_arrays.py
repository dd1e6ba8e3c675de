"""Input checks shared by every engine: one wording for one mistake, whichever engine sees it."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..errors import ImageTooSmallError, InputError

__all__ = ["check_plane", "check_rgb"]


def check_rgb(rgb: object, name: str, min_height: int = 0, min_width: int = 0) -> NDArray[np.uint8]:
    """Return ``rgb`` if it is an ``(H, W, 3)`` ``uint8`` array at least this large.

    Raises:
        InputError: wrong shape or dtype.
        ImageTooSmallError: smaller than ``min_width`` x ``min_height``.
    """
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3:
        shape = getattr(rgb, "shape", None)
        raise InputError(f"{name}: expected an (H, W, 3) RGB array, got shape {shape}")
    return _check_size(_check_dtype(rgb, name, "pixels"), name, min_height, min_width)


def check_plane(
    luma: object, name: str, min_height: int = 0, min_width: int = 0
) -> NDArray[np.uint8]:
    """Return ``luma`` if it is an ``(H, W)`` ``uint8`` plane at least this large.

    Raises:
        InputError: wrong shape or dtype.
        ImageTooSmallError: smaller than ``min_width`` x ``min_height``.
    """
    if not isinstance(luma, np.ndarray) or luma.ndim != 2:
        shape = getattr(luma, "shape", None)
        raise InputError(f"{name}: expected an (H, W) luma plane, got shape {shape}")
    return _check_size(_check_dtype(luma, name, "luma"), name, min_height, min_width)


def _check_dtype(array: NDArray[np.generic], name: str, what: str) -> NDArray[np.uint8]:
    if array.dtype != np.uint8:
        raise InputError(f"{name}: expected uint8 {what}, got {array.dtype}")
    return array.astype(np.uint8, copy=False)


def _check_size(
    array: NDArray[np.uint8], name: str, min_height: int, min_width: int
) -> NDArray[np.uint8]:
    height, width = array.shape[:2]
    if height < min_height or width < min_width:
        raise ImageTooSmallError(
            f"{name}: image is {width}x{height}, needs at least {min_width}x{min_height}"
        )
    return array
