"""Scoring a results file (issue 5, item 2): metrics per language and overall, in two views.

- Records with an ``error`` (e.g. missing images) have no output: they are counted and listed as
  failures, never scored. A results file holding records of several runs is an error.
- Empty outputs are counted and listed, and every metric is computed twice: view ``all`` scores
  them as empty text, view ``nonempty`` leaves them out as the release does.
- Per-sample metrics: each input's draws (``infer --samples K``) are aggregated by max or mean,
  then averaged over inputs; None (undefined, e.g. perplexity of an empty text) is skipped and
  the number of inputs with a value is reported. Corpus-level values (corpus BLEU, label F1)
  pool every draw.
- Language groups: EN and ZH are scored separately (tokenisation, CIDEr-D document
  frequencies); "overall" averages per-sample values over all inputs and recomputes the
  pool-able corpus metrics (clinical label F1) on both languages together.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from echo_cxr.errors import EchoError
from echo_cxr.evaluation.metrics import (
    DEFAULT_METRICS, Metric, MetricContext, MetricOutput, ModelSettings, NotComputed, Pair, resolve,
)
from echo_cxr.evaluation.metrics.translate import BACKEND_NONE, TranslateConfig, translate_texts
from echo_cxr.evaluation.results import load_results, record_key
from echo_cxr.report import parse_sections

TEXT_CHOICES = ("report", "raw", "findings", "impression")
AGGREGATES = {"max": max, "mean": statistics.fmean}
VIEW_ALL, VIEW_NONEMPTY = "all", "nonempty"
OVERALL = "overall"
ENGLISH_READERS = ("ratescore", "ratescore_positive", "semscore")  # score Chinese through translations


@dataclass(frozen=True)
class ScoreConfig:
    """What to score and how."""

    results: tuple[str, ...]
    metrics: tuple[str, ...] = DEFAULT_METRICS
    aggregate: str = "mean"  # over the draws of one input: max | mean
    text: str = "report"  # report (findings + impression, headers dropped) | raw | findings | impression
    models: ModelSettings = field(default_factory=ModelSettings)
    translate: TranslateConfig = field(default_factory=TranslateConfig)
    uncertain_positive: bool = True  # CheXpert uncertain labels count as present
    name: str | None = None  # row name in comparison tables

    def __post_init__(self) -> None:
        if self.aggregate not in AGGREGATES:
            raise EchoError(f"unknown aggregate {self.aggregate!r}; choose one of {', '.join(AGGREGATES)}")
        if self.text not in TEXT_CHOICES:
            raise EchoError(f"unknown text {self.text!r}; choose one of {', '.join(TEXT_CHOICES)}")
        resolve(self.metrics)  # unknown names fail before any work


def _texts(record: dict, text: str) -> tuple[str, str]:
    """(hypothesis, reference) in the form ``text`` selects."""
    raw, reference = record.get("report") or "", record["reference"]
    if text == "raw":
        return raw, reference["text"]
    findings, impression = parse_sections(raw) if raw.strip() else ("", "")
    if text == "findings":
        return findings, reference["findings"]
    if text == "impression":
        return impression, reference["impression"]
    return _body(findings, impression), _body(reference["findings"], reference["impression"])


def _body(findings: str, impression: str) -> str:
    """Findings and impression without their headers (no credit for matching header words)."""
    return " ".join(part.strip() for part in (findings, impression) if part.strip())


def make_pairs(records: Sequence[dict], text: str) -> list[Pair]:
    pairs = []
    for record in records:
        if not isinstance(record.get("reference"), dict) or record.get("language") not in ("en", "zh"):
            raise EchoError(f"record {record.get('sample_id')!r} lacks 'reference' or 'language'")
        hyp, ref = _texts(record, text)
        pairs.append(Pair(hyp, ref, record.get("report") or "", record["reference"]["text"], record["language"],
                          record.get("labels")))
    return pairs


def translate_pairs(pairs: Sequence[Pair], config: TranslateConfig, context: MetricContext) -> None:
    """Fill ``hyp_en`` / ``ref_en`` of Chinese pairs; a failure is kept as the reason."""
    if config.backend == BACKEND_NONE:
        return
    context.translation_on = True
    chinese = [p for p in pairs if p.language == "zh"]
    if not chinese:
        return
    try:
        english = translate_texts([p.hyp for p in chinese] + [p.ref for p in chinese], config)
    except NotComputed as err:
        context.translation_error = str(err)
        return
    for index, pair in enumerate(chinese):
        pair.hyp_en, pair.ref_en = english[index], english[len(chinese) + index]


def _run(metric: Metric, pairs: Sequence[Pair], language: str, context: MetricContext):
    """The metric's output, or the reason it was not computed."""
    if not pairs:
        return "no samples"
    try:
        output = metric.compute(pairs, language, context)
    except NotComputed as err:
        return str(err)
    except ImportError as err:
        return f"missing package ({err}); install the eval extra: pip install -c constraints.txt -e '.[eval]'"
    return output.not_computed if output.not_computed else output


