"""Independent, reproducible random streams of a study, keyed by (seed, index, purpose).

Every purpose gets its own ``numpy`` generator seeded with the tuple, so changing one part of a
study (adding a finding, writing the report in the other language) never shifts the random
numbers another part sees. Same (seed, index) -> same study, bit for bit.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from echo_cxr.phantom.catalog import CATALOG_INDEX

FINDING_STREAM_BASE = 100
LATERAL_STREAM_OFFSET = 1000


class Stream(IntEnum):
    LABELS = 0
    ANATOMY = 1
    NUISANCE = 2
    REPORT_EN = 3
    REPORT_ZH = 4
    VIEWS = 5
    LATERAL = 6
    LATERAL_NUISANCE = 7


REPORT_STREAMS = {"en": Stream.REPORT_EN, "zh": Stream.REPORT_ZH}


def stream(seed: int, index: int, purpose: int) -> np.random.Generator:
    """The generator of one purpose of study (seed, index)."""
    return np.random.default_rng([int(seed), int(index), int(purpose)])


def finding_stream(seed: int, index: int, finding: str, lateral: bool = False
                   ) -> np.random.Generator:
    """The generator that shapes one finding of a study (its own stream per view)."""
    purpose = FINDING_STREAM_BASE + CATALOG_INDEX[finding]
    return stream(seed, index, purpose + (LATERAL_STREAM_OFFSET if lateral else 0))
