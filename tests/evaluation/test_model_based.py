"""Model-based metrics end to end on tiny random models built here (nothing downloaded):
RaTEScore (stock against the RaTEScore package itself, positive variant), SemScore, perplexity,
translation backends, and "not computed" without weights."""

import json
import math
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import torch

from echo_cxr.evaluation.metrics import MetricContext, ModelSettings
from echo_cxr.evaluation.metrics.base import NotComputed, Pair
from echo_cxr.evaluation.metrics.model_based import Judge, SemScorer, perplexity, ratescore, semscore
from echo_cxr.evaluation.metrics.rate import POSITIVE_FALLBACK, RaTEScorer, positive_weights
from echo_cxr.evaluation.metrics.translate import TRANSLATE_PROMPT, TranslateConfig, translate_texts
from echo_cxr.evaluation.scoring import ScoreConfig, score_results
from tests.evaluation import tiny_models

HYPS = ["The heart is enlarged. Small left pleural effusion.", "No pneumothorax.", "Lungs are clear.", ""]
REFS = ["The heart is normal size. No effusion.", "Mild atelectasis at the left base.", "lungs clear and no edema",
        "No acute disease."]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny_models")
    return {"ner": tiny_models.rate_ner(folder / "ner"), "embed": tiny_models.bert_encoder(folder / "embed"),
            "lm": tiny_models.causal_lm(folder / "lm"), "plain_lm": tiny_models.causal_lm(folder / "plain", chat=False)}


@pytest.fixture(scope="module")
def rate(models):
    return RaTEScorer(models["ner"], models["embed"])


def test_ratescore_stock_equals_the_ratescore_package(models, rate):
    from RaTEScore import RaTEScore

    package = RaTEScore(bert_model=models["ner"], eval_model=models["embed"], use_gpu=False)
    nonempty = [i for i, h in enumerate(HYPS) if h]
    expected = package.compute_score([HYPS[i] for i in nonempty], [REFS[i] for i in nonempty])
    ours = rate.score(HYPS, REFS)
    assert [ours[i] for i in nonempty] == pytest.approx(expected, abs=1e-6)
    assert ours[3] == 0.5  # empty output: no entity -> the package's fallback, and no pair shifted
    assert any(rate.entities(h) for h in HYPS[:3])  # the random tagger does find entities


def test_ratescore_positive_variant(models, rate):
    from RaTEScore.scorer import DEFAULT_MATRIX_LONG

    weights = positive_weights()
    for key, weight in weights.items():  # the shipped file is the stock matrix with those rows zeroed
        zeroed = key != "neg_weight" and key.split("_")[0] in ("anatomy", "non-abnormality", "non-disease")
        assert weight == (0.0 if zeroed else DEFAULT_MATRIX_LONG[key])
    scores = rate.score(HYPS, REFS, weights, POSITIVE_FALLBACK)
    assert scores[3] == POSITIVE_FALLBACK
    # independent check of one pair: only abnormality/disease entities of the matched-from side weigh
    ref_entities, hyp_entities = rate.entities(REFS[0]), rate.entities(HYPS[0])
    ref_e, ref_t = rate.process_embedding(ref_entities, rate.embed_tokenizer, rate.embed, rate.device)
    hyp_e, hyp_t = rate.process_embedding(hyp_entities, rate.embed_tokenizer, rate.embed, rate.device)

    def side(a, b, a_types, b_types):
        sims = torch.nn.functional.normalize(a, dim=1) @ torch.nn.functional.normalize(b, dim=1).T
        best = sims.argmax(dim=1)
        neg = {("NON-DISEASE", "DISEASE"), ("NON-ABNORMALITY", "ABNORMALITY"), ("DISEASE", "NON-DISEASE"),
               ("ABNORMALITY", "NON-ABNORMALITY"), ("NON-DISEASE", "ABNORMALITY"), ("NON-ABNORMALITY", "DISEASE"),
               ("DISEASE", "NON-ABNORMALITY"), ("ABNORMALITY", "NON-DISEASE")}
        num = den = 0.0
        for i, j in enumerate(best.tolist()):
            w = weights[f"{a_types[i].lower()}_{b_types[j].lower()}"]
            num += float(sims[i, j]) * w * (weights["neg_weight"] if (a_types[i], b_types[j]) in neg else 1.0)
            den += w
        return num / den if den else 0.0

    p, r = side(ref_e, hyp_e, ref_t, hyp_t), side(hyp_e, ref_e, hyp_t, ref_t)
    assert scores[0] == pytest.approx(2 * p * r / (p + r) if p + r else 0.0, abs=1e-6)


