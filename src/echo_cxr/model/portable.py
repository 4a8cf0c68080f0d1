"""What a saved checkpoint's files must say so that transformers 4.55 / 4.57 and 5.x read them alike.

transformers 5.x writes some settings under names 4.x does not know; these pure functions add the
4.x spelling next to the 5.x one (or replace a name 4.x lacks) so that one folder loads in both:

- config: 5.x keeps RoPE settings in ``text_config.rope_parameters``; 4.x reads
  ``rope_scaling`` (type ``default`` with the M-RoPE sections, as 4.55 writes it) and ``rope_theta``,
  and the dtype from ``torch_dtype``.
- tokenizer: 5.x names the generic tokenizers-backed class ``TokenizersBackend``; 4.x calls it
  ``PreTrainedTokenizerFast``. Both load ``tokenizer.json`` unchanged. (Model-specific names such as
  ``Qwen2Tokenizer`` exist in both and are kept.) The loading session's own flags are dropped.
- image processor: 4.x reads ``preprocessor_config.json`` (5.x nests it in ``processor_config.json``,
  which 4.x rejects), with ``min_pixels`` / ``max_pixels`` beside ``size``, and finds a custom
  processor class through its ``processor_class`` / ``auto_map``.
"""

from __future__ import annotations

TEXT_CONFIG = "text_config"
GENERIC_TOKENIZER_5X = "TokenizersBackend"
GENERIC_TOKENIZER_4X = "PreTrainedTokenizerFast"
SESSION_KEYS = ("is_local", "local_files_only")  # how the tokenizer was loaded, not what it is
LEGACY_ROPE_TYPE = "default"  # 4.55 rewrites Qwen2.5-VL's "mrope" to "default" and saves that
LEGACY_ROPE_KEY = "type"  # 4.x's name of rope_type; 5.x copies it into rope_parameters when it reads rope_scaling


def legacy_rope(rope_parameters: dict) -> dict:
    """5.x ``rope_parameters`` -> the 4.x ``rope_scaling`` and ``rope_theta`` entries."""
    rope_type = rope_parameters.get("rope_type", LEGACY_ROPE_TYPE)
    scaling = {k: v for k, v in rope_parameters.items() if k not in ("rope_theta", "rope_type", LEGACY_ROPE_KEY)}
    scaling.update(type=rope_type, rope_type=rope_type)
    legacy = {"rope_scaling": scaling}
    if "rope_theta" in rope_parameters:
        legacy["rope_theta"] = rope_parameters["rope_theta"]
    return legacy


def portable_config(config: dict) -> dict:
    """A 5.x ``config.json`` dict with the 4.x spellings added (the 5.x ones stay, 5.x reads those)."""
    out = dict(config)
    text = dict(out.get(TEXT_CONFIG) or {})
    if isinstance(text.get("rope_parameters"), dict):
        # 5.x's own spelling without the 4.x key it picked up from rope_scaling: saving is idempotent
        text["rope_parameters"] = {k: v for k, v in text["rope_parameters"].items() if k != LEGACY_ROPE_KEY}
        text.update(legacy_rope(text["rope_parameters"]))
    for section in (out, text):
        if "dtype" in section:
            section["torch_dtype"] = section["dtype"]
    if text:
        out[TEXT_CONFIG] = text
    return out


def portable_tokenizer_config(config: dict) -> dict:
    """``tokenizer_config.json`` with a class name every version has and no loading-session flags."""
    out = {k: v for k, v in config.items() if k not in SESSION_KEYS}
    if out.get("tokenizer_class") == GENERIC_TOKENIZER_5X:
        out["tokenizer_class"] = GENERIC_TOKENIZER_4X
    return out


def preprocessor_config(image_processor: dict, processor_class: str, auto_map: dict) -> dict:
    """The image processor's settings as 4.x writes ``preprocessor_config.json``, plus the processor class."""
    out = dict(image_processor)
    size = out.get("size") or {}
    if "shortest_edge" in size:
        out["min_pixels"] = size["shortest_edge"]
    if "longest_edge" in size:
        out["max_pixels"] = size["longest_edge"]
    out.update(processor_class=processor_class, auto_map=auto_map)
    return out
