"""What ``load`` returns: the model with everything the decoder needs, resolved once."""

from __future__ import annotations

from dataclasses import dataclass, field

from echo_cxr.model.special_tokens import SpecialIds

# Extra config section written into echo-cxr checkpoints.
ECHO_CONFIG_KEY = "echo"
PREDICTION_MASKED = "masked"  # block diffusion, logits at i predict token i (METHOD.md section 2)
PREDICTION_NEXT_TOKEN = "next_token"  # AR-trained (ECHO-AR), logits at i predict token i + 1


@dataclass
class ModelDefaults:
    """Decoding defaults a checkpoint carries (block length, steps, strategy, threshold)."""

    block_length: int = 4
    steps: int | None = None  # None: one step per token (multi-step Base models)
    strategy: str = "low_confidence_dynamic"
    threshold: float = 0.85
    trained: bool = False  # the block length is the one the checkpoint was trained with

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "trained"}


@dataclass
class LoadedModel:
    """Model, processor, tokenizer and resolved ids, as returned by ``echo_cxr.model.load``."""

    model: object
    processor: object
    tokenizer: object
    special: SpecialIds
    name: str
    prediction: str = PREDICTION_MASKED
    defaults: ModelDefaults = field(default_factory=ModelDefaults)
    synthetic: bool = False  # trained on Phantom CXR only (not for clinical use)
    quantize: str = "none"  # the CPU format of its linear layers (model/quantize.py), resolved from auto
    quantize_reason: str = ""

    @property
    def device(self):
        return self.model.device

    @property
    def dtype(self):
        return self.model.dtype
