"""Vision features of a frozen tower, computed once per image for a whole training run.

With ``freeze_vision`` the tower's output for a view never changes during a run, yet a plain run
decodes, resizes and patchifies every view and runs the tower on it at every visit (each study
gives an EN and a ZH sample, every epoch). ``FeatureCache.build`` runs the processor and the tower
once per distinct image path; ``encode`` then makes a study's prompt from the cached grid (the same
placeholder expansion as the processor, tested token for token against it) with the features in
``EncodedPrompt.image_features`` and no pixels. Measured on the Phantom AR stage (2-core CPU):
image loading and processing were ~11 ms per sample and the frozen tower ~5 ms (docs/training.md).

The cache is saved as one file named by a digest of the tower's weights, the image processor's
pixel settings and the image list, so the later stages that keep the same frozen tower (RAD and DCD
start from the AR model) reuse it instead of computing it again.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from echo_cxr.errors import EchoError
from echo_cxr.model.inputs import EncodedPrompt, Study, prompt_text

CACHE_VERSION = 1
CACHE_SUFFIX = ".features.pt"
# the image processor's attributes besides ``PixelSpec`` that change its pixels
PIXEL_STEPS = ("resample", "do_resize", "do_rescale", "rescale_factor", "do_normalize", "do_convert_rgb")


@dataclass
class FeatureCache:
    """``features[index[path]]``: a view's tower output (tokens, D); ``grids[index[path]]`` its (t, h, w)."""

    index: dict[str, int]
    features: list[torch.Tensor]
    grids: torch.Tensor  # (images, 3)

    def __contains__(self, study: Study) -> bool:
        return all(isinstance(image, (str, os.PathLike)) and str(image) in self.index for image in study.images)

    def encode(self, processor, study: Study) -> EncodedPrompt:
        """The prompt ``encode_study`` would give, with this cache's features instead of pixels."""
        rows = [self.index[str(image)] for image in study.images]
        grids = self.grids[rows]
        text = expand_image_tokens(prompt_text(processor, study), processor, grids)
        input_ids = processor.tokenizer(text, return_tensors="pt")["input_ids"][0]
        return EncodedPrompt(input_ids, None, grids, image_features=[self.features[r] for r in rows])

    @classmethod
    def build(cls, bundle, paths: list[str], batch_size: int, folder: Path | None = None) -> "FeatureCache":
        """Features of every distinct path (read from ``folder`` when a file there matches)."""
        paths = list(dict.fromkeys(str(p) for p in paths))
        file = None if folder is None else Path(folder) / f"{cache_digest(bundle, paths)}{CACHE_SUFFIX}"
        if file is not None and file.is_file():
            saved = torch.load(file, weights_only=True)
            if saved.get("version") == CACHE_VERSION and saved.get("paths") == paths:
                return cls._from_saved(saved)
        stacked, counts, grids = _compute(bundle, paths, batch_size)
        saved = {"version": CACHE_VERSION, "paths": paths, "features": stacked, "counts": counts, "grids": grids}
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
            partial = file.with_suffix(".partial")
            torch.save(saved, partial)
            os.replace(partial, file)
        return cls._from_saved(saved)

    @classmethod
    def _from_saved(cls, saved: dict) -> "FeatureCache":
        features = list(torch.split(saved["features"], saved["counts"].tolist()))
        return cls({path: i for i, path in enumerate(saved["paths"])}, features, saved["grids"])


def expand_image_tokens(text: str, processor, grids: torch.Tensor) -> str:
    """Each image token of ``text`` repeated once per merged patch of its view, as the processor
    does before tokenising."""
    token, merge = processor.image_token, processor.image_processor.merge_size
    parts = text.split(token)
    if len(parts) - 1 != grids.shape[0]:
        raise EchoError(f"the prompt has {len(parts) - 1} image tokens for {grids.shape[0]} views")
    counts = [int(g.prod()) // merge**2 for g in grids]
    return parts[0] + "".join(token * n + rest for n, rest in zip(counts, parts[1:]))


def cache_digest(bundle, paths: list[str]) -> str:
    """What the features depend on: the tower's weights, the image processor's settings, the images."""
    digest = hashlib.sha256()
    for name, tensor in sorted(bundle.model.model.visual.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    digest.update(repr(pixel_settings(bundle.processor.image_processor)).encode())
    digest.update("\n".join(paths).encode())
    return digest.hexdigest()[:24]


def pixel_settings(image_processor) -> tuple:
    """The image processor's settings that change its ``pixel_values``: resize bounds, patch grid,
    normalisation, resampling and the steps it runs. Not its whole ``to_dict()``: that also carries
    metadata (``auto_map`` once the processor has been saved) that differs between a processor
    built in memory and the same one read back, which would recompute identical features."""
    from echo_cxr.training.vision_data import PixelSpec

    steps = tuple((key, str(getattr(image_processor, key, None))) for key in PIXEL_STEPS)
    return PixelSpec.of(image_processor), steps


@torch.no_grad()  # not inference mode: the features go into graphs that training differentiates
def _compute(bundle, paths: list[str], batch_size: int):
    from echo_cxr.imaging import load_image

    model, processor = bundle.model, bundle.processor.image_processor
    was_training = model.training
    model.eval()
    parts, counts, grids = [], [], []
    try:
        for start in range(0, len(paths), batch_size):
            images = [load_image(path) for path in paths[start : start + batch_size]]
            pixels = processor(images=images, return_tensors="pt")
            grid = pixels["image_grid_thw"]
            out = model.model.get_image_features(pixels["pixel_values"].to(model.device, model.dtype),
                                                 grid.to(model.device), return_dict=True).pooler_output
            parts += [f.to("cpu") for f in out]
            counts += [f.shape[0] for f in out]
            grids.append(grid)
    finally:
        model.train(was_training)
    return torch.cat(parts), torch.tensor(counts), torch.cat(grids)
