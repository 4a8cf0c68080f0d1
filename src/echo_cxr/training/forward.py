"""The training forward: stock Qwen2.5-VL modules, explicit positions and a 4D boolean mask.

Images are encoded once each (frozen tower: without gradients, or read from the run's feature
cache, training/feature_cache.py) and scattered into their placeholders in ``image_order`` (a
duplicated context repeats its images). Logits are computed
only where a loss needs them.
"""

from __future__ import annotations

import contextlib

import torch

from echo_cxr.errors import EchoError
from echo_cxr.training.packing import PackedBatch


def input_embeddings(model, batch: PackedBatch, freeze_vision: bool) -> torch.Tensor:
    """(B, T, D) token embeddings with vision features in the image placeholders."""
    embeds = model.get_input_embeddings()(batch.input_ids)
    if batch.image_features is not None:
        if not freeze_vision:
            raise EchoError("cached vision features are for a frozen tower only")
        per_image = batch.image_features
    elif batch.pixel_values is None:
        return embeds
    else:
        no_grad = torch.no_grad() if freeze_vision else contextlib.nullcontext()
        with no_grad:
            features = model.model.get_image_features(batch.pixel_values, batch.image_grid_thw, return_dict=True)
        per_image = features.pooler_output
    ordered = torch.cat([per_image[i] for i in batch.image_order]).to(embeds.dtype)
    slots = (batch.input_ids == model.config.image_token_id)[..., None]
    return embeds.masked_scatter(slots, ordered)


def training_logits(model, batch: PackedBatch, select: torch.Tensor, freeze_vision: bool = True) -> torch.Tensor:
    """(K, V) logits at the ``select`` (B, T) slots, in row-major order."""
    embeds = input_embeddings(model, batch, freeze_vision)
    masks = {"full_attention": batch.mask, "sliding_attention": batch.mask}
    out = model.model.language_model(
        inputs_embeds=embeds, position_ids=batch.positions, attention_mask=masks, use_cache=False
    )
    return model.lm_head(out.last_hidden_state[select])


class LogitsModule(torch.nn.Module):
    """The model behind one ``forward`` call, so that DDP/FSDP wrappers see the whole step."""

    def __init__(self, model, freeze_vision: bool):
        super().__init__()
        self.model = model
        self.freeze_vision = freeze_vision

    def forward(self, batch: PackedBatch, select: torch.Tensor) -> torch.Tensor:
        return training_logits(self.model, batch, select, self.freeze_vision)
