"""One trainer for every objective, on accelerate (DDP/FSDP/DeepSpeed come from accelerate configs).

Gradient accumulation, fp32/bf16, AdamW with warm-up and cosine decay, clipping, periodic
validation, checkpoints in the ``save_checkpoint`` layout, exact resume (model, optimizer,
scheduler, RNG, data position), a progress bar and a JSONL metrics log. A frozen tower's features
are computed once per training image (training/feature_cache.py). Data order and noise are
functions of (seed, epoch, batch, process), so a resumed run repeats an uninterrupted one.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import replace
from pathlib import Path

import torch

from echo_cxr.training import run_setup
from echo_cxr.training.config import TrainConfig
from echo_cxr.training.forward import LogitsModule
from echo_cxr.training.objectives import ObjectiveSettings, compute_loss, get_objective
from echo_cxr.training.packing import pack
from echo_cxr.training.encode import make_example

TRAINER_STATE = "trainer_state.json"
FEATURE_BATCH = 64  # images per tower call when a frozen tower's features are cached


def objective_settings(config: TrainConfig, bundle) -> ObjectiveSettings:
    return ObjectiveSettings(
        block_length=config.block_length, mask_id=bundle.special.mask, eos_id=bundle.special.eos[0],
        image_token_id=bundle.model.config.image_token_id, freeze_vision=config.vision_frozen,
        **config.loss_options(),
    )


def batch_generator(config: TrainConfig, epoch: int, batch: int, rank: int) -> torch.Generator:
    """Noise for one micro-batch: a pure function of where it is in training."""
    return torch.Generator().manual_seed(hash((config.seed, epoch, batch, rank)) % (2**63))


def epoch_order(config: TrainConfig, count: int, epoch: int) -> list[int]:
    return torch.randperm(count, generator=torch.Generator().manual_seed(config.seed * 1_000_003 + epoch)).tolist()


class Trainer:
    def __init__(self, config: TrainConfig, resume: bool = False, overwrite: bool = False, progress: bool = True):
        from accelerate import Accelerator

        self.config = config
        self.out = run_setup.prepare_output(config, resume, overwrite)
        self.resume = resume
        self.accelerator = Accelerator(gradient_accumulation_steps=config.grad_accum,
                                       mixed_precision=config.mixed_precision)
        self.show_progress = progress and self.accelerator.is_main_process
        self.objective = get_objective(config.objective)
        self.samples = run_setup.read_samples(config.train_data)[: config.max_samples]
        self.val_samples = run_setup.read_samples(config.val_data) if config.val_data else []
        # the model is trained (and validated) in the convention its objective produces
        self.bundle = replace(run_setup.initial_bundle(config, self.samples), prediction=self.objective.prediction)
        self.settings = objective_settings(config, self.bundle)
        self.records = self._teacher_records() if self.objective.needs_teacher else None
        if self.records is not None:
            self.samples = [s for s in self.samples if s.sample_id in self.records]
        self.features = None
        if self.settings.freeze_vision and config.cache_vision_features:
            from echo_cxr.training.feature_cache import FeatureCache

            self.features = FeatureCache.build(self.bundle, [p for s in self.samples for p in s.images],
                                               FEATURE_BATCH, config.feature_cache_folder)

    # ----------------------------------------------------------------- setup
    def _teacher_records(self):
        from echo_cxr.model import load
        from echo_cxr.training.rollout import RecordStore, RolloutSettings, collect_teacher_records
        from echo_cxr.training.validation import study_of

        config, acc = self.config, self.accelerator
        teacher = load(config.teacher, seed=config.seed, max_pixels=config.max_pixels)
        run_setup.check_teacher(config, teacher)
        settings = RolloutSettings(block_length=config.block_length, threshold=config.rollout_threshold,
                                   top_k=config.rollout_top_k, max_new_tokens=config.rollout_max_new_tokens,
                                   batch_size=config.rollout_batch_size, require_eos=config.rollout_require_eos,
                                   drop_repeats=config.rollout_drop_repeats)
        everything = self.samples + self.val_samples
        mine = everything[acc.process_index :: acc.num_processes]
        store = RecordStore(config.records_dir / f"rank-{acc.process_index}-of-{acc.num_processes}")
        collect_teacher_records(teacher, [(s.sample_id, study_of(s)) for s in mine], settings, store)
        acc.wait_for_everyone()
        records = {}
        for folder in sorted(config.records_dir.glob(f"rank-*-of-{acc.num_processes}")):
            records.update(RecordStore(folder).load())
        del teacher
        return records

    def _steps(self) -> tuple[int, int]:
        """(micro-batches per epoch per process, total optimizer steps)."""
        world = self.accelerator.num_processes
        per_epoch = len(self.samples) // (self.config.batch_size * world)
        if per_epoch == 0:
            from echo_cxr.errors import EchoError

            raise EchoError(f"{len(self.samples)} samples are fewer than one global batch "
                            f"({self.config.batch_size} x {world} processes)")
        if self.config.max_steps:
            return per_epoch, self.config.max_steps
        return per_epoch, max(1, math.floor(self.config.epochs * per_epoch / self.config.grad_accum))

    # ----------------------------------------------------------------- loop
    def train(self) -> Path:
        from transformers import get_cosine_schedule_with_warmup

        config, acc = self.config, self.accelerator
        per_epoch, total_steps = self._steps()
        model = self.bundle.model
        model.train()
        if self.settings.freeze_vision:
            model.model.visual.requires_grad_(False)
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
        scheduler = get_cosine_schedule_with_warmup(optimizer, int(config.warmup_ratio * total_steps), total_steps)
        module, optimizer = acc.prepare(LogitsModule(model, self.settings.freeze_vision), optimizer)
        acc.register_for_checkpointing(scheduler)
        state = {"step": 0, "epoch": 0, "batch": 0}
        if self.resume:
            acc.load_state(str(self.out / run_setup.STATE_DIR))
            state = json.loads((self.out / run_setup.STATE_DIR / TRAINER_STATE).read_text())
        elif acc.is_main_process:
            run_setup.write_run_config(self.out, config)
        logits_fn = lambda batch, select: module(batch, select)
        bar = _progress(self.show_progress, total_steps, state["step"])
        running: list[float] = []
        while state["step"] < total_steps:
            order = epoch_order(config, len(self.samples), state["epoch"])
            for index in range(state["batch"], per_epoch):
                segments = self._segments(order, state["epoch"], index)
                batch = pack(segments, config.row_tokens, self.bundle.special.pad).to(acc.device)
                with acc.accumulate(module):
                    loss, logs = compute_loss(self.objective, model, batch, self.settings, logits_fn)
                    acc.backward(loss)
                    if acc.sync_gradients:
                        acc.clip_grad_norm_(params, config.max_grad_norm)
                    optimizer.step()
                    optimizer.zero_grad()
                running.append(float(loss.detach()))
                state["batch"] = index + 1
                if not acc.sync_gradients:
                    continue
                scheduler.step()
                state["step"] += 1
                self._after_step(state, running, logs, scheduler, bar)
                running = []
                if state["step"] >= total_steps:
                    break
            if state["batch"] >= per_epoch:
                state["epoch"] += 1
                state["batch"] = 0
        if bar:
            bar.stop()
        return self._finish(state)

    def _segments(self, order, epoch, index):
        from echo_cxr.prompts import target_text
        from echo_cxr.training.validation import study_of

        acc, size = self.accelerator, self.config.batch_size
        start = (index * acc.num_processes + acc.process_index) * size
        generator = batch_generator(self.config, epoch, index, acc.process_index)
        segments = []
        for position in order[start : start + size]:
            sample = self.samples[position]
            text = target_text(sample.findings, sample.impression, sample.language)
            example = make_example(self.bundle, study_of(sample), text, sample.sample_id, self.features)
            record = self.records.get(sample.sample_id) if self.records is not None else None
            segments.append(self.objective.build(example, self.settings, generator, record))
        return segments

    # ----------------------------------------------------------------- bookkeeping
    def _after_step(self, state, running, logs, scheduler, bar) -> None:
        config, acc = self.config, self.accelerator
        mean_loss = acc.reduce(torch.tensor(sum(running) / len(running), device=acc.device), "mean").item()
        row = {"step": state["step"], "epoch": state["epoch"], "loss": mean_loss, "lr": scheduler.get_last_lr()[0],
               "processes": acc.num_processes}
        row.update({k: acc.reduce(torch.tensor(v, device=acc.device), "mean").item() for k, v in logs.items()})
        if config.eval_every and state["step"] % config.eval_every == 0 and self.val_samples:
            row.update(self.validate())
        if acc.is_main_process and (state["step"] % config.log_every == 0 or "val_loss" in row):
            with open(self.out / run_setup.METRICS_FILE, "a") as log:
                log.write(json.dumps(row) + "\n")
        if bar:
            bar.update(bar.task, completed=state["step"], description=f"loss {mean_loss:.4f}")
        if config.save_every and state["step"] % config.save_every == 0:
            self.save(state)

    def validate(self) -> dict:
        from echo_cxr.training.validation import validation_decode, validation_loss

        acc = self.accelerator
        result = {}
        if acc.is_main_process:
            result["val_loss"] = validation_loss(self.bundle, self.val_samples, self.objective, self.settings,
                                                 self.config.batch_size, self.records)
            if self.config.val_decode_samples:
                decode = validation_decode(self.bundle, self.val_samples[: self.config.val_decode_samples],
                                           self._decode_config(), self._decoder())
                result["val_tpf"], result["val_texts"] = decode["tpf"], decode["texts"][:2]
                if "clinical_f1" in decode:
                    result["val_clinical_f1"] = decode["clinical_f1"]
        acc.wait_for_everyone()
        return result

    def _decoder(self) -> str:
        return "ar" if self.objective.prediction == "next_token" else "blockwise"

    def _decode_config(self):
        from echo_cxr.decoding import DecodeConfig

        one_step = self.config.objective in ("dcd", "dparallel", "cd4lm")
        L = 1 if self._decoder() == "ar" else self.config.block_length
        return DecodeConfig(block_length=L, steps=1 if one_step or L == 1 else L,
                            max_new_tokens=self.config.val_max_new_tokens)

    def save(self, state) -> None:
        """Accelerate state (model, optimizer, scheduler, RNG) + data position, written atomically."""
        acc = self.accelerator
        final = self.out / run_setup.STATE_DIR
        tmp = self.out / (run_setup.STATE_DIR + ".tmp")
        acc.wait_for_everyone()
        acc.save_state(str(tmp))
        if acc.is_main_process:
            (tmp / TRAINER_STATE).write_text(json.dumps(state))
            if final.exists():
                shutil.rmtree(final)
            tmp.rename(final)
        acc.wait_for_everyone()

    def _finish(self, state) -> Path:
        from echo_cxr.model import save_checkpoint

        acc = self.accelerator
        self.save(state)
        target = self.out / run_setup.MODEL_DIR
        if acc.is_main_process:
            bundle = run_setup.trained_bundle(self.bundle, self.config, self.objective.prediction, self.samples)
            bundle.model.eval()
            save_checkpoint(bundle, target, overwrite=True)
        acc.wait_for_everyone()
        return target


def _progress(enabled: bool, total: int, done: int):
    if not enabled:
        return None
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                   TimeElapsedColumn(), TimeRemainingColumn())
    bar.task = bar.add_task("training", total=total, completed=done)
    bar.start()
    return bar
