"""Qwen2.5-VL processor without the video half, so torchvision is never needed (transformers 4.5x and 5.x).

The stock ``Qwen2_5_VLProcessor`` builds a video processor that imports torchvision. ECHO only uses
still images, so this subclass keeps the image processor (PIL/numpy only: ``Qwen2VLImageProcessor``
on 4.x, ``Qwen2VLImageProcessorPil`` on 5.x) and the tokenizer, and inherits the stock image-token
expansion and chat template handling.

echo-cxr copies this file into every checkpoint it saves as ``processing_echo.py`` (for
``AutoProcessor.from_pretrained(dir, trust_remote_code=True)``), so it imports only transformers.
Its parts are declared both ways: transformers 4.x ``ProcessorMixin`` takes them from the
``attributes`` class list and checks them against ``<part>_class``; 5.x reads the ``__init__``
signature.
"""

from __future__ import annotations

import transformers
from transformers import Qwen2_5_VLProcessor
from transformers.processing_utils import ProcessorMixin

IMAGE_TOKEN = "<|image_pad|>"
VIDEO_TOKEN = "<|video_pad|>"
LEGACY = int(transformers.__version__.split(".")[0]) < 5  # transformers 4.x


class EchoProcessor(Qwen2_5_VLProcessor):
    """Image processor + tokenizer; same call signature and outputs as ``Qwen2_5_VLProcessor``."""

    if LEGACY:  # 5.x reads the parts from __init__ and warns about these names
        attributes = ["image_processor", "tokenizer"]  # no video processor part
        image_processor_class = "AutoImageProcessor"
        tokenizer_class = "AutoTokenizer"  # checked as the base class: any tokenizers-backed tokenizer fits

    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        self.image_token = getattr(tokenizer, "image_token", None) or IMAGE_TOKEN
        self.video_token = getattr(tokenizer, "video_token", None) or VIDEO_TOKEN
        self.image_token_id = getattr(tokenizer, "image_token_id", None) or tokenizer.convert_tokens_to_ids(
            self.image_token
        )
        self.video_token_id = getattr(tokenizer, "video_token_id", None) or tokenizer.convert_tokens_to_ids(
            self.video_token
        )
        ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template, **kwargs)