def test_semscore_is_the_cls_cosine(models):
    from transformers import AutoModel, AutoTokenizer

    scorer = SemScorer(models["embed"], None, "cpu", batch_size=2)
    tokenizer, model = AutoTokenizer.from_pretrained(models["embed"]), AutoModel.from_pretrained(models["embed"])
    with torch.no_grad():
        for hyp, ref, got in zip(HYPS, REFS, scorer.score(HYPS, REFS)):
            h = model(**tokenizer(hyp, return_tensors="pt")).last_hidden_state[0, 0]
            r = model(**tokenizer(ref, return_tensors="pt")).last_hidden_state[0, 0]
            assert got == pytest.approx(float(h @ r / (h.norm() * r.norm())), abs=1e-5)
    assert scorer.score(["same text"], ["same text"]) == pytest.approx([1.0], abs=1e-6)


def test_semscore_loads_chexbert_style_weights(models, tmp_path):
    from transformers import AutoModel

    other = AutoModel.from_pretrained(tiny_models.bert_encoder(tmp_path / "other", seed=7))
    state = {f"module.bert.{k}": v for k, v in other.state_dict().items()}
    state["module.linear_heads.0.weight"] = torch.zeros(4, 32)  # CheXbert heads: ignored
    torch.save({"model_state_dict": state}, tmp_path / "chexbert.pth")
    loaded = SemScorer(models["embed"], str(tmp_path / "chexbert.pth"), "cpu", 4)
    for key, tensor in other.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[key], tensor)
    torch.save({"model_state_dict": {"module.bert.pooler.dense.bias": torch.zeros(32)}}, tmp_path / "bad.pth")
    with pytest.raises(NotComputed, match="does not fit"):
        SemScorer(models["embed"], str(tmp_path / "bad.pth"), "cpu", 4)


@pytest.mark.parametrize("lm", ["lm", "plain_lm"])
def test_perplexity_excludes_the_prompt(models, lm):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    judge = Judge(models[lm], "cpu")
    tokenizer, model = AutoTokenizer.from_pretrained(models[lm]), AutoModelForCausalLM.from_pretrained(models[lm])
    prompt = judge.prompt_ids("Review this chest X-ray")
    response = tokenizer("the heart is enlarged .", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([prompt + response])).logits[0]  # (T, V)
    logp = torch.log_softmax(logits, dim=-1)
    nll = [-float(logp[len(prompt) + i - 1, token]) for i, token in enumerate(response)]
    expected = math.exp(sum(nll) / len(nll))
    assert judge.perplexity("Review this chest X-ray", "the heart is enlarged .") == pytest.approx(expected, rel=1e-5)
    assert judge.perplexity("Review this chest X-ray", "") is None
    if lm == "lm":  # the chat template wraps the instruction
        assert tokenizer.decode(prompt).endswith("assistant :")


def test_model_metrics_report_not_computed_offline_and_for_chinese_without_translation(models):
    missing = MetricContext(models=ModelSettings(rate_ner="no-such-org/no-such-model", rate_embed=models["embed"]))
    pairs = [Pair(h, r, h, r, "en") for h, r in zip(HYPS, REFS)]
    with pytest.raises(NotComputed, match="cannot load 'no-such-org/no-such-model'"):
        ratescore(pairs, "en", missing)
    with pytest.raises(NotComputed, match="no SemScore encoder"):
        semscore(pairs, "en", MetricContext())
    zh = [Pair("心影增大", "心影不大", "心影增大", "心影不大", "zh")]
    with pytest.raises(NotComputed, match="--translate"):
        semscore(zh, "zh", MetricContext(models=ModelSettings(semscore_model=models["embed"])))
    context = MetricContext(models=ModelSettings(judge=models["lm"]))
    assert perplexity(zh, "zh", context).per_sample["perplexity"][0] > 1.0  # perplexity reads Chinese as is


class _FakeOpenAI(BaseHTTPRequestHandler):
    requests: list = []

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append((self.headers.get("Authorization"), body))
        text = body["messages"][0]["content"].rsplit("\n", 1)[-1]
        reply = {"choices": [{"message": {"content": f" EN<{text}> "}}]}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture()
