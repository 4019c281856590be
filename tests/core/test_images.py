"""The "images" data source without Keras: headers, the folder scan and every bad folder,
the settings, the split, the input shape, the checks, `layerlab check`, and the export's
listing of the folder (training on a folder is in test_images_training.py)."""

from __future__ import annotations

import ast
import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from gui_app.__main__ import main
from gui_app.core import images as images_module
from gui_app.core.checks import ERROR, INFO, WARNING, run_checks
from gui_app.core.codegen import model_code
from gui_app.core.data import DataError, load_dataset, resolve_data
from gui_app.core.export import export_script
from gui_app.core.image_data import ImageDataset, image_input_shape, split_indices
from gui_app.core.image_headers import HeaderError, ImageHeader, parse_header
from gui_app.core.images import scan_folder
from gui_app.core.project import save_project
from gui_app.core.shapes import draw_shapes, png_bytes, write_folder
from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project


def header_of(data: bytes):
    return parse_header(lambda offset, count: data[offset:offset + max(0, count)], len(data))


def grey(size: tuple[int, int] = (16, 16), value: int = 100) -> bytes:
    return png_bytes(np.full(size, value, np.uint8))


def make_folder(root: Path, counts: dict[str, int], size: tuple[int, int] = (16, 16)) -> Path:
    rng = np.random.default_rng(0)
    for name, n in counts.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            pixels = rng.integers(0, 256, size, dtype=np.uint8)
            (root / name / f"{name}_{i:03d}.png").write_bytes(png_bytes(pixels))
    return root


def images_cfg(path: str | Path, **more) -> dict:
    return {"source": "images", "path": str(path), "image_size": [16, 16],
            "color_mode": "grayscale", **more}


def codes(scan) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {p.code: (p.severity, p.paths) for p in scan.problems}


# -- headers -----------------------------------------------------------------------------------

