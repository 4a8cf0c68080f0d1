"""Reading Qwen2.5-VL weights from a folder, under either naming, into a model without random init.

Two namings exist for the same weights: transformers 4.x (``model.layers.*``, ``model.embed_tokens``,
``model.norm``, ``visual.*``; the released ECHO checkpoints) and 5.x (``model.language_model.*``,
``model.visual.*``). Both are mapped to 5.x. Missing or unexpected tensors are an error listing them.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from echo_cxr.errors import EchoError

SAFE_SINGLE = "model.safetensors"
SAFE_INDEX = "model.safetensors.index.json"
BIN_SINGLE = "pytorch_model.bin"
BIN_INDEX = "pytorch_model.bin.index.json"
MAX_LISTED = 12
_TEXT_PREFIX = "model.language_model."
_VISION_PREFIX = "model.visual."


def canonical_key(key: str) -> str:
    """Map a 4.x or 5.x Qwen2.5-VL weight name to the 5.x name."""
    if key.startswith("visual."):
        return "model." + key
    if key.startswith("model.") and not key.startswith((_TEXT_PREFIX, _VISION_PREFIX)):
        return _TEXT_PREFIX + key[len("model.") :]
    return key


def weight_files(folder: Path) -> list[Path]:
    """The weight files of a checkpoint folder (single file or sharded index), safetensors first."""
    for single, index in ((SAFE_SINGLE, SAFE_INDEX), (BIN_SINGLE, BIN_INDEX)):
        if (folder / index).is_file():
            shards = sorted(set(json.loads((folder / index).read_text())["weight_map"].values()))
            return [folder / shard for shard in shards]
        if (folder / single).is_file():
            return [folder / single]
    found = sorted(p.name for p in folder.glob("*.safetensors"))
    if found:
        return [folder / name for name in found]
    raise EchoError(f"no weights in {folder}: expected {SAFE_SINGLE}, {SAFE_INDEX} or {BIN_SINGLE}")


def read_state_dict(folder: Path, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """All tensors of a checkpoint folder under 5.x names, floating tensors cast to ``dtype``."""
    from safetensors.torch import load_file

    state: dict[str, torch.Tensor] = {}
    for path in weight_files(folder):
        part = load_file(str(path)) if path.suffix == ".safetensors" else torch.load(path, weights_only=True)
        for key, tensor in part.items():
            state[canonical_key(key)] = tensor.to(dtype) if tensor.is_floating_point() else tensor
    return state


def _listing(keys: set[str]) -> str:
    shown = sorted(keys)[:MAX_LISTED]
    more = len(keys) - len(shown)
    return ", ".join(shown) + (f" (and {more} more)" if more > 0 else "")


def load_into(model, state: dict[str, torch.Tensor], folder: Path) -> None:
    """Assign ``state`` to an empty (meta) model; error on any missing or unexpected weight."""
    expected = set(model.state_dict().keys())
    tied = bool(getattr(model.config, "tie_word_embeddings", False))
    if tied:
        expected.discard("lm_head.weight")
        state.pop("lm_head.weight", None)
    missing, unexpected = expected - state.keys(), state.keys() - expected
    problems = []
    if missing:
        problems.append(f"missing weights: {_listing(missing)}")
    if unexpected:
        problems.append(f"unexpected weights: {_listing(unexpected)}")
    if problems:
        raise EchoError(f"checkpoint {folder} does not match its config; " + "; ".join(problems))
    model.load_state_dict(state, strict=not tied, assign=True)
    if tied:
        model.lm_head.weight = model.get_input_embeddings().weight
