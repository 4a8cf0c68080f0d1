"""Studies + report text -> ``Example`` (encoded prompt, M-RoPE positions, response ids + EOS)."""

from __future__ import annotations

import torch

from echo_cxr.model.inputs import Study, encode_study, prompt_positions
from echo_cxr.training.examples import Example


def make_example(bundle, study: Study, report: str, sample_id: str, features=None) -> Example:
    """Tokenise one training pair; the response ends with the model's first EOS id (<|im_end|>).
    ``features``: a ``FeatureCache``; a study whose views it holds gets their features, not pixels."""
    if features is not None and study in features:
        prompt = features.encode(bundle.processor, study)
    else:
        prompt = encode_study(bundle.processor, study)
    positions, delta = prompt_positions(bundle.model, prompt)
    ids = bundle.tokenizer(report, add_special_tokens=False)["input_ids"]
    response = torch.tensor([*ids, bundle.special.eos[0]], dtype=torch.long)
    return Example(sample_id, prompt, positions, delta, response)
