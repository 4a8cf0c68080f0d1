"""``echo-cxr score --results results.jsonl [--metrics ...] --out metrics.json``: score one run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer


def score_command(
    results: list[Path] = typer.Option(..., "--results", help="Results file(s) of one `echo-cxr infer` run."),
    more_results: Optional[list[Path]] = typer.Argument(None, help="More results files of the same run."),
    out: Path = typer.Option(..., help="Aggregate scores (JSON); per-sample rows and markdown go beside it."),
    metrics: list[str] = typer.Option(["lexical,release,clinical"], help="Metric or group names, comma-separated "
                                      "(lexical, release, clinical, model, all, or e.g. bleu,rouge,ratescore)."),
    aggregate: str = typer.Option("mean", help="Draws of one input: max | mean."),
    text: str = typer.Option("report", help="report (findings + impression, headers dropped) | raw (output vs release reference string) | findings | impression."),
    name: Optional[str] = typer.Option(None, help="Row name in comparison tables (default: the run id)."),
    samples_out: Optional[Path] = typer.Option(None, help="Per-sample JSON lines (default: OUT.samples.jsonl)."),
    markdown_out: Optional[Path] = typer.Option(None, help="Markdown summary (default: OUT.md)."),
    uncertain_positive: bool = typer.Option(True, "--uncertain-positive/--uncertain-negative",
                                            help="CheXpert uncertain labels count as present (U-ones) or not."),
    rate_ner: Optional[str] = typer.Option(None, help="RaTE NER model (default Angelakeke/RaTE-NER-Deberta)."),
    rate_embed: Optional[str] = typer.Option(None, help="RaTE entity encoder (default FremyCompany/BioLORD-2023-C)."),
    rate_positive_weights: Optional[str] = typer.Option(None, help="Affinity weights of ratescore_positive (JSON)."),
    semscore_model: Optional[str] = typer.Option(None, help="CheXbert-style BERT folder or hub id for SemScore."),
    semscore_weights: Optional[str] = typer.Option(None, help="CheXbert .pth loaded onto --semscore-model."),
    judge: Optional[str] = typer.Option(None, help="Judge causal LM for perplexity (default Qwen/Qwen3-1.7B)."),
    device: str = typer.Option("cpu", help="Device of model-based metrics."),
    model_batch_size: int = typer.Option(16, help="Batch size of model-based metrics."),
    translate: str = typer.Option("none", help="ZH->EN before RaTE/SemScore: none | openai | local."),
    translate_model: Optional[str] = typer.Option(None, help="Translation model (served name or folder / hub id)."),
    translate_endpoint: Optional[str] = typer.Option(None, help="OpenAI-compatible base URL (.../v1)."),
    translate_api_key_env: str = typer.Option("OPENAI_API_KEY", help="Environment variable holding the API key."),
) -> None:
    """Score one run: lexical, release-compatible, clinical and model-based metrics."""
    from echo_cxr.evaluation.metrics import ModelSettings
    from echo_cxr.evaluation.metrics.translate import TranslateConfig
    from echo_cxr.evaluation.scoring import ScoreConfig, score_results, write_scores
    from echo_cxr.evaluation.tables import scores_markdown

    given = dict(rate_ner=rate_ner, rate_embed=rate_embed, rate_positive_weights=rate_positive_weights,
                 semscore_model=semscore_model, semscore_weights=semscore_weights, judge=judge)
    models = ModelSettings(device=device, batch_size=model_batch_size,
                           **{k: v for k, v in given.items() if v is not None})
    config = ScoreConfig(
        results=tuple(str(p) for p in [*results, *(more_results or [])]), metrics=tuple(metrics),
        aggregate=aggregate, text=text, name=name, uncertain_positive=uncertain_positive, models=models,
        translate=TranslateConfig(backend=translate, model=translate_model, endpoint=translate_endpoint,
                                  api_key_env=translate_api_key_env, device=device),
    )
    aggregate_scores, per_sample = score_results(config)
    paths = write_scores(aggregate_scores, per_sample, str(out), samples_out and str(samples_out),
                         markdown_out and str(markdown_out))
    print(scores_markdown(aggregate_scores))
    print(f"wrote {paths['aggregate']}, {paths['per_sample']}, {paths['markdown']}", file=sys.stderr)


def register(app: typer.Typer) -> None:
    app.command("score")(score_command)
