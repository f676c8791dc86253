"""Bar charts drawn on the server as SVG geometry (the pages run no script); pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    kind: str = ""  # a CSS modifier, e.g. the state of an instalment


def bars(values: Sequence[tuple[str, int, str]], width: int, height: int) -> list[Bar]:
    """One bar per (label, value, kind), scaled so the largest value fills `height`."""
    if not values:
        return []
    top = max(max(value for _label, value, _kind in values), 1)
    step = width / len(values)
    out = []
    for i, (label, value, kind) in enumerate(values):
        h = round(max(value, 0) * height / top, 1)
        x = round(i * step + step * 0.1, 1)
        out.append(Bar(label, value, x, round(height - h, 1), round(step * 0.8, 1), h, kind))
    return out
