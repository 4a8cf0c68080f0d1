"""The Phantom CXR findings catalog: every finding type, its attributes and where it is reported.

One ``FindingSpec`` per finding type. The catalog order is the order in which findings are
sampled (so that co-occurrence rules can look at findings drawn before), ``priority`` is the
order in which positive findings are listed in the Impression (lower = more urgent), and
``region`` is the report region (METHOD.md section 4 normalised order) whose statement mentions
the finding. Support devices are findings too (``device=True``), one type per device, so that
labels compare exactly and each device gets its own precision/recall.
"""

from __future__ import annotations

from dataclasses import dataclass

LEFT, RIGHT, BILATERAL = "left", "right", "bilateral"
SIDES = (RIGHT, LEFT)
SIDES_OR_BOTH = (RIGHT, LEFT, BILATERAL)
ZONES = ("right_upper", "right_middle", "right_lower", "left_upper", "left_lower")
UNSPECIFIED = "unspecified"  # attribute value the labeler emits when a report omits it

# Report regions in the normalised order of METHOD.md section 4, then devices.
REGIONS = ("thorax", "mediastinum", "lungs", "heart", "hila", "diaphragm", "bones", "devices")


@dataclass(frozen=True)
class Attribute:
    """One attribute of a finding: its allowed values and their sampling weights."""

    name: str
    values: tuple[str, ...]
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.weights is not None and len(self.weights) != len(self.values):
            raise ValueError(f"attribute {self.name}: weights and values differ in length")


@dataclass(frozen=True)
class FindingSpec:
    """A finding type: name, report region, attributes, default prevalence and urgency."""

    name: str
    region: str
    attributes: tuple[Attribute, ...]
    prevalence: float  # probability of the finding in a study drawn as not normal
    priority: int  # Impression order, lower first
    device: bool = False

    @property
    def attribute_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes)

    def attribute(self, name: str) -> Attribute:
        for attr in self.attributes:
            if attr.name == name:
                return attr
        raise KeyError(name)


def _side(both: bool = False) -> Attribute:
    return Attribute("laterality", SIDES_OR_BOTH if both else SIDES)


CATALOG: tuple[FindingSpec, ...] = (
    FindingSpec("cardiomegaly", "heart",
                (Attribute("severity", ("mild", "moderate", "marked"), (0.45, 0.35, 0.2)),),
                0.22, 6),
    FindingSpec("pulmonary_edema", "lungs",
                (Attribute("severity", ("mild", "moderate"), (0.55, 0.45)),), 0.10, 3),
    FindingSpec("pleural_effusion", "diaphragm",
                (_side(both=True),
                 Attribute("severity", ("small", "moderate", "large"), (0.45, 0.35, 0.2))),
                0.20, 4),
    FindingSpec("pneumothorax", "thorax",
                (_side(), Attribute("severity", ("small", "large"), (0.6, 0.4))), 0.08, 1),
    FindingSpec("consolidation", "lungs", (Attribute("zone", ZONES),), 0.18, 2),
    FindingSpec("nodule", "lungs",
                (Attribute("zone", ZONES), Attribute("size", ("small", "large"), (0.6, 0.4))),
                0.10, 5),
    FindingSpec("atelectasis", "lungs", (_side(),), 0.14, 7),
    FindingSpec("hilar_enlargement", "hila", (_side(both=True),), 0.07, 8),
    FindingSpec("tracheal_deviation", "mediastinum", (_side(),), 0.05, 10),
    FindingSpec("rib_fracture", "bones", (_side(),), 0.06, 9),
    FindingSpec("elevated_hemidiaphragm", "diaphragm", (_side(),), 0.06, 11),
    FindingSpec("endotracheal_tube", "devices", (), 0.08, 12, device=True),
    FindingSpec("central_venous_catheter", "devices", (_side(),), 0.10, 13, device=True),
    FindingSpec("nasogastric_tube", "devices", (), 0.07, 14, device=True),
    FindingSpec("pacemaker", "devices", (_side(),), 0.06, 15, device=True),
)

CATALOG_BY_NAME: dict[str, FindingSpec] = {spec.name: spec for spec in CATALOG}
FINDING_NAMES: tuple[str, ...] = tuple(spec.name for spec in CATALOG)
CATALOG_INDEX: dict[str, int] = {name: i for i, name in enumerate(FINDING_NAMES)}


def spec_of(name: str) -> FindingSpec:
    """The spec of finding ``name``; ``KeyError`` for names outside the catalog."""
    return CATALOG_BY_NAME[name]


def by_priority(names: list[str]) -> list[str]:
    """Finding names sorted by Impression priority (most urgent first)."""
    return sorted(names, key=lambda n: CATALOG_BY_NAME[n].priority)
