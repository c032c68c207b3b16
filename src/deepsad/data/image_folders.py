"""Image folders in the common industrial-inspection layout, read into arrays:

    ROOT/train/good/*.png                  normal training images
    ROOT/test/good/*.png                   normal test images
    ROOT/test/<defect>/*.png               anomalous test images, by kind of defect
    ROOT/ground_truth/<defect>/<name>_mask.png   optional pixel masks of the defects

Images are read with Pillow (PNG, JPEG, BMP, TIFF), converted to one colour mode (grayscale
when every training image is, else RGB), resized to one size, and scaled to [0, 1]: 8-bit
pixels by 255, 16-bit ones by 65535, floating-point ones (TIFF mode "F") as they are when they
lie in [0, 1] and by 255 when they lie in [0, 255] (one rule for all the training images, so a
dark image of a [0, 255] set stays dark; test images follow it). A mask has its image's size, is resized the
same way and read as "pixel > 0". The folders are read one level deep: images in subfolders of
test/<defect> are not read.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from deepsad.user_warnings import warn

SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
GOOD = "good"


@dataclass(frozen=True, eq=False)
class ImageFolderData:
    """``X_train`` (normal images), ``X_test`` with ``y_test`` (1 = anomaly), the defect kind
    of each test image (``"good"`` for normal ones), pixel ``masks`` of the test images (all
    False for normal images and for defects without a mask file; ``has_mask`` says which
    have one) and the test images' file ``paths``. Images are float32 (n, channels, h, w)."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    defects: np.ndarray
    masks: np.ndarray
    has_mask: np.ndarray
    paths: list[Path]


def read_image_folder(root, image_size: tuple[int, int] | int | None = None) -> ImageFolderData:
    """Read ``root`` in the layout above. ``image_size`` (height, width) or one side: the size
    every image is resized to; None: the first training image's size."""
    root = Path(root)
    train_files = _images_in(root / "train" / GOOD, required=True)
    test_root = root / "test"
    if not test_root.is_dir():
        raise FileNotFoundError(f"{test_root} is missing: the layout needs test/good and test/<defect> folders")
    defect_dirs = sorted(p for p in test_root.iterdir() if p.is_dir())
    if not defect_dirs:
        raise FileNotFoundError(f"{test_root} holds no folders: expected test/good and test/<defect>")
    size = _size(image_size, _header(train_files[0]))
    mode = "L" if all(_header(path).mode in GRAYSCALE_MODES for path in train_files) else "RGB"
    test_files = [(folder, path) for folder in defect_dirs for path in _images_in(folder, required=False)]
    float_scale = _float_scale(train_files) or _float_scale([path for _, path in test_files])
    X_train = np.stack([_pixels(path, mode, size, float_scale) for path in train_files])
    tests, defects, masks, has_mask, paths = [], [], [], [], []
    for folder, path in test_files:
        tests.append(_pixels(path, mode, size, float_scale))
        defects.append(folder.name)
        mask_path = root / "ground_truth" / folder.name / f"{path.stem}_mask.png"
        exists = folder.name != GOOD and mask_path.is_file()
        masks.append(_mask(mask_path, size, _header(path).size) if exists else np.zeros(size, dtype=bool))
        has_mask.append(exists)
        paths.append(path)
    if not tests:
        raise FileNotFoundError(f"{test_root} holds no images")
    defects = np.array(defects)
    if (root / "ground_truth").is_dir():
        _warn_about_missing_masks(defects, np.array(has_mask))
    return ImageFolderData(X_train, np.stack(tests), (defects != GOOD).astype(np.int64), defects, np.stack(masks),
                           np.array(has_mask), paths)  # fmt: skip


