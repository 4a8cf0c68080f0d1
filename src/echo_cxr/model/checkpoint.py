"""Saving echo-cxr checkpoints in Hugging Face format, loadable by transformers 4.55, 4.57 and 5.x.

A saved folder holds safetensors weights (the 4.x names, which 4.x and 5.x both write and read),
config.json with the mask id, the model ``auto_map`` and an ``echo`` section (prediction
convention, decoding defaults, provenance), the tokenizer files, ``preprocessor_config.json`` and
remote code, so that the ECHO release's inference scripts - ``AutoModelForCausalLM`` /
``AutoProcessor`` / ``AutoTokenizer`` with ``trust_remote_code=True`` - load it on their own
transformers (4.55.4; 4.57.1 for evaluation) and on 5.x, and decode it with the release's calling
convention (see ``remote/modeling_echo.py``). The spellings each version needs are in
``model/portable.py``. echo-cxr itself never runs that remote code (``model/loading.py``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from echo_cxr.errors import EchoError
from echo_cxr.model.bundle import ECHO_CONFIG_KEY, LoadedModel
from echo_cxr.model.portable import portable_config, portable_tokenizer_config, preprocessor_config

FORMAT_VERSION = 2  # 2: readable by transformers 4.55 / 4.57 as well as 5.x
MODEL_DIR = Path(__file__).parent
MODELING_FILE = "modeling_echo.py"
PROCESSING_FILE = "processing_echo.py"
REMOTE_SOURCES = {MODELING_FILE: MODEL_DIR / "remote" / MODELING_FILE, PROCESSING_FILE: MODEL_DIR / "processor.py"}
PROCESSOR_CLASS = "EchoProcessor"
MODEL_AUTO_MAP = {
    "AutoModel": "modeling_echo.EchoForConditionalGeneration",
    "AutoModelForCausalLM": "modeling_echo.EchoForConditionalGeneration",
    "AutoModelForImageTextToText": "modeling_echo.EchoForConditionalGeneration",
}
PROCESSOR_AUTO_MAP = {"AutoProcessor": f"processing_echo.{PROCESSOR_CLASS}"}
CONFIG_FILE = "config.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
PREPROCESSOR_FILE = "preprocessor_config.json"
# every file a checkpoint holds (one weight file: echo-cxr models are small enough not to shard)
SAVED_FILES = (CONFIG_FILE, "generation_config.json", "model.safetensors", "tokenizer.json", TOKENIZER_CONFIG_FILE,
               "chat_template.jinja", PREPROCESSOR_FILE, MODELING_FILE, PROCESSING_FILE)


def _read(path: Path) -> dict:
    return json.loads(path.read_text())


def _write(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n")  # stable re-saves


def save_processor(processor, folder: Path) -> None:
    """Tokenizer files (+ chat template) and ``preprocessor_config.json`` in the layout 4.x and 5.x read."""
    tokenizer = processor.tokenizer
    if getattr(processor, "chat_template", None) and not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = processor.chat_template
    tokenizer.save_pretrained(folder)
    config = _read(folder / TOKENIZER_CONFIG_FILE) | {"processor_class": PROCESSOR_CLASS}
    _write(folder / TOKENIZER_CONFIG_FILE, portable_tokenizer_config(config))
    image = processor.image_processor.to_dict()
    _write(folder / PREPROCESSOR_FILE, preprocessor_config(image, PROCESSOR_CLASS, PROCESSOR_AUTO_MAP))


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
    save_processor(bundle.processor, folder)
    echo = {
        "format_version": FORMAT_VERSION,
        "prediction": bundle.prediction,
        "decoding": bundle.defaults.as_dict(),
        "synthetic": bundle.synthetic,
    }
    config = _read(folder / CONFIG_FILE) | {
        "mask_token_id": bundle.special.mask, ECHO_CONFIG_KEY: echo, "auto_map": MODEL_AUTO_MAP,
    }
    _write(folder / CONFIG_FILE, portable_config(config))
    for name, source in REMOTE_SOURCES.items():
        shutil.copyfile(source, folder / name)
    return folder
