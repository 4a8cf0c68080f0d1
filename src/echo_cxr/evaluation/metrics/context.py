"""Settings and caches shared by the metrics of one scoring run."""

from __future__ import annotations

from dataclasses import dataclass, field

from echo_cxr.errors import EchoError

RATE_NER_DEFAULT = "Angelakeke/RaTE-NER-Deberta"
RATE_EMBED_DEFAULT = "FremyCompany/BioLORD-2023-C"
JUDGE_DEFAULT = "Qwen/Qwen3-1.7B"  # METHOD.md section 6
DEFAULT_MODEL_BATCH = 16


@dataclass(frozen=True)
class ModelSettings:
    """Where the model-based metrics find their models (local folders or hub ids)."""

    rate_ner: str = RATE_NER_DEFAULT
    rate_embed: str = RATE_EMBED_DEFAULT
    rate_positive_weights: str | None = None  # None: the weights file shipped with echo-cxr
    semscore_model: str | None = None  # a CheXbert-style BERT folder / hub id
    semscore_weights: str | None = None  # optional CheXbert .pth state dict loaded onto it
    judge: str = JUDGE_DEFAULT
    device: str = "cpu"
    batch_size: int = DEFAULT_MODEL_BATCH

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise EchoError(f"model batch size must be at least 1, got {self.batch_size}")


@dataclass
class MetricContext:
    """Per-run state: settings, the reason translation failed (if it did), loaded models."""

    models: ModelSettings = field(default_factory=ModelSettings)
    uncertain_positive: bool = True
    translation_error: str | None = None
    translation_on: bool = False
    cache: dict = field(default_factory=dict)

    def cached(self, key, build):
        """``build()`` once per key (models are loaded once for both scoring views)."""
        if key not in self.cache:
            self.cache[key] = build()
        return self.cache[key]
