"""LayerLab: build, inspect and train Keras Sequential networks in a desktop window."""

__version__ = "0.1.0"
