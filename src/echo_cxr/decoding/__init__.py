"""One decoder for every caller (METHOD.md section 3): ``generate(bundle, studies, DecodeConfig)``."""

from echo_cxr.decoding.api import DECODERS, generate
from echo_cxr.decoding.config import DecodeConfig
from echo_cxr.decoding.events import BlockEvent, Callbacks, StepEvent
from echo_cxr.decoding.results import DecodeResult, DecodeStats
from echo_cxr.model.inputs import Study

__all__ = [
    "DECODERS", "BlockEvent", "Callbacks", "DecodeConfig", "DecodeResult", "DecodeStats",
    "StepEvent", "Study", "generate",
]
