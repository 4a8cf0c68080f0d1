"""Typed training configuration: YAML files and ``key=value`` overrides fill it; unknown keys and
bad values are errors before any training starts (STYLE rule 5)."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path

from echo_cxr.errors import EchoError
from echo_cxr.training.loss_options import LossOptions

MIXED_PRECISION = ("no", "bf16", "fp16")
TEACHER_OBJECTIVES = ("dcd", "dparallel", "cd4lm")
VISION_OBJECTIVE = "vision"  # stage 0: vision tower pretraining on Phantom labels (vision_pretrain.py)


@dataclass
class ScratchModel:
    """A model trained from random init (Phantom CXR): its shape and its tokenizer."""

    hidden_size: int = 128
    intermediate_size: int = 384
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    mrope_section: list[int] = field(default_factory=lambda: [4, 6, 6])
    rope_theta: float = 10_000.0
    vision_depth: int = 4
    vision_hidden_size: int = 128
    vision_intermediate_size: int = 256
    vision_heads: int = 4
    vocab_size: int = 1024
    max_pixels: int = 224 * 224
    # Qwen2.5-VL's windowed attention suits large images; at 224 px every layer can attend globally,
    # which lets a tower trained from scratch compare distant structures (heart vs thorax width).
    vision_window_attention: bool = False
    # the tower's patch grid: Qwen2.5-VL's 14-px patches, 2 x 2 patches merged into one LM token
    vision_patch_size: int = 14
    vision_spatial_merge_size: int = 2

    def shapes(self, vocab_size: int | None = None):
        """(TextShape, VisionShape) of this model; ``vocab_size=None``: the tokenizer's size."""
        from echo_cxr.model.presets import TextShape, VisionShape

        text = TextShape(self.hidden_size, self.intermediate_size, self.num_hidden_layers, self.num_attention_heads,
                         self.num_key_value_heads, tuple(self.mrope_section), self.rope_theta, vocab_size, False)
        full = (self.vision_depth - 1,) if self.vision_window_attention else tuple(range(self.vision_depth))
        vision = VisionShape(self.vision_depth, self.vision_hidden_size, self.vision_intermediate_size,
                             self.vision_heads, full, patch_size=self.vision_patch_size,
                             spatial_merge_size=self.vision_spatial_merge_size)
        return text, vision


@dataclass(kw_only=True)
class TrainConfig(LossOptions):
    """One training run. ``init``: checkpoint folder, hub id, random:PRESET, or ``scratch``."""

    objective: str
    output_dir: str
    train_data: list[str]
    val_data: list[str] = field(default_factory=list)
    max_samples: int | None = None  # use only the first N training samples (DCD needs a fraction)
    init: str = "scratch"
    scratch: ScratchModel = field(default_factory=ScratchModel)
    # with init=scratch: the vision tower (model.visual.*) comes from this checkpoint, the language
    # model and the tokenizer are new (a pretrained encoder under a new language model, as ECHO's
    # Lingshu-7B init; Phantom's stage-0 tower under a tokenizer of another size)
    vision_init: str | None = None
    teacher: str | None = None
    teacher_records: str | None = None  # default: <output_dir>/teacher_records
    block_length: int = 4
    learning_rate: float = 1e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.03
    epochs: float = 1.0
    max_steps: int | None = None
    batch_size: int = 4
    grad_accum: int = 1
    row_tokens: int | None = None  # packing budget per row; None = one sample per row
    mixed_precision: str = "no"
    max_grad_norm: float = 1.0
    seed: int = 0
    freeze_vision: bool | None = None  # default: off for ar, on for the diffusion stages
    # a frozen tower's features computed once per training image (training/feature_cache.py), kept in
    # feature_cache_dir (default: <output_dir>/../vision_features, shared by the runs beside it)
    cache_vision_features: bool = True
    feature_cache_dir: str | None = None
    log_every: int = 10
    eval_every: int = 200
    save_every: int = 500
    val_decode_samples: int = 4
    val_max_new_tokens: int = 160
    max_pixels: int | None = None
    # stage 0 only: the loss of a finding's targets (presence and attributes) times this weight,
    # e.g. {central_venous_catheter: 4.0}; findings not named keep weight 1
    label_loss_weights: dict[str, float] = field(default_factory=dict)
    # loss and noise settings: inherited from LossOptions (noise_eps, step_weighting, ...)
    # DCD phase 1
    rollout_threshold: float = 0.9
    rollout_top_k: int = 16
    rollout_max_new_tokens: int = 256
    rollout_batch_size: int = 8
    rollout_require_eos: bool = True
    rollout_drop_repeats: bool = True

    def __post_init__(self) -> None:
        from echo_cxr.training.objectives import OBJECTIVES

        known = (*OBJECTIVES, VISION_OBJECTIVE)
        if self.objective not in known:
            raise EchoError(f"unknown objective {self.objective!r}; choose one of {', '.join(known)}")
        checks = [
            (self.learning_rate > 0, f"learning_rate must be positive, got {self.learning_rate}"),
            (self.block_length >= 1, f"block_length must be at least 1, got {self.block_length}"),
            (0 <= self.warmup_ratio < 1, f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}"),
            (self.epochs > 0 or (self.max_steps or 0) > 0, "epochs or max_steps must be positive"),
            (self.batch_size >= 1 and self.grad_accum >= 1, "batch_size and grad_accum must be >= 1"),
            (self.mixed_precision in MIXED_PRECISION, f"mixed_precision must be one of {', '.join(MIXED_PRECISION)}"),
            (bool(self.train_data), "train_data must list at least one data file"),
            (self.objective not in TEACHER_OBJECTIVES or bool(self.teacher),
             f"objective {self.objective} needs a teacher checkpoint (teacher: PATH)"),
            (self.max_grad_norm > 0, "max_grad_norm must be positive"),
            (self.max_samples is None or self.max_samples > 0, "max_samples must be positive"),
            (self.vision_init is None or self.init == "scratch", "vision_init needs init: scratch"),
            (self.objective != VISION_OBJECTIVE or self.mixed_precision != "fp16",
             "stage 0 (objective: vision) supports mixed_precision no or bf16"),
        ]
        for ok, message in checks:
            if not ok:
                raise EchoError(message)
        self.check_loss_options()
        self._check_label_loss_weights()
        if isinstance(self.scratch, dict):
            self.scratch = build(ScratchModel, self.scratch, "scratch")

    def _check_label_loss_weights(self) -> None:
        if not self.label_loss_weights:
            return
        from echo_cxr.phantom import CATALOG

        if self.objective != VISION_OBJECTIVE:
            raise EchoError("label_loss_weights is a stage-0 (objective: vision) setting")
        unknown = sorted(set(self.label_loss_weights) - {spec.name for spec in CATALOG})
        if unknown:
            raise EchoError(f"label_loss_weights: unknown finding(s) {', '.join(unknown)}")
        self.label_loss_weights = {k: float(v) for k, v in self.label_loss_weights.items()}
        if min(self.label_loss_weights.values()) <= 0:
            raise EchoError("label_loss_weights must be positive")

    @property
    def vision_frozen(self) -> bool:
        return self.objective not in ("ar", VISION_OBJECTIVE) if self.freeze_vision is None else self.freeze_vision

    @property
    def feature_cache_folder(self) -> Path:
        if self.feature_cache_dir:
            return Path(self.feature_cache_dir)
        return Path(self.output_dir).parent / "vision_features"

    @property
    def records_dir(self) -> Path:
        return Path(self.teacher_records) if self.teacher_records else Path(self.output_dir) / "teacher_records"


