"""Typed, validated decoding settings (METHOD.md section 3)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from echo_cxr.errors import EchoError

DEFAULT_BLOCK_LENGTH = 4
DEFAULT_STRATEGY = "low_confidence_dynamic"
DEFAULT_THRESHOLD = 0.85  # release default tau
DEFAULT_ENTROPY_BOUND = 0.35  # SDAR's bound
DEFAULT_MAX_NEW_TOKENS = 512
DEFAULT_RECORD_TOP_K = 8
DECODERS = ("blockwise", "reference", "ar")


@dataclass(frozen=True)
class DecodeConfig:
    """How to decode. ``steps=None`` means one step per token (S = L); ``fused=None`` means on iff S = 1."""

    block_length: int = DEFAULT_BLOCK_LENGTH
    steps: int | None = None
    strategy: str = DEFAULT_STRATEGY
    threshold: float = DEFAULT_THRESHOLD
    entropy_bound: float = DEFAULT_ENTROPY_BOUND
    temperature: float = 0.0
    top_k: int = 0
    top_p: float = 1.0
    seed: int = 0
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    fused: bool | None = None
    ignore_eos: bool = False
    record_trajectory: bool = False
    record_top_k: int = DEFAULT_RECORD_TOP_K

    def __post_init__(self) -> None:
        from echo_cxr.decoding.strategies import STRATEGIES

        if self.block_length < 1:
            raise EchoError(f"block length must be at least 1, got {self.block_length}")
        if self.steps is not None and not 1 <= self.steps <= self.block_length:
            raise EchoError(f"steps must be between 1 and the block length {self.block_length}, got {self.steps}")
        if self.strategy not in STRATEGIES:
            raise EchoError(f"unknown strategy {self.strategy!r}; choose one of {', '.join(STRATEGIES)}")
        if not 0.0 <= self.threshold <= 1.0:
            raise EchoError(f"threshold must be in [0, 1], got {self.threshold}")
        if self.entropy_bound <= 0:
            raise EchoError(f"entropy bound must be positive, got {self.entropy_bound}")
        if self.temperature < 0:
            raise EchoError(f"temperature must not be negative, got {self.temperature}")
        if self.top_k < 0:
            raise EchoError(f"top-k must not be negative (0 = off), got {self.top_k}")
        if not 0.0 < self.top_p <= 1.0:
            raise EchoError(f"top-p must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            raise EchoError(f"max new tokens must be at least 1, got {self.max_new_tokens}")
        if self.record_top_k < 1:
            raise EchoError(f"record top-k must be at least 1, got {self.record_top_k}")

    @property
    def num_steps(self) -> int:
        """Denoising steps per block, S."""
        return self.block_length if self.steps is None else self.steps

    @property
    def use_fused(self) -> bool:
        """Whether the finished block's K/V is appended inside the next block's first forward."""
        return self.num_steps == 1 if self.fused is None else self.fused

    def step_quota(self, step: int) -> int:
        """Positions to commit at ``step``: L // S, plus one for the first L % S steps."""
        base, extra = divmod(self.block_length, self.num_steps)
        return base + (1 if step < extra else 0)

    def as_dict(self) -> dict:
        """Settings as used (resolved steps and fused flag), for JSON output."""
        return asdict(self) | {"steps": self.num_steps, "fused": self.use_fused}
