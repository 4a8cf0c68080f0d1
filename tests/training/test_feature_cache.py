"""A frozen tower's cached features (training/feature_cache.py) stand in for its pixels exactly:
same prompt tokens and grids as the processor, the tower's own output, the same loss, and a
saved cache is read back instead of recomputed."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from echo_cxr.decoding import Study
from echo_cxr.model.inputs import encode_study
from echo_cxr.training import feature_cache
from echo_cxr.training.encode import make_example
from echo_cxr.training.feature_cache import FeatureCache
from echo_cxr.training.objectives import compute_loss, get_objective
from echo_cxr.training.packing import pack
from tests.conftest import make_image
from tests.training.conftest import REPORTS, generator, settings_for

SIZES = ((60, 70), (70, 60), (56, 56), (90, 40))


@pytest.fixture(scope="module")
def image_paths(tmp_path_factory):
    folder = tmp_path_factory.mktemp("views")
    paths = []
    for index, (height, width) in enumerate(SIZES):
        path = folder / f"view{index}.png"
        Image.fromarray(make_image(20 + index, height, width)).save(path)
        paths.append(str(path))
    return paths


@pytest.fixture(scope="module")
def cache(train_bundle, image_paths):
    return FeatureCache.build(train_bundle, image_paths + image_paths[:1], batch_size=3)  # a repeat: kept once


def _studies(paths):
    return [Study([paths[0]]), Study([paths[1], paths[2]]), Study([paths[3]], language="zh")]


def test_cached_prompt_is_the_processors_prompt_with_the_towers_features(train_bundle, cache, image_paths):
    assert len(cache.index) == len(image_paths)
    for study in _studies(image_paths):
        assert study in cache
        plain, cached = encode_study(train_bundle.processor, study), cache.encode(train_bundle.processor, study)
        assert torch.equal(cached.input_ids, plain.input_ids)
        assert torch.equal(cached.image_grid_thw, plain.image_grid_thw)
        assert cached.pixel_values is None
        with torch.no_grad():
            tower = train_bundle.model.model.get_image_features(plain.pixel_values, plain.image_grid_thw,
                                                                return_dict=True).pooler_output
        for ours, theirs in zip(cached.image_features, tower, strict=True):
            torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)
    assert Study([image_paths[0], "elsewhere.png"]) not in cache


@pytest.mark.parametrize("objective, row_tokens", [("rad", None), ("rad", 512), ("ar", None)])
def test_loss_from_cached_features_equals_loss_from_pixels(train_bundle, cache, image_paths, objective, row_tokens):
    settings = settings_for(train_bundle, freeze_vision=True)
    runner = get_objective(objective)

    def loss(features):
        examples = [make_example(train_bundle, s, r, f"s{i}", features)
                    for i, (s, r) in enumerate(zip(_studies(image_paths), REPORTS))]
        segments = [runner.build(e, settings, generator(3), None) for e in examples]
        batch = pack(segments, row_tokens)
        assert (batch.image_features is None) == (features is None)
        return compute_loss(runner, train_bundle.model, batch, settings)[0]

    torch.testing.assert_close(loss(cache), loss(None), rtol=1e-4, atol=1e-5)


def test_a_saved_cache_is_read_back_and_a_changed_tower_is_not(train_bundle, image_paths, tmp_path, monkeypatch):
    first = FeatureCache.build(train_bundle, image_paths, batch_size=4, folder=tmp_path)
    assert len(list(tmp_path.glob(f"*{feature_cache.CACHE_SUFFIX}"))) == 1

    def no_compute(*args):
        raise AssertionError("recomputed")

    with monkeypatch.context() as patch:
        patch.setattr(feature_cache, "_compute", no_compute)
        again = FeatureCache.build(train_bundle, image_paths, batch_size=4, folder=tmp_path)
    assert all(torch.equal(a, b) for a, b in zip(first.features, again.features, strict=True))
    with torch.no_grad():
        next(train_bundle.model.model.visual.parameters()).add_(1.0)
    try:
        assert feature_cache.cache_digest(train_bundle, image_paths) not in {p.name.split(".")[0]
                                                                              for p in tmp_path.iterdir()}
    finally:
        with torch.no_grad():
            next(train_bundle.model.model.visual.parameters()).sub_(1.0)


def test_a_trained_tower_cannot_use_cached_features(train_bundle, cache, image_paths):
    from echo_cxr.errors import EchoError
    from echo_cxr.training.forward import input_embeddings

    example = make_example(train_bundle, _studies(image_paths)[0], REPORTS[0], "s0", cache)
    batch = pack([get_objective("ar").build(example, settings_for(train_bundle), generator(), None)])
    with pytest.raises(EchoError, match="frozen"):
        input_embeddings(train_bundle.model, batch, freeze_vision=False)


def test_the_digest_follows_pixel_settings_not_processor_metadata(train_bundle, image_paths, tmp_path):
    """A processor built in memory and the same one saved and read back (which adds ``auto_map``)
    name the same cache; a changed resize bound names another. (ECHO-AR part 2 once recomputed its
    part 1's features for that metadata.)"""
    import copy

    from echo_cxr.model.checkpoint import save_processor
    from echo_cxr.model.processor import EchoProcessor
    from echo_cxr.model.tiny import build_processor

    def with_processor(processor):
        bundle = copy.copy(train_bundle)
        bundle.processor = processor
        return bundle

    built = build_processor(train_bundle.processor.tokenizer, train_bundle.processor.image_processor.size["longest_edge"])
    save_processor(built, tmp_path)  # as a checkpoint writes it
    reloaded = EchoProcessor.from_pretrained(tmp_path)
    assert reloaded.image_processor.to_dict() != built.image_processor.to_dict()
    digest = feature_cache.cache_digest(with_processor(built), image_paths)
    assert feature_cache.cache_digest(with_processor(reloaded), image_paths) == digest
    reloaded.image_processor.size["longest_edge"] *= 2
    assert feature_cache.cache_digest(with_processor(reloaded), image_paths) != digest
