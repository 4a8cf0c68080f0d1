"""Lexical and release-compatible metrics against independent computations on hand-checked
fixtures (EN and ZH). Expected values come from the formulas written out here (counts checked by
hand in the comments), never from the library code path under test."""

import math
from collections import Counter

import pytest

from echo_cxr.evaluation.metrics import lexical, release
from echo_cxr.evaluation.metrics.base import Pair
from echo_cxr.evaluation.metrics.tokenize import en_words, release_meteor_tokens, zh_words

# pycocoevalcap's BLEU smoothing constants (bleu_scorer.py): (correct + TINY) / (guess + SMALL)
TINY, SMALL = 1e-15, 1e-9
ROUGE_PKG_EPS = 1e-8  # the rouge / rouge-chinese packages' F = 2PR / (P + R + 1e-8)

EN_HYP1 = "The heart is enlarged, with a small left effusion."
EN_REF1 = "The heart is normal. No effusion."
EN_HYP2 = "No pneumothorax."
EN_REF2 = "No pneumothorax or effusion."
ZH_HYP = "心影增大，左侧少量胸腔积液。"
ZH_REF = "心影大小正常，未见胸腔积液。"


def pair(hyp, ref, language="en"):
    return Pair(hyp, ref, hyp, ref, language)


def f1(p, r):
    return 2 * p * r / (p + r) if p + r else 0.0


