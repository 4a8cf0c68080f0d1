"""Stage 0 and its diagnostics: the grey view cache and patchify against the image processor, the
label loop's resume, the prior shift, and the CLI path train vision -> diagnose probe -> score."""

import json

import pytest
import torch
from PIL import Image

from echo_cxr.cli import main
from echo_cxr.diagnostics.cnn_baseline import GreyCNN, StudyCNN, pixel_spec
from echo_cxr.evaluation.data import read_datasets
from echo_cxr.model import load
from echo_cxr.model.loading import set_max_pixels
from echo_cxr.phantom.config import PhantomConfig
from echo_cxr.phantom.dataset import write_dataset
from echo_cxr.training.label_targets import target_names
from echo_cxr.training.label_training import LabelRun, batch_indices, prior_shift, train_labels
from echo_cxr.training.vision_data import PixelSpec, build_view_set, cached_view_set, grey_view, patchify
from echo_cxr.training.vision_pretrain import unique_studies
from tests.training.toy_data import TINY_SHAPE


@pytest.fixture(scope="module")
def phantom_data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("phantom")
    write_dataset(folder, 24, seed=3, lang="both", config=PhantomConfig(image_size=128, lateral_prob=0.5),
                  splits={"train": 0.75, "val": 0.25})
    return folder / "train" / "train.json", folder / "val" / "val.json"


@pytest.mark.parametrize("side", [56, 112])
def test_grey_views_and_patchify_equal_the_image_processor(phantom_data, side):
    bundle = load("random:tiny")
    set_max_pixels(bundle.processor, side * side)
    processor = bundle.processor.image_processor
    spec = PixelSpec.of(processor)
    studies = unique_studies(read_datasets([str(phantom_data[0])]))[:4]
    paths = [p for s in studies for p in s.images]
    from echo_cxr.imaging import load_image

    images = [load_image(p) for p in paths] + [Image.new("RGB", (200, 90), (70, 70, 70))]  # non-square too
    reference = processor(images=images, return_tensors="pt")
    pixel_values, grid = patchify([grey_view(image, spec) for image in images], spec)
    assert torch.equal(grid, reference["image_grid_thw"])
    assert (pixel_values - reference["pixel_values"]).abs().max().item() == 0.0


@pytest.mark.parametrize("patch_size, merge_size, side", [(14, 4, 224), (7, 4, 112)])
def test_patchify_equals_the_processor_for_other_patch_grids(phantom_data, patch_size, merge_size, side):
    from echo_cxr.model.tiny import build_processor, train_tokenizer

    processor = build_processor(train_tokenizer(), side * side, patch_size=patch_size,
                                merge_size=merge_size).image_processor
    spec = PixelSpec.of(processor)
    assert (spec.patch_size, spec.merge_size) == (patch_size, merge_size)
    images = [Image.new("RGB", (300, 260), (90, 90, 90)), Image.new("RGB", (200, 90), (70, 70, 70))]
    reference = processor(images=images, return_tensors="pt")
    pixel_values, grid = patchify([grey_view(image, spec) for image in images], spec)
    assert torch.equal(grid, reference["image_grid_thw"])
    assert (pixel_values - reference["pixel_values"]).abs().max().item() == 0.0


def test_view_cache_is_reused_only_for_the_same_studies(phantom_data, tmp_path):
    studies = unique_studies(read_datasets([str(phantom_data[0])]))
    spec = pixel_spec(56)
    first = cached_view_set(studies, spec, tmp_path / "c.pt")
    assert len(first) == len(studies) and first.image_count == sum(len(s.images) for s in studies)
    stamp = (tmp_path / "c.pt").stat().st_mtime_ns
    again = cached_view_set(studies, spec, tmp_path / "c.pt")
    assert (tmp_path / "c.pt").stat().st_mtime_ns == stamp and all(
        torch.equal(a, b) for va, vb in zip(first.views, again.views) for a, b in zip(va, vb))
    fewer = cached_view_set(studies[:3], spec, tmp_path / "c.pt")  # other studies: rebuilt
    assert len(fewer) == 3


def test_prior_shift_undoes_the_positive_weight():
    # pos-weighted BCE is minimised at logit = log(w p / (1 - p)): p = 0.3, w = 9 gives logit log(27/7)
    weight = torch.tensor([9.0])
    logit = torch.log(torch.tensor([9.0 * 0.3 / 0.7]))
    assert torch.sigmoid(logit - prior_shift(weight)).item() == pytest.approx(0.3)


def test_batches_are_a_pure_function_of_the_step():
    assert batch_indices(5, 10, 3, seed=1) == batch_indices(5, 10, 3, seed=1)
    epoch = [i for step in range(3) for i in batch_indices(step, 10, 3, seed=1)]
    assert len(set(epoch)) == 9  # one epoch: no study twice


