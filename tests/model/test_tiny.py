from PIL import Image

from echo_cxr.decoding import DecodeConfig, Study, generate
from echo_cxr.model.inputs import chat_messages
from echo_cxr.model.presets import TextShape, VisionShape
from echo_cxr.model.random_init import new_model
from echo_cxr.model.special_tokens import MASK_TOKEN, QWEN_SPECIAL_TOKENS
from echo_cxr.model.tiny import build_processor, train_tokenizer
from tests.conftest import make_image

TEXTS = ["Findings: the lungs are clear. Impression: normal.", "所见：双肺清晰。结论：未见异常。"] * 20


def test_tokenizer_is_deterministic_and_has_qwen_specials():
    a, b = train_tokenizer(TEXTS, 300), train_tokenizer(TEXTS, 300)
    assert a.get_vocab() == b.get_vocab()
    assert [a.convert_tokens_to_ids(t) for t in QWEN_SPECIAL_TOKENS] == list(range(len(QWEN_SPECIAL_TOKENS)))
    assert a.mask_token == MASK_TOKEN and a.eos_token == "<|im_end|>"
    text = "所见：右侧胸腔积液。 Unseen words: pneumomediastinum!"
    assert a.decode(a(text)["input_ids"]) == text  # byte-level: anything round-trips


def test_chat_template_matches_qwen_layout():
    processor = build_processor(train_tokenizer(TEXTS, 300), max_pixels=56 * 56)
    text = processor.apply_chat_template(chat_messages(2, "Describe."), add_generation_prompt=True, tokenize=False)
    assert text == (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
        "<|vision_start|><|image_pad|><|vision_end|><|vision_start|><|image_pad|><|vision_end|>Describe.<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_custom_shape_model_decodes():
    tokenizer = train_tokenizer(TEXTS, 300)
    text = TextShape(32, 64, 1, 2, 1, (2, 3, 3), 10_000.0, None, False)
    vision = VisionShape(1, 16, 32, 1, (0,))
    bundle = new_model("custom", tokenizer, text, vision, max_pixels=56 * 56, seed=2)
    assert bundle.model.config.text_config.vocab_size == len(tokenizer) == 300
    result = generate(bundle, [Study([make_image(0, 40, 50)])], DecodeConfig(block_length=4, max_new_tokens=6))[0]
    assert len(result.raw_token_ids) >= 6


def test_a_larger_merge_gives_the_same_tokens_per_view_from_a_finer_grid():
    """A scratch tower with 2x the side and a 4 x 4 merge: 4x the patches, the same LM tokens."""
    tokenizer = train_tokenizer(TEXTS, 300)
    text = TextShape(32, 64, 1, 2, 1, (2, 3, 3), 10_000.0, None, False)
    base = new_model("m2", tokenizer, text, VisionShape(1, 16, 32, 1, (0,)), max_pixels=56 * 56, seed=2)
    fine = new_model("m4", tokenizer, text, VisionShape(1, 16, 32, 1, (0,), spatial_merge_size=4),
                     max_pixels=112 * 112, seed=2)
    assert fine.model.config.vision_config.spatial_merge_size == fine.processor.image_processor.merge_size == 4
    image = Image.fromarray(make_image(0, 112, 112)).convert("RGB")
    grids = [b.processor.image_processor(images=[image], return_tensors="pt")["image_grid_thw"] for b in (base, fine)]
    assert grids[0].tolist() == [[1, 4, 4]] and grids[1].tolist() == [[1, 8, 8]]
    prompts = [b.processor(text=["<|vision_start|><|image_pad|><|vision_end|>"], images=[image], return_tensors="pt")["input_ids"]
               for b in (base, fine)]
    assert all(int((ids == b.special.image).sum()) == 4 for ids, b in zip(prompts, (base, fine)))
    result = generate(fine, [Study([image])], DecodeConfig(block_length=4, max_new_tokens=6))[0]
    assert len(result.raw_token_ids) >= 6
