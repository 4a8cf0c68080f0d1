"""The Gradio demo: pick a study, watch the report grow block by block, compare with AR.

Everything the page does goes through the library: images through ``imaging``, settings through
``ReportOptions`` (hence ``pipeline.decode_config``), decoding through ``decoding.generate`` via
``runner.stream_frames``. This module only lays out the page and wires events.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from echo_cxr.apps.demo.render import panel, stats_table
from echo_cxr.errors import EchoError

LOG = logging.getLogger("echo_cxr.demo")
MODEL_DEFAULT = "model default"
BLOCK_CHOICES = (1, 2, 4, 8, 16)
DEFAULT_MAX_NEW_TOKENS = 256
MAX_NEW_TOKENS_CEILING = 1024
TOKENS_STEP = 8
SLOW_MOTION_CEILING_MS = 1000
FRAME_INTERVAL_S = 0.05  # at most ~20 page updates a second at full speed
MILLISECONDS = 1000.0
DIFFUSION_PANEL, AR_PANEL = "echo-diffusion", "echo-ar"
NOISE_NOTE = "random weights: this report is noise"
SYNTHETIC_NOTE = "trained on Phantom CXR only (synthetic): not for clinical use"


@dataclass(frozen=True)
class DemoConfig:
    """How the demo is set up (the ``echo-cxr demo`` options)."""

    model: str | None = None  # None: pipeline.default_model()
    extra_models: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 7860
    device: str = "cpu"
    dtype: str = "float32"
    seed: int = 0
    attention: str = "sdpa"
    max_pixels: int | None = None
    quantize: str = "auto"  # CPU linear-layer format (model/quantize.py); auto picks by CPU
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    block_length: int | None = None  # initial page settings; None: the model's default
    steps: int | None = None
    strategy: str | None = None
    slow_motion_ms: int = 0
    examples: int = 6
    workdir: str | None = None  # phantom PNGs; None: a temporary folder

    def __post_init__(self) -> None:
        if not 1 <= self.max_new_tokens <= MAX_NEW_TOKENS_CEILING:
            raise EchoError(f"max new tokens must be between 1 and {MAX_NEW_TOKENS_CEILING}, got {self.max_new_tokens}")
        if not 0 <= self.slow_motion_ms <= SLOW_MOTION_CEILING_MS:
            raise EchoError(f"slow motion must be between 0 and {SLOW_MOTION_CEILING_MS} ms, got {self.slow_motion_ms}")
        if self.block_length is not None and self.block_length not in BLOCK_CHOICES:
            raise EchoError(f"block length must be one of {', '.join(map(str, BLOCK_CHOICES))}, "
                            f"got {self.block_length}")
        if self.steps is not None and self.steps not in BLOCK_CHOICES:
            raise EchoError(f"steps must be one of {', '.join(map(str, BLOCK_CHOICES))}, got {self.steps}")
        if self.strategy is not None:
            from echo_cxr.decoding.strategies import STRATEGIES

            if self.strategy not in STRATEGIES:
                raise EchoError(f"unknown strategy {self.strategy!r}; choose one of {', '.join(STRATEGIES)}")
        if self.examples < 0:
            raise EchoError(f"examples must not be negative, got {self.examples}")


def _choice(value) -> int | None:
    return None if value in (None, "", MODEL_DEFAULT) else int(value)


def _notes(bundle) -> str:
    if bundle.name.startswith("random:"):
        return NOISE_NOTE
    return SYNTHETIC_NOTE if bundle.synthetic else ""


class DemoSession:
    """The demo's state and event handlers (plain Python; ``build_demo`` wires them to gradio)."""

    def __init__(self, config: DemoConfig, models, examples, workdir: Path):
        self.config, self.models, self.examples, self.workdir = config, models, examples, workdir

    def preview(self, paths):
        """Uploaded or picked views -> (paths, gallery images, status line)."""
        from echo_cxr.imaging import load_study_images

        paths = [str(p) for p in (paths or [])]
        if not paths:
            return [], [], ""
        try:
            images = load_study_images(paths)
        except EchoError as err:
            return [], [], f"**error:** {err}"
        return paths, images, f"{len(paths)} view(s) ready"

    def pick_example(self, name):
        from echo_cxr.apps.demo.examples import render_example

        example = next((e for e in self.examples if e.name == name), None)
        if example is None:
            return [], [], "", ""
        paths, truth = render_example(example, self.workdir)
        paths, images, status = self.preview(paths)
        return paths, images, status, truth

    def run(self, decoder: str, paths, model, language, block_length, steps, strategy, threshold,
            max_new_tokens, slow_ms):
        """Generator of (panel html, stats html) for one decode of the chosen study."""
        from echo_cxr.apps.demo.runner import stream_frames
        from echo_cxr.apps.options import ReportOptions
        from echo_cxr.decoding import Study

        panel_id = AR_PANEL if decoder == "ar" else DIFFUSION_PANEL
        try:
            if not paths:
                raise EchoError("upload the study's images or pick a phantom example first")
            ar = decoder == "ar"
            options = ReportOptions(
                language=language, decoder=decoder, block_length=1 if ar else _choice(block_length),
                steps=1 if ar else _choice(steps), strategy=None if ar else _choice_str(strategy),
                threshold=None if ar else float(threshold), max_new_tokens=int(max_new_tokens))
            entry = self.models.get(model or self.config.model)
            config = options.decode_config(entry.bundle)
            study = Study(list(paths), language=options.language)
            note = _notes(entry.bundle)
            pause = float(slow_ms or 0) / MILLISECONDS
            frames = stream_frames(entry.bundle, study, config, decoder, entry.lock,
                                   min_interval_s=0.0 if pause else FRAME_INTERVAL_S)
            for frame in frames:
                yield panel(panel_id, frame, note=note), stats_table(frame.stats, decoder)
                if pause and not frame.done:
                    time.sleep(pause)
        except EchoError as err:
            yield panel(panel_id, error=f"error: {err}"), stats_table(None, decoder)
        except Exception as err:  # noqa: BLE001 - the page shows a line, the log the traceback
            LOG.error("demo decode failed", exc_info=err)
            message = f"internal error ({type(err).__name__}); see the server log"
            yield panel(panel_id, error=message), stats_table(None, decoder)


def _choice_str(value) -> str | None:
    return None if value in (None, "", MODEL_DEFAULT) else str(value)


def make_session(config: DemoConfig, preloaded: dict | None = None, notice=print) -> DemoSession:
    """Load the first model, list the phantom examples, prepare the working folder."""
    from echo_cxr.apps.demo.examples import phantom_examples
    from echo_cxr.apps.demo.models import ModelCache
    from echo_cxr.pipeline import default_model

    if config.model is None:
        spec, message = default_model()
        notice(message)
        config = replace(config, model=spec)
    load_kwargs = dict(device=config.device, dtype=config.dtype, seed=config.seed, attention=config.attention,
                       max_pixels=config.max_pixels, quantize=config.quantize)
    models = ModelCache(load_kwargs, preloaded=preloaded)
    models.get(config.model)  # fail now (one clear line) rather than in the page
    workdir = Path(config.workdir) if config.workdir else Path(tempfile.mkdtemp(prefix="echo-cxr-demo-"))
    return DemoSession(config, models, phantom_examples(config.examples), workdir)
