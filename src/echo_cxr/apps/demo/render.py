"""HTML of the demo's report panels (pure functions of a ``Frame``; no gradio).

The panel's root carries ``data-state`` (idle | running | done | error) and the final report
sits in ``.echo-final``: the browser test waits on and reads exactly these.
"""

from __future__ import annotations

from html import escape

from echo_cxr.apps.demo.runner import CELL_KEPT, CELL_MASKED, CELL_NEW, CELL_PROMPT, Frame, LiveStats

MASK_GLYPH = "\u2591"  # a shaded box per masked position
CSS = """
.echo-panel {font-family: system-ui, sans-serif; min-height: 9em; padding: 0.6em; border-radius: 8px;
  border: 1px solid #d0d7de; background: #fbfcfd; color: #1f2328;}
.echo-text {white-space: pre-wrap; line-height: 1.5; font-size: 1.02em;}
.echo-final {white-space: pre-wrap; line-height: 1.5; font-size: 1.02em;}
.echo-block {display: inline; white-space: pre-wrap;}
.echo-cell {padding: 0 1px; margin: 0 1px; border-radius: 3px;}
.echo-new {background: #ffd34d; color: #1f2328; font-weight: 600;}
.echo-kept {background: #d8f0d8;}
.echo-prompt {color: #8c959f;}
.echo-masked {background: #e6e9ef; color: #6e7781; font-family: monospace;}
.echo-stats {font-family: system-ui, sans-serif; font-size: 0.92em; color: #1f2328;}
.echo-stats td {padding: 1px 10px 1px 0;}
.echo-error {color: #b42318; font-weight: 600;}
.echo-legend {font-size: 0.85em; color: #57606a;}
.echo-noise {color: #9a6700; font-size: 0.85em;}
"""
LEGEND = ('<div class="echo-legend"><span class="echo-cell echo-new">new</span> committed this step '
          '<span class="echo-cell echo-kept">kept</span> committed earlier in the block '
          f'<span class="echo-cell echo-masked">{MASK_GLYPH}</span> still masked</div>')
CELL_CLASSES = {CELL_NEW: "echo-new", CELL_KEPT: "echo-kept", CELL_MASKED: "echo-masked", CELL_PROMPT: "echo-prompt"}


def _cell(text: str, kind: str) -> str:
    shown = MASK_GLYPH if kind == CELL_MASKED else escape(text)
    return f'<span class="echo-cell {CELL_CLASSES[kind]}">{shown}</span>'


def panel(panel_id: str, frame: Frame | None = None, error: str | None = None, note: str = "") -> str:
    """The report panel: idle, growing (text + the block being denoised), final, or an error."""
    if error is not None:
        return (f'<div id="{panel_id}" class="echo-panel" data-state="error">'
                f'<div class="echo-error">{escape(error)}</div></div>')
    if frame is None:
        return (f'<div id="{panel_id}" class="echo-panel" data-state="idle">'
                f'<div class="echo-legend">{escape(note)}</div></div>')
    if frame.done:
        return (f'<div id="{panel_id}" class="echo-panel" data-state="done">'
                f'<div class="echo-final">{escape(frame.text)}</div>{_noise(note)}</div>')
    block = "".join(_cell(c.text, c.kind) for c in frame.block if c.kind != CELL_PROMPT)
    masked = sum(c.kind == CELL_MASKED for c in frame.block)
    status = f"block {frame.block_index + 1}: {masked} masked" if frame.block else "between blocks"
    return (f'<div id="{panel_id}" class="echo-panel" data-state="running" data-block="{frame.block_index}">'
            f'<div class="echo-text">{escape(frame.text)} <span class="echo-block">{block}</span></div>'
            f'<div class="echo-legend">{escape(status)}</div>{LEGEND}</div>')


def _noise(note: str) -> str:
    return f'<div class="echo-noise">{escape(note)}</div>' if note else ""


def stats_table(stats: LiveStats | None, decoder: str) -> str:
    """Live counters: forward passes, TPF, tok/s, and the forwards AR would have needed."""
    if stats is None:
        return '<div class="echo-stats"></div>'
    rows = [
        ("decoder", decoder),
        ("forward passes", f"{stats.forward_passes}"),
        ("tokens per forward (TPF)", f"{stats.tokens_per_forward:.2f}"),
        ("tokens / second", f"{stats.tokens_per_second:.1f}"),
        ("report tokens", f"{stats.new_tokens}"),
        ("forward passes AR would need", f"{stats.ar_forward_passes}"),
        ("seconds" if stats.finished else "seconds so far", f"{stats.seconds:.2f}"),
    ]
    body = "".join(f"<tr><td>{escape(k)}</td><td><b>{escape(v)}</b></td></tr>" for k, v in rows)
    state = "done" if stats.finished else "running"
    return f'<div class="echo-stats" data-state="{state}"><table>{body}</table></div>'
