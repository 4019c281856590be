"""Writes lesson 5's data, `resources/examples/data/unbalanced.csv`, the same every time.

Usage: python tools/make_unbalanced_csv.py [OUTPUT.csv]

Lesson 5 ("Unbalanced classes") must show something a person can see: trained as it is,
the model ignores the rare class (its recall stays low while accuracy looks fine), and with
`class_weight: "balanced"` it finds most of it. That only happens when the two classes
overlap enough that, counted plainly, "common" is the likelier answer almost everywhere,
yet the rare points still gather in a region of their own. So:

* 900 "common" points from a wide round cloud, centred on (0, 0) with spread 1;
* 100 "rare" points from a tight cloud (spread 0.5) whose centre, (1, 0), lies inside
  the common cloud.

Nowhere is a rare point 9 times as likely as a common one (the ratio that plain counting
needs, 900 to 100), so the best unweighted answer is "common" nearly everywhere; balanced
weights lower that bar to 1, and the rare cloud's middle turns "rare". Rows are shuffled so
that the file does not list the classes in two blocks. NumPy's seeded generator keeps the
output byte for byte the same; the tests (`tests/core/test_lesson_claims.py`) check the
lesson's claims against the committed file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "resources" / "examples" / "data" / "unbalanced.csv"
SEED = 5
COMMON, RARE = 900, 100
COMMON_CENTRE, COMMON_SPREAD = (0.0, 0.0), 1.0
RARE_CENTRE, RARE_SPREAD = (1.0, 0.0), 0.5


def make_rows(seed: int = SEED) -> list[tuple[float, float, str]]:
    """The shuffled rows (x1, x2, label), rounded to 4 decimals as the file holds them."""
    rng = np.random.default_rng(seed)
    common = rng.normal(COMMON_CENTRE, COMMON_SPREAD, size=(COMMON, 2))
    rare = rng.normal(RARE_CENTRE, RARE_SPREAD, size=(RARE, 2))
    points = np.concatenate([common, rare])
    labels = ["common"] * COMMON + ["rare"] * RARE
    order = rng.permutation(len(points))
    return [(round(float(points[i, 0]), 4), round(float(points[i, 1]), 4), labels[i])
            for i in order]


def write_csv(path: Path, rows: list[tuple[float, float, str]]) -> None:
    """Plain CSV with a header and "\\n" line ends on every platform (a stable diff)."""
    lines = ["x1,x2,label", *(f"{x1:.4f},{x2:.4f},{label}" for x1, x2, label in rows)]
    path.write_bytes(("\n".join(lines) + "\n").encode("ascii"))


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else OUTPUT
    write_csv(target, make_rows())
    print(f"wrote {target} ({COMMON} common, {RARE} rare)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
