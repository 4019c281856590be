"""File > New from Template, and Save As naming an untitled project after its file."""

from __future__ import annotations


def test_new_from_a_template_and_save_as_names_it(window, tmp_path):
    from PySide6.QtWidgets import QMenu

    menu = window.menuBar().findChild(QMenu, "templatesMenu")
    titles = [a.text() for a in menu.actions()]
    assert titles == ["Empty model", "2-D classifier", "Regression", "Small CNN"]
    next(a for a in menu.actions() if a.data() == "cnn").trigger()
    project = window.controller.project
    assert project.name == "Untitled" and project.model.layers[1].type == "Conv2D"
    assert window.save_to(tmp_path / "digits demo.layerlab.json")
    assert window.controller.project.name == "digits demo"
    assert window.controller.is_clean
