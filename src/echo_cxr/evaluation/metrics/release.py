"""Release-compatible metric variants (METHOD.md section 6), named ``release_*`` because they are
not the textbook definitions:

- ``release_rouge`` (ROUGE-1/2/L F): EN with the ``rouge`` package (1.0.1) on the lower-cased raw
  strings - it splits sentences at ".", words at spaces (punctuation stays glued to words) and
  counts unique n-grams; ROUGE-L is its summary-level union LCS. ZH with ``rouge-chinese`` on jieba
  tokens of the raw strings joined by spaces.
- ``release_meteor``: nltk ``single_meteor_score`` on the release's tokens (EN: lower-case, "."
  -> " .", split on whitespace; ZH: jieba tokens).
Both score the raw model output against the release's reference string, whatever
``ScoreConfig.text`` says. An empty output scores 0 (the ``rouge`` packages refuse empty text;
the release drops such samples, which the "nonempty" view reproduces).

Packaging hazard: rouge-chinese's wheel also installs a top-level ``rouge/`` folder holding its
own code. ``rouge_package()`` imports ``rouge`` only after checking that the files under
``rouge/`` are the ones the ``rouge`` distribution's RECORD lists, so a shadowed copy is a clear
error instead of silently different numbers (``scripts/setup-eval.sh`` repairs it).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from functools import lru_cache

from echo_cxr.evaluation.metrics.base import MetricOutput, NotComputed, Pair
from echo_cxr.evaluation.metrics.tokenize import release_meteor_tokens, release_zh_rouge_text

ROUGE_DISTRIBUTION = "rouge"
RELEASE_ROUGE_NAMES = {"rouge-1": "release_rouge_1", "rouge-2": "release_rouge_2", "rouge-l": "release_rouge_l"}


def _record_digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


@lru_cache(maxsize=1)
def rouge_package():
    """The ``rouge`` (PyPI ``rouge``) module, verified against its distribution's RECORD."""
    from importlib import metadata

    try:
        dist = metadata.distribution(ROUGE_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise NotComputed("the `rouge` package is not installed (pip install -c constraints.txt -e '.[eval]')") from None
    for entry in dist.files or []:
        if entry.parts[0] != "rouge" or entry.hash is None:
            continue
        path = entry.locate()
        if not path.exists() or _record_digest(path.read_bytes()) != entry.hash.value:
            raise NotComputed(
                f"{path} is not the `rouge` {dist.version} file (rouge-chinese installs a top-level `rouge/` "
                f"of its own); run scripts/setup-eval.sh or pip install --force-reinstall --no-deps "
                f"rouge=={dist.version}")
    import rouge

    return rouge


def release_rouge(pairs: Sequence[Pair], language: str, context=None) -> MetricOutput:
    """ROUGE-1/2/L F as the release computes them."""
    if language == "zh":
        from rouge_chinese import Rouge

        hyps = [release_zh_rouge_text(p.raw_hyp) for p in pairs]
        refs = [release_zh_rouge_text(p.raw_ref) for p in pairs]
    else:
        Rouge = rouge_package().Rouge
        hyps = [p.raw_hyp.lower() for p in pairs]
        refs = [p.raw_ref.lower() for p in pairs]
    scorer = Rouge()
    out = MetricOutput(per_sample={name: [] for name in RELEASE_ROUGE_NAMES.values()})
    for hyp, ref in zip(hyps, refs):
        try:
            scores = scorer.get_scores(hyp, ref)[0]
        except ValueError:  # raised only for a text without any sentence ("Hypothesis is empty.")
            scores = None
        for key, name in RELEASE_ROUGE_NAMES.items():
            out.per_sample[name].append(scores[key]["f"] if scores else 0.0)
    return out


def release_meteor(pairs: Sequence[Pair], language: str, context=None) -> MetricOutput:
    """nltk METEOR on the release's tokens."""
    from nltk.translate.meteor_score import single_meteor_score

    from echo_cxr.evaluation.metrics.lexical import wordnet

    reader = wordnet()
    values = [single_meteor_score(release_meteor_tokens(p.raw_ref, language),
                                  release_meteor_tokens(p.raw_hyp, language), wordnet=reader) for p in pairs]
    return MetricOutput(per_sample={"release_meteor": values})