def cli(args):
    with pytest.raises(SystemExit) as done:
        main(args)
    assert done.value.code == 0


def _run(steps, seed=0):
    return LabelRun(steps=steps, batch_size=4, learning_rate=1e-3, weight_decay=0.01, warmup_ratio=0.1,
                    max_grad_norm=1.0, positive_weight_cap=50.0, eval_every=3, save_every=3, log_every=1, seed=seed)


def test_a_resumed_label_run_equals_the_uninterrupted_one(phantom_data, tmp_path):
    train = build_view_set(unique_studies(read_datasets([str(phantom_data[0])])), pixel_spec(56))
    val = build_view_set(unique_studies(read_datasets([str(phantom_data[1])])), pixel_spec(56))

    def fresh():
        torch.manual_seed(0)
        return GreyCNN(len(target_names()), widths=(4, 8))

    whole = fresh()
    train_labels(StudyCNN(whole), [whole], train, val, _run(6), tmp_path / "whole")
    cut = fresh()
    out = tmp_path / "cut"
    with pytest.raises(_Stop):  # killed right after the state of step 3 was saved
        train_labels(StudyCNN(cut), [cut], train, val, _run(6), out, progress=_stop_after(3))
    resumed = fresh()
    train_labels(StudyCNN(resumed), [resumed], train, val, _run(6), out, resume=True)
    for a, b in zip(whole.state_dict().values(), resumed.state_dict().values()):
        assert torch.allclose(a.float(), b.float(), atol=1e-6)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 7))  # nothing lost, nothing twice
    assert "val_micro_f1" in rows[2] and "val_recall" in rows[5]


class _Stop(Exception):
    pass


def _stop_after(step):
    def progress(row):
        if row["step"] == step:
            raise _Stop
    return progress


