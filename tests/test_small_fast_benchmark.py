"""benchmarks/small_fast.py (issue 14) runs end to end in the smoke profile, and what it
writes is consistent: ratios to the LiteRT float32 row, goals that follow from them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = {"Keras float32", "LiteRT float32", "20x20 input", "narrow (width 16)",
            "LiteRT float16", "LiteRT dynamic int8", "LiteRT int8", "magnitude-pruned 80%",
            "pruned 80% + int8", "channel-pruned", "narrow, distilled"}


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("small_fast",
                                                  ROOT / "benchmarks" / "small_fast.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path_factory.mktemp("small_fast")
    with pytest.MonkeyPatch.context() as patch:  # train afresh, into a throw-away cache
        patch.setenv("COURSE_CACHE_DIR", str(out / "cache"))
        status = script.main(["--profile", "smoke", "--json", str(out / "small_fast.json")])
    return status, json.loads((out / "small_fast.json").read_text())


def test_smoke_run_measures_every_variant(smoke_run):
    status, figures = smoke_run
    assert status == 0 and figures["profile"] == "smoke"
    assert set(figures["rows"]) == VARIANTS
    for name, row in figures["rows"].items():
        assert row["latency (ms)"] > 0 and row["spread (ms)"] >= 0, name
        assert 0 <= row["test accuracy"] <= 1, name
        assert 0 < row["gzipped (bytes)"] <= row["size (bytes)"] * 1.01, name


def test_ratios_are_to_litert_float32_and_goals_follow_from_them(smoke_run):
    _, figures = smoke_run
    rows = figures["rows"]
    base, int8 = rows["LiteRT float32"], rows["LiteRT int8"]
    assert int8["x smaller"] == pytest.approx(base["size (bytes)"] / int8["size (bytes)"])
    assert int8["x faster"] == pytest.approx(base["latency (ms)"] / int8["latency (ms)"])
    assert 3.0 < int8["x smaller"] < 4.2  # one byte per weight, against four
    goals = {g["goal"]: g for g in figures["goals"]}
    assert goals["x smaller"]["met"] == (int8["x smaller"] >= 3.9)
    assert goals["x faster"]["met"] == (int8["x faster"] >= 2.0)
    assert goals["accuracy points lost"]["measured"] == pytest.approx(
        -int8["accuracy change (points)"])


def test_pruning_shrinks_the_gzipped_file_and_slimming_the_plain_one(smoke_run):
    rows = smoke_run[1]["rows"]
    base = rows["LiteRT float32"]
    assert rows["magnitude-pruned 80%"]["size (bytes)"] == pytest.approx(
        base["size (bytes)"], rel=0.01)
    assert rows["magnitude-pruned 80%"]["gzipped (bytes)"] < 0.5 * base["gzipped (bytes)"]
    assert rows["channel-pruned"]["size (bytes)"] < 0.6 * base["size (bytes)"]
    assert any(row["on the Pareto front"] for row in rows.values())
