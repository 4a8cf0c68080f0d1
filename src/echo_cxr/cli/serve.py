"""``echo-cxr serve``: the REST service (FastAPI + uvicorn), localhost by default."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from echo_cxr.apps.batcher import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_QUEUE, DEFAULT_WINDOW_S
from echo_cxr.apps.server import (
    DEFAULT_MAX_NEW_TOKENS, DEFAULT_PORT, DEFAULT_REQUEST_TIMEOUT_S, LOCALHOST, MILLISECONDS,
)
from echo_cxr.cli import options
from echo_cxr.imaging.limits import MAX_IMAGE_BYTES, MAX_IMAGES_PER_STUDY, MAX_SOURCE_PIXELS


def serve_command(
    model: Optional[str] = typer.Option(None, help="Checkpoint folder, hub id, or random:tiny|0.5b|7b "
                                                   "(default: the default model)."),
    host: str = typer.Option(LOCALHOST, help="Address to listen on (loopback by default)."),
    port: int = typer.Option(DEFAULT_PORT, help="TCP port (0: any free port)."),
    max_batch_size: int = typer.Option(DEFAULT_MAX_BATCH_SIZE, help="Most requests decoded together."),
    batch_window_ms: float = typer.Option(DEFAULT_WINDOW_S * MILLISECONDS,
                                          help="How long a request waits for others to batch with."),
    max_queue: int = typer.Option(DEFAULT_MAX_QUEUE, help="Most requests waiting; more get 429."),
    max_images: int = typer.Option(MAX_IMAGES_PER_STUDY, help="Most images per request."),
    max_image_bytes: int = typer.Option(MAX_IMAGE_BYTES, help="Most bytes per image."),
    max_source_pixels: int = typer.Option(MAX_SOURCE_PIXELS, help="Most pixels an image may declare."),
    max_new_tokens: int = typer.Option(DEFAULT_MAX_NEW_TOKENS, help="Most new tokens a request may ask for."),
    request_timeout: float = typer.Option(DEFAULT_REQUEST_TIMEOUT_S, help="Request time limit in seconds (then 408)."),
    api_key: Optional[str] = typer.Option(None, envvar="ECHO_API_KEY", show_default=False,
                                          help="Require this key (X-API-Key or Authorization: Bearer) on /v1/."),
    device: str = typer.Option("cpu", help="cpu | cuda | cuda:N | auto."),
    dtype: str = typer.Option("float32", help="float32 | bfloat16 | float16."),
    seed: int = typer.Option(0, help="Weights of random:PRESET models."),
    attention: str = typer.Option("sdpa", help="sdpa | eager | flash_attention_2 (vision tower only)."),
    max_pixels: Optional[int] = typer.Option(None, help="Image budget per view (width*height) after resizing."),
    quantize: options.Quantize = "auto",
) -> None:
    """Serve reports over HTTP: POST /v1/reports (and /v1/reports/stream), GET /v1/models, /healthz."""
    from echo_cxr.apps.server import ServiceConfig, serve  # fastapi and uvicorn load here

    config = ServiceConfig(
        model=model, host=host, port=port, max_batch_size=max_batch_size, batch_window_ms=batch_window_ms,
        max_queue=max_queue, max_images=max_images, max_image_bytes=max_image_bytes,
        max_source_pixels=max_source_pixels, max_new_tokens=max_new_tokens, request_timeout_s=request_timeout,
        api_key=api_key, device=device, dtype=dtype, seed=seed, attention=attention, max_pixels=max_pixels,
        quantize=quantize,
    )
    serve(config, notice=lambda line: print(line, file=sys.stderr))


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
