"""Diagnostics of the Phantom CXR models (issue 13): what the stage-0 tower sees through its probe
head (``probe``), the supervised CNN ceiling on the same images (``cnn_baseline``), and whether a
report model uses its vision tokens at all (``image_use``). ``echo-cxr diagnose ...`` runs them."""
