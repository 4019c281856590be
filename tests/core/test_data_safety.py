"""Data files from strangers: no hangs, no unbounded memory, no code run, no content echoed.

A data path comes from a project file, and a project file may come from anyone. Each test
crafts a small hostile file in tmp_path and expects a DataError whose message says what
was wrong; none of them may allocate what the file claims (the forged sizes are terabytes).
"""

from __future__ import annotations

import ast
import io
import os
import pickle
import struct
import sys
import threading
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gui_app.core import data as data_module
from gui_app.core.data import DataError, load_dataset

# --------------------------------------------------------------------------- helpers


def load_error(settings: dict[str, Any], base_dir: Path | None = None) -> str:
    """The message of the DataError that loading must raise (any other exception fails)."""
    with pytest.raises(DataError) as info:
        load_dataset(settings, base_dir=base_dir)
    return str(info.value)


def load_error_within(settings: dict[str, Any], seconds: float = 5.0) -> str:
    """`load_error`, failing instead of hanging when the load blocks (a FIFO)."""
    outcome: dict[str, BaseException | None] = {}

    def run() -> None:
        try:
            load_dataset(settings)
            outcome["error"] = None
        except BaseException as err:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = err

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"loading {settings['path']} blocked for {seconds} s"
    err = outcome["error"]
    assert isinstance(err, DataError), f"expected a DataError, got {err!r}"
    return str(err)


def npy_bytes(shape: tuple[int, ...], descr: str = "<f8", payload: bytes = b"") -> bytes:
    """A .npy file written by hand: a version 1.0 header claiming `shape`, then `payload`."""
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + payload


def npy_of(array: np.ndarray, version: tuple[int, int] | None = None) -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array(out, array, version=version, allow_pickle=True)
    return out.getvalue()


def write_npz(path: Path, members: dict[str, bytes], compress: bool = False) -> Path:
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def good_y(n: int = 10) -> bytes:
    return npy_of(np.arange(n) % 2)


def npz_settings(path: Path) -> dict[str, Any]:
    return {"source": "npz", "path": str(path)}


def csv_settings(path: Path | str) -> dict[str, Any]:
    return {"source": "csv", "path": str(path)}


