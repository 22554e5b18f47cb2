"""Measured results: printed with the profile they came from, and recorded for the
benchmark script when ``$COURSE_RESULTS`` names a file (JSON lines)."""

from __future__ import annotations

import json
import os
import time

RESULTS_ENV = "COURSE_RESULTS"


def report(name: str, value: float, fmt: str = "{:.4g}", profile=None) -> str:
    """Print ``name: value [profile]`` and record it. Returns the printed line.

    ``fmt`` formats the value, e.g. ``"{:.1%}"`` for an accuracy or ``"{:.0f} s"``.
    """
    from course_utils.profile import current_profile

    profile = profile or current_profile()
    line = f"{name}: {fmt.format(value)}  [profile: {profile.name}]"
    print(line)
    path = os.environ.get(RESULTS_ENV)
    if path:
        record = {"name": name, "value": float(value), "profile": profile.name,
                  "time": time.time()}
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
    return line


def read_results(path) -> dict:
    """The results recorded in ``path`` as ``{name: value}`` (the last value wins)."""
    results = {}
    if not os.path.exists(path):
        return results
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                results[record["name"]] = record["value"]
    return results
