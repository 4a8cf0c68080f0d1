"""Qwen2.5-VL processor without the video half, so torchvision is never needed.

The stock ``Qwen2_5_VLProcessor`` builds a video processor that imports torchvision. ECHO only uses
still images, so this subclass keeps the image processor (``Qwen2VLImageProcessorPil``, PIL/numpy
only) and the tokenizer, and inherits the stock image-token expansion and chat template handling.
"""

from __future__ import annotations

from transformers import Qwen2_5_VLProcessor
from transformers.processing_utils import ProcessorMixin

IMAGE_TOKEN = "<|image_pad|>"
VIDEO_TOKEN = "<|video_pad|>"


class EchoProcessor(Qwen2_5_VLProcessor):
    """Image processor + tokenizer; same call signature and outputs as ``Qwen2_5_VLProcessor``."""

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
