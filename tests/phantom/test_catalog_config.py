"""Catalog coverage and config validation."""

from __future__ import annotations

import pytest

from echo_cxr.errors import EchoError
from echo_cxr.phantom import CATALOG, FINDING_NAMES, PhantomConfig
from echo_cxr.phantom.config import parse_prevalence
from echo_cxr.phantom.labels import canonical_labels, make_label

REQUIRED = {
    "cardiomegaly": {"severity": {"mild", "moderate", "marked"}},
    "pleural_effusion": {"laterality": {"left", "right", "bilateral"},
                         "severity": {"small", "moderate", "large"}},
    "pneumothorax": {"laterality": {"left", "right"}, "severity": {"small", "large"}},
    "consolidation": {"zone": {"right_upper", "right_middle", "right_lower", "left_upper",
                               "left_lower"}},
    "nodule": {"zone": {"right_upper", "right_middle", "right_lower", "left_upper", "left_lower"},
               "size": {"small", "large"}},
    "atelectasis": {"laterality": {"left", "right"}},
    "pulmonary_edema": {"severity": {"mild", "moderate"}},
    "hilar_enlargement": {"laterality": {"left", "right", "bilateral"}},
    "tracheal_deviation": {"laterality": {"left", "right"}},
    "rib_fracture": {"laterality": {"left", "right"}},
    "elevated_hemidiaphragm": {"laterality": {"left", "right"}},
    "endotracheal_tube": {},
    "nasogastric_tube": {},
    "central_venous_catheter": {"laterality": {"left", "right"}},
    "pacemaker": {"laterality": {"left", "right"}},
}


def test_catalog_has_every_required_finding_and_attribute():
    assert len(CATALOG) >= 12
    by_name = {spec.name: spec for spec in CATALOG}
    assert set(REQUIRED) <= set(by_name)
    for name, attrs in REQUIRED.items():
        spec = by_name[name]
        assert {a.name: set(a.values) for a in spec.attributes} == attrs, name


@pytest.mark.parametrize("kwargs, message", [
    ({"image_size": 100}, "image size"),
    ({"bit_depth": 12}, "bit depth"),
    ({"image_format": "jpeg"}, "image format"),
    ({"monochrome": 3}, "monochrome"),
    ({"lateral_prob": 1.5}, "lateral probability"),
    ({"normal_fraction": -0.1}, "normal fraction"),
    ({"prevalence": {"pneumonia": 0.2}}, "unknown finding 'pneumonia'"),
    ({"prevalence": {"pneumothorax": 2.0}}, "prevalence of pneumothorax"),
    ({"max_findings": 0}, "max findings"),
    ({"nuisance": -1}, "nuisance"),
])
def test_config_rejects_bad_values(kwargs, message):
    with pytest.raises(EchoError, match=message):
        PhantomConfig(**kwargs)


def test_prevalence_override_and_parsing():
    config = PhantomConfig(prevalence=parse_prevalence(["pneumothorax=0.5", "nodule=0"]))
    prevalence = config.effective_prevalence()
    assert prevalence["pneumothorax"] == 0.5 and prevalence["nodule"] == 0.0
    assert set(prevalence) == set(FINDING_NAMES)
    with pytest.raises(EchoError, match="NAME=P"):
        parse_prevalence(["pneumothorax"])
    with pytest.raises(EchoError, match="not a number"):
        parse_prevalence(["pneumothorax=lots"])


def test_labels_are_canonical_and_validated():
    labels = canonical_labels([
        {"severity": "small", "laterality": "left", "finding": "pleural_effusion"},
        make_label("cardiomegaly", severity="mild"),
    ])
    assert labels == [{"finding": "cardiomegaly", "severity": "mild"},
                      {"finding": "pleural_effusion", "laterality": "left", "severity": "small"}]
    assert list(labels[1]) == ["finding", "laterality", "severity"]
    with pytest.raises(EchoError, match="unknown finding"):
        make_label("pneumonia")
    with pytest.raises(EchoError, match="laterality"):
        make_label("pneumothorax", laterality="bilateral", severity="small")
    with pytest.raises(EchoError, match="not used"):
        make_label("endotracheal_tube", laterality="left")
