"""What the reproduction trains and evaluates (METHOD.md sections 4, 5 and 7): the run graph, the
evaluated model variants, and the profile that sizes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from echo_cxr.errors import EchoError

CONFIG_DIR = Path(__file__).resolve().parents[3] / "configs"
RUN_KINDS = ("vision", "vision_more", "ar_first", "ar", "rad", "rad_b4", "dcd", "baseline")


@dataclass(frozen=True)
class Run:
    """One training run: its base config, where it starts, and its teacher (distillation)."""

    name: str
    kind: str  # profile section that sizes it
    objective: str
    base: str  # file under configs/phantom/
    init: str | None = None  # a run name, or None for the base config's init
    vision_init: str | None = None  # a run name: a new language model and tokenizer over its tower
    teacher: str | None = None  # a run name
    records: str | None = None  # shared teacher-record folder name
    extra: dict = field(default_factory=dict)


VISION_MORE = "vision_more"  # the kind whose training adds the extra stage-0 studies (profile data.vision_extra)

RUNS = (
    # stage 0 in two parts: the tower on the training studies, then continued on those plus fresh
    # ones (on val, the first part's catheter recall stopped rising as it memorised its 30,000
    # studies: docs/training.md, stage 0)
    Run("vision_first", "vision", "vision", "vision.yaml"),
    Run("vision", VISION_MORE, "vision", "vision.yaml", init="vision_first"),
    # ECHO-AR in two parts, each with its own warm-up and cosine decay: on val, the first epoch's
    # clinical F1 was still rising when its learning rate reached 0 (docs/training.md, stage 1)
    # (a new language model and tokenizer over the stage-0 tower: the profile's vocabulary, not the
    # one stage 0 happened to build)
    Run("ar_first", "ar_first", "ar", "ar.yaml", vision_init="vision"),
    Run("ar", "ar", "ar", "ar.yaml", init="ar_first"),
    Run("rad_b8", "rad", "rad", "rad_block8.yaml", init="ar"),
    # block 4 starts from RAD block 8 (its noisy blocks already attend both ways), not from ECHO-AR:
    # the shorter adaptation fits the budget (docs/training.md, stage 2)
    Run("rad_b4", "rad_b4", "rad", "rad_block4.yaml", init="rad_b8"),
    Run("dcd_b8", "dcd", "dcd", "dcd_block8.yaml", teacher="rad_b8", records="b8"),
    Run("dcd_b4", "dcd", "dcd", "dcd_block4.yaml", teacher="rad_b4", records="b4"),
    Run("dparallel_b8", "baseline", "dparallel", "dparallel_block8.yaml", teacher="rad_b8", records="b8"),
    Run("cd4lm_b8", "baseline", "cd4lm", "cd4lm_block8.yaml", teacher="rad_b8", records="b8"),
    Run("dcd_b8_no_step_weighting", "dcd", "dcd", "dcd_block8.yaml", teacher="rad_b8", records="b8",
        extra={"step_weighting": False}),
    Run("dcd_b8_no_eos_ce", "dcd", "dcd", "dcd_block8.yaml", teacher="rad_b8", records="b8", extra={"eos_ce": False}),
    Run("dcd_b8_reverse_kl", "dcd", "dcd", "dcd_block8.yaml", teacher="rad_b8", records="b8", extra={"reverse_kl": True}),
)


@dataclass(frozen=True)
class Variant:
    """A model as evaluated: a trained run plus how it is decoded."""

    label: str
    run: str
    decoder: str = "blockwise"
    steps: int | None = None  # None: the checkpoint's default
    group: str = "main"  # main | native | baseline | ablation

    @property
    def slug(self) -> str:
        return self.label.lower().replace(" ", "_").replace("(", "").replace(")", "").replace("/", "-")


VARIANTS = (
    Variant("ECHO-AR", "ar", decoder="ar"),
    Variant("ECHO-Base blk4", "rad_b4"),
    Variant("ECHO-Base blk8", "rad_b8"),
    Variant("ECHO blk4 (DCD)", "dcd_b4"),
    Variant("ECHO blk8 (DCD)", "dcd_b8"),
    Variant("Native one-step blk4", "rad_b4", steps=1, group="native"),
    Variant("Native one-step blk8", "rad_b8", steps=1, group="native"),
    Variant("dParallel blk8", "dparallel_b8", group="baseline"),
    Variant("CD4LM blk8", "cd4lm_b8", group="baseline"),
    Variant("DCD blk8 w/o step weighting", "dcd_b8_no_step_weighting", group="ablation"),
    Variant("DCD blk8 w/o EOS-CE", "dcd_b8_no_eos_ce", group="ablation"),
    Variant("DCD blk8 reverse KL", "dcd_b8_reverse_kl", group="ablation"),
)


VARIANT_GROUPS = ("main", "native", "baseline", "ablation")  # the order the reproduction runs them in


@dataclass(frozen=True)
class Profile:
    """Sizes of one reproduction (configs/reproduce/*.yaml)."""

    path: str
    seed: int
    data: dict
    val_samples: int
    shape: dict
    runs: dict
    eval: dict
    ship_models: bool = False  # install the block-8 ECHO and Base models into the package
    # run each stage's command inside this process instead of a fresh one: the miniature's stages
    # take less time than importing torch and transformers again; the full run keeps processes apart
    in_process: bool = False

    @classmethod
    def load(cls, path: str | Path) -> "Profile":
        import yaml

        path = Path(path)
        if not path.is_file():
            raise EchoError(f"profile not found: {path}")
        raw = yaml.safe_load(path.read_text())
        unknown = set(raw) - {"seed", "data", "val_samples", "shape", "runs", "eval", "ship_models", "in_process"}
        if unknown:
            raise EchoError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}")
        bad = set(raw.get("runs", {})) - set(RUN_KINDS)
        if bad:
            raise EchoError(f"{path}: unknown run kind(s) {', '.join(sorted(bad))}")
        return cls(str(path), raw["seed"], raw["data"], raw["val_samples"], raw["shape"], raw.get("runs", {}),
                   raw["eval"], bool(raw.get("ship_models", False)), bool(raw.get("in_process", False)))
