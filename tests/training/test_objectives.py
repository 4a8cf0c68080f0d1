"""Training sequences and losses against direct, step-by-step computations on a tiny model."""

import pytest
import torch

from echo_cxr.model.masks import block_causal_mask
from echo_cxr.training import losses
from echo_cxr.training.examples import response_region
from echo_cxr.training.forward import training_logits
from echo_cxr.training.objectives import compute_loss, get_objective, select_slots
from echo_cxr.training.packing import pack
from echo_cxr.training.segments import IGNORE, full_dup_segment, rad_segment
from tests.training.conftest import generator, settings_for


def stock_logits(model, example, ids, positions, L):
    """The stock forward on a decoder-style canvas with the block-causal mask."""
    n = ids.shape[0]
    mask = block_causal_mask(torch.arange(n), torch.ones(1, n, dtype=torch.bool), L)
    out = model(input_ids=ids[None], pixel_values=example.prompt.pixel_values,
                image_grid_thw=example.prompt.image_grid_thw,
                attention_mask={"full_attention": mask, "sliding_attention": mask}, position_ids=positions[:, None])
    return out.logits[0]


@pytest.mark.parametrize("L", [4, 8])
def test_rad_loss_equals_step_by_step_inference_views(train_bundle, examples, L):
    """Each noisy block of RAD sees exactly what the decoder's block sees: context + clean earlier
    blocks + itself. Recompute the loss block by block with the stock forward."""
    settings = settings_for(train_bundle, L)
    example = examples[1]
    segment = next(seg for seed in range(100) if ((seg := rad_segment(example, settings, generator(seed))).targets
                                                  != IGNORE).sum() >= 5)
    with torch.no_grad():
        loss, _ = compute_loss(get_objective("rad"), train_bundle.model, pack([segment]), settings)
    region = response_region(example, L, settings.eos_id)
    A, N = region.context, region.length
    noisy = segment.input_ids[A + N :]
    targets, weights = segment.targets[A + N :], segment.weights[A + N :]
    assert bool((targets != IGNORE).any())
    total = torch.zeros(())
    with torch.no_grad():
        for block in range(N // L):
            span = slice(block * L, (block + 1) * L)
            ids = torch.cat([example.prompt.input_ids[:A], region.ids[: block * L], noisy[span]])
            positions = torch.cat([example.prompt_positions[:, :A], region.positions[:, : (block + 1) * L]], 1)
            logits = stock_logits(train_bundle.model, example, ids, positions, L)[-L:]
            chosen = targets[span] != IGNORE
            if chosen.any():
                ce = torch.nn.functional.cross_entropy(logits[chosen], targets[span][chosen], reduction="none")
                total += (weights[span][chosen] * ce).sum()
    torch.testing.assert_close(loss, total / region.supervised.sum(), rtol=1e-5, atol=1e-6)


def test_rad_copies_share_positions_and_noise_weights(train_bundle, examples):
    settings = settings_for(train_bundle, 4)
    segment = rad_segment(examples[0], settings, generator(1))
    region = response_region(examples[0], 4, settings.eos_id)
    A, N = region.context, region.length
    assert torch.equal(segment.positions[:, A : A + N], segment.positions[:, A + N :])
    masked = segment.input_ids[A + N :] == settings.mask_id
    assert torch.equal(masked, segment.targets[A + N :] != IGNORE)
    assert not masked[~region.supervised].any()  # the prompt tail is never noised
    weights = segment.weights[A + N :][masked]
    assert torch.allclose(weights, weights[0].expand_as(weights)) and weights[0] >= 1.0  # one t per sample


def test_per_block_noise_draws_one_level_per_block(train_bundle, examples):
    settings = settings_for(train_bundle, 4, per_block_noise=True)
    segment = rad_segment(examples[2], settings, generator(5))
    region = response_region(examples[2], 4, settings.eos_id)
    A, N = region.context, region.length
    levels = {round(float(w), 6) for w in segment.weights[A + N :] if w > 0}
    assert len(levels) > 1


def test_full_duplication_gives_the_rad_loss(train_bundle, examples):
    settings = settings_for(train_bundle, 4)
    with torch.no_grad():
        rad, _ = compute_loss(get_objective("rad"), train_bundle.model,
                              pack([rad_segment(examples[1], settings, generator(9))]), settings)
        dup, _ = compute_loss(get_objective("full_dup"), train_bundle.model,
                              pack([full_dup_segment(examples[1], settings, generator(9))]), settings)
    torch.testing.assert_close(rad, dup, rtol=1e-5, atol=1e-6)


def per_sample_losses(model, batch, settings):
    select = select_slots(batch)
    logits = training_logits(model, batch, select, settings.freeze_vision)
    return losses.weighted_cross_entropy(logits, batch.targets[select], batch.weights[select],
                                         batch.sample[select], batch.normalizers)


@pytest.mark.parametrize("objective", ["rad", "ar"])
def test_packing_isolates_samples_loss_and_gradients(train_bundle, examples, objective):
    settings = settings_for(train_bundle, 4)
    build = get_objective(objective).build
    segments = [build(ex, settings, generator(i), None) for i, ex in enumerate(examples)]
    model = train_bundle.model
    packed = pack(segments, row_tokens=sum(s.length for s in segments))
    assert packed.input_ids.shape[0] == 1  # all three in one row
    losses_packed = per_sample_losses(model, packed, settings)
    for index, segment in enumerate(segments):
        alone = per_sample_losses(model, pack([segment]), settings)
        torch.testing.assert_close(losses_packed[index], alone[0], rtol=1e-5, atol=1e-6)
    model.zero_grad()
    per_sample_losses(model, packed, settings)[1].backward()
    packed_grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()
    per_sample_losses(model, pack([segments[1]]), settings)[0].backward()
    for name, param in model.named_parameters():
        if param.grad is not None:
            torch.testing.assert_close(packed_grads[name], param.grad, rtol=1e-4, atol=1e-6)
    model.zero_grad()


def test_ar_targets_are_next_tokens(train_bundle, examples):
    segment = get_objective("ar").build(examples[0], settings_for(train_bundle), None, None)
    P = examples[0].prompt_length
    chosen = segment.targets != IGNORE
    assert torch.equal(segment.targets[chosen], examples[0].response_ids)
    assert torch.nonzero(chosen).flatten().tolist() == list(range(P - 1, P - 1 + len(examples[0].response_ids)))
