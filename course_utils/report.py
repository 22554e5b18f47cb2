"""Measured results: printed with the profile they came from, recorded for the benchmark
script when ``$COURSE_RESULTS`` names a file (JSON lines), and set beside what the ``cpu``
profile reached when it was last benchmarked (``benchmarks/results/cpu.json``, written by
``make benchmark``) in a lesson's summary."""

from __future__ import annotations

import json
import os
import time

RESULTS_ENV = "COURSE_RESULTS"
BENCHMARK_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                             "benchmarks", "results")
_THIS_RUN: dict[str, tuple[float, str, str]] = {}  # name -> (value, fmt, profile)


def report(name: str, value: float, fmt: str = "{:.4g}", profile=None) -> str:
    """Print ``name: value [profile]`` and record it. Returns the printed line.

    ``fmt`` formats the value, e.g. ``"{:.1%}"`` for an accuracy or ``"{:.0f} s"``.
    """
    from course_utils.profiles import current_profile

    profile = profile or current_profile()
    line = f"{name}: {fmt.format(value)}  [profile: {profile.name}]"
    print(line)
    _THIS_RUN[name] = (float(value), fmt, profile.name)
    path = os.environ.get(RESULTS_ENV)
    if path:
        record = {"name": name, "value": float(value), "profile": profile.name,
                  "time": time.time()}
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
    return line


def report_spread(name: str, values, fmt: str = "{:.4g}", profile=None) -> str:
    """Print ``name: mean +/- spread (n runs)`` for a result repeated over seeds, and record
    the mean under ``name`` and the standard deviation under ``name + " spread"``.

    Use it for every comparison whose difference may be small: two settings differ only if
    their means differ by clearly more than their spreads (:func:`within_noise` says).
    """
    import numpy as np

    values = np.asarray(list(values), dtype=float)
    if values.size == 0:
        raise ValueError(f"report_spread({name!r}) got no values; pass one value per seed.")
    mean, spread = float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0
    line = report(name, mean, fmt, profile)
    _record_quietly(f"{name} spread", spread, fmt, profile)
    extra = f"  +/- {fmt.format(spread)} over {values.size} seeds" if values.size > 1 else \
        "  (one seed: no spread; the cpu and gpu profiles repeat it)"
    print(f"  {extra.strip()}")
    return line + extra


def within_noise(a, b) -> bool:
    """True if the means of two lists of per-seed results differ by less than twice the
    larger standard deviation (with one seed each, nothing can be told apart: True)."""
    import numpy as np

    a, b = np.asarray(list(a), dtype=float), np.asarray(list(b), dtype=float)
    if a.size < 2 or b.size < 2:
        return True
    return abs(a.mean() - b.mean()) < 2 * max(a.std(ddof=1), b.std(ddof=1))


def _record_quietly(name, value, fmt, profile):
    from course_utils.profiles import current_profile

    profile = profile or current_profile()
    _THIS_RUN[name] = (float(value), fmt, profile.name)
    path = os.environ.get(RESULTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"name": name, "value": float(value), "profile": profile.name,
                                "time": time.time()}) + "\n")


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


def benchmarked(profile: str = "cpu", directory=None) -> dict:
    """``{name: value}`` that ``profile`` reached when ``make benchmark`` last ran it (empty
    if it never did). On Colab the file comes from the repository, like the notebook."""
    path = os.path.join(directory or BENCHMARK_DIR, f"{profile}.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f).get("results", {})


def summary(names, profile: str = "cpu", directory=None):
    """A table of this run's results beside the benchmarked ``profile``'s, for a lesson's
    summary: one row per name reported in this kernel, ``-`` where a value is missing.

    Args:
        names: the result names to show, in order (as passed to :func:`report`).
        profile: the benchmarked profile to compare with.
    """
    import pandas as pd

    from course_utils.profiles import current_profile

    bench = benchmarked(profile, directory)
    rows = []
    for name in names:
        value, fmt, ran = _THIS_RUN.get(name, (None, "{:.4g}", current_profile().name))
        other = bench.get(name)
        rows.append({"result": name,
                     f"this run ({ran})": "-" if value is None else fmt.format(value),
                     f"benchmarked ({profile})": "-" if other is None else fmt.format(other)})
    table = pd.DataFrame(rows).set_index("result")
    if not bench:
        print(f"(No {profile} benchmark recorded yet: run `make benchmark`.)")
    return table
