"""Reading files from strangers: regular files only, never blocking, never past a size cap;
JSON with a depth limit, an integer-digits limit and no repeated keys.

Why each rule: a project that is a link to `/dev/zero` grew to 10.8 GB, one to
`/dev/urandom` ran until it was killed, and a FIFO hung `summary`, `check` and `train`
forever. A FIFO is opened with O_NONBLOCK so that `open` returns at once, and `fstat` on the
open descriptor (not the name, which could be swapped in between) decides whether it is a
regular file.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from .limits import (
    MAX_INT_DIGITS,
    MAX_JSON_DEPTH,
    MAX_PATH_CHARS,
    MAX_TEXT_CHARS,
    LimitError,
    format_bytes,
)

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a device such as /dev/zero"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class FileReadError(OSError):
    """A file that cannot be read safely; `str()` is a whole sentence for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def check_path_text(path: str | os.PathLike) -> Path:
    """A Path from user text, refusing names no file system has (too long, NUL, `~user`)."""
    text = os.fspath(path)
    if not isinstance(text, str):
        text = os.fsdecode(text)
    if len(text) > MAX_PATH_CHARS:
        raise FileReadError(f"expected a file name of at most {MAX_PATH_CHARS} characters, got "
                            f"one of {len(text):,} characters")
    if "\x00" in text:
        raise FileReadError("expected a file name, got one with a NUL character in it")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise FileReadError("expected a file name in valid Unicode, got one with an unpaired "
                            "surrogate character") from None
    if text.startswith("~"):
        try:
            expanded = os.path.expanduser(text)
        except (KeyError, RuntimeError):  # pragma: no cover - expanduser raises on some setups
            expanded = text
        if expanded.startswith("~"):
            user = text[1:].split("/", 1)[0]
            raise FileReadError(f"expected a file name, got {text[:60]!r}, which starts with "
                                f"'~{user}', and there is no user called {user!r}")
        text = expanded
    return Path(text)


def _kind_of(mode: int) -> str | None:
    for test, name in _KINDS:
        if test(mode):
            return name
    return None


@contextmanager
def open_regular(path: str | os.PathLike, max_bytes: int, what: str = "file") -> Iterator[IO[bytes]]:
    """Opens a regular file for binary reading, or raises FileReadError with the reason.

    FIFOs, devices, sockets and folders are refused without blocking, and so is a file
    larger than `max_bytes`.
    """
    p = check_path_text(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) \
        | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(p, flags)
    except FileNotFoundError:
        raise FileReadError(f"no such file: {p}") from None
    except IsADirectoryError:
        raise FileReadError(f"{p} is a folder; expected a {what}") from None
    except PermissionError:
        raise FileReadError(f"cannot read {p}: permission denied; check its permissions") \
            from None
    except OSError as exc:
        raise FileReadError(f"cannot read {p}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        kind = _kind_of(info.st_mode)
        if stat.S_ISDIR(info.st_mode):
            raise FileReadError(f"{p} is a folder; expected a {what}")
        if kind is not None or not stat.S_ISREG(info.st_mode):
            raise FileReadError(f"expected a regular {what}, got {kind or 'a special file'} "
                                f"at {p}; choose a real file")
        if info.st_size > max_bytes:
            raise FileReadError(f"expected a {what} of at most {format_bytes(max_bytes)}, got "
                                f"{format_bytes(info.st_size)} at {p}")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a regular file: plain reads from here on
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


def read_regular(path: str | os.PathLike, max_bytes: int, what: str = "file") -> bytes:
    """The whole content of a regular file of at most `max_bytes` (see `open_regular`)."""
    with open_regular(path, max_bytes, what) as handle:
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise FileReadError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:  # it grew while being read
        raise FileReadError(f"expected a {what} of at most {format_bytes(max_bytes)}, got more")
    return data


# -- JSON -----------------------------------------------------------------------------------

#: A JSON string, or an unterminated one running to the end of the text. The second
#: branch matters: a pattern that must find a closing quote rescans from every quote to the
#: end of an unterminated string, and `"\"\"\"...` of 64 KB then took 24 s.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in JSON text, without parsing (strings skipped)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise LimitError(f"the key {key[:60]!r} appears twice in one object; JSON keeps only "
                             "the last, so the file may not mean what it says. Keep one")
        out[key] = value
    return out


def _int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise LimitError(f"expected numbers of at most {MAX_INT_DIGITS} digits, got an integer "
                         f"of {digits:,} digits")
    return int(text)


def _float(text: str) -> float:
    if len(text) > 2 * MAX_INT_DIGITS + 10:
        raise LimitError(f"expected a number, got one written with {len(text):,} characters")
    value = float(text)
    if not math.isfinite(value):
        raise LimitError(f"expected a finite number, got {text[:40]}, which is too large "
                         "to represent")
    return value


def _constant(name: str) -> float:
    raise LimitError(f"expected a number, got {name}, which is not standard JSON; "
                     "write a finite number")


def parse_json(text: str) -> Any:
    """`json.loads` for untrusted text; raises LimitError or json.JSONDecodeError.

    Refuses nesting deeper than MAX_JSON_DEPTH (Python's parser would raise RecursionError
    near 1,000), integers longer than MAX_INT_DIGITS (Python refuses 4,300 and is slow well
    before), NaN and Infinity, numbers too large for a float, and repeated keys.
    """
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise LimitError(f"expected JSON nested at most {MAX_JSON_DEPTH} levels deep, got "
                         f"{depth:,} levels")
    return json.loads(text, object_pairs_hook=_no_repeats, parse_int=_int,
                      parse_float=_float, parse_constant=_constant)


def text_problems(doc: Any, path: str = "", limit: int = 20) -> list[str]:
    """Strings in a parsed document that no file or widget can hold: lone surrogates
    (`\\ud800`) and strings longer than MAX_TEXT_CHARS; each with its JSON path."""
    problems: list[str] = []

    def visit(value: Any, where: str) -> None:
        if len(problems) >= limit:
            return
        if isinstance(value, str):
            if len(value) > MAX_TEXT_CHARS:
                problems.append(f"{where or 'the document'}: expected text of at most "
                                f"{MAX_TEXT_CHARS:,} characters, got {len(value):,}")
            elif not _encodable(value):
                problems.append(f"{where or 'the document'}: expected valid Unicode text, got "
                                "an unpaired surrogate character (such as \\ud800); retype it")
        elif isinstance(value, dict):
            for key, item in value.items():
                sub = f"{where}.{key}" if where else str(key)
                if not _encodable(key):
                    problems.append(f"{where or 'the document'}: a key is not valid Unicode "
                                    "(an unpaired surrogate); retype it")
                    continue
                visit(item, sub)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                visit(item, f"{where}[{i}]")

    visit(doc, path)
    return problems


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
