"""From studies to model inputs: chat prompt, pixels, embeddings and 3D M-RoPE positions.

Positions (METHOD.md section 2): the prompt's (3, P) M-RoPE positions come once from the stock
``get_rope_index``; a response token at canvas position p >= P gets p + delta on all three axes,
where delta = (max prompt position + 1) - P.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import torch

from echo_cxr.errors import EchoError
from echo_cxr.imaging import load_image
from echo_cxr.prompts import default_prompt


@dataclass
class Study:
    """One request: the views of one study (paths, PIL images or arrays) and the instruction."""

    images: list = field(default_factory=list)
    language: str = "en"
    prompt: str | None = None  # None: the release prompt for ``language``
    seed: int | None = None  # None: the decoding config's seed

    def __post_init__(self) -> None:
        if not self.images:
            raise EchoError("a study needs at least one image")
        default_prompt(self.language)  # validates the language

    @property
    def instruction(self) -> str:
        return self.prompt if self.prompt is not None else default_prompt(self.language)


@dataclass
class EncodedPrompt:
    """Processor output for one study."""

    input_ids: torch.Tensor  # (P,)
    pixel_values: torch.Tensor | None  # (patches, patch_dim)
    image_grid_thw: torch.Tensor | None  # (images, 3)
    # the vision tower's output per view, computed ahead (training/feature_cache.py); pixels are None then
    image_features: list[torch.Tensor] | None = None

    @property
    def length(self) -> int:
        return int(self.input_ids.shape[0])


def chat_messages(num_images: int, instruction: str) -> list[dict]:
    """One user turn: one image entry per view, then the text (release convention)."""
    content = [{"type": "image"} for _ in range(num_images)] + [{"type": "text", "text": instruction}]
    return [{"role": "user", "content": content}]


def prompt_text(processor, study: Study) -> str:
    """The study's chat prompt as text (``add_generation_prompt=True``), one image token per view."""
    return processor.apply_chat_template(
        chat_messages(len(study.images), study.instruction), add_generation_prompt=True, tokenize=False
    )


def encode_study(processor, study: Study) -> EncodedPrompt:
    """``prompt_text``, then the processor (resize, patchify)."""
    images = [load_image(image) for image in study.images]
    batch = processor(text=[prompt_text(processor, study)], images=images, return_tensors="pt")
    return EncodedPrompt(batch["input_ids"][0], batch.get("pixel_values"), batch.get("image_grid_thw"))


def prompt_positions(model, prompt: EncodedPrompt) -> tuple[torch.Tensor, int]:
    """(3, P) M-RoPE positions of the prompt and its delta for response positions."""
    ids = prompt.input_ids[None]
    token_types = (ids == model.config.image_token_id).int()
    if prompt.image_grid_thw is None or not bool(token_types.any()):
        positions = torch.arange(prompt.length)[None].expand(3, -1)
        return positions, 0
    positions, delta = model.model.get_rope_index(ids, token_types, image_grid_thw=prompt.image_grid_thw)
    return positions[:, 0], int(delta.reshape(-1)[0])


def response_positions(first: int, count: int, delta: int) -> torch.Tensor:
    """(3, count) positions of canvas positions first..first+count-1 (>= P): p + delta on all axes."""
    return (torch.arange(first, first + count) + delta)[None].expand(3, -1)


def embed_prompts(model, prompts: list[EncodedPrompt]) -> list[torch.Tensor]:
    """(P, D) input embeddings per prompt, image placeholders replaced by vision features.

    All images of the batch go through the vision tower in one call (prompts that carry their
    ``image_features`` skip it).
    """
    device = model.device
    embed = model.get_input_embeddings()
    embeds = [embed(p.input_ids.to(device)) for p in prompts]
    with_images = [i for i, p in enumerate(prompts) if p.pixel_values is not None]
    features = []
    if with_images:
        pixels = torch.cat([prompts[i].pixel_values for i in with_images]).to(device)
        grids = torch.cat([prompts[i].image_grid_thw for i in with_images]).to(device)
        features = list(model.model.get_image_features(pixels, grids, return_dict=True).pooler_output)
    cursor = 0
    for i, prompt in enumerate(prompts):
        if prompt.image_features is not None:
            row_features = torch.cat(prompt.image_features).to(device, embeds[i].dtype)
        elif prompt.pixel_values is not None:
            count = int(prompt.image_grid_thw.shape[0])
            row_features = torch.cat(features[cursor : cursor + count]).to(embeds[i].dtype)
            cursor += count
        else:
            continue
        slots = prompts[i].input_ids.to(device) == model.config.image_token_id
        if int(slots.sum()) != row_features.shape[0]:
            raise EchoError("image placeholder tokens do not match the vision features of the study")
        embeds[i] = embeds[i].masked_scatter(slots[:, None], row_features)
    return embeds


def prepare_prompts(model, prompts: list[EncodedPrompt]):
    """(embeddings, positions, deltas) of a batch of prompts: what every decoder starts from."""
    embeds = embed_prompts(model, prompts)
    rope = [prompt_positions(model, p) for p in prompts]
    return embeds, [r[0] for r in rope], [r[1] for r in rope]


def token_embedder(model):
    """ids -> input embeddings: the plain lookup for a stock ``nn.Embedding`` (skips module-call
    overhead in the per-token loops), else the model's own embedding module."""
    embed = model.get_input_embeddings()
    if type(embed) is not torch.nn.Embedding or embed.max_norm is not None:
        return embed
    return partial(torch.nn.functional.embedding, weight=embed.weight)


def lm_forward(model, embeds, positions, mask, cache, logits_from: int | None = 0):
    """One language-model forward over ``embeds`` (B, q, D) with explicit 3D positions (3, B, q).

    ``mask``: (B, 1, q, k) bool. Logits only for positions ``logits_from:`` (None: no logits,
    e.g. a prefill), since the LM head dominates the cost for large vocabularies. Returns (B, q', V).
    """
    masks = {"full_attention": mask, "sliding_attention": mask}
    out = model.model.language_model(
        inputs_embeds=embeds, position_ids=positions, attention_mask=masks, cache=cache, use_cache=True
    )
    if logits_from is None:
        return None
    return model.lm_head(out.last_hidden_state[:, logits_from:])
