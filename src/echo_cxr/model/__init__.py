"""The ECHO model: stock Qwen2.5-VL classes driven as a block-diffusion decoder.

``load(spec)`` returns a ``LoadedModel``; ``save_checkpoint`` writes a Hugging Face folder that
also loads with ``trust_remote_code`` under the release's calling convention.
"""

from echo_cxr.model.bundle import LoadedModel, ModelDefaults
from echo_cxr.model.checkpoint import save_checkpoint
from echo_cxr.model.loading import load

__all__ = ["LoadedModel", "ModelDefaults", "load", "save_checkpoint"]