def test_train_vision_then_probe_then_score(phantom_data, tmp_path, capsys):
    train, val = phantom_data
    out = tmp_path / "vision"
    cli(["train", "vision", f"train_data={train}", f"val_data={val}", f"output_dir={out}", "max_steps=4",
          "batch_size=4", "eval_every=2", "save_every=2", "log_every=1", *TINY_SHAPE, "--quiet"])
    rows = [json.loads(line) for line in (out / "state" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4] and "val_micro_f1" in rows[-1]
    assert (out / "label_head.pt").is_file() and (out / "model" / "config.json").is_file()
    results = tmp_path / "probe.jsonl"
    cli(["diagnose", "probe", "--run", str(out), "--data", str(val), "--out", str(results)])
    records = [json.loads(line) for line in results.read_text().splitlines()]
    samples = read_datasets([str(val)])
    assert len(records) == len(samples) and {r["language"] for r in records} == {"en", "zh"}
    from echo_cxr.phantom import label_report

    for record in records:  # the composed report states exactly the probe's labels
        assert [l["finding"] for l in label_report(record["report"], record["language"])] == \
            [l["finding"] for l in record["predicted_labels"]]
    scores = tmp_path / "scores.json"
    cli(["score", "--results", str(results), "--out", str(scores), "--metrics", "phantom,repetition"])
    overall = json.loads(scores.read_text())["views"]["all"]["overall"]["metrics"]
    assert 0.0 <= overall["phantom_micro_f1"]["value"] <= 1.0
    # resuming a finished run trains nothing more
    cli(["train", "vision", f"train_data={train}", f"val_data={val}", f"output_dir={out}", "max_steps=4",
          "batch_size=4", "eval_every=2", "save_every=2", "log_every=1", *TINY_SHAPE, "--quiet", "--resume"])
    assert len((out / "state" / "metrics.jsonl").read_text().splitlines()) == 4


def test_a_tower_continues_from_an_earlier_run_at_another_resolution(phantom_data, tmp_path):
    train, val = phantom_data
    first, refined = tmp_path / "first", tmp_path / "refined"
    common = [f"train_data={train}", f"val_data={val}", "batch_size=4", "eval_every=2", "save_every=2", "log_every=1",
              *TINY_SHAPE, "--quiet"]
    cli(["train", "vision", f"output_dir={first}", "max_steps=2", *common])
    # a vanishing learning rate: what the refinement starts from is what it ends with
    cli(["train", "vision", f"output_dir={refined}", "max_steps=2", f"init={first / 'model'}", "max_pixels=6272",
         "learning_rate=1e-12", *common])
    before, after = load(str(first / "model")), load(str(refined / "model"))
    pixels = lambda bundle: bundle.processor.image_processor.size["longest_edge"]  # noqa: E731
    assert pixels(after) == 6272 != pixels(before)
    for (name, a), b in zip(before.model.model.visual.state_dict().items(), after.model.model.visual.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), name
    heads = [torch.load(run / "label_head.pt", weights_only=False)["state"] for run in (first, refined)]
    assert all(torch.allclose(heads[0][k], heads[1][k], atol=1e-6) for k in heads[0])


def test_a_new_language_model_and_tokenizer_over_a_stage0_tower(phantom_data, tmp_path):
    from echo_cxr.errors import EchoError
    from echo_cxr.training.config import load_config
    from echo_cxr.training.run_setup import initial_bundle, read_samples

    train, val = phantom_data
    tower = tmp_path / "tower"
    cli(["train", "vision", f"train_data={train}", f"val_data={val}", f"output_dir={tower}", "max_steps=1",
         "batch_size=4", "eval_every=1", *TINY_SHAPE, "--quiet"])
    ar = [f"output_dir={tmp_path / 'ar'}", f"train_data={train}", "init=scratch", f"vision_init={tower / 'model'}",
          *TINY_SHAPE]
    config = load_config(None, [*ar, "scratch.vocab_size=420"], "ar")
    bundle = initial_bundle(config, read_samples(config.train_data))
    donor = load(str(tower / "model"))
    assert len(bundle.tokenizer) != len(donor.tokenizer)
    assert bundle.model.config.text_config.vocab_size == len(bundle.tokenizer)
    for (name, a), b in zip(donor.model.model.visual.state_dict().items(), bundle.model.model.visual.state_dict().values()):
        assert torch.equal(a, b), name
    other = load_config(None, [*ar, "scratch.vision_hidden_size=48"], "ar")
    with pytest.raises(EchoError, match="does not match"):
        initial_bundle(other, read_samples(other.train_data))
    with pytest.raises(EchoError, match="vision_init needs init: scratch"):
        load_config(None, [*ar, f"init={tower / 'model'}"], "ar")


def test_cnn_baseline_and_image_use_run(phantom_data, tmp_path, capsys):
    train, val = phantom_data
    cli(["diagnose", "cnn-baseline", "--train", str(train), "--val", str(val), "--out", str(tmp_path / "cnn"),
          "--side", "56", "--steps", "3", "--batch-size", "4", "--eval-every", "3"])
    summary = json.loads((tmp_path / "cnn" / "summary.json").read_text())
    assert summary["step"] == 3 and 0.0 <= summary["val_micro_f1"] <= 1.0
    cli(["diagnose", "image-use", "--model", "random:tiny", "--data", str(val), "--out", str(tmp_path / "use.json"),
          "--n", "3", "--max-new-tokens", "8"])
    result = json.loads((tmp_path / "use.json").read_text())
    assert result["samples"] == 3 and set(result["conditions"]) == {"own", "blank", "other"}
    assert "micro_f1_vs_other_truth" in result["conditions"]["other"]


def test_label_loss_weights_scale_their_findings_columns_only():
    from echo_cxr.training.label_training import label_loss, target_weights_of

    names = ["nodule", "nodule:size=small", "pacemaker", "pacemaker:laterality=left"]
    assert target_weights_of({}, names) is None
    weights = target_weights_of({"pacemaker": 4.0}, names)
    assert weights == (1.0, 1.0, 4.0, 4.0)
    logits, targets = torch.randn(5, 4), (torch.rand(5, 4) > 0.5).float()
    positive = torch.tensor([1.0, 2.0, 3.0, 1.5])
    plain = label_loss(logits, targets, positive)
    assert torch.allclose(label_loss(logits, targets, positive, (1.0,) * 4), plain)
    per = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, pos_weight=positive, reduction="none")
    assert torch.allclose(label_loss(logits, targets, positive, weights), (per[:, :2].sum() + 4 * per[:, 2:].sum()) / 20)


@pytest.mark.parametrize("weights, error", [({"pacemakr": 2.0}, "unknown finding"), ({"pacemaker": 0}, "positive")])
def test_label_loss_weights_are_checked_before_training(weights, error):
    from echo_cxr.errors import EchoError
    from echo_cxr.training.config import TrainConfig

    with pytest.raises(EchoError, match=error):
        TrainConfig(objective="vision", output_dir="x", train_data=["t.json"], label_loss_weights=weights)
    with pytest.raises(EchoError, match="stage-0"):
        TrainConfig(objective="ar", output_dir="x", train_data=["t.json"], label_loss_weights={"pacemaker": 2.0})


def test_stage_0_refuses_fp16_before_training():
    from echo_cxr.errors import EchoError
    from echo_cxr.training.config import TrainConfig

    with pytest.raises(EchoError, match="no or bf16"):
        TrainConfig(objective="vision", output_dir="x", train_data=["t.json"], mixed_precision="fp16")
