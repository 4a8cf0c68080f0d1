"""Stage 0 (not in the paper): pretrain the vision tower on Phantom CXR labels.

ECHO starts from Lingshu-7B, a medical VLM whose vision encoder is already trained. Nothing
pretrained exists here, and learning to see subtle findings only through the report's few
image-dependent words is slow on a CPU budget. This stage stands in for the pretrained encoder:
the scratch model's own Qwen2.5-VL vision tower (patch embedding, blocks, merger) learns a
multi-label classification of the study's labels (one target per finding and per finding
attribute value) through a linear probe head over the max-pooled merged tokens
(``label_training.py`` runs the loop). The saved checkpoint (tokenizer + model with the trained
tower, language model untouched) is the ``init`` of stage 1 (``ar``); the probe head is saved
beside it (``label_head.pt``) so that ``echo-cxr diagnose probe`` can report what the tower
alone sees. Views are decoded once into a grey uint8 cache (``vision_data.py``).

``init: scratch`` starts a new tower; ``init: <earlier stage-0 run>/model`` continues one (its
probe head too, from ``label_head.pt`` beside it), e.g. at a higher ``max_pixels``: the tower's
2D rotary positions fit any patch grid, so a tower trained at low resolution can be refined at a
higher one (docs/training.md).
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from echo_cxr.errors import EchoError
from echo_cxr.training import run_setup
from echo_cxr.training.config import TrainConfig
from echo_cxr.training.label_targets import target_names
from echo_cxr.training.label_training import LabelRun, predict_labels, prior_shift, target_weights_of, train_labels
from echo_cxr.training.vision_data import PixelSpec, cached_view_set, patchify

HEAD_FILE = "label_head.pt"
VIEW_CACHE_DIR = "view_cache"
POSITIVE_WEIGHT_CAP = 50.0


class LabelHead(nn.Module):
    """Per-token scores for every target, max-pooled over the image's merged tokens.

    Max pooling is the inductive bias that a finding counts wherever it is: with an attention-
    pooling head (or only the language model's attention in stage 1), a tower trained from scratch
    did not learn to see even a pacemaker within 400 steps; with max pooling it did within 200.
    """

    def __init__(self, dim: int, targets: int):
        super().__init__()
        self.scores = nn.Linear(dim, targets)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:  # (n, D) -> (targets,)
        return self.scores(tokens).max(dim=0).values


class TowerProbe:
    """Studies' grey views -> (B, targets) logits through the model's tower and a ``LabelHead``
    (a study's views are pooled together)."""

    def __init__(self, model, head: LabelHead, spec: PixelSpec):
        self.model, self.head, self.spec = model, head, spec

    def __call__(self, studies: list[list[torch.Tensor]]) -> torch.Tensor:
        pixel_values, grid = patchify([view for views in studies for view in views], self.spec)
        out = self.model.model.get_image_features(pixel_values, grid, return_dict=True)
        per_image, logits, cursor = list(out.pooler_output), [], 0
        for views in studies:
            logits.append(self.head(torch.cat(per_image[cursor:cursor + len(views)])))
            cursor += len(views)
        return torch.stack(logits)


def unique_studies(samples) -> list:
    """One sample per image set (an EN and a ZH sample share their study's images)."""
    seen, studies = set(), []
    for sample in samples:
        if sample.images not in seen:
            if sample.labels is None:
                raise EchoError(f"sample {sample.sample_id} has no labels; vision pretraining needs Phantom labels")
            seen.add(sample.images)
            studies.append(sample)
    return studies


def label_run(config: TrainConfig, studies: int) -> LabelRun:
    steps = config.max_steps or max(1, math.floor(config.epochs * (studies // config.batch_size)))
    return LabelRun(steps=steps, batch_size=config.batch_size, learning_rate=config.learning_rate,
                    weight_decay=config.weight_decay, warmup_ratio=config.warmup_ratio,
                    max_grad_norm=config.max_grad_norm, positive_weight_cap=POSITIVE_WEIGHT_CAP,
                    eval_every=config.eval_every, save_every=config.save_every, log_every=config.log_every,
                    seed=config.seed, mixed_precision=config.mixed_precision,
                    target_weights=target_weights_of(config.label_loss_weights, target_names()))


class VisionPretrainer:
    def __init__(self, config: TrainConfig, resume: bool = False, overwrite: bool = False, progress: bool = True):
        self.config, self.resume = config, resume
        self.out = run_setup.prepare_output(config, resume, overwrite)
        samples = run_setup.read_samples(config.train_data)
        self.train = unique_studies(samples)
        self.val = unique_studies(run_setup.read_samples(config.val_data)) if config.val_data else []
        self.bundle = run_setup.initial_bundle(config, samples)
        self.spec = PixelSpec.of(self.bundle.processor.image_processor)
        width = self.bundle.model.config.vision_config.out_hidden_size
        self.head = LabelHead(width, len(target_names()))
        if config.init != "scratch":
            self.head.load_state_dict(_saved_head(Path(config.init).parent)["state"])
        self.progress = progress

    def _views(self, name: str, studies):
        from echo_cxr.phantom.dataset import default_workers

        cache = self.out / VIEW_CACHE_DIR / f"{name}.pt"
        return cached_view_set(studies, self.spec, cache, workers=default_workers()) if studies else None

    def train_model(self) -> Path:
        run_setup.write_run_config(self.out, self.config)
        train, val = self._views("train", self.train), self._views("val", self.val)
        visual = self.bundle.model.model.visual
        visual.train()
        probe = TowerProbe(self.bundle.model, self.head, self.spec)
        state = self.out / run_setup.STATE_DIR
        report = (lambda row: print(f"[vision] step {row['step']} loss {row['loss']:.4f}"
                                    + (f" val micro-F1 {row['val_micro_f1']:.4f}" if "val_micro_f1" in row else ""),
                                    flush=True)) if self.progress else None
        weight = train_labels(probe, [visual, self.head], train, val, label_run(self.config, len(train)), state,
                              resume=self.resume, progress=report)
        return self._finish(weight)

    def _finish(self, positive_weight: torch.Tensor) -> Path:
        from echo_cxr.model import save_checkpoint

        target = self.out / run_setup.MODEL_DIR
        self.bundle.model.eval()
        synthetic = run_setup.synthetic_after(self.bundle, self.config, self.train)
        save_checkpoint(replace(self.bundle, synthetic=synthetic), target, overwrite=True)
        torch.save({"state": self.head.state_dict(), "targets": target_names(), "positive_weight": positive_weight},
                   self.out / HEAD_FILE)
        return target


def _saved_head(run_dir: Path) -> dict:
    """``label_head.pt`` of a finished stage-0 run folder, checked against this catalog's targets."""
    if not (run_dir / HEAD_FILE).is_file():
        raise EchoError(f"{run_dir} has no {HEAD_FILE}: not a finished `echo-cxr train vision` run")
    saved = torch.load(run_dir / HEAD_FILE, weights_only=False)
    if saved["targets"] != target_names():
        raise EchoError(f"{run_dir / HEAD_FILE} was trained for other targets than this echo-cxr's catalog")
    return saved


def load_probe(run_dir: str | Path):
    """(TowerProbe, logit shift) of a finished stage-0 run folder (model/ + label_head.pt)."""
    from echo_cxr.model import load

    run_dir = Path(run_dir)
    saved = _saved_head(run_dir)
    bundle = load(str(run_dir / run_setup.MODEL_DIR))
    head = LabelHead(bundle.model.config.vision_config.out_hidden_size, len(saved["targets"]))
    head.load_state_dict(saved["state"])
    spec = PixelSpec.of(bundle.processor.image_processor)
    return TowerProbe(bundle.model, head, spec), prior_shift(saved["positive_weight"]), [bundle.model, head]


def probe_labels(run_dir: str | Path, studies) -> list[list[dict]]:
    """What the stage-0 tower and its probe head read from each study's images."""
    from echo_cxr.training.vision_data import build_view_set

    probe, shift, modules = load_probe(run_dir)
    return predict_labels(probe, modules, build_view_set(studies, probe.spec), shift)
