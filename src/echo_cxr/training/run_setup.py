"""Setting a run up: data, the model to train (checkpoint or scratch), output folder rules."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from echo_cxr.errors import EchoError
from echo_cxr.model.bundle import ModelDefaults
from echo_cxr.training.config import TEACHER_OBJECTIVES, TrainConfig

STATE_DIR = "state"
MODEL_DIR = "model"
METRICS_FILE = "metrics.jsonl"
CONFIG_FILE = "train_config.json"


def read_samples(paths: list[str]):
    """Samples of release-schema data files; every image must exist (checked before training)."""
    from echo_cxr.evaluation.data import read_datasets

    samples = read_datasets(paths)
    if not samples:
        raise EchoError(f"no samples in {', '.join(paths)}")
    missing = [(s.sample_id, path) for s in samples for path in s.missing_images()]
    if missing:
        shown = ", ".join(f"{sid}: {path}" for sid, path in missing[:5])
        raise EchoError(f"{len(missing)} image(s) missing in the training data, e.g. {shown}")
    return samples


def prepare_output(config: TrainConfig, resume: bool, overwrite: bool) -> Path:
    """Refuse to clobber an earlier run's checkpoints unless resuming or told to."""
    out = Path(config.output_dir)
    existing = (out / STATE_DIR).exists() or (out / MODEL_DIR).exists()
    if existing and not (resume or overwrite):
        raise EchoError(f"{out} already holds a training run; pass --resume to continue it or --overwrite")
    if resume and not (out / STATE_DIR).exists():
        raise EchoError(f"nothing to resume in {out} (no {STATE_DIR}/ folder)")
    return out


def scratch_bundle(config: TrainConfig, samples):
    """A randomly initialised model with a tokenizer trained on the training reports."""
    import torch

    from echo_cxr.model.random_init import new_model
    from echo_cxr.model.tiny import train_tokenizer
    from echo_cxr.prompts import PROMPTS, target_text

    shape = config.scratch
    texts = [target_text(s.findings, s.impression, s.language) for s in samples] + list(PROMPTS.values())
    tokenizer = train_tokenizer(texts, shape.vocab_size)
    text, vision = shape.shapes()
    return new_model("scratch", tokenizer, text, vision, shape.max_pixels, seed=config.seed,
                     dtype=torch.float32, device=torch.device("cpu"))


def initial_bundle(config: TrainConfig, samples, device: str = "cpu"):
    """The model training starts from: scratch, a checkpoint, or (distillation) the teacher."""
    from echo_cxr.model import load

    if config.init == "scratch":
        bundle = scratch_bundle(config, samples)
        if config.vision_init:
            copy_vision_tower(bundle, config.vision_init)
    else:
        spec = config.teacher if config.init == "teacher" else config.init
        bundle = load(spec, device=device, seed=config.seed, max_pixels=config.max_pixels)
    if config.max_pixels:
        from echo_cxr.model.loading import set_max_pixels

        set_max_pixels(bundle.processor, config.max_pixels)
    return bundle


def copy_vision_tower(bundle, source: str) -> None:
    """Load the vision tower (patch embedding, blocks, merger) of checkpoint ``source`` into
    ``bundle``'s; both towers must have the same tensors and shapes."""
    from echo_cxr.model import load

    theirs = load(source).model.model.visual.state_dict()
    tower = bundle.model.model.visual
    ours = tower.state_dict()
    differ = sorted(set(theirs) ^ set(ours))
    differ += sorted(k for k, v in ours.items() if k in theirs and theirs[k].shape != v.shape)
    if differ:
        raise EchoError(f"vision_init {source}: its vision tower does not match the model's "
                        f"(e.g. {', '.join(differ[:4])})")
    tower.load_state_dict(theirs)


def trained_bundle(bundle, config: TrainConfig, prediction: str, samples=()):
    """The bundle to save: prediction convention and decoding defaults of the trained stage, and
    whether it has only seen synthetic data (a synthetic init, or Phantom CXR samples only)."""
    one_step = config.objective in TEACHER_OBJECTIVES
    defaults = ModelDefaults(block_length=config.block_length, steps=1 if one_step else None,
                             threshold=bundle.defaults.threshold)
    return replace(bundle, prediction=prediction, defaults=defaults, synthetic=synthetic_after(bundle, config, samples))


def synthetic_after(bundle, config: TrainConfig, samples) -> bool:
    """A model has only seen synthetic data if its init had, or it started from scratch and
    trained on Phantom CXR samples only."""
    from echo_cxr.phantom.dataset import STUDY_ID_PREFIX

    phantom = bool(samples) and all(str(s.sample_id).startswith(STUDY_ID_PREFIX) for s in samples)
    return bundle.synthetic or (config.init == "scratch" and phantom)


def check_teacher(config: TrainConfig, teacher) -> None:
    """A distillation teacher must be a block-diffusion model with the run's block length."""
    if teacher.prediction != "masked":
        raise EchoError("the teacher must be a block-diffusion (masked prediction) model, not an AR model")
    if teacher.defaults.block_length != config.block_length:
        raise EchoError(f"block length {config.block_length} does not match the teacher's "
                        f"{teacher.defaults.block_length}")


def write_run_config(out: Path, config: TrainConfig) -> None:
    import dataclasses

    out.mkdir(parents=True, exist_ok=True)
    (out / CONFIG_FILE).write_text(json.dumps(dataclasses.asdict(config), indent=2) + "\n")
