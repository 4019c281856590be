"""The decision-boundary grids of the current run, kept so that a slider can scrub back.

Stored per position in the run (epochs, fractional within an epoch), under a memory cap,
thinned evenly when over it. Kept apart from the views' other arithmetic because it is
about boundary grids only; only NumPy is imported.
"""

from __future__ import annotations

from .grids import BoundaryGrid


class SnapshotStore:
    """Boundary grids of one run keyed by their position in epochs, under a memory cap.

    When the grids outgrow `max_bytes`, every other stored snapshot is dropped (the
    newest is always kept), so a long run keeps evenly spread pictures of its whole
    history instead of only its last minutes.
    """

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = int(max_bytes)
        self._positions: list[float] = []
        self._grids: dict[float, BoundaryGrid] = {}
        self.nbytes = 0
        self.min_gap = 0.0  # grows with each thinning: later snapshots are kept as sparsely

    def __len__(self) -> int:
        return len(self._positions)

    @property
    def positions(self) -> list[float]:
        return list(self._positions)

    def clear(self) -> None:
        self._positions.clear()
        self._grids.clear()
        self.nbytes = 0
        self.min_gap = 0.0

    def add(self, position: float, grid: BoundaryGrid) -> None:
        position = round(float(position), 6)
        if position in self._grids:
            self.nbytes -= self._grids[position].values.nbytes
        else:
            if self._positions and position < self._positions[-1]:
                return  # from an earlier run that arrived late
            if (len(self._positions) >= 2 and self.min_gap > 0
                    and position - self._positions[-2] < self.min_gap):
                # keep the spacing the thinning left: replace the newest instead
                old = self._positions.pop()
                self.nbytes -= self._grids.pop(old).values.nbytes
            self._positions.append(position)
        self._grids[position] = grid
        self.nbytes += grid.values.nbytes
        while self.nbytes > self.max_bytes and len(self._positions) > 2:
            self._thin()

    def _thin(self) -> None:
        keep = self._positions[::2]
        if keep[-1] != self._positions[-1]:
            keep.append(self._positions[-1])
        for position in self._positions:
            if position not in keep:
                self.nbytes -= self._grids.pop(position).values.nbytes
        self._positions = keep
        if len(keep) >= 2:
            self.min_gap = (keep[-1] - keep[0]) / (len(keep) - 1)

    def get(self, index: int) -> tuple[float, BoundaryGrid]:
        position = self._positions[index]
        return position, self._grids[position]

    def latest(self) -> tuple[float, BoundaryGrid] | None:
        return self.get(len(self._positions) - 1) if self._positions else None
