"""The engine process: Keras runs here, never in the window's process.

`protocol` is the one message format between the two; `server` is the engine's side (run
with `layerlab --engine` or `python -m gui_app.engine`), `client` the window's side
(`Engine`, `RemoteSession`). See the README's "Two processes" section.
"""
