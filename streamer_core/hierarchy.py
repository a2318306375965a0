"""Export of a segmentation to the reference's hierarchy JSON format."""

from __future__ import annotations

import colorsys


def layer_colour(layer: int, event: int) -> str:
    """A distinct, stable colour per event; hues rotate by the golden angle."""
    hue = (0.13 * layer + 0.618033988749895 * event) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.55, 0.95)
    return f"rgb({int(r * 255)}, {int(g * 255)}, {int(b * 255)})"


def hierarchy_json(hierarchy: dict, file: str, duration: float,
                   file_type: str = "video/mp4") -> dict:
    """`hierarchy` is {"boundaries": {layer: [seconds]}}, as StreamerModel.event_boundaries()
    gives them (extract_rep's upper layers end at layer 0's last boundary: a boundary more).

    Every layer covers the whole stream: the event still open at `duration` is written
    too (the reference drops it), so a stream without any boundary is one event."""
    layers = []
    boundaries = hierarchy.get("boundaries", {})
    for order, layer in enumerate(sorted(boundaries, key=int)):
        bounds = [float(b) for b in boundaries[layer]] or [0.0]
        if duration > bounds[-1]:
            bounds.append(float(duration))
        annots = [{"start": start, "end": end, "action": "N/A",
                   "colour": layer_colour(order, i)}
                  for i, (start, end) in enumerate(zip(bounds, bounds[1:]))]
        layers.append({"name": f"layer {layer}", "order": order, "annots": annots})
    return {"file": file, "fileType": file_type, "cursor": 0, "duration": float(duration),
            "zoom": 1, "layers": layers}


def boundaries_from_json(doc: dict) -> dict[int, list[float]]:
    """Inverse of `hierarchy_json`: boundary times per layer, starting at 0.0."""
    result: dict[int, list[float]] = {}
    for layer in doc.get("layers", []):
        annots = sorted(layer.get("annots", []), key=lambda a: a["start"])
        bounds = [0.0] + [float(a["end"]) for a in annots]
        result[int(layer.get("order", len(result)))] = bounds
    return result