def jpeg(width: int = 40, height: int = 30, components: int = 3, end: bool = True,
         sof_first: bool = True) -> bytes:
    """A JPEG's markers (no real image data): SOI, APP0, SOF0, SOS, EOI."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + bytes(9)
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 8 + 3 * components, 8, height, width,
                                    components) + bytes(3 * components)
    sos = b"\xff\xda" + struct.pack(">H", 8) + bytes(6) + b"\x12\x34"
    body = app0 + (sof + sos if sof_first else sos + sof)
    return b"\xff\xd8" + body + (b"\xff\xd9" if end else b"")


def gif(width: int = 7, height: int = 5, end: bool = True) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + bytes(3) + bytes(20) \
        + (b";" if end else b"")


def bmp(width: int = 5, height: int = 3, bits: int = 24, palette: bytes = b"",
        truncate: int = 0) -> bytes:
    row = (bits * width + 31) // 32 * 4
    pixels = bytes(row * height)
    offset = 14 + 40 + len(palette)
    data = b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset) \
        + struct.pack("<IiiHHIIiiII", 40, width, height, 1, bits, 0, len(pixels), 0, 0,
                      len(palette) // 4, 0) + palette + pixels
    return data[:len(data) - truncate]


def test_headers_give_size_and_channels_from_the_four_formats():
    assert header_of(grey((12, 20))) == ImageHeader("png", 20, 12, 1)
    png = header_of(png_bytes(np.zeros((12, 20, 3), np.uint8)))
    assert (png.format, png.width, png.height, png.channels) == ("png", 20, 12, 3)
    assert header_of(grey((12, 20))).channels == 1
    j = header_of(jpeg(40, 30, 1))
    assert (j.format, j.width, j.height, j.channels) == ("jpeg", 40, 30, 1)
    g = header_of(gif(7, 5))
    assert (g.format, g.width, g.height) == ("gif", 7, 5)
    b = header_of(bmp(5, 3, 24))
    assert (b.format, b.width, b.height, b.channels) == ("bmp", 5, 3, 3)
    ramp = b"".join(bytes([i, i, i, 0]) for i in range(256))
    assert header_of(bmp(5, 3, 8, ramp)).channels == 1


@pytest.mark.parametrize("data, kind, reason", [
    (grey()[:-12], "corrupt", "no IEND"),
    (grey()[:20], "corrupt", "ends inside its header"),
    (grey()[:29] + b"\x00\x00\x00\x00" + grey()[33:], "corrupt", "checksum"),
    (jpeg(end=False), "corrupt", "end-of-image"),
    (jpeg(sof_first=False), "corrupt", "before a frame header"),
    (jpeg(components=2), "unsupported", "2 colour components"),
    (gif(end=False), "corrupt", "GIF trailer"),
    (bmp(truncate=4), "corrupt", "truncated"),
    (bmp(bits=8, palette=b"\x00\x00\xff\x00" * 256), "unsupported", "colour palette"),
    (bmp(bits=16), "unsupported", "16 bits per pixel"),
    (b"hello, this is text", "not-image", "text"),
    (b"", "not-image", "an empty file"),
    (b"PK\x03\x04" + bytes(40), "not-image", "zip archive"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(20), "not-image", "WebP"),
])
def test_damaged_and_foreign_files_are_told_apart(data, kind, reason):
    with pytest.raises(HeaderError) as info:
        header_of(data)
    assert info.value.kind == kind and reason in info.value.reason


# -- the scan ----------------------------------------------------------------------------------

def test_a_good_folder_lists_classes_files_and_counts_in_order(tmp_path):
    root = make_folder(tmp_path / "data", {"cat": 3, "bird": 2, "dog": 4})
    (root / "cat" / "a").mkdir()
    (root / "cat" / "a" / "x.png").write_bytes(grey())
    scan = scan_folder(root, (16, 16), "grayscale")
    assert scan.ok and scan.problems == ()
    assert scan.classes == ("bird", "cat", "dog")  # sorted, as Keras sorts them
    assert scan.counts == (2, 4, 4)
    # each class's files in path order, sub-folders too ("cat/a/x.png" before "cat/cat_000")
    assert scan.class_files(1) == ("cat/a/x.png", "cat/cat_000.png", "cat/cat_001.png",
                                   "cat/cat_002.png")
    assert list(scan.labels) == [0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
    assert set(scan.heights) == {16} and set(scan.channels) == {1}
    samples = scan.samples(2, 3)
    assert [p.name for p in samples] == ["dog_000.png", "dog_002.png", "dog_003.png"]
    assert all(p.is_absolute() and p.exists() for p in samples)


def test_no_class_subfolders_says_where_the_images_are(tmp_path):
    root = tmp_path / "flat"
    root.mkdir()
    for i in range(3):
        (root / f"img{i}.png").write_bytes(grey())
    scan = scan_folder(root)
    (problem,) = scan.errors
    assert problem.code == "no-classes"
    assert "got no subfolders, but 3 images directly in it" in problem.message
    assert "subfolder named after the class" in problem.message
    with pytest.raises(DataError) as info:
        load_dataset(images_cfg(root))
    assert info.value.problems[0].startswith("data.path: expected one subfolder per class")


def test_one_class_is_refused(tmp_path):
    scan = scan_folder(make_folder(tmp_path / "d", {"cat": 4}))
    (problem,) = scan.errors
    assert problem.code == "one-class" and "got one, 'cat' (4 images)" in problem.message


def test_an_empty_class_is_refused_and_says_why_it_is_empty(tmp_path):
    root = make_folder(tmp_path / "d", {"cat": 2, "dog": 2})
    (root / "bird").mkdir()
    (root / "fish").mkdir()
    (root / "fish" / "broken.png").write_bytes(grey()[:-12])
    scan = scan_folder(root)
    empty = {p.paths[0]: p.message for p in scan.errors if p.code == "empty-class"}
    assert set(empty) == {"bird", "fish"}
    assert "got none. Add images" in empty["bird"]
    assert "its 1 file named as images were left out" in empty["fish"]
    with pytest.raises(DataError) as info:
        load_dataset(images_cfg(root))
    text = str(info.value)
    # the refusal keeps the warning that explains the empty class
    assert "'bird'" in text and "'fish'" in text and "fish/broken.png" in text


def test_a_missing_path_and_a_file_are_refused_with_the_project_folder(tmp_path):
    with pytest.raises(DataError) as info:
        load_dataset(images_cfg("pictures"), tmp_path)
    (line,) = info.value.problems
    assert "got 'pictures', which does not exist at" in line
    assert f"relative paths are read from the project's folder {tmp_path}" in line
    (tmp_path / "a.png").write_bytes(grey())
    with pytest.raises(DataError, match="got the file .*a.png. Choose the folder"):
        load_dataset(images_cfg("a.png"), tmp_path)
    missing = scan_folder(tmp_path / "nowhere")
    assert [p.code for p in missing.errors] == ["no-folder"]


def test_the_lesson_folder_name_says_how_it_is_made(tmp_path):
    with pytest.raises(DataError, match="Open Example"):
        load_dataset(images_cfg("shapes"), tmp_path)


def test_files_that_are_not_images_are_named_and_left_out(tmp_path):
    root = make_folder(tmp_path / "d", {"cat": 2, "dog": 2})
    (root / "cat" / "notes.txt").write_text("not a picture")
    (root / "cat" / "fake.png").write_text("<html>not a picture</html>")
    (root / "dog" / "cut.png").write_bytes(grey()[:-20])
    (root / ".DS_Store").write_bytes(b"\x00\x01")
    (root / "dog" / "._dog_000.png").write_bytes(b"\x00\x05\x16\x07")  # a macOS shadow file
    (root / "loose.png").write_bytes(grey())
    scan = scan_folder(root)
    found = codes(scan)
    assert found["not-image"] == ("note", ("cat/notes.txt",))
    assert found["named-image-not-image"] == ("warning", ("cat/fake.png",))
    assert found["corrupt"] == ("warning", ("dog/cut.png",))
    assert found["hidden"] == ("note", (".DS_Store", "dog/._dog_000.png"))
    assert found["no-class"] == ("note", ("loose.png",))
    message = next(p.message for p in scan.problems if p.code == "named-image-not-image")
    assert message == ("1 file named as an image is not an image and is left out: "
                       "'cat/fake.png' (text (HTML or SVG)). Delete it, or replace it with a "
                       "PNG, JPEG, BMP or GIF image.")
    corrupt = next(p.message for p in scan.problems if p.code == "corrupt")
    assert "checking each file's header and end before training" in corrupt
    assert "(truncated: no IEND end chunk)" in corrupt
    assert scan.ok and scan.counts == (2, 2)
    assert set(scan.skipped) == {"cat/fake.png", "dog/cut.png"}
    # the dataset trains on the rest and says what it left out
    ds = load_dataset(images_cfg(root, validation_split=0.0))
    notes = ds.info().notes
    assert ds.info().images and len(ds.x_train) == 4
    assert {severity for severity, _ in notes} == {"warning", "note"}
    assert any("cat/fake.png" in text for severity, text in notes if severity == "warning")


def test_many_bad_files_are_counted_and_all_kept(tmp_path):
    root = make_folder(tmp_path / "d", {"cat": 1, "dog": 1})
    for i in range(25):
        (root / "cat" / f"bad{i:02d}.jpg").write_text("x")
    problem = next(p for p in scan_folder(root).problems if p.code == "named-image-not-image")
    assert len(problem.paths) == 25  # the problem keeps every path
    assert "and 15 more" in problem.message  # the message names ten


def test_mixed_sizes_are_resized_and_said_so(tmp_path):
    root = make_folder(tmp_path / "d", {"cat": 3, "dog": 2}, size=(16, 16))
    (root / "dog" / "wide.png").write_bytes(grey((10, 30)))
    (root / "dog" / "big.png").write_bytes(grey((32, 32)))
    scan = scan_folder(root, (16, 16), "grayscale")
    (note,) = [p for p in scan.problems if p.code == "mixed-sizes"]
    assert note.severity == "note"
    assert "come in 3 sizes (width x height: 16x16: 5, " in note.message
    assert "resized to 16x16 (bilinear)" in note.message and "stretched (1 of the 3" in note.message
    same = scan_folder(make_folder(tmp_path / "e", {"a": 2, "b": 2}, size=(20, 30)), (16, 16))
    (resized,) = [p for p in same.problems if p.code == "resized"]
    assert "Every image is 30x20 (width x height) and is resized to 16x16" in resized.message
    assert "stretches" in resized.message and "[20, 30]" in resized.message


def test_colour_notes(tmp_path):
    root = make_folder(tmp_path / "d", {"a": 1, "b": 1})
    (root / "a" / "colour.png").write_bytes(png_bytes(np.zeros((16, 16, 3), np.uint8)))
    grey_mode = scan_folder(root, (16, 16), "grayscale")
    assert "1 image is in colour and read as grey" in codes_text(grey_mode, "colour")
    rgb = scan_folder(make_folder(tmp_path / "e", {"a": 1, "b": 1}), (16, 16), "rgb")
    assert "Every image is grey" in codes_text(rgb, "colour")


def codes_text(scan, code: str) -> str:
    return next(p.message for p in scan.problems if p.code == code)


def test_a_header_claiming_too_many_pixels_is_not_decoded(tmp_path):
    root = make_folder(tmp_path / "d", {"a": 1, "b": 1})
    head = struct.pack(">IIBBBBB", 30_000, 30_000, 8, 0, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + head \
        + struct.pack(">I", zlib.crc32(b"IHDR" + head)) + b"\x00\x00\x00\x00IEND\xaeB`\x82"
    (root / "a" / "bomb.png").write_bytes(bomb)
    scan = scan_folder(root)
    assert codes(scan)["too-many-pixels"] == ("warning", ("a/bomb.png",))
    assert "30,000 x 30,000" in codes_text(scan, "too-many-pixels")


def test_large_files_are_left_out(tmp_path, monkeypatch):
    monkeypatch.setattr(images_module, "MAX_IMAGE_FILE_BYTES", 100)
    root = make_folder(tmp_path / "d", {"a": 1, "b": 1})
    (root / "a" / "big.png").write_bytes(png_bytes(np.random.default_rng(0).integers(
        0, 255, (64, 64), dtype=np.uint8)))
    # 100 bytes: the 16 x 16 noise images are larger too
    assert "a/big.png" in codes(scan_folder(root))["too-large"][1]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_and_links_out_of_the_folder_are_not_read(tmp_path):
    root = make_folder(tmp_path / "d", {"a": 2, "b": 2})
    os.mkfifo(root / "a" / "pipe.png")
    outside = tmp_path / "secret.png"
    outside.write_bytes(grey())
    os.symlink(outside, root / "b" / "out.png")
    os.symlink(root / "a" / "a_000.png", root / "b" / "in.png")  # inside: followed
    elsewhere = make_folder(tmp_path / "other", {"z": 1}) / "z"
    os.symlink(elsewhere, root / "b" / "linked")
    os.symlink(elsewhere, root / "c")  # a class folder that is a link
    scan = scan_folder(root)  # returns: the pipe is never opened for reading
    found = codes(scan)
    assert found["special-file"] == ("warning", ("a/pipe.png",))
    assert "(a named pipe)" in codes_text(scan, "special-file")
    assert found["link-outside"] == ("warning", ("b/out.png",))
    assert found["linked-folder"] == ("note", ("c", "b/linked"))
    assert scan.classes == ("a", "b") and "b/in.png" in scan.files
    assert set(scan.skipped) == {"a/pipe.png", "b/out.png"}


def test_limits_on_files_classes_and_depth(tmp_path, monkeypatch):
    root = make_folder(tmp_path / "d", {"a": 3, "b": 3})
    monkeypatch.setattr(images_module, "MAX_IMAGE_FILES", 4)
    assert [p.code for p in scan_folder(root).errors] == ["too-many-files"]
    monkeypatch.setattr(images_module, "MAX_IMAGE_FILES", 100)
    monkeypatch.setattr(images_module, "MAX_IMAGE_FOLDER_ENTRIES", 5)
    assert [p.code for p in scan_folder(root).errors] == ["too-many-entries"]
    monkeypatch.setattr(images_module, "MAX_IMAGE_FOLDER_ENTRIES", 1000)
    monkeypatch.setattr(images_module, "MAX_IMAGE_CLASSES", 1)
    (problem,) = scan_folder(root).errors
    assert problem.code == "too-many-classes" and "at most 1 class" in problem.message
    monkeypatch.setattr(images_module, "MAX_IMAGE_CLASSES", 1000)
    monkeypatch.setattr(images_module, "MAX_IMAGE_FOLDER_DEPTH", 1)
    deep = root / "a" / "one" / "two"
    deep.mkdir(parents=True)
    (deep / "deep.png").write_bytes(grey())
    (root / "a" / "one" / "ok.png").write_bytes(grey())
    scan = scan_folder(root)
    assert codes(scan)["too-deep"] == ("warning", ("a/one/two",))
    assert "a/one/ok.png" in scan.files and "a/one/two/deep.png" not in scan.files


# -- settings, split, shape -----------------------------------------------------------------

@pytest.mark.parametrize("change, message", [
    ({"path": None}, "data.path: expected the folder of images (one subfolder per class)"),
    ({"image_size": [0, 28]}, "data.image_size: expected [height, width], two whole numbers"),
    ({"image_size": [28]}, "got [28]"),
    ({"image_size": "28x28"}, "got '28x28'"),
    ({"image_size": [28.5, 28]}, "got [28.5, 28]"),
    ({"image_size": [5000, 28]}, "from 1 to 1024"),
    ({"color_mode": "rgba"}, "data.color_mode: expected 'grayscale' or 'rgb', got 'rgba'"),
    ({"standardize": True}, "put a Rescaling layer (scale 1/255) first"),
])
def test_settings_are_checked_with_expected_got_and_fix(change, message):
    cfg = {**images_cfg("somewhere"), **change}
    with pytest.raises(DataError) as info:
        resolve_data(cfg)
    assert any(message in line for line in info.value.problems), info.value.problems


def test_settings_resolve_and_give_the_input_shape_without_the_folder():
    cfg = resolve_data(images_cfg("x", image_size=(28, 32), color_mode="rgb"))
    assert cfg["image_size"] == [28, 32] and cfg["color_mode"] == "rgb"
    assert image_input_shape(cfg) == (28, 32, 3)
    assert image_input_shape({"source": "images", "path": "x"}) == (64, 64, 3)  # defaults
    assert image_input_shape({"source": "circle"}) is None
    assert image_input_shape({"source": "images", "image_size": "big"}) is None


def test_the_split_is_by_seed_disjoint_and_whole():
    train, val, test = split_indices(100, 3, 0.1, 0.2)
    assert (len(train), len(val), len(test)) == (70, 20, 10)
    assert sorted(np.concatenate([train, val, test])) == list(range(100))
    again = split_indices(100, 3, 0.1, 0.2)
    assert all(np.array_equal(a, b) for a, b in zip(again, (train, val, test)))
    other = split_indices(100, 4, 0.1, 0.2)
    assert not np.array_equal(other[2], test)
    assert [len(p) for p in split_indices(5, 0, 0.01, 0.0)] == [4, 0, 1]  # at least one


def test_the_dataset_has_files_labels_shape_and_split(tmp_path):
    root = make_folder(tmp_path / "d", {"a": 10, "b": 10, "c": 10})
    ds = load_dataset(images_cfg(root, validation_split=0.2, test_split=0.1, seed=5))
    assert isinstance(ds, ImageDataset) and ds.streamed
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (21, 6, 3)
    assert ds.x_train.shape == (21, 16, 16, 1) and ds.x_train.ndim == 4
    assert ds.class_names == ("a", "b", "c") and ds.num_classes == 3
    assert ds.task == "multiclass" and ds.y_train.dtype == np.int64
    every = set(ds.x_train.paths) | set(ds.x_val.paths) | set(ds.x_test.paths)
    assert len(every) == 30 and all(Path(p).is_file() for p in every)
    assert ds.x_test[0] == ds.x_test.paths[0]
    # labels follow the files' folders
    for path, label in zip(ds.x_train.paths, ds.y_train):
        assert Path(path).parent.name == "abc"[label]
    info = ds.info()
    assert (info.input_shape, info.label_shape, info.num_classes) == ((16, 16, 1), (), 3)
    assert sum(info.class_counts) == 21
    assert "21 train / 6 validation / 3 test images, 16x16x1 (grayscale), 3 classes" \
        in ds.description
    with pytest.raises(TypeError, match="files read from disk"):
        np.asarray(ds.x_train)
    # the same settings give the same split; one-hot labels and colour change only those
    again = load_dataset(images_cfg(root, validation_split=0.2, test_split=0.1, seed=5))
    assert again.x_test.paths == ds.x_test.paths
    hot = load_dataset(images_cfg(root, labels="one_hot", color_mode="rgb"))
    assert hot.y_train.shape[1:] == (3,) and hot.info().input_shape == (16, 16, 3)


def test_a_relative_path_is_read_from_the_project_folder(tmp_path):
    make_folder(tmp_path / "pics", {"a": 3, "b": 3})
    ds = load_dataset(images_cfg("pics"), tmp_path)
    assert ds.root == tmp_path / "pics"


def test_two_classes_are_a_binary_task(tmp_path):
    ds = load_dataset(images_cfg(make_folder(tmp_path / "d", {"no": 4, "yes": 4})))
    assert ds.task == "binary" and ds.info().label_kind == "binary"


def test_too_large_splits_leave_nothing_to_train(tmp_path):
    root = make_folder(tmp_path / "d", {"a": 1, "b": 1})
    with pytest.raises(DataError, match="leaving none"):
        load_dataset(images_cfg(root, validation_split=0.5, test_split=0.4))


# -- checks ---------------------------------------------------------------------------------

def image_project(layers: list[LayerSpec], path: Path, **data) -> Project:
    return Project(
        name="Pictures", model=ModelSpec((16, 16, 1), tuple(layers)),
        compile=CompileSpec(ObjectSpec("Adam"), ObjectSpec("sparse_categorical_crossentropy"),
                            (ObjectSpec("accuracy"),)),
        data=images_cfg(path, **data), fit={"epochs": 2, "batch_size": 8})


CNN = [LayerSpec("Rescaling", {"scale": 1 / 255}),
       LayerSpec("Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}),
       LayerSpec("Flatten"), LayerSpec("Dense", {"units": 3, "activation": "softmax"})]


def test_checks_want_a_flatten_or_conv_before_dense_and_units_per_class(tmp_path):
    root = make_folder(tmp_path / "d", {"a": 4, "b": 4, "c": 4})
    info = load_dataset(images_cfg(root)).info()
    assert not [f for f in run_checks(image_project(CNN, root), info) if f.severity != INFO]
    dense = image_project([LayerSpec("Rescaling", {"scale": 1 / 255}),
                           LayerSpec("Dense", {"units": 3, "activation": "softmax"})], root)
    findings = run_checks(dense, info)
    (finding,) = [f for f in findings if f.code == "dense-on-images"]
    assert finding.severity == ERROR and finding.where == "model.layers[1]"
    assert "gets images shaped (None, 16, 16, 1)" in finding.message
    assert "Put a Flatten before it" in finding.message and "Conv2D" in finding.message
    assert not [f for f in findings if f.code in ("dense-on-sequence", "output-not-flat")]
    fixed = finding.fixes[0].apply(dense)
    assert [layer.type for layer in fixed.model.layers] == ["Rescaling", "Flatten", "Dense"]
    assert not [f for f in run_checks(fixed, info) if f.severity == ERROR]
    pooled = finding.fixes[1].apply(dense)
    assert pooled.model.layers[1].type == "GlobalAveragePooling2D"
    # the output size must match the number of classes
    wrong = image_project(CNN[:-1] + [LayerSpec("Dense", {"units": 5,
                                                          "activation": "softmax"})], root)
    (units,) = [f for f in run_checks(wrong, info) if f.code == "output-units"]
    assert "needs 3: one output per class (3 classes)" in units.message
    # pixels from 0 to 255 want a Rescaling layer first
    (note,) = [f for f in run_checks(image_project(CNN[1:], root), info)
               if f.code == "images-not-rescaled"]
    assert note.severity == INFO and note.fixes[0].apply(image_project(CNN[1:], root)) \
        .model.layers[0] == LayerSpec("Rescaling", {"scale": 1 / 255})
    flipped = image_project([LayerSpec("RandomFlip"), *CNN], root)  # augmentation first
    assert "images-not-rescaled" not in {f.code for f in run_checks(flipped, info)}
    # the model's input shape is set from the data when it differs
    other = image_project(CNN, root).replace(model=ModelSpec((28, 28, 3), tuple(CNN)))
    (mismatch,) = [f for f in run_checks(other, info) if f.code == "input-shape-mismatch"]
    assert mismatch.fixes[0].apply(other).model.input_shape == (16, 16, 1)


def test_what_the_scan_left_out_becomes_findings(tmp_path):
    root = make_folder(tmp_path / "d", {"a": 4, "b": 4, "c": 4})
    (root / "a" / "fake.png").write_text("text")
    (root / "a" / "readme.txt").write_text("text")
    findings = run_checks(image_project(CNN, root), load_dataset(images_cfg(root)).info())
    left = [f for f in findings if f.code == "image-files-left-out"]
    notes = [f for f in findings if f.code == "image-folder-note"]
    assert [f.severity for f in left] == [WARNING] and "a/fake.png" in left[0].message
    assert [f.severity for f in notes] == [INFO] and "a/readme.txt" in notes[0].message


# -- layerlab check ---------------------------------------------------------------------------

def test_layerlab_check_reports_each_problem(tmp_path, capsys):
    root = make_folder(tmp_path / "pics", {"a": 4, "b": 4, "c": 4})
    (root / "a" / "fake.png").write_text("text")
    (root / "b" / "cut.png").write_bytes(grey()[:-12])
    (root / "b" / "wide.png").write_bytes(grey((8, 24)))
    path = save_project(image_project(CNN, Path("pics")), tmp_path / "p.layerlab.json")
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "WARNING data.path: 1 file named as an image is not an image" in out
    assert "WARNING data.path: 1 file is damaged" in out and "b/cut.png" in out
    assert "INFO    data.path: The images come in 2 sizes" in out
    (root / "c").rename(tmp_path / "c")
    for file in (root / "b").iterdir():
        if file.name != "cut.png":
            file.unlink()
    assert main(["check", str(path)]) == 2
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("ERROR")]
    assert len(lines) >= 2  # the empty class and the damaged file that emptied it
    assert any("'b'" in line and "got none" in line for line in lines)
    assert any("b/cut.png" in line for line in lines)
    assert main(["check", str(path), "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert {item["code"] for item in doc} == {"data"} and len(doc) == len(lines)


# -- code pane and export -------------------------------------------------------------------

def test_the_code_pane_fits_on_the_pipelines(tmp_path):
    text = model_code(image_project(CNN, tmp_path, validation_split=0.2))
    assert "history = model.fit(\n    train_ds,\n    epochs=2,\n    validation_data=val_ds," \
        in text
    assert "batch_size" not in text.split("history = model.fit(")[1]
    virtual = image_project(CNN, tmp_path).replace(
        fit={"epochs": 2, "batch_size": 8, "virtual_epochs": {"stop_point": 3,
                                                             "checkpoints": 4}})
    text = model_code(virtual)
    assert "total_examples = int(3 * len(train_files))" in text
    assert "steps_per_epoch=steps_per_epoch" in text and "epochs=4" in text


def _listing_of(script: str):
    """`list_images` from an exported script, compiled on its own (no TensorFlow)."""
    tree = ast.parse(script)
    (function,) = [n for n in tree.body if isinstance(n, ast.FunctionDef)
                   and n.name == "list_images"]
    skipped = [n for n in tree.body if isinstance(n, ast.Assign)
               and getattr(n.targets[0], "id", "") == "SKIPPED"]
    namespace: dict = {"os": os, "np": np}
    exec(compile(ast.Module([*skipped, function], []), "<script>", "exec"), namespace)
    return namespace["list_images"], namespace["SKIPPED"]


def test_the_exported_script_lists_the_folder_as_layerlab_does(tmp_path):
    root = make_folder(tmp_path / "pics", {"b": 3, "a": 3, "c": 2})
    (root / "a" / "fake.png").write_text("text")
    (root / "a" / "z").mkdir()
    (root / "a" / "z" / "nested.PNG").write_bytes(grey())
    (root / "a" / ".hidden").mkdir()
    (root / "a" / ".hidden" / "x.png").write_bytes(grey())
    (root / "b" / "._b_000.png").write_bytes(b"\x00\x05")
    (root / "c" / "cut.gif").write_bytes(gif(end=False))
    (root / "__MACOSX").mkdir()
    (root / "notes.txt").write_text("x")
    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "c" / "pipe.jpg")
    project = image_project(CNN, Path("pics"), test_split=0.2)
    script = export_script(project, tmp_path, tmp_path / "train.py")
    ast.parse(script)
    compile(script, "train.py", "exec")
    list_images, skipped = _listing_of(script)
    classes, files, labels = list_images(str(root), skipped)
    ds = load_dataset(project.data, tmp_path)
    assert tuple(classes) == ds.scan.classes
    assert tuple(files) == ds.scan.files and list(labels) == list(ds.scan.labels)
    assert "DATA_PATH = 'pics'" in script and "import tensorflow as tf" in script
    assert "def image_batches(" in script and "def split_indices(" in script
    assert "test_ds = batches(test)" in script and "model.evaluate(test_ds" in script


def test_an_exported_script_quotes_stranger_paths(tmp_path):
    root = make_folder(tmp_path / "p'\"ics", {"a\nb": 2, "c": 2})
    (root / "c" / "x'y\".png").write_text("not an image")
    project = image_project(CNN, root)
    script = export_script(project, tmp_path)
    tree = ast.parse(script)
    assert not any(isinstance(n, ast.Expr) and isinstance(getattr(n, "value", None), ast.Call)
                   and getattr(n.value.func, "id", "") in ("exec", "eval") for n in tree.body)
    list_images, skipped = _listing_of(script)
    assert skipped == {"c/x'y\".png"}


# -- the lesson's generator -----------------------------------------------------------------

def test_the_shapes_are_written_as_png_files_into_class_folders(tmp_path):
    images, labels = draw_shapes(4, size=20, seed=1)
    assert images.shape == (12, 20, 20) and images.dtype == np.uint8
    assert list(labels) == [0] * 4 + [1] * 4 + [2] * 4
    again, _ = draw_shapes(4, size=20, seed=1)
    assert np.array_equal(images, again)
    folder = write_folder(tmp_path / "shapes", per_class=4, size=20)
    scan = scan_folder(folder, (20, 20), "grayscale")
    assert scan.ok and scan.problems == ()
    assert scan.classes == ("circle", "square", "triangle") and scan.counts == (4, 4, 4)
    assert set(scan.widths) == {20}


def test_png_bytes_round_trip_through_zlib():
    pixels = np.arange(12 * 5, dtype=np.uint8).reshape(12, 5)
    data = png_bytes(pixels)
    assert header_of(data).width == 5 and header_of(data).height == 12
    idat = data[data.index(b"IDAT") + 4:data.index(b"IEND") - 8]
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(12, 6)
    assert np.array_equal(rows[:, 1:], pixels) and not rows[:, 0].any()
