"""`python -m gui_app.engine`: the engine process (the window starts it; see server.py)."""

import sys

from ..core.devices import request_memory_growth
from .server import run_engine

if __name__ == "__main__":
    request_memory_growth()
    sys.exit(run_engine())
