"""Image input for every entry point (CLI, batch inference, demo, service): one module, one set of
checks, one error type.

PNG (8/16-bit; gray, RGB, palette, alpha) and JPEG through PIL; DICOM through pydicom (modality
rescale, VOI LUT or window, MONOCHROME1 inversion, 8-16 bit; multi-frame, non-image and
undecodable files refused). A study is one or more views within an ``ImageLimits`` budget. Every
failure is an ``EchoError`` with a one-line message naming the file.

Public API::

    load_image(source, limits=DEFAULT_LIMITS) -> PIL.Image (RGB)
    load_study_images(sources, limits=DEFAULT_LIMITS) -> list[PIL.Image]
    EncodedImage(data, name)              an upload's bytes, accepted wherever a path is
    ImageLimits(max_images, max_source_pixels, max_bytes, min_side, max_aspect_ratio)
    is_dicom(path), read_dicom(path)

The limits are imported eagerly (no dependencies); the readers (PIL, numpy, pydicom) on first use,
so that commands which only need the limits (the CLI's option defaults) start fast.
"""

from importlib import import_module

from echo_cxr.imaging.limits import (
    DEFAULT_LIMITS, MAX_IMAGE_BYTES, MAX_IMAGES_PER_STUDY, MAX_SOURCE_PIXELS, MIN_IMAGE_SIDE, ImageLimits,
    LimitExceeded,
)

_READERS = ("EncodedImage", "decode_bytes", "image_label", "is_dicom", "load_image", "load_study_images",
            "read_dicom")


def __getattr__(name: str):
    if name in _READERS:
        return getattr(import_module("echo_cxr.imaging.load"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "DEFAULT_LIMITS", "MAX_IMAGES_PER_STUDY", "MAX_IMAGE_BYTES", "MAX_SOURCE_PIXELS", "MIN_IMAGE_SIDE",
    "EncodedImage", "ImageLimits", "LimitExceeded", "decode_bytes", "image_label", "is_dicom", "load_image",
    "load_study_images", "read_dicom",
]
