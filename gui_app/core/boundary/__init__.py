"""Decision boundaries: what a model predicts over the plane (or line) its data lives on.

- `grids`: the grid and the probe the training session evaluates many times a second
  (`BoundaryGrid`, `BoundaryProbe`, `make_probe`, `dense_predictor`), and the rectangle a
  zoomed-out view asks the picture to cover (`Extent`, `cover_extent`, `data_extent`);
- `planes`: planes through inputs wider than two features (`Plane`, `make_plane`,
  `plane_probe`, and `plane_resolution` with `forward_cost` for its grid's size);
- `pictures`: grids as coloured class regions and contour lines (`region_rgb`, ...);
- `snapshots`: a run's grids kept for scrubbing back (`SnapshotStore`);
- `plane_snapshots` and `units` (imported by name, not here: they use the training events,
  and the training package imports this one): pictures the engine adds to a run's events,
  on a plane through wide inputs, and of what each hidden neuron sees (`UnitProbe`).

Qt-free, and only NumPy is imported. Everything other modules import is re-exported here.
"""

from .grids import DENSE_PREDICTOR_MAX_PARAMS as DENSE_PREDICTOR_MAX_PARAMS
from .grids import (
    KINDS,
    BoundaryGrid,
    BoundaryProbe,
    Extent,
    cover_extent,
    curve_points,
    data_extent,
    dense_predictor,
    extent_covers,
    grid_points,
    make_probe,
)
from .grids import _sigmoid as _sigmoid
from .grids import _softmax as _softmax
from .pictures import contour_segments, region_index, region_lut, region_rgb
from .planes import Plane, forward_cost, make_plane, plane_probe, plane_resolution
from .snapshots import SnapshotStore

__all__ = [
    "BoundaryGrid",
    "BoundaryProbe",
    "Extent",
    "KINDS",
    "Plane",
    "SnapshotStore",
    "contour_segments",
    "cover_extent",
    "curve_points",
    "data_extent",
    "dense_predictor",
    "extent_covers",
    "forward_cost",
    "grid_points",
    "make_plane",
    "make_probe",
    "plane_probe",
    "plane_resolution",
    "region_index",
    "region_lut",
    "region_rgb",
]
