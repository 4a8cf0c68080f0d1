"""Saving echo-cxr checkpoints in Hugging Face format.

A saved folder holds safetensors weights (transformers 5.x names), config.json with the mask id and
an ``echo`` section (prediction convention, decoding defaults, provenance), the processor files,
and remote code so that ``AutoModelForCausalLM`` / ``AutoProcessor`` with ``trust_remote_code=True``
load it and follow the release's calling convention (see ``remote/modeling_echo.py``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from echo_cxr.errors import EchoError
from echo_cxr.model.bundle import ECHO_CONFIG_KEY, LoadedModel

FORMAT_VERSION = 1
REMOTE_DIR = Path(__file__).parent / "remote"
MODELING_FILE = "modeling_echo.py"
PROCESSING_FILE = "processing_echo.py"
MODEL_AUTO_MAP = {
    "AutoModel": "modeling_echo.EchoForConditionalGeneration",
    "AutoModelForCausalLM": "modeling_echo.EchoForConditionalGeneration",
    "AutoModelForImageTextToText": "modeling_echo.EchoForConditionalGeneration",
}
PROCESSOR_AUTO_MAP = {"AutoProcessor": "processing_echo.EchoProcessor"}


def _update_json(path: Path, changes: dict) -> None:
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def save_checkpoint(bundle: LoadedModel, folder: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``bundle`` to ``folder`` (weights, config, processor, generation config, remote code)."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()) and not overwrite:
        raise EchoError(f"{folder} exists and is not empty; pass overwrite=True to replace it")
    folder.mkdir(parents=True, exist_ok=True)
    model = bundle.model
    model.generation_config.eos_token_id = list(bundle.special.eos)
    model.generation_config.pad_token_id = bundle.special.pad
    model.save_pretrained(folder)
    bundle.processor.save_pretrained(folder)
    echo = {
        "format_version": FORMAT_VERSION,
        "prediction": bundle.prediction,
        "decoding": bundle.defaults.as_dict(),
        "synthetic": bundle.synthetic,
    }
    _update_json(
        folder / "config.json",
        {"mask_token_id": bundle.special.mask, ECHO_CONFIG_KEY: echo, "auto_map": MODEL_AUTO_MAP},
    )
    _update_json(folder / "processor_config.json", {"auto_map": PROCESSOR_AUTO_MAP})
    shutil.copyfile(REMOTE_DIR / MODELING_FILE, folder / MODELING_FILE)
    shutil.copyfile(Path(__file__).parent / "processor.py", folder / PROCESSING_FILE)
    return folder
