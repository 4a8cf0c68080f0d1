"""Image synthesis of phantom chest radiographs (numpy + PIL, no torch).

``views.render_views`` is the entry point: anatomy -> canvas layers -> findings -> exposure,
pose, noise. See ``canvas`` for the coordinate convention (patient's right = image left).
"""

from echo_cxr.phantom.render.views import render_frontal, render_lateral, render_views

__all__ = ["render_frontal", "render_lateral", "render_views"]
