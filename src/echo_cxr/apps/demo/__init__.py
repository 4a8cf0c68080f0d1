"""The Gradio demo (``echo-cxr demo``). gradio is imported only when a page is built.

    build_demo(config, preloaded=None) -> (gradio Blocks, DemoSession)
    launch_demo(config, block=True) -> local url (block=False: returns once serving)
"""

from __future__ import annotations

from echo_cxr.apps.demo.app import DemoConfig, DemoSession, make_session


def build_demo(config: DemoConfig, preloaded: dict | None = None, notice=print):
    """The page and its session; ``preloaded``: {spec: bundle} already in memory (tests)."""
    from echo_cxr.apps.demo.page import build_page

    session = make_session(config, preloaded=preloaded, notice=notice)
    return build_page(session), session


def launch_demo(config: DemoConfig, block: bool = True, preloaded: dict | None = None, notice=print):
    """Build and serve the demo on ``config.host:config.port``; returns (page, local url)."""
    from echo_cxr.apps.demo.page import launch_page
    from echo_cxr.imaging.limits import MAX_IMAGE_BYTES

    page, session = build_demo(config, preloaded=preloaded, notice=notice)
    _, url = launch_page(page, config.host, config.port, block, MAX_IMAGE_BYTES, [str(session.workdir)])
    return page, url


__all__ = ["DemoConfig", "DemoSession", "build_demo", "launch_demo", "make_session"]
