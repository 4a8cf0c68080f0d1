"""RaTEScore (Zhao et al., EMNLP 2024), stock and the release's "positive findings" variant.

Both use the ``RaTEScore`` package's own building blocks - ``run_ner`` (medspacy sentence split,
NER with a DeBERTa token classifier, BIO spans), ``process_embedding`` (CLS embeddings of each
entity from a BioLORD-style encoder) and ``compute`` (type-weighted best-match cosine) - with
the models loaded from local folders or hub ids:

    RaTE = 2PR / (P + R),  P = compute(ref entities -> best generated match),
                           R = compute(generated entities -> best reference match)

Stock: the package's "long" affinity matrix; a pair where either side has no entity scores 0.5.
Positive variant (METHOD.md section 6): the affinity weights of anatomy, non-abnormality and
non-disease entities (as the matched-from side) set to 0, so that only positive findings count
(``weights/rate_positive.json``, or a weights file given by the user), and an empty side scores
0.1. Not comparable with stock RaTEScore.

Deviation from ``RaTEScore.compute_score``: each text is run through NER on its own. The package
runs all texts together and drops texts that yield no sentence (e.g. an empty output), which
shifts every later pair onto the wrong reference; here an empty text has no entities.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources

from echo_cxr.evaluation.metrics.base import NotComputed
from echo_cxr.evaluation.metrics.hf import load_pretrained

STOCK_FALLBACK = 0.5  # RaTEScore package: either side without entities
POSITIVE_FALLBACK = 0.1  # release's positive variant
POSITIVE_WEIGHTS_FILE = "rate_positive.json"


def _package():
    from echo_cxr.evaluation.metrics.chexpert_labeler import silence_pyrush

    silence_pyrush()  # RaTEScore splits sentences with medspacy's PyRuSH
    try:
        from RaTEScore.score import process_embedding, run_ner
        from RaTEScore.scorer import DEFAULT_MATRIX_LONG
        from RaTEScore.utils import compute, sentence_split
    except ImportError as err:
        raise NotComputed(f"the RaTEScore package is not installed ({err}); pip install '.[eval]'") from None
    return run_ner, process_embedding, compute, sentence_split, DEFAULT_MATRIX_LONG


def affinity(matrix: dict) -> dict:
    """The package's (TYPE_A, TYPE_B) -> weight map from a "type-a_type-b" keyed JSON matrix."""
    return {(k.split("_")[0].upper(), k.split("_")[1].upper()): v for k, v in matrix.items()}


def positive_weights(path: str | None = None) -> dict:
    """The positive-findings affinity matrix: the user's file, else the shipped one."""
    if path is None:
        text = resources.files("echo_cxr.evaluation.metrics").joinpath("weights").joinpath(POSITIVE_WEIGHTS_FILE)
        return json.loads(text.read_text("utf-8"))
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as err:
        raise NotComputed(f"cannot read RaTE weights file {path}: {err}") from None


class RaTEScorer:
    """Loaded NER and embedding models; ``score(hyps, refs)`` per pair."""

    def __init__(self, ner: str, embed: str, device: str = "cpu", batch_size: int = 1) -> None:
        import torch

        self.run_ner, self.process_embedding, self.compute, self.sentence_split, self.default_matrix = _package()
        self.tokenizer, self.ner = load_pretrained("AutoModelForTokenClassification", ner, device)
        self.embed_tokenizer, self.embed = load_pretrained("AutoModel", embed, device)
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.idx2label = self.ner.config.id2label

    def entities(self, text: str) -> list[tuple[str, str]]:
        """(entity text, TYPE) pairs of one text; [] when it has no sentence."""
        if not self.sentence_split([text])[0]:
            return []
        pairs = self.run_ner([text], self.idx2label, self.tokenizer, self.ner, self.device, self.batch_size)
        return pairs[0] if pairs else []

    def score(self, hyps: Sequence[str], refs: Sequence[str], matrix: dict | None = None,
              fallback: float = STOCK_FALLBACK) -> list[float]:
        weights = affinity(self.default_matrix if matrix is None else matrix)
        cache: dict[str, tuple] = {}

        def embedded(text: str):
            if text not in cache:
                cache[text] = self.process_embedding(self.entities(text), self.embed_tokenizer, self.embed, self.device)
            return cache[text]

        scores = []
        for hyp, ref in zip(hyps, refs):
            ref_embeds, ref_types = embedded(ref)
            hyp_embeds, hyp_types = embedded(hyp)
            if len(ref_embeds) == 0 or len(hyp_embeds) == 0:
                scores.append(fallback)
                continue
            precision = self.compute(ref_embeds, hyp_embeds, ref_types, hyp_types, weights)
            recall = self.compute(hyp_embeds, ref_embeds, hyp_types, ref_types, weights)
            total = precision + recall
            scores.append(float(2 * precision * recall / total) if total else 0.0)
        return scores
