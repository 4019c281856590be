"""Shared test set-up: Qt offscreen, no GPU, quiet TensorFlow, settings kept out of $HOME."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

# Approvals of outside paths (core.paths) are stamped with a key kept in LayerLab's
# configuration folder: tests keep theirs in a temporary one.
import tempfile  # noqa: E402

os.environ.setdefault("LAYERLAB_CONFIG_DIR", tempfile.mkdtemp(prefix="layerlab-config-"))
# The shapes lesson writes its pictures into LayerLab's data folder on first use
# (core.paths.data_dir): tests keep them in a temporary one.
os.environ.setdefault("LAYERLAB_DATA_DIR", tempfile.mkdtemp(prefix="layerlab-data-"))