class Toucher:
    """Unpickling this creates `marker`: proof that a file's pickle was (not) run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


# --------------------------------------------------------------------------- paths


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize("source", ["csv", "npz"])
def test_a_fifo_is_refused_at_once_instead_of_hanging(tmp_path: Path, source: str) -> None:
    fifo = tmp_path / f"pipe.{source}"
    os.mkfifo(fifo)
    message = load_error_within({"source": source, "path": str(fifo)})
    assert message.startswith("data.path: ")
    assert "named pipe (FIFO)" in message and str(fifo) in message


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
@pytest.mark.parametrize("source", ["csv", "npz"])
def test_a_link_to_an_endless_device_is_refused(tmp_path: Path, device: str, source: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    link = tmp_path / f"data.{source}"
    link.symlink_to(device)
    message = load_error_within({"source": source, "path": str(link)})
    assert message.startswith(f"data.path: expected a regular {source.upper()} file")
    assert "a device such as /dev/zero" in message
    assert "folder" not in message  # it used to say "got the folder"


def test_a_path_of_5000_characters_is_a_data_error(tmp_path: Path) -> None:
    message = load_error(csv_settings("a" * 5000 + ".csv"), base_dir=tmp_path)
    assert message.startswith("data.path: expected a file name of at most 1024 characters")
    assert "5,004 characters" in message and "a" * 200 not in message


def test_a_name_part_too_long_for_the_file_system_is_a_data_error(tmp_path: Path) -> None:
    message = load_error(csv_settings(tmp_path / ("b" * 300 + ".csv")))
    assert message.startswith("data.path: expected a CSV file, got")
    assert "cannot be looked up" in message


def test_a_home_folder_of_nobody_is_a_data_error() -> None:
    message = load_error(csv_settings("~nouser_that_does_not_exist/x.csv"))
    assert message.startswith("data.path: expected a file name")
    assert "no user called 'nouser_that_does_not_exist'" in message


def test_a_nul_in_the_path_is_a_data_error() -> None:
    message = load_error(csv_settings("data\x00.csv"))
    assert "NUL character" in message


def test_a_file_over_the_csv_size_limit_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data_module, "MAX_CSV_BYTES", 100)
    path = tmp_path / "big.csv"
    path.write_text("a,y\n" + "1,0\n" * 100)
    message = load_error(csv_settings(path))
    assert message.startswith("data.path: expected a CSV file of at most 100 bytes, got 404")
    assert "np.savez" in message


# --------------------------------------------------------------------------- NPZ sizes


def test_a_forged_npy_header_claiming_terabytes_is_refused_unallocated(tmp_path: Path) -> None:
    path = write_npz(
        tmp_path / "huge.npz",
        {"x.npy": npy_bytes((1000000, 1000000), payload=b"\0" * 16), "y.npy": good_y()},
    )
    assert path.stat().st_size < 2000
    message = load_error(npz_settings(path))
    assert "the array 'x' claims shape (1,000,000, 1,000,000) of float64" in message
    assert "7.3 TB" in message and "expected arrays of at most" in message


def test_an_absurd_shape_is_refused_without_overflow(tmp_path: Path) -> None:
    shape = (10**40, 10**40, 10**40)
    path = write_npz(tmp_path / "absurd.npz", {"x.npy": npy_bytes(shape), "y.npy": good_y()})
    message = load_error(npz_settings(path))
    assert "more than a million TB" in message and "a huge number" in message


def test_a_negative_shape_is_a_damaged_file(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "neg.npz", {"x.npy": npy_bytes((-5, 2)), "y.npy": good_y()})
    assert "claims a negative size" in load_error(npz_settings(path))


def test_a_compressed_member_that_inflates_past_the_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data_module, "MAX_ARRAY_BYTES", 1024 * 1024)
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, x=np.zeros((2 * 1024 * 1024 // 8, 1)), y=np.arange(262144) % 2)
    assert path.stat().st_size < 100_000  # 2 MB of zeros compress to a few KB
    message = load_error(npz_settings(path))
    assert "expected arrays of at most 1.0 MB in all" in message
    assert "claims shape (262,144, 1) of float64, which is 2.0 MB" in message


def test_arrays_are_limited_all_together_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data_module, "MAX_ARRAY_BYTES", 1024 * 1024)
    path = tmp_path / "pair.npz"
    np.savez(path, x=np.zeros((80_000,)), y=np.zeros((80_000,)))  # 625 KB each
    message = load_error(npz_settings(path))
    assert "and all arrays so far 1.2 MB" in message


def test_the_limit_follows_the_memory_available(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data_module, "memory_budget", lambda: 4096)
    path = tmp_path / "d.npz"
    np.savez(path, x=np.zeros((1000, 2)), y=np.arange(1000) % 2)
    message = load_error(npz_settings(path))
    assert "expected arrays of at most 4.0 KB in all (what the memory available now allows)" in (
        message
    )


@pytest.mark.parametrize("extra", [1000, -40])
def test_a_member_whose_size_disagrees_with_its_header_is_refused(
    tmp_path: Path, extra: int
) -> None:
    content = npy_of(np.ones((10,)))
    content = content + b"\0" * extra if extra > 0 else content[:extra]
    path = write_npz(tmp_path / "mismatch.npz", {"x.npy": content, "y.npy": good_y()})
    message = load_error(npz_settings(path))
    assert "expected an .npz archive written by np.savez" in message
    assert "but its header claims 208 bytes" in message and "made to mislead" in message


def test_more_members_than_an_archive_may_hold_are_refused(tmp_path: Path) -> None:
    members = {f"a{i}.npy": npy_of(np.zeros(1)) for i in range(65)}
    path = write_npz(tmp_path / "many.npz", {**members, "x.npy": good_y(), "y.npy": good_y()})
    message = load_error(npz_settings(path))
    assert "expected an .npz archive of at most 64 arrays" in message and "67 members" in message


def test_a_member_count_that_lies_is_caught_after_opening(tmp_path: Path) -> None:
    members = {f"a{i}.npy": npy_of(np.zeros(1)) for i in range(70)}
    path = write_npz(tmp_path / "liar.npz", members)
    raw = bytearray(path.read_bytes())
    end = raw.rindex(b"PK\x05\x06")
    raw[end + 8 : end + 12] = struct.pack("<HH", 2, 2)  # "2 entries" in the end record
    path.write_bytes(bytes(raw))
    message = load_error(npz_settings(path))
    assert "expected an .npz archive of at most 64 arrays" in message and "70 members" in message


# --------------------------------------------------------------------------- NPZ content


def test_a_raw_pickle_member_is_refused_and_never_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = write_npz(
        tmp_path / "pickled.npz", {"x.npy": pickle.dumps(Toucher(marker)), "y.npy": good_y()}
    )
    message = load_error(npz_settings(path))
    assert "the member 'x.npy' is not one (it lacks the .npy signature" in message
    assert "unpickling can run code" in message
    assert not marker.exists()


def test_an_object_array_is_refused_from_its_header_and_never_unpickled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "ran"
    objects = np.empty(2, dtype=object)
    objects[0], objects[1] = Toucher(marker), 1
    path = write_npz(tmp_path / "objects.npz", {"x.npy": npy_of(objects), "y.npy": good_y(2)})

    def no_arrays(*args: object, **kwargs: object) -> None:
        raise AssertionError("an array was read before the headers were checked")

    monkeypatch.setattr(np.lib.format, "read_array", no_arrays)
    monkeypatch.setattr(np, "load", no_arrays)
    message = load_error(npz_settings(path))
    assert "got the object array 'x'" in message and "unpickling can run code" in message
    assert not marker.exists()


def test_a_member_that_is_not_an_array_file_is_refused(tmp_path: Path) -> None:
    path = write_npz(
        tmp_path / "notes.npz",
        {"x.npy": npy_of(np.ones((10, 2))), "y.npy": good_y(), "notes.txt": b"secret text"},
    )
    message = load_error(npz_settings(path))
    assert "expected only arrays saved by np.savez (members ending in .npy)" in message
    assert "'notes.txt'" in message and "secret text" not in message


def test_a_damaged_header_is_not_quoted(tmp_path: Path) -> None:
    header = "{'descr': '<f8', 'secret': 'hunter2', 'shape': (3,), }".ljust(117) + "\n"
    content = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()
    path = write_npz(tmp_path / "bad.npz", {"x.npy": content, "y.npy": good_y()})
    message = load_error(npz_settings(path))
    assert "the header of the member 'x.npy' is damaged" in message
    assert "hunter2" not in message


def test_the_usual_npz_files_still_load(tmp_path: Path) -> None:
    x = np.asfortranarray(np.arange(40.0).reshape(20, 2))
    np.savez_compressed(tmp_path / "c.npz", x=x, y=np.arange(20) % 2)
    ds = load_dataset({"source": "npz", "path": "c.npz", "validation_split": 0}, tmp_path)
    np.testing.assert_array_equal(np.sort(ds.x_train[:, 0]), x[:, 0])
    path = write_npz(tmp_path / "v2.npz", {"x.npy": npy_of(x, version=(2, 0)), "y.npy": good_y(20)})
    assert load_dataset(npz_settings(path)).x_train.shape[1] == 2


@pytest.mark.parametrize("array", ["x", "y"])
def test_npz_values_beyond_float32_are_refused_with_their_rows(tmp_path: Path, array: str) -> None:
    x, y = np.ones((10, 2)), np.linspace(0.0, 1.0, 10)
    (x if array == "x" else y)[3] = 1e39
    np.savez(tmp_path / "big.npz", x=x, y=y)
    message = load_error(npz_settings(tmp_path / "big.npz"))
    assert f"array '{array}'" in message
    assert "expected numbers no larger than 3.4e+38 in size" in message
    assert "larger ones in 1 rows (first: 3)" in message


# --------------------------------------------------------------------------- CSV


def test_csv_values_beyond_float32_are_refused_with_column_and_rows(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(
        "a,b,y\n" + "".join(f"{i},{'1e39' if i == 2 else i},{i % 2}\n" for i in range(9))
    )
    message = load_error(csv_settings(path))
    assert "big.csv column 'b': expected numbers no larger than 3.4e+38" in message
    assert "got larger ones in rows 4." in message


def test_a_csv_regression_target_beyond_float32_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "reg.csv"
    path.write_text(
        "a,price\n" + "".join(f"{i},{i + 0.5 if i != 5 else -2e39}\n" for i in range(30))
    )
    message = load_error(csv_settings(path))
    assert "reg.csv column 'price': expected numbers no larger than 3.4e+38" in message
    assert "rows 7." in message


def test_etc_passwd_as_a_csv_shows_none_of_it() -> None:
    if not os.path.isfile("/etc/passwd"):
        pytest.skip("no /etc/passwd here")
    for settings in (
        csv_settings("/etc/passwd"),
        {**csv_settings("/etc/passwd"), "target": "z", "features": ["a"]},
        npz_settings(Path("/etc/passwd")),
    ):
        message = load_error(settings)
        assert "root:" not in message and "/bin/" not in message and "nologin" not in message


def test_a_text_file_with_commas_is_not_quoted(tmp_path: Path) -> None:
    path = tmp_path / "secrets.csv"
    path.write_text("user=alice,password=hunter2\ntoken=abc,key=xyz\nmore,text\n")
    message = load_error({**csv_settings(path), "target": "nope"})
    assert message.startswith("data.path: expected a CSV file of numbers in secrets.csv")
    for secret in ("alice", "hunter2", "abc", "xyz"):
        assert secret not in message


def test_a_header_line_alone_is_not_quoted(tmp_path: Path) -> None:
    path = tmp_path / "line.csv"
    path.write_text("user=alice,password=hunter2\n")
    message = load_error({**csv_settings(path), "target": "nope"})
    assert "expected data rows under the header" in message and "hunter2" not in message


def test_a_one_column_file_is_not_quoted(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("the first line is private: s3cr3t\n1\n2\n")
    message = load_error(csv_settings(path))
    assert "got one column" in message and "s3cr3t" not in message


def test_quoted_cells_and_names_are_cut_short(tmp_path: Path) -> None:
    long_text = "z" * 500
    path = tmp_path / "long.csv"
    path.write_text(f"a,{long_text},y\n" + "".join(f"{i},{long_text},{i % 2}\n" for i in range(9)))
    message = load_error(csv_settings(path))
    assert "(500 characters)" in message and "z" * 41 not in message


def test_a_csv_wider_than_the_column_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("a,y\n1,0\n" + "," * 150_000 + "\n")
    message = load_error(csv_settings(path))
    assert "expected at most 100,000 columns in wide.csv, got a row (line 3) of 150,001" in message


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_a_line_too_long_to_parse_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, newline: str
) -> None:
    monkeypatch.setattr(data_module, "_MAX_CSV_LINE_BYTES", 1000)
    path = tmp_path / "long.csv"
    rows = ["a,y"] + [f"{i},{i % 2}" for i in range(300)] + ["," * 5000, "1,0"]
    path.write_bytes(newline.join(rows).encode())
    message = load_error(csv_settings(path))
    assert "expected lines of at most 1,000 bytes in long.csv" in message
    assert "got a longer one at line 302." in message
    rows[-2] = "1" + "," * 900  # short enough: an ordinary row-length problem
    path.write_bytes(newline.join(rows).encode())
    assert "long.csv row 302: expected 2 cells like the header, got 901" in load_error(
        csv_settings(path)
    )


def test_a_csv_too_large_to_parse_in_memory_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data_module, "MAX_ARRAY_BYTES", 10_000)
    path = tmp_path / "rows.csv"
    path.write_text("a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(1000)))
    message = load_error(csv_settings(path))
    assert message.startswith("data.path: expected a CSV file that fits in 9.8 KB once parsed")


def test_blank_lines_are_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_module, "MAX_ARRAY_BYTES", 10_000)
    path = tmp_path / "blank.csv"
    path.write_text("a,y\n" + "\n" * 200_000 + "".join(f"{i},{i % 2}\n" for i in range(20)))
    assert len(load_dataset(csv_settings(path)).x_train) == 16


def test_messages_never_carry_a_traceback_type(tmp_path: Path) -> None:
    """Every crafted file above ends in a sentence; this one covers a zip that is cut off."""
    path = tmp_path / "cut.npz"
    np.savez(path, x=np.ones((100, 2)), y=np.arange(100) % 2)
    path.write_bytes(path.read_bytes()[:-30])
    message = load_error(npz_settings(path))
    assert "expected an .npz archive written by np.savez" in message


def test_the_helpers_in_this_file_are_honest() -> None:
    """The hand-written .npy header parses as numpy's own would."""
    raw = npy_bytes((2, 3), payload=b"\0" * 48)
    header = raw[10:].split(b"\n", 1)[0].decode()
    assert ast.literal_eval(header)["shape"] == (2, 3)
    assert np.lib.format.read_array(io.BytesIO(raw)).shape == (2, 3)
    assert sys.byteorder in ("little", "big")
