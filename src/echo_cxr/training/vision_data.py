"""Labelled views kept in memory at the tower's input size, for stage 0 and its diagnostics.

Stage 0 (``vision_pretrain.py``) and the supervised CNN baseline (``diagnostics/cnn_baseline.py``)
see each study many times. Decoding a 512 x 512 PNG and running the image processor for every
visit costs more than the small tower's forward, so each view is decoded and resized ONCE, exactly
as the Qwen2-VL image processor resizes it (``smart_resize`` to multiples of patch x merge, PIL
bicubic), and kept as uint8 grey levels. ``patchify`` then turns a batch into the processor's
``pixel_values`` with tensor ops; a test checks both against the processor (max abs diff 0).

A cache file (``torch.save``) holds the views of one data set at one size, so a resumed or
repeated run does not decode again.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from echo_cxr.errors import EchoError

CACHE_VERSION = 1
GREY_TOLERANCE = 0  # Phantom views are grey: R == G == B exactly after the RGB conversion


@dataclass(frozen=True)
class PixelSpec:
    """What the image processor does to a view: resize bounds, patch grid, normalisation."""

    min_pixels: int
    max_pixels: int
    patch_size: int
    merge_size: int
    temporal_patch_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    @classmethod
    def of(cls, image_processor) -> "PixelSpec":
        size = image_processor.size
        return cls(int(size["shortest_edge"]), int(size["longest_edge"]), image_processor.patch_size,
                   image_processor.merge_size, image_processor.temporal_patch_size,
                   tuple(image_processor.image_mean), tuple(image_processor.image_std))

    @property
    def factor(self) -> int:
        return self.patch_size * self.merge_size

    def resized(self, height: int, width: int) -> tuple[int, int]:
        """The processor's ``smart_resize`` (transformers' Qwen2-VL image processor)."""
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize

        return smart_resize(height, width, factor=self.factor, min_pixels=self.min_pixels,
                            max_pixels=self.max_pixels)


def grey_array(image, spec: PixelSpec):
    """(H, W) uint8 numpy array: an RGB PIL view resized as the processor resizes it, one channel kept."""
    import numpy as np
    from PIL import Image

    height, width = spec.resized(image.height, image.width)
    array = np.asarray(image.convert("RGB").resize((width, height), Image.BICUBIC))
    if np.abs(array[..., 0].astype(int) - array[..., 2]).max() > GREY_TOLERANCE:
        raise EchoError("the view cache keeps grey images only; this view has colour")
    return array[..., 0].copy()


def grey_view(image, spec: PixelSpec) -> torch.Tensor:
    """(H, W) uint8 tensor of ``grey_array``."""
    return torch.from_numpy(grey_array(image, spec))


def patchify(views: Sequence[torch.Tensor], spec: PixelSpec) -> tuple[torch.Tensor, torch.Tensor]:
    """Grey uint8 views -> (pixel_values (sum of patches, 3*t*p*p), image_grid_thw (n, 3)),
    laid out exactly as the Qwen2-VL image processor lays them out."""
    mean = torch.tensor(spec.mean)[:, None, None]
    std = torch.tensor(spec.std)[:, None, None]
    p, m, t = spec.patch_size, spec.merge_size, spec.temporal_patch_size
    rows, grids = [], []
    for view in views:
        height, width = view.shape
        x = (view.float()[None] / 255.0 - mean) / std  # (3, H, W)
        gh, gw = height // p, width // p
        x = x.reshape(3, gh // m, m, p, gw // m, m, p).permute(1, 4, 2, 5, 0, 3, 6)  # (gh/m, gw/m, m, m, 3, p, p)
        x = x[:, :, :, :, :, None].expand(*x.shape[:5], t, p, p)
        rows.append(x.reshape(gh * gw, 3 * t * p * p))
        grids.append((1, gh, gw))
    return torch.cat(rows), torch.tensor(grids)


@dataclass
class ViewSet:
    """Every study's views (grey uint8) and its labels; ``views[i]`` belongs to ``labels[i]``."""

    views: list[list[torch.Tensor]]
    labels: list[list[dict]]
    study_ids: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def image_count(self) -> int:
        return sum(len(v) for v in self.views)


def _load_arrays(paths: Sequence[str], spec: PixelSpec) -> list:
    """Numpy, not torch: worker processes would pass tensors as shared-memory file descriptors,
    and tens of thousands of them exhaust the descriptor passing ("received 0 items of ancdata")."""
    from echo_cxr.imaging import load_image

    return [grey_array(load_image(path), spec) for path in paths]


def build_view_set(studies, spec: PixelSpec, workers: int = 1) -> ViewSet:
    """Decode and resize every study's views (``studies``: samples with ``images`` and ``labels``)."""
    paths = [list(study.images) for study in studies]
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        chunk = max(1, math.ceil(len(paths) / (workers * 8)))
        with ProcessPoolExecutor(workers) as pool:
            arrays = list(pool.map(_load_arrays, paths, [spec] * len(paths), chunksize=chunk))
    else:
        arrays = [_load_arrays(p, spec) for p in paths]
    views = [[torch.from_numpy(a) for a in study] for study in arrays]
    return ViewSet(views, [list(s.labels or []) for s in studies], [s.sample_id for s in studies])


def cached_view_set(studies, spec: PixelSpec, cache: Path | None, workers: int = 1) -> ViewSet:
    """``build_view_set``, read from / written to ``cache`` when given (checked against the studies)."""
    key = {"version": CACHE_VERSION, "spec": spec, "ids": [s.sample_id for s in studies],
           "images": [list(s.images) for s in studies]}
    if cache is not None and cache.is_file():
        saved = torch.load(cache, weights_only=False)
        if saved.get("key") == key:
            return saved["views"]
    views = build_view_set(studies, spec, workers)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(cache.suffix + ".partial")
        torch.save({"key": key, "views": views}, partial)
        os.replace(partial, cache)
    return views
