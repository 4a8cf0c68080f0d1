"""``echo-cxr demo``: the Gradio demo in a browser, localhost by default."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from echo_cxr.cli import options

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860


def demo_command(
    host: str = typer.Option(DEFAULT_HOST, help="Address to listen on (loopback by default)."),
    port: int = typer.Option(DEFAULT_PORT, help="TCP port."),
    model: Optional[str] = typer.Option(None, help="First model: folder, hub id or random:PRESET "
                                                   "(default: the default model)."),
    extra_model: Optional[list[str]] = typer.Option(None, help="More models offered in the page (repeatable)."),
    device: str = typer.Option("cpu", help="cpu | cuda | cuda:N | auto."),
    dtype: str = typer.Option("float32", help="float32 | bfloat16 | float16."),
    seed: int = typer.Option(0, help="Weights of random:PRESET models."),
    attention: str = typer.Option("sdpa", help="sdpa | eager | flash_attention_2 (vision tower only)."),
    max_pixels: Optional[int] = typer.Option(None, help="Image budget per view (width*height) after resizing."),
    quantize: options.Quantize = "auto",
    max_new_tokens: int = typer.Option(256, help="Initial new-token budget in the page."),
    block_length: Optional[int] = typer.Option(None, help="Initial block length in the page (default: the model's)."),
    steps: Optional[int] = typer.Option(None, help="Initial steps per block in the page (default: the model's)."),
    strategy: Optional[str] = typer.Option(None, help="Initial remasking strategy (default: the model's)."),
    slow_motion_ms: int = typer.Option(0, help="Initial pause per denoising step, to watch small fast models."),
) -> None:
    """Serve the demo: upload a study (or pick a phantom), watch the report grow block by block."""
    from echo_cxr.apps.demo import DemoConfig, launch_demo

    config = DemoConfig(model=model, extra_models=tuple(extra_model or ()), host=host, port=port, device=device,
                        dtype=dtype, seed=seed, attention=attention, max_pixels=max_pixels, quantize=quantize,
                        max_new_tokens=max_new_tokens, block_length=block_length, steps=steps, strategy=strategy,
                        slow_motion_ms=slow_motion_ms)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: the demo has no login; anyone who can reach {host}:{port} may use it", file=sys.stderr)
    launch_demo(config, block=True, notice=lambda line: print(line, file=sys.stderr))


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