def _coerce(value, annotation, key: str):
    """Turn a YAML/CLI value into the annotated type (str -> int/float/bool/list)."""
    hint = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if value is None:
        return None
    if hint in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        inner = [a for a in args if a is not type(None)]
        if isinstance(value, str) and value.lower() in ("none", "null"):
            return None
        return _coerce(value, inner[0], key)
    if hint is list:
        items = [part for part in value.split(",") if part.strip()] if isinstance(value, str) else list(value)
        return [_coerce(item, args[0], key) for item in items]
    try:
        if annotation is bool and isinstance(value, str):
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(value)
            return value.lower() in ("true", "1", "yes")
        if annotation in (int, float, str):
            return annotation(value)
    except ValueError:
        raise EchoError(f"{key}: cannot read {value!r} as {annotation.__name__}") from None
    return value


def build(cls, values: dict, where: str = "config"):
    """Construct dataclass ``cls`` from a dict, refusing unknown keys."""
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise EchoError(f"unknown key(s) in {where}: {', '.join(unknown)}")
    hints = typing.get_type_hints(cls)
    converted = {}
    for key, value in values.items():
        if dataclasses.is_dataclass(hints[key]) and isinstance(value, dict):
            converted[key] = build(hints[key], value, f"{where}.{key}")
        else:
            converted[key] = _coerce(value, hints[key], f"{where}.{key}")
    try:
        return cls(**converted)
    except TypeError as err:
        raise EchoError(f"{where}: {err}") from None


def load_config(path: str | Path | None, overrides: list[str], objective: str | None = None) -> TrainConfig:
    """YAML file (optional) + ``key=value`` overrides (dotted keys for nested sections)."""
    import yaml

    values: dict = {}
    if path:
        path = Path(path)
        if not path.is_file():
            raise EchoError(f"config file not found: {path}")
        values = yaml.safe_load(path.read_text()) or {}
        if not isinstance(values, dict):
            raise EchoError(f"{path}: expected a mapping of settings")
    if objective:
        if values.get("objective", objective) != objective:
            raise EchoError(f"{path} is a {values['objective']} config, not {objective}")
        values["objective"] = objective
    for item in overrides:
        if "=" not in item:
            raise EchoError(f"override {item!r} is not key=value")
        key, value = item.split("=", 1)
        target = values
        *parents, leaf = key.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = yaml.safe_load(value) if value else value
    return build(TrainConfig, values)
