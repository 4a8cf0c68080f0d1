"""Loss and noise settings shared by the training config (YAML) and the objectives."""

from __future__ import annotations

from dataclasses import dataclass, fields

from echo_cxr.errors import EchoError
from echo_cxr.training.masks import CONTEXT_MODES


@dataclass(kw_only=True)
class LossOptions:
    """Noise (RAD), DCD switches (the paper's ablations) and the baselines' weights."""

    noise_eps: float = 1e-3  # t ~ U(eps, 1)
    per_block_noise: bool = False  # one t per block instead of per sample
    context_attention: str = "block"  # block-causal (the decoder's prefill) or causal (paper wording)
    step_weighting: bool = True  # DCD: weight positions by the teacher's commit step
    eos_ce: bool = True  # DCD: cross-entropy pulling the EOS slot to EOS
    eos_weight: float = 1.0
    reverse_kl: bool = False  # DCD ablation: KL(student || teacher)
    entropy_weight: float = 2.0  # dParallel
    entropy_temperature: float = 0.5
    consistency_weight: float = 0.7  # CD4LM
    consistency_temperature: float = 2.0

    def check_loss_options(self) -> None:
        if not 0 < self.noise_eps < 1:
            raise EchoError(f"noise eps must be in (0, 1), got {self.noise_eps}")
        if self.context_attention not in CONTEXT_MODES:
            raise EchoError(f"context attention must be one of {', '.join(CONTEXT_MODES)}")
        for name in ("entropy_temperature", "consistency_temperature"):
            if getattr(self, name) <= 0:
                raise EchoError(f"{name} must be positive")

    def loss_options(self) -> dict:
        """Just the loss settings, e.g. to build ``ObjectiveSettings`` from a training config."""
        return {f.name: getattr(self, f.name) for f in fields(LossOptions)}
