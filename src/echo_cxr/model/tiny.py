"""Small tokenizers, chat template and processors built offline in code.

Used by the tests, by ``random:PRESET`` models and by training from scratch (Phantom CXR): a
byte-level BPE tokenizer trained with ``tokenizers`` on given text, carrying the Qwen special tokens
plus ``<|MASK|>``, and a Qwen2.5-VL-style chat template.
"""

from __future__ import annotations

from collections.abc import Iterable

from echo_cxr.model.special_tokens import IM_END, MASK_TOKEN, PAD_TOKEN, QWEN_SPECIAL_TOKENS
from echo_cxr.prompts import PROMPT_EN, PROMPT_ZH

DEFAULT_TINY_VOCAB = 512
# Same structure as Qwen2.5-VL's template: default system turn, images as vision_start/pad/end.
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}"
    "{% if messages[0]['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}"
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# A small built-in corpus so that random presets have a sensible tokenizer without any data.
BUILTIN_CORPUS = (
    PROMPT_EN,
    PROMPT_ZH,
    "Findings: The thorax is symmetric. The trachea is midline. The lungs are clear without "
    "consolidation, effusion or pneumothorax. The cardiac silhouette is normal in size. The hila are "
    "normal. The hemidiaphragms are well defined and the costophrenic angles are sharp. No acute bony "
    "abnormality. Impression: No acute cardiopulmonary abnormality.",
    "Findings: Moderate right pleural effusion with blunting of the right costophrenic angle. "
    "Mild cardiomegaly. Endotracheal tube in place. Impression: Right pleural effusion. Cardiomegaly.",
    "所见：胸廓对称，气管居中，双肺野清晰，心影大小正常，双肺门不大，膈面光整，肋膈角锐利，骨质未见异常。"
    "结论：心肺未见明显异常。右侧胸腔积液，心影增大。",
)


def train_tokenizer(texts: Iterable[str] = BUILTIN_CORPUS, vocab_size: int = DEFAULT_TINY_VOCAB):
    """Train a byte-level BPE tokenizer; returns a transformers tokenizer with Qwen specials + mask.

    Deterministic for the same texts and vocab size. Special tokens take ids 0..7 in the order of
    ``QWEN_SPECIAL_TOKENS``; any text (including Chinese) is encodable through byte fallback.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(QWEN_SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(list(texts), trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        eos_token=IM_END,
        pad_token=PAD_TOKEN,
        mask_token=MASK_TOKEN,
        chat_template=CHAT_TEMPLATE,
    )
    tokenizer.padding_side = "left"
    return tokenizer


def build_processor(tokenizer, max_pixels: int, min_pixels: int | None = None, *, patch_size: int | None = None,
                    merge_size: int | None = None):
    """An ``EchoProcessor`` (PIL image processor + tokenizer + chat template) with this image budget;
    ``patch_size`` / ``merge_size``: the vision tower's (default: Qwen2.5-VL's 14 and 2)."""
    from transformers import Qwen2VLImageProcessorPil

    from echo_cxr.model.processor import EchoProcessor

    patch_size = patch_size or Qwen2VLImageProcessorPil.patch_size
    merge_size = merge_size or Qwen2VLImageProcessorPil.merge_size
    side = patch_size * merge_size
    smallest = side * side  # one merged group of patches: the smallest image the encoder takes
    image_processor = Qwen2VLImageProcessorPil(min_pixels=min_pixels or smallest, max_pixels=max_pixels,
                                               patch_size=patch_size, merge_size=merge_size)
    return EchoProcessor(image_processor=image_processor, tokenizer=tokenizer, chat_template=CHAT_TEMPLATE)
