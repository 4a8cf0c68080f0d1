"""DCD targets on a hand-made toy teacher trajectory, loss formulas, and the real teacher rollout."""

import math
from dataclasses import replace

import pytest
import torch

from echo_cxr.decoding import DecodeConfig, generate
from echo_cxr.decoding.results import BlockTrace
from echo_cxr.training import losses
from echo_cxr.training.objectives import get_objective, select_slots
from echo_cxr.training.packing import pack
from echo_cxr.training.rollout import RecordStore, RolloutSettings, collect_teacher_records, repeats_in_a_row
from echo_cxr.training.teacher import TeacherRecord, distill_segment
from tests.training.conftest import settings_for

L = 4
K = 2


def toy_trajectory(example, eos_id):
    """Two blocks: block 0 = prompt tail + generated, block 1 = 4 generated with EOS at slot 2."""
    P = example.prompt_length
    start = (P // L) * L
    tail = example.prompt.input_ids[start:]
    n_tail = tail.shape[0]
    gen0 = torch.tensor([101, 102, 103, 104][: L - n_tail])
    block0 = torch.cat([tail, gen0])
    block1 = torch.tensor([105, 106, eos_id, 107])
    steps0 = torch.cat([torch.full((n_tail,), -1), torch.arange(L - n_tail).flip(0)])
    steps1 = torch.tensor([2, 0, 1, 0])

    def tops(tokens, generated):
        ids = torch.stack([tokens, tokens + 1], -1)
        probs = torch.tensor([[0.6, 0.3]]).expand(L, K).clone()
        return torch.where(generated[:, None], ids, 0), torch.where(generated[:, None], probs, 0.0)

    g0, g1 = steps0 >= 0, torch.ones(L, dtype=torch.bool)
    return [BlockTrace(0, block0, g0, steps0, *tops(block0, g0)), BlockTrace(1, block1, g1, steps1, *tops(block1, g1))]


def test_teacher_record_and_segment_fields(train_bundle, examples):
    settings = settings_for(train_bundle, L)
    example = examples[0]
    record = TeacherRecord.from_trajectory("s0", toy_trajectory(example, settings.eos_id))
    segment = distill_segment(example, record, settings)
    A = (example.prompt_length // L) * L
    N = 2 * L
    noisy = slice(A + N, A + 2 * N)
    generated = record.generated
    assert torch.equal(segment.input_ids[A : A + N], record.tokens)  # clean copy = pseudo-labels
    assert (segment.input_ids[noisy][generated] == settings.mask_id).all()  # every generated slot masked
    assert torch.equal(segment.input_ids[noisy][~generated], record.tokens[~generated])  # prompt tail kept
    assert torch.equal(segment.fields["commit_step"][noisy][generated], record.commit_step[generated])
    assert torch.equal(segment.fields["teacher_ids"][noisy][generated], record.top_ids[generated])
    assert segment.fields["block"][noisy][generated].tolist() == [0] * int(generated[:L].sum()) + [1] * L
    eos_slots = torch.nonzero(segment.fields["eos_slot"]).flatten().tolist()
    assert eos_slots == [A + N + L + 2]
    assert segment.normalizer == generated.sum()


def flat_for(segment, settings):
    batch = pack([segment])
    select = select_slots(batch)
    flat = {"targets": batch.targets[select], "weights": batch.weights[select], "sample": batch.sample[select]}
    flat.update({k: v[select] for k, v in batch.fields.items()})
    return flat, batch.normalizers


def expected_dcd(logits, flat, normalizer, eos_id, step_weighting=True, eos_ce=True, reverse=False):
    """The DCD loss written out slot by slot."""
    total = 0.0
    blocks = flat["block"].tolist()
    steps = flat["commit_step"].tolist()
    mean_weight = {b: sum(s + 1 for s, bb in zip(steps, blocks) if bb == b) / blocks.count(b) for b in set(blocks)}
    for i in range(logits.shape[0]):
        p = flat["teacher_probs"][i].tolist()
        p = [x / sum(p) for x in p]
        logq = torch.log_softmax(logits[i], -1)
        ids = flat["teacher_ids"][i].tolist()
        if reverse:
            sub = torch.log_softmax(logits[i][ids], -1)
            kl = sum(math.exp(sub[j]) * (sub[j] - math.log(p[j])) for j in range(K))
        else:
            kl = sum(p[j] * (math.log(p[j]) - logq[ids[j]]) for j in range(K))
        weight = (steps[i] + 1) / mean_weight[blocks[i]] if step_weighting else 1.0
        total += weight * float(kl)
    total /= normalizer
    if eos_ce:
        eos = torch.nonzero(flat["eos_slot"]).flatten().tolist()
        total += sum(-float(torch.log_softmax(logits[i], -1)[eos_id]) for i in eos)
    return total


@pytest.mark.parametrize("switches", [{}, {"step_weighting": False}, {"eos_ce": False}, {"reverse_kl": True}])
def test_dcd_loss_matches_its_formula(train_bundle, examples, switches):
    settings = settings_for(train_bundle, L, **switches)
    example = examples[0]
    record = TeacherRecord.from_trajectory("s0", toy_trajectory(example, settings.eos_id))
    flat, normalizers = flat_for(distill_segment(example, record, settings), settings)
    logits = torch.randn(flat["targets"].shape[0], train_bundle.model.config.text_config.vocab_size,
                         generator=torch.Generator().manual_seed(0))
    loss, logs = get_objective("dcd").loss(logits, flat, normalizers, settings)
    expected = expected_dcd(logits, flat, float(normalizers[0]), settings.eos_id,
                            switches.get("step_weighting", True), switches.get("eos_ce", True),
                            switches.get("reverse_kl", False))
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_step_weights_grow_with_commit_step_and_average_one():
    steps = torch.tensor([0, 1, 2, 3, 0, 0])
    group = torch.tensor([0, 0, 0, 0, 1, 1])
    weights = losses.step_weights(steps, group)
    assert weights[:4].tolist() == pytest.approx([0.4, 0.8, 1.2, 1.6])
    assert weights[4:].tolist() == [1.0, 1.0]


def test_kl_is_zero_when_student_equals_teacher():
    probs = torch.tensor([[0.7, 0.2, 0.1]])
    ids = torch.tensor([[0, 1, 2]])
    logits = probs.log()
    assert float(losses.forward_kl_topk(logits, ids, probs)) == pytest.approx(0.0, abs=1e-6)
    assert float(losses.reverse_kl_topk(logits, ids, probs)) == pytest.approx(0.0, abs=1e-6)


def test_baseline_losses(train_bundle, examples):
    settings = settings_for(train_bundle, L)
    record = TeacherRecord.from_trajectory("s0", toy_trajectory(examples[0], settings.eos_id))
    flat, normalizers = flat_for(distill_segment(examples[0], record, settings), settings)
    logits = torch.randn(flat["targets"].shape[0], train_bundle.model.config.text_config.vocab_size,
                         generator=torch.Generator().manual_seed(1))
    loss, logs = get_objective("dparallel").loss(logits, flat, normalizers, settings)
    ce = torch.nn.functional.cross_entropy(logits, flat["targets"], reduction="sum") / normalizers[0]
    ent = losses.entropy(logits, 0.5).sum() / normalizers[0]
    assert float(loss) == pytest.approx(float(ce + 2.0 * ent), rel=1e-5)

    segment = get_objective("cd4lm").build(examples[0], settings, torch.Generator().manual_seed(4), record)
    view = segment.fields["view"]
    high, low = view == 1, view == 2
    assert low.sum() <= high.sum() and high.any()
    region_high = set(segment.fields["region_index"][high].tolist())
    assert set(segment.fields["region_index"][low].tolist()) <= region_high  # low-noise masks are a subset


def test_teacher_rollout_follows_the_threshold_rule_and_resumes(train_bundle, studies, tmp_path):
    threshold = 0.3
    config = DecodeConfig(block_length=L, steps=L, strategy="confidence_threshold", threshold=threshold,
                          max_new_tokens=16, record_trajectory=True, record_top_k=3)
    peaked = train_bundle
    with torch.no_grad():
        train_bundle.model.lm_head.weight.mul_(40)
    try:
        result = generate(peaked, studies[:1], config)[0]
        for block in result.trajectory:
            for step in set(block.commit_step[block.generated].tolist()):
                chosen = (block.commit_step == step) & block.generated
                confident = block.top_probs[chosen, 0] >= threshold
                assert bool(confident.all()) or int(chosen.sum()) == 1
        free = generate(peaked, studies, config)
        stops = tuple(sorted({t for r in free for t in r.raw_token_ids[4:6]}))  # every row reaches an "EOS"
        peaked = replace(peaked, special=replace(peaked.special, eos=stops))
        store = RecordStore(tmp_path / "teacher")
        items = [(f"id{i}", s) for i, s in enumerate(studies)]
        settings = RolloutSettings(block_length=L, threshold=threshold, top_k=3, max_new_tokens=16, batch_size=2,
                                   repeat_count=50)
        collect_teacher_records(peaked, items[:2], settings, store)
        collect_teacher_records(peaked, items, settings, RecordStore(tmp_path / "teacher"))  # resumes
        store = RecordStore(tmp_path / "teacher")
        assert store.done() == {"id0", "id1", "id2"}
        assert len(store.index["shards"]) == 2
        for sid, record in store.load().items():
            assert record.tokens.shape[0] % L == 0 and record.top_ids.shape[1] == 3
        assert not store.index["dropped"]
        records = store.load()
        assert set(records) == {"id0", "id1", "id2"}
    finally:
        with torch.no_grad():
            train_bundle.model.lm_head.weight.div_(40)


def test_repetition_detector():
    assert repeats_in_a_row([1, 2, 3, 4, 3, 4, 3, 4], 2, 3)
    assert not repeats_in_a_row([1, 2, 3, 4, 5, 6], 4, 2)
    assert repeats_in_a_row([5, 5, 5], 1, 3)


def test_one_writer_at_a_time_per_records_folder(tmp_path):
    """Two rollouts into one folder would number their shards alike and overwrite each other's
    (seen once: a stopped reproduction's child process kept writing beside its restart)."""
    from echo_cxr.errors import EchoError

    settings = RolloutSettings(block_length=4)
    with RecordStore(tmp_path / "teacher").writing():
        with pytest.raises(EchoError, match="another process"):
            collect_teacher_records(None, [], settings, RecordStore(tmp_path / "teacher"))
        assert RecordStore(tmp_path / "teacher").load() == {}  # reading needs no lock
    collect_teacher_records(None, [], settings, RecordStore(tmp_path / "teacher"))  # free again