def read_images(folder, image_size: tuple[int, int] | int, channels: int) -> np.ndarray:
    """Every image in ``folder`` and its subfolders as float32 (n, channels, height, width) in
    [0, 1], resized to ``image_size`` and converted to 1 (grey) or 3 (RGB) channels: e.g. an
    auxiliary anomaly set for Outlier Exposure (``fit(X, X_auxiliary=read_images(...))``),
    shaped like the training images. An unreadable file is named."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder of images")
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grey) or 3 (RGB); got {channels!r}")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        raise FileNotFoundError(f"{folder} holds no images ({', '.join(SUFFIXES)})")
    size = _size(image_size, None)
    float_scale = _float_scale(files)
    return np.stack([_pixels(path, "L" if channels == 1 else "RGB", size, float_scale) for path in files])


def _images_in(folder: Path, required: bool) -> list[Path]:
    if not folder.is_dir():
        if required:
            raise FileNotFoundError(f"{folder} is missing: the layout needs train/good with the normal images")
        return []
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES)
    if required and not files:
        raise FileNotFoundError(f"{folder} holds no images ({', '.join(SUFFIXES)})")
    return files


def _header(path: Path) -> Image.Image:
    """The image with its size and mode read, its pixels not yet decoded."""
    try:
        return Image.open(path)
    except (UnidentifiedImageError, OSError) as error:
        raise ValueError(f"{path} is not a readable image: {error}") from None


def _open(path: Path) -> Image.Image:
    image = _header(path)
    try:
        image.load()
        return image
    except OSError as error:
        raise ValueError(f"{path} is not a readable image: {error}") from None


def _warn_about_missing_masks(defects: np.ndarray, has_mask: np.ndarray) -> None:
    """A ground_truth folder whose masks do not match every defect image: say which defects lack
    them, since pixel metrics then cover only part of the test set."""
    partial = []
    for defect in sorted({str(d) for d in defects[defects != GOOD]}):
        found, total = int(has_mask[defects == defect].sum()), int((defects == defect).sum())
        if found < total:
            partial.append(f"{defect!r} {found} of {total}")
    if partial:
        warn(f"ground_truth holds masks for only part of the defect images ({'; '.join(partial)}); expected "
             "ground_truth/<defect>/<image name>_mask.png with the defect folder's exact name. Pixel metrics "
             "cover the images with masks only.")


def _is_integer(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _size(image_size, first: Image.Image) -> tuple[int, int]:
    if image_size is None:
        return first.height, first.width
    sides = (image_size, image_size) if _is_integer(image_size) else image_size
    if (isinstance(sides, (str, bytes)) or not hasattr(sides, "__len__") or len(sides) != 2
            or not all(_is_integer(side) and side >= 1 for side in sides)):
        raise ValueError(f"image_size must be a positive integer or a (height, width) pair of them; got {image_size!r}")
    return int(sides[0]), int(sides[1])


GRAYSCALE_MODES = ("1", "L", "LA", "I;16", "I;16B", "I;16L", "I", "F")
"""Pillow's modes of grayscale images (with "LA", grey and alpha: the alpha is dropped)."""

SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I")
"""Pillow's modes of 16-bit grayscale images (PNG opens as "I;16" or "I"), scaled by 65535."""


def _float_scale(paths) -> float | None:
    """The one divisor of the floating-point (mode "F") images among ``paths``: 1 when all
    their pixels lie in [0, 1], 255 when in [0, 255]; None when there are none."""
    highest = None
    for path in paths:
        if _header(path).mode == "F":
            values = _finite_non_negative(np.asarray(_open(path), dtype=np.float32), path)
            highest = max(highest or 0.0, float(values.max()))
    if highest is None:
        return None
    if highest <= 1:
        return 1.0
    if highest <= 255:
        return 255.0
    raise ValueError(f"floating-point images must hold pixels in [0, 1] or [0, 255]; "
                     f"some in {paths[0].parent} reach {highest:g}")


def _pixels(path: Path, mode: str, size: tuple[int, int], float_scale: float | None = None) -> np.ndarray:
    image = _open(path)
    if image.mode in SIXTEEN_BIT:
        # convert("L") would clip at 255 instead of rescaling: scale the 16-bit values first
        image = Image.fromarray(np.asarray(image, dtype=np.float32) / 65535.0, mode="F")
        scale = 1.0
    elif image.mode == "F":
        # convert("L") would truncate unit-range floats to 0: scale them by the set's range instead
        values = _finite_non_negative(np.asarray(image, dtype=np.float32), path) / (float_scale or 1.0)
        if values.max() > 1 + 1e-6:
            raise ValueError(f"{path} holds floating-point pixels up to {values.max() * (float_scale or 1.0):g}, beyond "
                             f"the [0, {float_scale or 1.0:g}] of the other floating-point images")
        image, scale = Image.fromarray(values, mode="F"), 1.0
    else:
        image, scale = image.convert(mode), 255.0
    if (image.height, image.width) != size:
        image = image.resize((size[1], size[0]), Image.BILINEAR)
    array = np.clip(np.asarray(image, dtype=np.float32) / scale, 0, 1)
    if array.ndim == 2:
        array = array[None]
        return np.repeat(array, 3, axis=0) if mode == "RGB" else array
    return array.transpose(2, 0, 1)


def _finite_non_negative(values: np.ndarray, path: Path) -> np.ndarray:
    if not np.isfinite(values).all():
        raise ValueError(f"{path} holds non-finite pixel values (NaN or inf)")
    if values.min() < 0:
        raise ValueError(f"{path} holds negative pixel values (down to {values.min():g}); expected [0, 1] or [0, 255]")
    return values


def _mask(path: Path, size: tuple[int, int], image_width_height: tuple[int, int]) -> np.ndarray:
    """The mask at ``path`` resized to ``size`` (height, width); it must measure
    ``image_width_height``, its image's size as Pillow gives it."""
    image = _open(path).convert("L")
    if image.size != image_width_height:
        raise ValueError(f"{path} is {image.width}×{image.height} pixels but its image is "
                         f"{image_width_height[0]}×{image_width_height[1]}: a mask must have its image's size")
    if (image.height, image.width) != size:
        image = image.resize((size[1], size[0]), Image.NEAREST)
    return np.asarray(image) > 0
