"""Loading the Hugging Face models of model-based metrics (transformers imported lazily).

A model that cannot be loaded - a hub id that is not in the local cache while offline, a folder
without weights, a missing optional package - raises ``NotComputed`` with the reason, which the
scorer reports as "not computed: <why>" instead of a number.
"""

from __future__ import annotations

from echo_cxr.evaluation.metrics.base import NotComputed

AUTO_CLASSES = ("AutoModel", "AutoModelForTokenClassification", "AutoModelForCausalLM")
REASON_CHARS = 300


def _first_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text[:REASON_CHARS] or type(err).__name__


def load_pretrained(auto_class: str, spec: str, device: str):
    """(tokenizer, model in eval mode on ``device``) for a local folder or hub id."""
    if auto_class not in AUTO_CLASSES:
        raise ValueError(f"unknown auto class {auto_class}")
    try:
        import torch
        import transformers
    except ImportError as err:
        raise NotComputed(f"transformers/torch not installed ({err})") from None
    try:
        # never run (nor ask to run) a metric model's remote code: stock classes only
        tokenizer = transformers.AutoTokenizer.from_pretrained(spec, trust_remote_code=False)
        model = getattr(transformers, auto_class).from_pretrained(spec, dtype=torch.float32, trust_remote_code=False)
    except (OSError, ValueError, KeyError, ImportError) as err:  # offline without weights, bad folder
        raise NotComputed(f"cannot load {spec!r}: {_first_line(err)}") from None
    return tokenizer, model.to(device).eval()


def read_state_dict(path: str):
    """A torch checkpoint (.pt/.pth/.bin state dict, possibly under 'model_state_dict' or
    'state_dict') or a .safetensors file."""
    from pathlib import Path

    import torch

    if not Path(path).is_file():
        raise NotComputed(f"weights file not found: {path}")
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        return load_file(path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("model_state_dict", "state_dict"):
        if isinstance(state, dict) and key in state:
            state = state[key]
    return state