def ngrams(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def bleu_expected(hyps, refs, order):
    """pycocoevalcap BLEU: clipped n-gram precisions, geometric mean, brevity penalty."""
    def score(correct, guess, c, r):
        value = 1.0
        for k in range(order):
            value *= (correct[k] + TINY) / (guess[k] + SMALL)
        value **= 1.0 / order
        ratio = (c + TINY) / (r + SMALL)
        return value * (math.exp(1 - 1 / ratio) if ratio < 1 else 1.0)

    per, totals = [], [[0] * 4, [0] * 4, 0, 0]
    for h, r in zip(hyps, refs):
        correct = [sum((ngrams(h, n) & ngrams(r, n)).values()) for n in range(1, 5)]
        guess = [max(len(h) - n + 1, 0) for n in range(1, 5)]
        per.append(score(correct, guess, len(h), len(r)))
        totals = [[a + b for a, b in zip(totals[0], correct)], [a + b for a, b in zip(totals[1], guess)],
                  totals[2] + len(h), totals[3] + len(r)]
    return per, score(totals[0], totals[1], totals[2], totals[3])


def lcs(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            table[i + 1][j + 1] = table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
    return table[-1][-1]


def meteor_expected(matches, chunks, hyp_len, ref_len):
    """nltk METEOR: Fmean = PR / (0.9 P + 0.1 R), penalty 0.5 (chunks / matches)^3."""
    p, r = matches / hyp_len, matches / ref_len
    fmean = p * r / (0.9 * p + 0.1 * r)
    return fmean * (1 - 0.5 * (chunks / matches) ** 3)


def cider_d_expected(hyps, refs, sigma=6.0):
    """CIDEr-D (Vedantam et al. with the -D changes): tf-idf n-gram vectors (n = 1..4, idf from
    the references), clipped cosine, Gaussian length penalty, mean over n, x10."""
    df = Counter(g for r in refs for g in {g for n in range(1, 5) for g in ngrams(r, n)})
    log_n = math.log(len(refs))

    def vectors(tokens):
        return [{g: c * (log_n - math.log(max(1.0, df[g]))) for g, c in ngrams(tokens, n).items()} for n in range(1, 5)]

    scores = []
    for h, r in zip(hyps, refs):
        vh, vr = vectors(h), vectors(r)
        total = 0.0
        for a, b in zip(vh, vr):
            na, nb = math.sqrt(sum(v * v for v in a.values())), math.sqrt(sum(v * v for v in b.values()))
            value = sum(min(v, b.get(g, 0.0)) * b.get(g, 0.0) for g, v in a.items())
            value = value / (na * nb) if na and nb else value
            total += value * math.exp(-((len(h) - len(r)) ** 2) / (2 * sigma ** 2))
        scores.append(10.0 * total / 4)
    return scores


def test_word_tokens_are_the_hand_checked_ones():
    assert en_words(EN_HYP1) == "the heart is enlarged with a small left effusion".split()
    assert en_words(EN_REF1) == "the heart is normal no effusion".split()
    assert zh_words(ZH_HYP) == ["心影", "增大", "左侧", "少量", "胸腔", "积液"]
    assert zh_words(ZH_REF) == ["心影", "大小", "正常", "未见", "胸腔", "积液"]
    assert release_meteor_tokens("Heart is normal. No effusion.", "en") == ["heart", "is", "normal", ".", "no",
                                                                          "effusion", "."]


def test_bleu_en_and_zh():
    pairs = [pair(EN_HYP1, EN_REF1), pair(EN_HYP2, EN_REF2)]
    out = lexical.bleu(pairs, "en")
    hyps, refs = [en_words(p.hyp) for p in pairs], [en_words(p.ref) for p in pairs]
    for order in range(1, 5):
        per, corpus = bleu_expected(hyps, refs, order)
        assert out.per_sample[f"bleu_{order}"] == pytest.approx(per, rel=1e-9, abs=1e-12)
        assert out.corpus[f"bleu_{order}_corpus"] == pytest.approx(corpus, rel=1e-9)
    # hand check: sentence 1 has 4/9 unigrams and 2/8 bigrams matched, no brevity penalty
    assert out.per_sample["bleu_2"][0] == pytest.approx(math.sqrt(4 / 9 * 2 / 8), rel=1e-6)
    zh = lexical.bleu([pair(ZH_HYP, ZH_REF, "zh")], "zh")
    assert zh.per_sample["bleu_1"][0] == pytest.approx(3 / 6, rel=1e-6)  # 心影 胸腔 积液 of 6
    assert zh.per_sample["bleu_2"][0] == pytest.approx(math.sqrt(3 / 6 * 1 / 5), rel=1e-6)  # 胸腔积液 of 5


def test_rouge_en_multisets_and_lcs():
    out = lexical.rouge([pair(EN_HYP1, EN_REF1), pair(EN_HYP2, EN_REF2)], "en")
    # 9 hypothesis words, 6 reference words, overlap {the heart is effusion} = LCS = 4
    assert out.per_sample["rouge_1"] == pytest.approx([f1(4 / 9, 4 / 6), f1(2 / 2, 2 / 4)])
    assert out.per_sample["rouge_2"] == pytest.approx([f1(2 / 8, 2 / 5), f1(1 / 1, 1 / 3)])
    assert out.per_sample["rouge_l"] == pytest.approx([f1(4 / 9, 4 / 6), f1(2 / 2, 2 / 4)])


def test_rouge_zh_is_rouge_chinese_on_jieba_words():
    out = lexical.rouge([pair(ZH_HYP, ZH_REF, "zh")], "zh")
    eps_f1 = lambda p, r: 2 * p * r / (p + r + ROUGE_PKG_EPS)  # noqa: E731
    assert out.per_sample["rouge_1"][0] == pytest.approx(eps_f1(3 / 6, 3 / 6), rel=1e-12)
    assert out.per_sample["rouge_2"][0] == pytest.approx(eps_f1(1 / 5, 1 / 5), rel=1e-12)
    assert out.per_sample["rouge_l"][0] == pytest.approx(eps_f1(3 / 6, 3 / 6), rel=1e-12)


def test_meteor_exact_stem_and_wordnet_synonyms():
    out = lexical.meteor([pair(EN_HYP1, EN_REF1), pair("heart is small", "heart is minor")], "en")
    # exact matches the heart is | effusion: 4 matches in 2 chunks
    assert out.per_sample["meteor"][0] == pytest.approx(meteor_expected(4, 2, 9, 6), rel=1e-9)
    # small ~ minor only through WordNet synonyms: 3 matches in 1 chunk (2 without WordNet). nltk looks
    # synonyms up on Porter stems, so e.g. large ~ big does not match ("larg" has no synset).
    assert out.per_sample["meteor"][1] == pytest.approx(meteor_expected(3, 1, 3, 3), rel=1e-9)
    zh = lexical.meteor([pair(ZH_HYP, ZH_REF, "zh")], "zh")
    assert zh.per_sample["meteor"][0] == pytest.approx(meteor_expected(3, 2, 6, 6), rel=1e-9)  # 心影 | 胸腔积液


def test_cider_d_matches_an_independent_tf_idf():
    texts = [(EN_HYP1, EN_REF1), (EN_HYP2, EN_REF2), ("Mild cardiomegaly.", "The heart is mildly enlarged.")]
    out = lexical.cider_d([pair(h, r) for h, r in texts], "en")
    expected = cider_d_expected([en_words(h) for h, _ in texts], [en_words(r) for _, r in texts])
    assert out.per_sample["cider_d"] == pytest.approx(expected, rel=1e-9, abs=1e-12)
    zh_texts = [(ZH_HYP, ZH_REF), ("双肺纹理清晰", "肺纹理增多")]
    zh = lexical.cider_d([pair(h, r, "zh") for h, r in zh_texts], "zh")
    expected = cider_d_expected([zh_words(h) for h, _ in zh_texts], [zh_words(r) for _, r in zh_texts])
    assert zh.per_sample["cider_d"] == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_release_rouge_en_counts_unique_words_and_union_lcs():
    out = release.release_rouge([pair("Findings: heart is big", "Findings: heart IS normal size"),
                                 pair("w1 w2 w6 w7 w8. w1 w3 w8 w9 w5", "w1 w2 w3 w4 w5")], "en")
    eps_f1 = lambda p, r: 2 * p * r / (p + r + ROUGE_PKG_EPS)  # noqa: E731
    # lower-cased, split at spaces: {findings:, heart, is} of 4 and 5 words
    assert out.per_sample["release_rouge_1"][0] == pytest.approx(eps_f1(3 / 4, 3 / 5), rel=1e-12)
    assert out.per_sample["release_rouge_l"][0] == pytest.approx(eps_f1(3 / 4, 3 / 5), rel=1e-12)
    # Lin (2004)'s example: union LCS {w1 w2 w3 w5} = 4; 5 reference words, 8 unique candidate words
    assert out.per_sample["release_rouge_l"][1] == pytest.approx(eps_f1(4 / 8, 4 / 5), rel=1e-12)


def test_release_rouge_zh_and_release_meteor():
    out = release.release_rouge([pair(ZH_HYP, ZH_REF, "zh")], "zh")
    # jieba tokens with punctuation: 8 each, shared {心影 ， 胸腔 积液 。}; LCS 心影 ， 胸腔 积液 。
    assert out.per_sample["release_rouge_1"][0] == pytest.approx(2 * (5 / 8) ** 2 / (5 / 4 + ROUGE_PKG_EPS))
    assert out.per_sample["release_rouge_l"][0] == pytest.approx(2 * (5 / 8) ** 2 / (5 / 4 + ROUGE_PKG_EPS))
    meteor = release.release_meteor([pair("Heart is normal.", "Heart is normal, no effusion.")], "en")
    # release tokens: heart is normal . | heart is normal, no effusion . ("normal," keeps its comma)
    # -> matches heart is | . : 3 matches in 2 chunks
    assert meteor.per_sample["release_meteor"][0] == pytest.approx(meteor_expected(3, 2, 4, 6), rel=1e-9)
    zh = release.release_meteor([pair(ZH_HYP, ZH_REF, "zh")], "zh")
    # jieba tokens, punctuation kept: 心影 增大 ， 左侧 少量 胸腔 积液 。 | 心影 大小 正常 ， 未见 胸腔 积液 。
    # -> matches 心影 | ， | 胸腔 积液 。 : 5 matches in 3 chunks
    assert zh.per_sample["release_meteor"][0] == pytest.approx(meteor_expected(5, 3, 8, 8), rel=1e-9)


def test_identical_strings_score_the_maximum():
    texts = [EN_REF1, EN_REF2, "Mild cardiomegaly. Small right effusion."]
    pairs = [pair(t, t) for t in texts]
    assert lexical.bleu(pairs, "en").per_sample["bleu_4"] == pytest.approx([1.0] * 3, abs=1e-6)
    for values in lexical.rouge(pairs, "en").per_sample.values():
        assert values == pytest.approx([1.0] * 3)
    assert lexical.cider_d(pairs, "en").per_sample["cider_d"] == pytest.approx([10.0] * 3)
    for values in release.release_rouge(pairs, "en").per_sample.values():
        assert values == pytest.approx([1.0] * 3, abs=1e-7)
    lengths = [len(en_words(t)) for t in texts]
    # METEOR's maximum for m words is 1 - 0.5 / m^3 (one chunk)
    assert lexical.meteor(pairs, "en").per_sample["meteor"] == pytest.approx([1 - 0.5 / m ** 3 for m in lengths])
    zh = [pair(t, t, "zh") for t in (ZH_HYP, ZH_REF)]
    for values in lexical.rouge(zh, "zh").per_sample.values():
        assert values == pytest.approx([1.0, 1.0], abs=1e-7)
    assert lexical.bleu(zh, "zh").per_sample["bleu_4"] == pytest.approx([1.0, 1.0], abs=1e-6)


def test_empty_output_scores_zero_not_an_error():
    pairs = [pair("", EN_REF1), pair(EN_HYP1, EN_REF1)]
    assert lexical.rouge(pairs, "en").per_sample["rouge_l"][0] == 0.0
    assert release.release_rouge(pairs, "en").per_sample["release_rouge_l"][0] == 0.0
    assert lexical.bleu(pairs, "en").per_sample["bleu_1"][0] == 0.0
    assert lexical.cider_d(pairs, "en").per_sample["cider_d"][0] == 0.0
    assert release.release_rouge([pair("", ZH_REF, "zh")], "zh").per_sample["release_rouge_1"] == [0.0]


def test_rouge_and_rouge_chinese_both_import_correctly():
    import rouge_chinese

    rouge = release.rouge_package()
    assert rouge.__version__ == "1.0.1" and "rouge_chinese" not in rouge.Rouge.__module__
    assert rouge_chinese.Rouge.__module__ == "rouge_chinese.rouge"
    # the two differ on this input: rouge-chinese takes the whole text as one sentence
    hyp, ref = "a b. c d", "c d. a b"
    assert rouge.Rouge().get_scores(hyp, ref)[0]["rouge-l"]["f"] == pytest.approx(1.0, abs=1e-7)
    assert rouge_chinese.Rouge().get_scores(hyp, ref)[0]["rouge-l"]["f"] < 0.9


def test_a_shadowed_rouge_package_is_detected(tmp_path, monkeypatch):
    from importlib import metadata
    from types import SimpleNamespace

    from echo_cxr.evaluation.metrics.base import NotComputed

    impostor = tmp_path / "rouge" / "__init__.py"
    impostor.parent.mkdir()
    impostor.write_text("import rouge_chinese.rouge_score\n", "utf-8")
    entry = SimpleNamespace(parts=("rouge", "__init__.py"), hash=SimpleNamespace(value="not-this-file"),
                            locate=lambda: impostor)
    monkeypatch.setattr(metadata, "distribution", lambda name: SimpleNamespace(files=[entry], version="1.0.1"))
    release.rouge_package.cache_clear()
    try:
        with pytest.raises(NotComputed, match="rouge-chinese installs a top-level `rouge/`"):
            release.rouge_package()
    finally:
        release.rouge_package.cache_clear()
