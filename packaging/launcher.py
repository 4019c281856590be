"""The bundle's entry script: PyInstaller freezes this; it runs `layerlab` as pip's script does.

A separate file (rather than gui_app/__main__.py) because PyInstaller runs its entry
script as `__main__`, outside the package, where the package's relative imports fail.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    # A frozen app that (or whose libraries) starts processes must call this first, or
    # every child re-runs the whole app (Windows and macOS spawn children).
    multiprocessing.freeze_support()
    from gui_app.__main__ import main

    sys.exit(main())
