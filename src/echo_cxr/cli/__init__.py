"""Command-line entry point `echo-cxr`: thin typer commands that build configs and call the library.

Each sub-command lives in its own module and is registered here. Errors of type ``EchoError``
(bad input) print one line and exit with code 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import functools
import sys

import typer

from echo_cxr.errors import EchoError

EXIT_BAD_INPUT = 2

app = typer.Typer(
    name="echo-cxr",
    help="ECHO chest X-ray report generation (block-diffusion Qwen2.5-VL).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """ECHO chest X-ray report generation (block-diffusion Qwen2.5-VL)."""


@functools.cache
def _register() -> None:
    """Add every sub-command to ``app`` (once: each call of ``main`` in one process reuses them)."""
    from echo_cxr.cli import bench, generate, phantom, train
    from echo_cxr.cli import infer, report, score
    from echo_cxr.cli import data, demo, diagnose, serve

    generate.register(app)
    phantom.register(app)
    bench.register(app)
    infer.register(app)
    score.register(app)
    report.register(app)
    train.register(app)
    serve.register(app)
    demo.register(app)
    diagnose.register(app)
    data.register(app)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; map ``EchoError`` to a one-line message and exit code 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:
        args.remove("--debug")
    _register()
    try:
        app(args=args, prog_name="echo-cxr")  # usage errors: click prints them and exits with 2
    except EchoError as err:
        if debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
