"""The Qt-free heart of LayerLab: specs, catalog, summary, checks, data, training."""
