"""Live training diagnostics: cheap statistics, the problems they show, fixes as edits.

Why: a run that trains badly says so only through its loss curve, and a beginner cannot
read "the loss sits at 0.693" as "the gradients vanish before the first layer; use ReLU".
This package watches the training the way an experienced person would (the gradients per
layer, silent ReLU units, saturated sigmoids, the update sizes, the loss curves against a
trivial baseline) and says what is wrong in plain words, with the numbers, and with fixes
that are ordinary project edits.

The package, by concern:

- `stats`: the Keras callback and `StatsCollector`: every `DEFAULT_EVERY` batches and at
  each epoch's end, statistics of a fixed probe batch as plain `Sample` records, within a
  time budget (`benchmarks/diagnostics.py` measures the cost against plain `fit`);
- `numpy_probe`: the probe's pass written out in NumPy for small Dense networks (no
  tracing, a fraction of a millisecond);
- `detect`: `Diagnoser`, the stream in, `Finding`s out (codes in `CODES`, each threshold
  justified in `Thresholds`), active or resolved;
- `fixes`: `FixRef` and the transformations `Project -> Project`, with `suggest`;
- `events`: `FindingEvent`, the plain-data event for the training's event stream;
- `layers`: `LayerStatsEvent` for the window's Layers view (each weighted layer's gradient
  norms and histograms of its activations and weights), a few a second (`LayerFeed`);
- `run`: `diagnose`, training a project in this thread with all of it on (benchmark,
  tests, command line).

Nothing here imports Qt, and Keras is imported only inside the functions that build or
run a model, so the detector and the fixes load in the window's process.
"""

from .detect import CODES, Diagnoser, Finding, RunContext, Thresholds, context_for
from .events import ACTIVE, RESOLVED, FindingEvent
from .fixes import FixRef, apply_fix, fix_for, suggest
from .stats import EpochLogs, LayerStats, Sample, StatsCollector, diagnostics_callback, pick_probe

__all__ = [
    "ACTIVE", "CODES", "RESOLVED", "Diagnoser", "EpochLogs", "Finding", "FindingEvent",
    "FixRef", "LayerStats", "RunContext", "Sample", "StatsCollector", "Thresholds",
    "apply_fix", "context_for", "diagnostics_callback", "fix_for", "pick_probe", "suggest",
]