def fake_endpoint():
    server = HTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_openai_translation_and_scoring_chinese_through_it(models, fake_endpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_KEY", "secret")
    config = TranslateConfig(backend="openai", model="translator", endpoint=fake_endpoint, api_key_env="TEST_KEY")
    _FakeOpenAI.requests.clear()
    assert translate_texts(["心影增大", "", "心影增大"], config) == ["EN<心影增大>", "", "EN<心影增大>"]
    assert len(_FakeOpenAI.requests) == 1  # each distinct text once, empty text never sent
    auth, body = _FakeOpenAI.requests[0]
    assert auth == "Bearer secret" and body["model"] == "translator" and body["temperature"] == 0
    assert body["messages"][0]["content"] == TRANSLATE_PROMPT.format(text="心影增大")
    ref = {"findings": "心影不大。", "impression": "未见异常。", "text": "所见：心影不大。 结论：未见异常。"}
    record = {"run_id": "r", "sample_id": "z", "sample_index": 0, "source": "t.json", "source_digest": "d",
              "language": "zh", "reference": ref, "report": "所见：心影增大。 结论：心脏增大。", "stats": None, "error": None}
    (tmp_path / "r.jsonl").write_text(json.dumps(record, ensure_ascii=False) + "\n", "utf-8")
    aggregate, rows = score_results(ScoreConfig(results=(str(tmp_path / "r.jsonl"),), metrics=("semscore",),
                                                models=ModelSettings(semscore_model=models["embed"]), translate=config))
    assert rows[0]["hyp_en"] == "EN<心影增大 心脏增大。>"  # findings + impression, headers dropped
    assert aggregate["views"]["all"]["zh"]["metrics"]["semscore"]["n"] == 1
    broken = TranslateConfig(backend="openai", model="m", endpoint="http://127.0.0.1:9/v1", timeout_s=5)
    aggregate, _ = score_results(ScoreConfig(results=(str(tmp_path / "r.jsonl"),), metrics=("semscore",),
                                             models=ModelSettings(semscore_model=models["embed"]), translate=broken))
    assert "translation to English failed" in aggregate["views"]["all"]["zh"]["not_computed"]["semscore"]


def test_local_translation_is_greedy_decoding_of_the_prompt(models):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    config = TranslateConfig(backend="local", model=models["plain_lm"], max_new_tokens=4)
    got = translate_texts(["心影增大"], config)[0]
    tokenizer = AutoTokenizer.from_pretrained(models["plain_lm"])
    model = AutoModelForCausalLM.from_pretrained(models["plain_lm"])
    ids = tokenizer(TRANSLATE_PROMPT.format(text="心影增大"), add_special_tokens=False)["input_ids"]
    new = []
    with torch.no_grad():
        for _ in range(4):  # plain greedy loop, stopping at EOS like generate()
            token = int(model(torch.tensor([ids + new])).logits[0, -1].argmax())
            new.append(token)
            if token == tokenizer.eos_token_id:
                break
    assert got == tokenizer.decode(new, skip_special_tokens=True).strip()
    with pytest.raises(Exception, match="needs --translate-model"):
        TranslateConfig(backend="local")


def _results(tmp_path, reports):
    ref = {"findings": "The heart is normal size.", "impression": "No effusion.",
           "text": "Findings: The heart is normal size. Impression: No effusion.."}
    lines = [json.dumps({"run_id": "r", "sample_id": f"s{i}", "sample_index": 0, "source": "t.json",
                         "source_digest": "d", "language": "en", "reference": ref, "report": report,
                         "stats": None, "error": None}) for i, report in enumerate(reports)]
    (tmp_path / "r.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    return (str(tmp_path / "r.jsonl"),)


def test_every_model_metric_through_score(models, tmp_path):
    settings = ModelSettings(rate_ner=models["ner"], rate_embed=models["embed"], semscore_model=models["embed"],
                             judge=models["lm"])
    reports = ["Findings: The heart is enlarged. Impression: Small left pleural effusion.", ""]
    aggregate, rows = score_results(ScoreConfig(results=_results(tmp_path, reports), metrics=("model",),
                                                models=settings))
    metrics = aggregate["views"]["all"]["en"]["metrics"]
    assert set(metrics) == {"ratescore", "ratescore_positive", "semscore", "perplexity"}
    assert aggregate["views"]["all"]["en"]["not_computed"] == {}
    assert rows[1]["scores"]["ratescore"] == 0.5 and rows[1]["scores"]["ratescore_positive"] == POSITIVE_FALLBACK
    assert rows[1]["scores"]["perplexity"] is None and metrics["perplexity"]["n"] == 1  # empty: undefined
    assert aggregate["views"]["nonempty"]["en"]["metrics"]["ratescore"]["value"] == pytest.approx(
        rows[0]["scores"]["ratescore"])


def test_hub_ids_offline_are_not_computed_never_a_number(tmp_path):
    aggregate, rows = score_results(ScoreConfig(results=_results(tmp_path, ["Findings: x. Impression: y."]),
                                                metrics=("model",)))
    skipped = aggregate["views"]["all"]["en"]["not_computed"]
    assert "cannot load 'Angelakeke/RaTE-NER-Deberta'" in skipped["ratescore"]
    assert "cannot load 'Angelakeke/RaTE-NER-Deberta'" in skipped["ratescore_positive"]
    assert "no SemScore encoder" in skipped["semscore"]
    assert "cannot load 'Qwen/Qwen3-1.7B'" in skipped["perplexity"]
    assert aggregate["views"]["all"]["en"]["metrics"] == {} and rows[0]["scores"] == {}
    assert set(aggregate["views"]["all"]["overall"]["not_computed"]) == set(skipped)