def _subset(output, positions: Sequence[int]):
    """A per-sample-only output restricted to ``positions`` (reuse across views)."""
    if isinstance(output, str):
        return output
    return MetricOutput(per_sample={k: [v[p] for p in positions] for k, v in output.per_sample.items()})


def _aggregate(values: Sequence[float | None], keys: Sequence[tuple], how: str) -> dict:
    """Draws of one input -> max/mean; inputs -> mean. None values are skipped."""
    per_input: dict[tuple, list[float]] = {}
    for value, key in zip(values, keys):
        bucket = per_input.setdefault(key, [])
        if value is not None:
            bucket.append(float(value))
    scored = [AGGREGATES[how](v) for v in per_input.values() if v]
    return {"value": statistics.fmean(scored) if scored else None, "n": len(scored), "inputs": len(per_input)}


def _summary(outputs: dict, keys: Sequence[tuple], how: str) -> dict:
    """{"metrics", "not_computed", "details"} of one group from its metric outputs."""
    values, skipped, details = {}, {}, {}
    for name, output in outputs.items():
        if isinstance(output, str):
            skipped[name] = output
            continue
        for sub, series in output.per_sample.items():
            values[sub] = _aggregate(series, keys, how)
        for sub, value in output.corpus.items():
            values[sub] = {"value": float(value), "n": len(keys), "inputs": len(set(keys))}
        details.update(output.details)
    return {"metrics": values, "not_computed": skipped, "details": details, "records": len(keys)}


def _merged(outputs_by_language: dict[str, dict], name: str):
    """Per-sample outputs of one metric concatenated over languages (in language order), or the
    reasons it is missing somewhere."""
    reasons = [f"{lang}: {out[name]}" for lang, out in outputs_by_language.items() if isinstance(out[name], str)]
    if reasons:
        return "; ".join(reasons)
    merged = MetricOutput()
    for out in outputs_by_language.values():
        for sub, series in out[name].per_sample.items():
            merged.per_sample.setdefault(sub, []).extend(series)
    return merged


def score_view(metrics, pairs, keys, languages, context, how, derive=None) -> tuple[dict, dict]:
    """Scores of one view: {language: summary, "overall": summary}, and the raw outputs.

    ``derive(metric_name, language)``: a per-sample output taken from another view (only for
    metrics whose per-sample values do not depend on the other samples)."""
    groups = {lang: [i for i, p in enumerate(pairs) if p.language == lang] for lang in languages}
    outputs: dict[str, dict] = {}
    for lang, index in groups.items():
        outputs[lang] = {m.name: derive(m.name, lang) if derive and not m.corpus_dependent
                         else _run(m, [pairs[i] for i in index], lang, context) for m in metrics}
    scores = {lang: _summary(outputs[lang], [keys[i] for i in index], how) for lang, index in groups.items()}
    ordered_keys = [keys[i] for index in groups.values() for i in index]
    overall = {m.name: _run(m, pairs, OVERALL, context) if m.poolable else _merged(outputs, m.name) for m in metrics}
    pooled = {name: out for name, out in overall.items() if isinstance(out, str) or out.corpus}
    flat = {name: out for name, out in overall.items() if name not in pooled}
    summary = _summary(flat, ordered_keys, how)
    pooled_summary = _summary(pooled, keys, how)
    for part in ("metrics", "not_computed", "details"):
        summary[part].update(pooled_summary[part])
    summary["records"] = len(pairs)
    scores[OVERALL] = summary
    return scores, outputs


def speed(records: Sequence[dict]) -> dict:
    """Decoding speed from the records' stats (METHOD.md section 3): TPF pooled over records,
    TPS as the mean of the per-record tokens per second."""
    stats = [r["stats"] for r in records if r.get("stats")]
    forwards = sum(s["forward_passes"] for s in stats)
    committed = sum(s["committed_tokens"] for s in stats)
    return {
        "records": len(stats),
        "tpf": committed / forwards if forwards else None,
        "tps": statistics.fmean(s["tokens_per_second"] for s in stats) if stats else None,
        "new_tokens_mean": statistics.fmean(s["new_tokens"] for s in stats) if stats else None,
        "decode_seconds_total": sum(s["decode_seconds"] for s in stats),
    }


