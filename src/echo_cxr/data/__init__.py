"""Data preparation for real training (docs/data.md): dataset converters and report normalisation.

- ``echo_cxr.data.convert``: MIMIC-CXR(-JPG), CheXpert-Plus, ReXGradient-160K and IU X-ray, read in
  the layouts their distributors ship, written in the release JSON schema (METHOD.md section 1)
  with a manifest of every study kept and dropped. Converters are looked up by name
  (``echo_cxr.data.converters.CONVERTERS``).
- ``echo_cxr.data.normalize``: the paper's report normalisation (METHOD.md section 4) through an
  OpenAI-compatible endpoint or a local causal LM, every rewrite checked before it is kept.

Kept light: nothing heavy is imported here.
"""
