"""Tiny random Hugging Face models and tokenizers built in code for the model-based metrics:
a DeBERTa-v2 token classifier (RaTE NER), BERT encoders (RaTE entity encoder, SemScore) and a
Llama causal LM (perplexity judge, local translator). Nothing is downloaded."""

from __future__ import annotations

from pathlib import Path

import torch

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ("the heart is enlarged normal size mild moderate small large left right bilateral pleural effusion "
         "pneumothorax consolidation opacity lung lungs base bases no evidence of edema atelectasis cardiomegaly "
         "clear and with there findings impression acute disease process lobe upper lower tube line catheter "
         "in place stable unchanged assistant review this chest x ray - . , : 所见 结论 心影 增大 胸腔 积液").split()
RATE_LABELS = ["O"] + [f"{p}-{t}" for t in ("ABNORMALITY", "ANATOMY", "DISEASE", "NON-ABNORMALITY", "NON-DISEASE")
                       for p in ("B", "I")]
CHAT_TEMPLATE = ("{% for m in messages %}[CLS] {{ m['content'] }} [SEP]{% endfor %}"
                 "{% if add_generation_prompt %} assistant :{% endif %}")


def tiny_tokenizer(chat_template: str | None = None):
    """A WordPiece tokenizer over ``WORDS`` with BERT-style specials and [CLS] ... [SEP]."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {token: index for index, token in enumerate(SPECIALS + sorted(set(WORDS)))}
    core = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    core.normalizer = normalizers.BertNormalizer(lowercase=True)
    core.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    core.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    core.decoder = decoders.WordPiece()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]", pad_token="[PAD]",
                                        cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                                        eos_token="[SEP]", model_max_length=128)
    if chat_template:
        tokenizer.chat_template = chat_template
    return tokenizer


def _save(model, tokenizer, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def rate_ner(folder: Path, seed: int = 0) -> str:
    from transformers import DebertaV2Config, DebertaV2ForTokenClassification

    torch.manual_seed(seed)
    tokenizer = tiny_tokenizer()
    config = DebertaV2Config(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                             intermediate_size=64, max_position_embeddings=128, pad_token_id=0,
                             id2label=dict(enumerate(RATE_LABELS)), label2id={l: i for i, l in enumerate(RATE_LABELS)})
    model = DebertaV2ForTokenClassification(config)
    with torch.no_grad():  # make the random tagger find entities often
        model.classifier.weight.mul_(20.0)
    return _save(model, tokenizer, folder)


def bert_encoder(folder: Path, seed: int = 1) -> str:
    from transformers import BertConfig, BertModel

    torch.manual_seed(seed)
    tokenizer = tiny_tokenizer()
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, pad_token_id=0)
    return _save(BertModel(config), tokenizer, folder)


def causal_lm(folder: Path, seed: int = 2, chat: bool = True) -> str:
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    tokenizer = tiny_tokenizer(CHAT_TEMPLATE if chat else None)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                         num_key_value_heads=2, intermediate_size=64, max_position_embeddings=256,
                         pad_token_id=0, bos_token_id=2, eos_token_id=3)
    return _save(LlamaForCausalLM(config), tokenizer, folder)