def _per_sample(records, pairs, outputs, languages) -> list[dict]:
    """Per-sample scores of view "all" (corpus-dependent values as computed on that view)."""
    rows = []
    for lang in languages:
        index = [i for i, p in enumerate(pairs) if p.language == lang]
        for position, i in enumerate(index):
            scores = {sub: series[position] for out in outputs[lang].values() if not isinstance(out, str)
                      for sub, series in out.per_sample.items()}
            record = records[i]
            rows.append({"sample_id": record["sample_id"], "source": record["source"],
                         "sample_index": record["sample_index"], "language": lang,
                         "empty": not pairs[i].raw_hyp.strip(), "hyp_en": pairs[i].hyp_en, "scores": scores})
    return rows


def _percent(metrics: Sequence[Metric], aggregate: dict) -> list[str]:
    """Sub-metric names shown x100 in tables (a metric's sub-metrics start with its name)."""
    names = set()
    for view in aggregate.values():
        for group in view.values():
            names.update(group["metrics"])
    owned = {m.name: m for m in metrics}
    per_report = ("hallucinated_per_report", "omitted_per_report")
    return sorted(n for n in names if not n.endswith(per_report) and any(
        n.startswith(name) and metric.percent for name, metric in owned.items()))


def score_results(config: ScoreConfig) -> tuple[dict, list[dict]]:
    """(aggregate JSON, per-sample rows) of one run's results."""
    run, records = load_results(config.results)
    metrics = resolve(config.metrics)
    failed = [r for r in records if r.get("error")]
    scored = [r for r in records if not r.get("error")]
    pairs = make_pairs(scored, config.text)
    context = MetricContext(models=config.models, uncertain_positive=config.uncertain_positive)
    if any(m.name in ENGLISH_READERS for m in metrics):
        translate_pairs(pairs, config.translate, context)
    keys = [_input_key(r) for r in scored]
    languages = sorted({p.language for p in pairs})
    views = {}
    views[VIEW_ALL], outputs = score_view(metrics, pairs, keys, languages, context, config.aggregate)
    kept = [i for i, p in enumerate(pairs) if p.raw_hyp.strip()]
    positions = {lang: {i: n for n, i in enumerate(j for j, p in enumerate(pairs) if p.language == lang)}
                 for lang in languages}

    def derive(name: str, lang: str):
        return _subset(outputs[lang][name], [positions[lang][i] for i in kept if pairs[i].language == lang])

    views[VIEW_NONEMPTY], _ = score_view(metrics, [pairs[i] for i in kept], [keys[i] for i in kept],
                                         languages, context, config.aggregate, derive)
    per_sample = _per_sample(scored, pairs, outputs, languages)
    total = records[0].get("run_total")
    aggregate = {
        "name": config.name or run, "run_id": run, "results": list(config.results),
        "settings": {"metrics": [m.name for m in metrics], "aggregate": config.aggregate, "text": config.text,
                     "uncertain_as_positive": config.uncertain_positive, "translate": config.translate.backend,
                     "models": asdict(config.models)},
        "counts": {"records": len(records), "expected": total, "missing": (total - len(records)) if total else None,
                   "scored": len(scored), "failed": len(failed), "empty": len(pairs) - len(kept),
                   "by_language": {lang: sum(p.language == lang for p in pairs) for lang in languages}},
        "failures": [{k: r.get(k) for k in ("sample_id", "source", "sample_index", "error")} for r in failed],
        "empty": [{"sample_id": scored[i]["sample_id"], "sample_index": scored[i]["sample_index"]}
                  for i, p in enumerate(pairs) if not p.raw_hyp.strip()],
        "translation_error": context.translation_error,
        "speed": speed(scored),
        "views": views,
    }
    aggregate["percent"] = _percent(metrics, views)
    return aggregate, per_sample


def _input_key(record: dict) -> tuple:
    digest, sample, _ = record_key(record)
    return digest, sample


def write_scores(aggregate: dict, per_sample: Sequence[dict], out: str, samples_out: str | None = None,
                 markdown_out: str | None = None) -> dict[str, str]:
    """Write the aggregate JSON, the per-sample JSON lines and the markdown summary; returns paths."""
    import json
    from pathlib import Path

    from echo_cxr.evaluation.tables import scores_markdown

    out_path = Path(out)
    paths = {"aggregate": str(out_path),
             "per_sample": samples_out or str(out_path.with_suffix(".samples.jsonl")),
             "markdown": markdown_out or str(out_path.with_suffix(".md"))}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(aggregate, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    Path(paths["per_sample"]).write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in per_sample),
                                         encoding="utf-8")
    Path(paths["markdown"]).write_text(scores_markdown(aggregate), encoding="utf-8")
    return paths
