"""`layerlab summary` and `layerlab check`: look at a project without training it. They
load the project and (for `check`) its data, print the layer table or the pre-flight
findings, and exit 1 when there is a problem, so scripts and CI can gate on them.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import (
    EXIT_OK,
    EXIT_PROBLEM,
    EXIT_UNUSABLE,
    _data_info,
    add_debug_flag,
    load_project_arg,
)


def add_commands(subparsers: Any) -> None:
    """Adds `summary` and `check` to the `layerlab` argument parser."""
    p = subparsers.add_parser("summary", help="print the layer table and parameter counts")
    p.add_argument("project", help="a .layerlab.json project file")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_debug_flag(p)
    p.set_defaults(func=cmd_summary)
    p = subparsers.add_parser("check",
                              help="run the pre-flight checks; exit 1 if there is an error")
    p.add_argument("project", help="a .layerlab.json project file")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.add_argument("--no-data", action="store_true", help="do not load the data")
    add_debug_flag(p)
    p.set_defaults(func=cmd_check)


def cmd_summary(args: argparse.Namespace) -> int:
    from ..core.summary import format_table, summarize

    project = load_project_arg(args.project)
    summary = summarize(project.model)
    if args.json:
        doc = summary.to_json()
        doc.pop("input_shape", None)
        doc["input_shape"] = list(project.model.input_shape)
        print(json.dumps(doc, indent=2))
    else:
        print(format_table(summary, project.name))
    return EXIT_OK if summary.ok else EXIT_PROBLEM


def cmd_check(args: argparse.Namespace) -> int:
    from ..core.checks import has_errors, run_checks
    from ..core.data import DataError

    project = load_project_arg(args.project)
    try:
        info = None if args.no_data else _data_info(project, args.project, raw=True)
    except DataError as exc:
        # Every problem of the data, one a line (a folder of images can have several):
        # the data cannot be loaded, so the command could not do its work (exit 2).
        if args.json:
            print(json.dumps([{"severity": "error", "code": "data", "message": line,
                               "where": "data", "fixes": []} for line in exc.problems],
                             indent=2))
        else:
            for line in exc.problems:
                print(f"{'ERROR':7} data: {line}")
        return EXIT_UNUSABLE
    findings = run_checks(project, info)
    if args.json:
        print(json.dumps([f.to_json() for f in findings], indent=2))
    elif not findings:
        print("No problems found." + ("" if info else " (The data was not checked.)"))
    else:
        for f in findings:
            print(f"{f.severity.upper():7} {f.where}: {f.message}")
            for fix in f.fixes:
                print(f"        fix: {fix.label}")
    return EXIT_PROBLEM if has_errors(findings) else EXIT_OK
