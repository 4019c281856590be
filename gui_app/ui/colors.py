"""LayerLab's colours for data and pictures, in one place: high contrast and colour-blind
safe, so a class reads the same in the boundary, the plots and the neuron pictures, on a
laptop and on a classroom projector.

Classes use the Okabe-Ito palette (Okabe and Ito, "Color Universal Design", 2002): eight
colours that people with any common colour-vision deficiency can tell apart. Values
(regression, a neuron's output) use colour maps that stay readable in grey: viridis for a
value from low to high, and orange - white - blue for a signed value around zero.

Plain hex strings and NumPy tables only (no Qt), so any view, an export or a test can use
them.
"""

from __future__ import annotations

import numpy as np

# -- the Okabe-Ito palette, by name --------------------------------------------------------
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
BLACK = "#000000"

#: The eight colours in Okabe and Ito's order.
OKABE_ITO: tuple[str, ...] = (ORANGE, SKY_BLUE, BLUISH_GREEN, YELLOW, BLUE, VERMILLION,
                              REDDISH_PURPLE, BLACK)

#: Colours for classes 0, 1, 2, ... (repeated past eight). Okabe-Ito in an order chosen for
#: contrast on white: yellow comes late (faint on white, and on a projector), black last (the
#: P = 0.5 line and text are dark).
CLASS_COLORS: tuple[str, ...] = (ORANGE, SKY_BLUE, BLUISH_GREEN, REDDISH_PURPLE, BLUE,
                                 VERMILLION, YELLOW, BLACK)

#: A single series with no class (a regression curve, a predicted line).
SERIES = VERMILLION
#: Lines drawn over pictures (the P = 0.5 boundary) and their labels.
INK = "#222222"
#: The colour map of a value from low to high (a regression surface): perceptually even
#: and readable by people with colour-vision deficiencies and in greyscale print.
VALUE_COLORMAP = "viridis"
#: A signed value around zero (a neuron's output): negative, zero, positive.
NEGATIVE, ZERO, POSITIVE = ORANGE, "#FFFFFF", BLUE


def class_color(index: int) -> str:
    """The hex colour of class `index` (repeated past eight classes)."""
    return CLASS_COLORS[int(index) % len(CLASS_COLORS)]


def hex_rgb(color: str) -> tuple[int, int, int]:
    """'#E69F00' -> (230, 159, 0)."""
    text = color.lstrip("#")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def class_rgb(count: int) -> np.ndarray:
    """The colours of `count` classes (at least 2) as float32 RGB rows in 0..255, the
    table `core.boundary.region_lut` and `region_rgb` take."""
    return np.array([hex_rgb(class_color(i)) for i in range(max(2, int(count)))],
                    dtype=np.float32)


def diverging_lut(steps: int = 256) -> np.ndarray:
    """A (steps, 3) uint8 table from NEGATIVE (index 0) through ZERO (the middle) to
    POSITIVE (the last index), for signed values scaled to -1..1."""
    t = np.linspace(-1.0, 1.0, int(steps), dtype=np.float32)[:, None]
    neg, zero, pos = (np.array(hex_rgb(c), np.float32) for c in (NEGATIVE, ZERO, POSITIVE))
    rgb = np.where(t < 0, zero + (neg - zero) * -t, zero + (pos - zero) * t)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
