"""A self-contained HTML report: per layer, coarsest first, every event with its keyframe
(embedded as base64) and its times. One file to mail or archive; no script, no network."""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Callable

from streamer_core.atomic_file import atomic_file
from streamer_core.hierarchy import layer_colour

from .events import Event, layer_name

STYLE = """
body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; background: #fafafa; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; }
.note { color: #666; margin: 0 0 12px; }
.strip { display: flex; height: 14px; border: 1px solid #bbb; margin-bottom: 10px; }
.strip div { height: 100%; border-right: 1px solid #fff; box-sizing: border-box; }
.events { display: flex; flex-wrap: wrap; gap: 10px; }
figure { margin: 0; width: 192px; background: #fff; border-top: 5px solid;
         box-shadow: 0 1px 3px rgba(0,0,0,.2); }
figure img, figure .none { display: block; width: 192px; }
figure .none { height: 108px; background: #ddd; color: #777; text-align: center;
               line-height: 108px; }
figcaption { padding: 4px 6px; font-size: 12px; }
figcaption b { font-size: 13px; }
"""


def clock(seconds: float) -> str:
    """0:07.5, 12:03.0, 1:02:03.0"""
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{secs:04.1f}" if hours else f"{minutes}:{secs:04.1f}"


def html_report(layers: list[list[Event]], keyframe: Callable[[Event], bytes | None],
                title: str, footage: str) -> str:
    """`keyframe(event)`: its JPEG, or None ('no picture'). `footage` says where the
    pictures come from."""
    end = max((e.end for events in layers for e in events), default=0.0) or 1.0
    parts = [f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
             f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p class='note'>{sum(map(len, layers))} events in {len(layers)} layers over "
             f"{clock(end)}; keyframes: {html.escape(footage)}.</p>"]
    for layer in reversed(range(len(layers))):
        events = layers[layer]
        parts.append(f"<h2>{html.escape(layer_name(layer))}: {len(events)} event"
                     f"{'s' if len(events) != 1 else ''}</h2><div class='strip'>")
        parts += [f"<div style='width:{100 * e.duration / end:.4f}%;"
                  f"background:{layer_colour(layer, e.index)}' title='event {e.index}'></div>"
                  for e in events]
        parts.append("</div><div class='events'>")
        parts += [_figure(e, keyframe(e)) for e in events]
        parts.append("</div>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _figure(event: Event, jpeg: bytes | None) -> str:
    picture = (f"<img alt='keyframe of event {event.index}' src='data:image/jpeg;base64,"
               f"{base64.b64encode(jpeg).decode('ascii')}'>" if jpeg
               else "<div class='none'>no picture</div>")
    return (f"<figure style='border-color:{layer_colour(event.layer, event.index)}'>{picture}"
            f"<figcaption><b>event {event.index}</b><br>{clock(event.start)} – "
            f"{clock(event.end)} ({event.duration:.1f} s)</figcaption></figure>")


def write_html(layers: list[list[Event]], path: str | os.PathLike,
               keyframe: Callable[[Event], bytes | None], title: str, footage: str) -> None:
    with atomic_file(path) as handle:
        handle.write(html_report(layers, keyframe, title, footage))
