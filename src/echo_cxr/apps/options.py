"""Per-request report options shared by the demo and the service: a typed, validated dataclass.

Built from a JSON object (the service's ``options`` form field) or from UI controls; unset
decoding settings (None) come from the model, exactly as on the command line, and are resolved
through ``pipeline.decode_config`` (which also refuses a block length a trained checkpoint was
not trained with).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from echo_cxr.errors import EchoError
from echo_cxr.prompts import default_prompt

DEFAULT_DECODER = "blockwise"
MAX_PROMPT_CHARS = 2000  # an instruction, not a document
FLOAT_OPTIONS = ("threshold", "entropy_bound", "temperature", "top_p")
INT_OPTIONS = ("block_length", "steps", "top_k", "seed", "max_new_tokens")
STR_OPTIONS = ("language", "prompt", "decoder", "strategy")


@dataclass(frozen=True)
class ReportOptions:
    """What one request asks for. None = the model's default (decoding) or the release prompt."""

    language: str = "en"
    prompt: str | None = None
    decoder: str = DEFAULT_DECODER
    block_length: int | None = None
    steps: int | None = None
    strategy: str | None = None
    threshold: float | None = None
    entropy_bound: float | None = None
    temperature: float = 0.0
    top_k: int = 0
    top_p: float = 1.0
    seed: int = 0
    max_new_tokens: int = 512

    def __post_init__(self) -> None:
        from echo_cxr.decoding.config import DECODERS
        from echo_cxr.pipeline import check_settings

        default_prompt(self.language)  # validates the language (the standard message)
        if self.decoder not in DECODERS:
            raise EchoError(f"unknown decoder {self.decoder!r}; choose one of {', '.join(DECODERS)}")
        if self.prompt is not None and not 0 < len(self.prompt) <= MAX_PROMPT_CHARS:
            raise EchoError(f"prompt must hold 1 to {MAX_PROMPT_CHARS} characters")
        check_settings(**self.decoding_overrides())

    def decoding_overrides(self) -> dict:
        """Keyword arguments for ``pipeline.decode_config`` (None = model default)."""
        return {k: v for k, v in asdict(self).items() if k not in ("language", "prompt", "decoder")}

    def decode_config(self, bundle):
        """The resolved ``DecodeConfig`` for ``bundle`` (model defaults + these overrides)."""
        from echo_cxr.pipeline import decode_config

        return decode_config(bundle, self.decoder, **self.decoding_overrides())

    @classmethod
    def from_json(cls, data) -> "ReportOptions":
        """From a decoded JSON object; unknown keys and wrong types are an ``EchoError``."""
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise EchoError(f"options must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise EchoError(f"unknown option {unknown[0]!r}; known options: {', '.join(sorted(known))}")
        for key, value in data.items():
            _check_type(key, value)
        return cls(**data)


def _check_type(key: str, value) -> None:
    if value is None:
        if key in ("language", "decoder", "temperature", "top_k", "top_p", "seed", "max_new_tokens"):
            raise EchoError(f"option {key!r} must not be null")
        return
    if key in INT_OPTIONS and (isinstance(value, bool) or not isinstance(value, int)):
        raise EchoError(f"option {key!r} must be an integer, got {value!r}")
    if key in FLOAT_OPTIONS and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise EchoError(f"option {key!r} must be a number, got {value!r}")
    if key in STR_OPTIONS and not isinstance(value, str):
        raise EchoError(f"option {key!r} must be a string, got {value!r}")
