from pathlib import Path

import pytest

from echo_cxr.training.config import load_config

CONFIGS = sorted((Path(__file__).parents[2] / "configs").glob("*/*.yaml"))
TRAINING = [p for p in CONFIGS if p.parent.name in ("phantom", "real")]


@pytest.mark.parametrize("path", TRAINING, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_training_configs_are_valid(path):
    config = load_config(path, [], None)
    assert config.output_dir and config.train_data


def test_overrides_reach_nested_sections():
    path = next(p for p in TRAINING if p.name == "ar.yaml" and p.parent.name == "phantom")
    config = load_config(path, ["scratch.hidden_size=64", "learning_rate=0.01", "val_data=a.json,b.json"], "ar")
    assert config.scratch.hidden_size == 64 and config.learning_rate == 0.01 and config.val_data == ["a.json", "b.json"]


def test_objective_mismatch_is_an_error():
    from echo_cxr.errors import EchoError

    path = next(p for p in TRAINING if p.name == "ar.yaml")
    with pytest.raises(EchoError, match="not rad"):
        load_config(path, [], "rad")
