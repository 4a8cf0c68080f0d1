"""The ECHO model: stock Qwen2.5-VL classes driven as a block-diffusion decoder.

``load(spec)`` returns a ``LoadedModel``; ``save_checkpoint`` writes a Hugging Face folder that
the release's scripts also load with ``trust_remote_code=True`` (transformers 4.55 / 4.57 / 5.x) and
decode under their calling convention.
"""

from echo_cxr.model.bundle import LoadedModel, ModelDefaults
from echo_cxr.model.checkpoint import save_checkpoint
from echo_cxr.model.loading import load

__all__ = ["LoadedModel", "ModelDefaults", "load", "save_checkpoint"]
