"""The demo's page layout in gradio Blocks, wired to a ``DemoSession``."""

from __future__ import annotations

from echo_cxr.apps.demo.app import (
    AR_PANEL, BLOCK_CHOICES, DIFFUSION_PANEL, MAX_NEW_TOKENS_CEILING, MODEL_DEFAULT, SLOW_MOTION_CEILING_MS,
    TOKENS_STEP, DemoSession,
)
from echo_cxr.apps.demo.render import CSS, panel, stats_table

TITLE = "echo-cxr: chest X-ray reports by block diffusion"
INTRO = ("Upload the views of one study (PNG, JPEG or DICOM; frontal first) or pick a phantom example, then "
         "**Generate**: the report grows block by block, newly committed tokens highlighted, masked positions "
         "shaded. **Run AR side by side** decodes the same study one token per forward. "
         "Research demo, not a medical device.")
LANGUAGES = ("en", "zh")
FONTS = ["system-ui", "sans-serif"]
MONO_FONTS = ["ui-monospace", "monospace"]


def _initial(value: int | None) -> str:
    return MODEL_DEFAULT if value is None else str(value)


def _settings(gr, session: DemoSession):
    from echo_cxr.decoding.strategies import STRATEGIES

    config = session.config
    block_choices = [MODEL_DEFAULT] + [str(b) for b in BLOCK_CHOICES]
    with gr.Accordion("Model and decoding settings", open=False):
        model = gr.Dropdown([config.model, *config.extra_models], value=config.model, allow_custom_value=True,
                            label="Model (folder, hub id, builtin:NAME or random:PRESET)", elem_id="echo-model")
        language = gr.Radio(list(LANGUAGES), value="en", label="Report language", elem_id="echo-language")
        with gr.Row():
            block_length = gr.Dropdown(block_choices, value=_initial(config.block_length), label="Block length L")
            steps = gr.Dropdown(block_choices, value=_initial(config.steps), label="Steps per block S")
        strategy = gr.Dropdown([MODEL_DEFAULT, *STRATEGIES], value=config.strategy or MODEL_DEFAULT,
                               label="Remasking strategy")
        threshold = gr.Slider(0.0, 1.0, value=0.85, step=0.01, label="Confidence threshold tau")
        max_new = gr.Slider(TOKENS_STEP, MAX_NEW_TOKENS_CEILING, value=config.max_new_tokens, step=TOKENS_STEP,
                            label="Max new tokens", elem_id="echo-max-new-tokens")
        slow = gr.Slider(0, SLOW_MOTION_CEILING_MS, value=config.slow_motion_ms, step=10,
                         label="Slow motion (ms per step, for watching)", elem_id="echo-slow")
    return [model, language, block_length, steps, strategy, threshold, max_new, slow]


def build_page(session: DemoSession):
    """The gradio ``Blocks`` of the demo."""
    import gradio as gr

    with gr.Blocks(title="echo-cxr demo", analytics_enabled=False) as page:
        gr.Markdown(f"## {TITLE}\n{INTRO}")
        paths = gr.State([])
        with gr.Row():
            with gr.Column(scale=1):
                files = gr.File(file_count="multiple", type="filepath", label="Study images", elem_id="echo-files")
                example = gr.Dropdown([e.name for e in session.examples], value=None, label="...or a phantom example",
                                      elem_id="echo-example")
                preview = gr.Gallery(label="Views as the model sees them (before resizing)", height=220,
                                     columns=2, elem_id="echo-preview")
                status = gr.Markdown("", elem_id="echo-status")
                settings = _settings(gr, session)
                with gr.Row():
                    generate = gr.Button("Generate", variant="primary", elem_id="echo-generate")
                    run_ar = gr.Button("Run AR side by side", elem_id="echo-run-ar")
            with gr.Column(scale=2):
                with gr.Row():
                    with gr.Column():
                        gr.Markdown("**Block diffusion**")
                        diffusion = gr.HTML(panel(DIFFUSION_PANEL, note="no report yet"))
                        diffusion_stats = gr.HTML(stats_table(None, "blockwise"))
                    with gr.Column():
                        gr.Markdown("**Autoregressive, same study**")
                        ar = gr.HTML(panel(AR_PANEL, note="press Run AR side by side"))
                        ar_stats = gr.HTML(stats_table(None, "ar"))
                truth = gr.Textbox(label="Phantom example: its true report", lines=4, interactive=False)
        files.change(session.preview, files, [paths, preview, status])
        example.change(session.pick_example, example, [paths, preview, status, truth])

        def run_diffusion(*inputs):
            yield from session.run("blockwise", *inputs)

        def run_autoregressive(*inputs):
            yield from session.run("ar", *inputs)

        generate.click(run_diffusion, [paths, *settings], [diffusion, diffusion_stats], concurrency_id="model")
        run_ar.click(run_autoregressive, [paths, *settings], [ar, ar_stats], concurrency_id="model")
    return page


def launch_page(page, host: str, port: int, block: bool, max_file_bytes: int, allowed: list[str]):
    """Start the gradio server; returns (app, local url)."""
    import gradio as gr

    theme = gr.themes.Default(font=FONTS, font_mono=MONO_FONTS)  # no web fonts: works offline
    app, url, _ = page.queue().launch(
        server_name=host, server_port=port, prevent_thread_lock=not block, share=False, quiet=not block,
        show_error=False, max_file_size=max_file_bytes, allowed_paths=allowed, theme=theme, css=CSS,
        footer_links=[], ssr_mode=False, inbrowser=False)
    return app, url
