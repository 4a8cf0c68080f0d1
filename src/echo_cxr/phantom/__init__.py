"""Phantom CXR: synthetic chest radiographs with exact clinical ground truth, reports in EN/ZH.

A phantom for report generators, the way imaging QA uses phantoms: every study is drawn from a
known list of findings (``labels``), rendered as a radiograph-like image, and described by a
normalised report (METHOD.md section 4) picked from many valid paraphrases. ``label_report``
reads any report back into labels and ``clinical_scores`` compares them with the truth.
numpy / PIL / scipy / pydicom only (no torch).

Public API::

    PhantomConfig(...)                                  validated generator settings
    generate_study(seed, index, config) -> Study        labels, reports["en"|"zh"], views
    write_dataset(out_dir, n, seed, lang, config, splits, overwrite, workers) -> manifest
    load_dataset(json_path, lang=None) -> samples       image paths made absolute
    label_report(text, lang=None) -> labels             EN/ZH report text -> canonical labels
    clinical_scores(pred_labels_list, true_labels_list) -> dict
    contact_sheet(studies, out_path, cols, lang) -> Path
"""

from echo_cxr.phantom.catalog import CATALOG, FINDING_NAMES, FindingSpec
from echo_cxr.phantom.config import GENERATOR_VERSION, PhantomConfig
from echo_cxr.phantom.contact_sheet import contact_sheet, contact_sheet_from_dataset
from echo_cxr.phantom.dataset import DatasetConfig, load_dataset, write_dataset
from echo_cxr.phantom.io import read_view
from echo_cxr.phantom.labeler import label_report, label_sample
from echo_cxr.phantom.labels import Label, canonical_labels, make_label
from echo_cxr.phantom.reports import Report
from echo_cxr.phantom.scores import clinical_scores
from echo_cxr.phantom.study import Study, generate_study

__all__ = [
    "CATALOG", "FINDING_NAMES", "GENERATOR_VERSION", "DatasetConfig", "FindingSpec", "Label",
    "PhantomConfig", "Report", "Study", "canonical_labels", "clinical_scores", "contact_sheet",
    "contact_sheet_from_dataset", "generate_study", "label_report", "label_sample",
    "load_dataset", "make_label", "read_view", "write_dataset",
]
