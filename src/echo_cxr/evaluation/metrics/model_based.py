"""Model-based metrics (METHOD.md section 6), each an adapter with lazy imports:

- ``ratescore`` / ``ratescore_positive``: see ``rate.py``.
- ``semscore``: cosine similarity of the [CLS] embeddings (last hidden state, position 0) of the
  generated and the reference report under a CheXbert-style BERT: ``--semscore-model`` (a BERT
  folder or hub id, e.g. bert-base-uncased) plus, optionally, ``--semscore-weights`` (a CheXbert
  ``.pth`` whose ``bert.*`` weights are loaded onto it; its classification heads are ignored).
- ``perplexity``: exp of the mean token NLL of the generated report under a judge causal LM,
  conditioned on the release instruction of the sample's language (chat template with a
  generation prompt when the judge has one), instruction tokens excluded.

RaTE and SemScore read English: Chinese samples are scored on their translations
(``translate.py``) or reported "not computed" when translation is off. Perplexity scores the
text as generated, in either language. A model that cannot be loaded (offline without weights)
makes the metric "not computed: <why>".
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from echo_cxr.evaluation.metrics.base import MetricOutput, NotComputed, Pair
from echo_cxr.evaluation.metrics.hf import load_pretrained, read_state_dict
from echo_cxr.evaluation.metrics.rate import POSITIVE_FALLBACK, STOCK_FALLBACK, RaTEScorer, positive_weights
from echo_cxr.prompts import default_prompt

SEMSCORE_MAX_TOKENS = 512  # BERT's position limit
CHEXBERT_PREFIXES = ("module.", "bert.")


def english_texts(pairs: Sequence[Pair], context) -> tuple[list[str], list[str]]:
    """(generated, reference) texts in English; Chinese pairs need their translations."""
    if all(p.language == "en" for p in pairs):
        return [p.hyp for p in pairs], [p.ref for p in pairs]
    if any(p.hyp_en is None or p.ref_en is None for p in pairs if p.language != "en"):
        why = getattr(context, "translation_error", None) if getattr(context, "translation_on", False) else None
        raise NotComputed(f"translation to English failed: {why}" if why else
                          "Chinese samples are scored on English translations; pass --translate openai|local")
    hyps = [p.hyp if p.language == "en" else p.hyp_en for p in pairs]
    refs = [p.ref if p.language == "en" else p.ref_en for p in pairs]
    return hyps, refs


def _rate(pairs: Sequence[Pair], context, positive: bool) -> MetricOutput:
    settings = context.models
    hyps, refs = english_texts(pairs, context)
    scorer = context.cached(("rate", settings.rate_ner, settings.rate_embed, settings.device),
                            lambda: RaTEScorer(settings.rate_ner, settings.rate_embed, settings.device, settings.batch_size))
    if positive:
        values = scorer.score(hyps, refs, positive_weights(settings.rate_positive_weights), POSITIVE_FALLBACK)
        return MetricOutput(per_sample={"ratescore_positive": values})
    return MetricOutput(per_sample={"ratescore": scorer.score(hyps, refs, None, STOCK_FALLBACK)})


def ratescore(pairs: Sequence[Pair], language: str, context) -> MetricOutput:
    return _rate(pairs, context, positive=False)


def ratescore_positive(pairs: Sequence[Pair], language: str, context) -> MetricOutput:
    return _rate(pairs, context, positive=True)


def _strip_prefixes(key: str) -> str:
    for prefix in CHEXBERT_PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix):]
    return key


class SemScorer:
    """A BERT encoder whose [CLS] vectors are compared by cosine similarity."""

    def __init__(self, model: str, weights: str | None, device: str, batch_size: int) -> None:
        self.tokenizer, self.model = load_pretrained("AutoModel", model, device)
        if weights is not None:
            self._load_chexbert(weights)
        self.device, self.batch_size = device, batch_size

    def _load_chexbert(self, path: str) -> None:
        state = read_state_dict(path)
        own = self.model.state_dict()
        mapped = {_strip_prefixes(k): v for k, v in state.items() if _strip_prefixes(k) in own}
        missing = [k for k in own if k not in mapped and not k.endswith("position_ids")]
        if missing:
            raise NotComputed(f"{path} does not fit {type(self.model).__name__}: missing {missing[:3]}...")
        self.model.load_state_dict(mapped, strict=False)

    def embed(self, texts: Sequence[str]):
        import torch

        chunks = []
        for start in range(0, len(texts), self.batch_size):
            batch = self.tokenizer(list(texts[start:start + self.batch_size]), padding=True, truncation=True,
                                   max_length=SEMSCORE_MAX_TOKENS, return_tensors="pt").to(self.device)
            with torch.inference_mode():
                chunks.append(self.model(**batch).last_hidden_state[:, 0].float().cpu())  # (B, H)
        return torch.cat(chunks)

    def score(self, hyps: Sequence[str], refs: Sequence[str]) -> list[float]:
        import torch

        similarity = torch.nn.functional.cosine_similarity(self.embed(hyps), self.embed(refs), dim=-1)  # (N,)
        return [float(v) for v in similarity]


def semscore(pairs: Sequence[Pair], language: str, context) -> MetricOutput:
    settings = context.models
    if settings.semscore_model is None:
        raise NotComputed("no SemScore encoder given (--semscore-model BERT_DIR_OR_ID [--semscore-weights chexbert.pth])")
    hyps, refs = english_texts(pairs, context)
    scorer = context.cached(("semscore", settings.semscore_model, settings.semscore_weights, settings.device),
                            lambda: SemScorer(settings.semscore_model, settings.semscore_weights, settings.device,
                                              settings.batch_size))
    return MetricOutput(per_sample={"semscore": scorer.score(hyps, refs)})


class Judge:
    """A causal LM that scores responses to the release instruction."""

    def __init__(self, model: str, device: str) -> None:
        self.tokenizer, self.model = load_pretrained("AutoModelForCausalLM", model, device)
        self.device = device

    def prompt_ids(self, instruction: str) -> list[int]:
        if getattr(self.tokenizer, "chat_template", None):
            text = self.tokenizer.apply_chat_template([{"role": "user", "content": instruction}],
                                                      add_generation_prompt=True, tokenize=False)
            return self.tokenizer(text, add_special_tokens=False)["input_ids"]
        return self.tokenizer(instruction + "\n")["input_ids"]

    def perplexity(self, instruction: str, response: str) -> float | None:
        """exp(mean NLL of the response tokens); None for an empty response."""
        import torch

        response_ids = self.tokenizer(response, add_special_tokens=False)["input_ids"]
        if not response_ids:
            return None
        prompt = self.prompt_ids(instruction)
        ids = torch.tensor([prompt + response_ids], device=self.device)  # (1, T)
        labels = torch.tensor([[-100] * len(prompt) + response_ids], device=self.device)
        with torch.inference_mode():
            loss = self.model(input_ids=ids, labels=labels).loss
        return math.exp(float(loss))


def perplexity(pairs: Sequence[Pair], language: str, context) -> MetricOutput:
    settings = context.models
    judge = context.cached(("judge", settings.judge, settings.device), lambda: Judge(settings.judge, settings.device))
    values = [judge.perplexity(default_prompt(p.language), p.raw_hyp) for p in pairs]
    return MetricOutput(per_sample={"perplexity": values})
