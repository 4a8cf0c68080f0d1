"""``echo-cxr data normalize``: rewrite reports in the paper's region order, every rewrite checked."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from echo_cxr.data.normalize.config import (
    DEFAULT_BACKOFF_MAX_S, DEFAULT_BACKOFF_S, DEFAULT_CONCURRENCY, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_NEW_TOKENS,
    DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_S,
)

EXIT_INCOMPLETE = 1  # some reports got no answer from the backend: rerun to retry them


def normalize_command(
    data: Path = typer.Option(..., "--data", help="Release-schema JSON file (e.g. from data convert)."),
    out: Path = typer.Option(..., "--out", help="Normalised JSON file; .audit.jsonl / .summary.json beside it."),
    backend: str = typer.Option("openai", "--backend", help="openai (any OpenAI-compatible server) | transformers"),
    model: str = typer.Option(..., "--model", help="openai: served model name; transformers: folder or hub id."),
    endpoint: Optional[str] = typer.Option(None, "--endpoint", help="openai: base URL, e.g. http://127.0.0.1:8000/v1"),
    api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env", help="Environment variable with the API key."),
    prompt_version: str = typer.Option("v1", "--prompt-version", help="Prompt files under data/normalize/prompts/."),
    concurrency: int = typer.Option(DEFAULT_CONCURRENCY, "--concurrency", help="Requests in flight."),
    timeout: float = typer.Option(DEFAULT_TIMEOUT_S, "--timeout", help="Seconds per request."),
    max_attempts: int = typer.Option(DEFAULT_MAX_ATTEMPTS, "--max-attempts", help="Rewrites tried per report."),
    max_retries: int = typer.Option(DEFAULT_MAX_RETRIES, "--max-retries", help="Transport retries per request."),
    backoff: float = typer.Option(DEFAULT_BACKOFF_S, "--backoff", help="First retry wait (s); doubles each time."),
    backoff_max: float = typer.Option(DEFAULT_BACKOFF_MAX_S, "--backoff-max", help="Longest retry wait (s)."),
    temperature: float = typer.Option(0.0, "--temperature", help="Sampling temperature (0 = greedy)."),
    max_new_tokens: int = typer.Option(DEFAULT_MAX_NEW_TOKENS, "--max-new-tokens", help="Answer length limit."),
    allow_dropped_negatives: bool = typer.Option(False, "--allow-dropped-negatives",
                                                 help="Accept rewrites that leave out a negated finding."),
    region_labels: bool = typer.Option(False, "--region-labels", help="Keep 'Thorax: ...' labels in the findings."),
    cache: Optional[Path] = typer.Option(None, "--cache", help="Rewrite cache (default: OUT.cache.jsonl)."),
    device: str = typer.Option("cpu", "--device", help="transformers backend device."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Normalise every report (METHOD.md section 4); resumable: rerun the same command to continue."""
    from echo_cxr.data.normalize.config import NormalizeConfig
    from echo_cxr.data.normalize.runner import normalize

    config = NormalizeConfig(
        data=str(data), out=str(out), backend=backend, model=model, endpoint=endpoint, api_key_env=api_key_env,
        prompt_version=prompt_version, concurrency=concurrency, timeout_s=timeout, max_attempts=max_attempts,
        max_retries=max_retries, backoff_s=backoff, backoff_max_s=backoff_max, temperature=temperature,
        max_new_tokens=max_new_tokens, keep_negatives=not allow_dropped_negatives, region_labels=region_labels,
        cache=str(cache) if cache else None, device=device, progress=not quiet)
    summary = normalize(config)
    status = ", ".join(f"{name} {count}" for name, count in summary["status"].items())
    print(f"{summary['samples']} samples ({status}); {summary['from_cache']} reports from the cache, "
          f"{summary['requests']} requests, {summary['transport_errors']} transport errors, "
          f"{summary['prompt_tokens']} + {summary['completion_tokens']} tokens, {summary['wall_seconds']:.1f} s")
    print(f"wrote {summary['out']}, {summary['audit']}")
    if summary["status"].get("error"):
        print(f"{summary['status']['error']} samples got no answer (originals kept); rerun to retry them")
        raise typer.Exit(EXIT_INCOMPLETE)


def register(app: typer.Typer) -> None:
    app.command("normalize")(normalize_command)
