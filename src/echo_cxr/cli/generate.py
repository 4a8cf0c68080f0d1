"""``echo-cxr generate IMAGE [IMAGE ...]``: one study (its views) -> one report;
``echo-cxr generate --batch FILE|FOLDER``: many studies -> JSON lines."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from echo_cxr.cli import options

from echo_cxr.imaging.limits import MAX_IMAGES_PER_STUDY


def _stream_printer(bundle, config):
    """on_block callback printing each block's new text as soon as it is committed."""
    from echo_cxr.apps.streaming import BlockText

    text = BlockText(bundle, config.max_new_tokens, config.ignore_eos)

    def on_block(event) -> None:
        delta = text.add(event.token_ids)
        if delta:
            sys.stdout.write(delta)
            sys.stdout.flush()

    return on_block


def _load_model(model, device, dtype, seed, attention, max_pixels, quantize):
    from echo_cxr.model import load
    from echo_cxr.pipeline import default_model

    if model is None:
        model, notice = default_model()
        print(notice, file=sys.stderr)
    return load(model, device=device, dtype=dtype, seed=seed, attention=attention, max_pixels=max_pixels,
                quantize=quantize)


def _one_study(images, lang, prompt, limits, settings, decoder, stream, as_json, load_model) -> None:
    from echo_cxr.decoding import Callbacks, Study
    from echo_cxr.imaging import load_study_images
    from echo_cxr.pipeline import decode_config, generate_reports

    load_study_images([str(p) for p in images], limits)  # fail on unreadable images before loading a model
    study = Study(images=[str(p) for p in images], language=lang or "en", prompt=prompt)
    bundle = load_model()
    config = decode_config(bundle, decoder, **settings)
    callbacks = Callbacks(on_block=_stream_printer(bundle, config)) if stream and not as_json else None
    record = generate_reports(bundle, [study], config, decoder=decoder, callbacks=callbacks)[0]
    if as_json:
        print(json.dumps(record, ensure_ascii=False))
    elif stream:
        print()
    else:
        print(record["report"])


def _many_studies(batch, lang, prompt, limits, settings, decoder, batch_size, out, load_model) -> None:
    from echo_cxr.apps.batch import jsonl_output, report_lines
    from echo_cxr.apps.studies import check_studies, read_batch
    from echo_cxr.errors import EchoError
    from echo_cxr.pipeline import decode_config

    if batch_size < 1:
        raise EchoError(f"batch size must be at least 1, got {batch_size}")
    studies = read_batch(batch, lang)
    if studies.skipped:
        print(f"note: skipped {len(studies.skipped)} files that are not images, e.g. {studies.skipped[0]}",
              file=sys.stderr)
    check_studies(studies.studies, limits)  # every image decodes before anything is written
    with jsonl_output(out) as write:
        bundle = load_model()
        config = decode_config(bundle, decoder, **settings)
        for record in report_lines(bundle, studies.studies, config, decoder, batch_size, prompt):
            write(record)
    if out is not None:
        print(f"{len(studies.studies)} reports written to {out}", file=sys.stderr)


def _phantom_study(seed: int, folder: Path, lang: str) -> list[Path]:
    from echo_cxr.phantom.single import write_single_study

    study = write_single_study(seed, folder)
    print(f"phantom study (seed {seed}): {', '.join(map(str, study.paths))}\ntruth: {study.truth_line()}\n"
          f"reference report: {study.reference[lang]}", file=sys.stderr)
    return study.paths


def generate_command(
    images: Optional[list[Path]] = typer.Argument(None, help="Views of one study (PNG, JPEG or DICOM)."),
    batch: Optional[Path] = typer.Option(None, help="Many studies: a release-schema JSON file or a folder "
                                                    "(one study per image file or sub-folder); JSON lines out."),
    batch_size: int = typer.Option(8, help="With --batch: studies decoded together."),
    out: Optional[Path] = typer.Option(None, help="With --batch: write the JSON lines here (default: stdout)."),
    model: options.Model = None,
    lang: Optional[str] = typer.Option(None, help="Report language: en or zh (default en; --batch JSON: "
                                                  "each sample's language)."),
    prompt: Optional[str] = typer.Option(None, help="Instruction (default: the release prompt for --lang)."),
    block_length: options.BlockLength = None,
    steps: options.Steps = None,
    strategy: options.Strategy = None,
    threshold: options.Threshold = None,
    entropy_bound: options.EntropyBound = None,
    temperature: options.Temperature = 0.0,
    top_k: options.TopK = 0,
    top_p: options.TopP = 1.0,
    seed: options.Seed = 0,
    max_new_tokens: options.MaxNewTokens = 512,
    no_fused: options.NoFused = False,
    decoder: options.Decoder = "blockwise",
    ignore_eos: options.IgnoreEos = False,
    dtype: options.Dtype = "float32",
    device: str = typer.Option("cpu", help="cpu | cuda | cuda:N | auto."),
    attention: options.Attention = "sdpa",
    max_pixels: options.MaxPixels = None,
    quantize: options.Quantize = "auto",
    max_images: int = typer.Option(MAX_IMAGES_PER_STUDY, help="Most views one study may have."),
    stream: bool = typer.Option(False, "--stream", help="Print each block as it is committed."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    phantom: Optional[int] = typer.Option(None, help="Make a Phantom CXR study with this seed and report on it "
                                                     "(its image and true findings go to stderr)."),
    phantom_dir: Path = typer.Option(Path("phantom-study"), help="With --phantom: where its image is written."),
) -> None:
    """Write a report for one study (IMAGE ...) or for many (--batch)."""
    from echo_cxr.decoding.api import DECODERS
    from echo_cxr.errors import EchoError
    from echo_cxr.imaging import ImageLimits
    from echo_cxr.pipeline import check_settings
    from echo_cxr.prompts import default_prompt

    settings = options.decoding_settings(block_length, steps, strategy, threshold, entropy_bound, temperature,
                                         top_k, top_p, max_new_tokens, no_fused, ignore_eos) | {"seed": seed}
    check_settings(**settings)
    if decoder not in DECODERS:
        raise EchoError(f"unknown decoder {decoder!r}; choose one of {', '.join(DECODERS)}")
    if lang is not None:
        default_prompt(lang)
    limits = ImageLimits(max_images=max_images)
    if max_pixels is not None and max_pixels <= 0:
        raise EchoError(f"max pixels must be positive, got {max_pixels}")
    load_model = lambda: _load_model(model, device, dtype, seed, attention, max_pixels, quantize)  # noqa: E731
    if phantom is not None:
        if images or batch is not None:
            raise EchoError("--phantom makes its own study; give no images and no --batch with it")
        images = _phantom_study(phantom, phantom_dir, lang or "en")
    if batch is None:
        if not images:
            raise typer.BadParameter("Missing argument. Give the views of one study, or --batch FILE|FOLDER "
                                     "for many studies.", param_hint="'IMAGES...'")
        if out is not None:
            raise EchoError("--out goes with --batch; one study prints to stdout")
        _one_study(images, lang, prompt, limits, settings, decoder, stream, as_json, load_model)
        return
    if images:
        raise EchoError("give either the images of one study or --batch, not both")
    if stream:
        raise EchoError("--stream shows one study as it is written; it does not go with --batch")
    _many_studies(batch, lang, prompt, limits, settings, decoder, batch_size, out, load_model)


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_command)
