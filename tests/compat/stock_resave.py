"""Re-save a release-style folder with the stock transformers 4.x classes (no remote code).

Run in a release venv (``scripts/release-compat.sh`` makes them): what 4.55.4 writes for the model,
tokenizer, image and video processor of a folder is what the tests' look-alike checkpoints must
look like (``tests/compat/test_release_compat.py`` compares the two). Each part is saved the way
``Qwen2_5_VLProcessor.save_pretrained`` saves it (its processor class stamped into each part's
file), without building that processor, whose video part needs torchvision.

Usage: ``python tests/compat/stock_resave.py SOURCE_DIR TARGET_DIR``
"""

from __future__ import annotations

import sys

PROCESSOR_CLASS = "Qwen2_5_VLProcessor"


def resave(source: str, target: str) -> None:
    from transformers import AutoTokenizer, Qwen2_5_VLForConditionalGeneration, Qwen2VLImageProcessor
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    Qwen2_5_VLForConditionalGeneration.from_pretrained(source).save_pretrained(target)
    parts = (AutoTokenizer.from_pretrained(source, trust_remote_code=False),
             Qwen2VLImageProcessor.from_pretrained(source), Qwen2VLVideoProcessor.from_pretrained(source))
    for part in parts:
        part._set_processor_class(PROCESSOR_CLASS)
        part.save_pretrained(target)


if __name__ == "__main__":
    resave(sys.argv[1], sys.argv[2])
