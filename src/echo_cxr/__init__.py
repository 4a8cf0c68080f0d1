"""echo-cxr: ECHO chest X-ray report generation with one-step block diffusion.

Kept light on purpose: importing the package loads no torch, transformers or optional app
dependencies. Import the sub-packages you need (``echo_cxr.model``, ``echo_cxr.decoding``,
``echo_cxr.phantom``...).
"""

__version__ = "0.1.0"

from echo_cxr.errors import EchoError

__all__ = ["EchoError", "__version__"]
