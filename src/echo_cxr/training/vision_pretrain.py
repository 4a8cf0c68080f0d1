"""Stage 0 (not in the paper): pretrain the vision tower on Phantom CXR labels.

ECHO starts from Lingshu-7B, a medical VLM whose vision encoder is already trained. Nothing
pretrained exists here, and learning to see subtle findings only through the report's few
image-dependent words is slow on a CPU budget. This stage stands in for the pretrained encoder:
the scratch model's own Qwen2.5-VL vision tower (patch embedding, blocks, merger) learns a
multi-label classification of the study's labels (one target per finding and per finding
attribute value) through a small attention-pooling head that is thrown away afterwards. The
saved checkpoint (tokenizer + model with the trained tower, language model untouched) is the
``init`` of stage 1 (``ar``), which then trains every parameter as the paper does.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from echo_cxr.errors import EchoError
from echo_cxr.training import run_setup
from echo_cxr.training.config import TrainConfig
from echo_cxr.training.label_targets import decode_targets, encode_labels, target_names


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


MAX_POSITIVE_WEIGHT = 50.0


def balanced_weights(targets: torch.Tensor) -> torch.Tensor:
    """Per-target weight of positives, negatives/positives (capped): rare findings count as much as
    their absence, otherwise every score sinks below the threshold."""
    positives = targets.sum(0)
    return ((len(targets) - positives) / positives.clamp_min(1)).clamp(1.0, MAX_POSITIVE_WEIGHT)


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


class VisionPretrainer:
    def __init__(self, config: TrainConfig, resume: bool = False, overwrite: bool = False, progress: bool = True):
        if resume:
            raise EchoError("vision pretraining is short and does not resume; rerun it with --overwrite")
        self.config = config
        self.out = run_setup.prepare_output(config, resume, overwrite)
        samples = run_setup.read_samples(config.train_data)
        self.train = unique_studies(samples)
        self.val = unique_studies(run_setup.read_samples(config.val_data)) if config.val_data else []
        self.bundle = run_setup.scratch_bundle(config, samples)
        self.names = target_names()
        width = self.bundle.model.config.vision_config.out_hidden_size
        self.head = LabelHead(width, len(self.names))

    def _features(self, studies) -> list[torch.Tensor]:
        from echo_cxr.imaging import load_image

        images = [load_image(path) for study in studies for path in study.images]
        batch = self.bundle.processor.image_processor(images=images, return_tensors="pt")
        out = self.bundle.model.model.get_image_features(batch["pixel_values"], batch["image_grid_thw"], return_dict=True)
        per_image = list(out.pooler_output)
        features, cursor = [], 0
        for study in studies:  # a study's views are pooled together
            features.append(torch.cat(per_image[cursor : cursor + len(study.images)]))
            cursor += len(study.images)
        return features

    def _logits(self, studies) -> torch.Tensor:
        return torch.stack([self.head(tokens) for tokens in self._features(studies)])

    def train_model(self) -> Path:
        config = self.config
        visual = self.bundle.model.model.visual
        params = list(visual.parameters()) + list(self.head.parameters())
        per_epoch = len(self.train) // config.batch_size
        total = config.max_steps or max(1, math.floor(config.epochs * per_epoch))
        optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
        from transformers import get_cosine_schedule_with_warmup

        scheduler = get_cosine_schedule_with_warmup(optimizer, int(config.warmup_ratio * total), total)
        targets = {s.sample_id: encode_labels(s.labels, self.names) for s in self.train}
        positive_weight = balanced_weights(torch.stack(list(targets.values())))
        generator = torch.Generator().manual_seed(config.seed)
        visual.train()
        step, order, cursor = 0, [], 0
        run_setup.write_run_config(self.out, config)
        while step < total:
            if cursor + config.batch_size > len(order):
                order, cursor = torch.randperm(len(self.train), generator=generator).tolist(), 0
            batch = [self.train[i] for i in order[cursor : cursor + config.batch_size]]
            cursor += config.batch_size
            logits = self._logits(batch)
            truth = torch.stack([targets[s.sample_id] for s in batch])
            loss = nn.functional.binary_cross_entropy_with_logits(logits, truth, pos_weight=positive_weight)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            row = {"step": step, "loss": float(loss.detach()), "lr": scheduler.get_last_lr()[0]}
            if self.val and config.eval_every and (step % config.eval_every == 0 or step == total):
                row.update(self.validate())
            if step % config.log_every == 0 or "val_micro_f1" in row:
                with open(self.out / run_setup.METRICS_FILE, "a") as log:
                    log.write(json.dumps(row) + "\n")
        return self._finish()

    @torch.no_grad()
    def validate(self) -> dict:
        from echo_cxr.phantom import clinical_scores

        visual = self.bundle.model.model.visual
        visual.eval()
        predicted = []
        for start in range(0, len(self.val), self.config.batch_size):
            chunk = self.val[start : start + self.config.batch_size]
            predicted += [decode_targets(torch.sigmoid(row), self.names) for row in self._logits(chunk)]
        visual.train()
        scores = clinical_scores(predicted, [s.labels for s in self.val])
        return {"val_micro_f1": scores["micro_f1"], "val_macro_f1": scores["macro_f1"],
                "val_attribute_accuracy": scores["attribute_accuracy"]}

    def _finish(self) -> Path:
        from echo_cxr.model import save_checkpoint

        target = self.out / run_setup.MODEL_DIR
        self.bundle.model.eval()
        synthetic = run_setup.synthetic_after(self.bundle, self.config, self.train)
        save_checkpoint(replace(self.bundle, synthetic=synthetic), target, overwrite=True)
        torch.save(self.head.state_dict(), self.out / "label_head.pt")
        return target
