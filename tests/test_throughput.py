"""benchmarks/throughput.py (issue 14) runs end to end in its smoke mode, and what it writes
names the device and follows from the figures it measured."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def throughput():
    spec = importlib.util.spec_from_file_location("throughput",
                                                  ROOT / "benchmarks" / "throughput.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def smoke_run(throughput, tmp_path_factory):
    path = tmp_path_factory.mktemp("throughput") / "throughput.json"
    status = throughput.main(["--smoke", "--repeats", "3", "--json", str(path)])
    return status, json.loads(path.read_text())


def test_smoke_run_measures_the_four_configurations(smoke_run):
    status, record = smoke_run
    assert status == 0 and record["smoke"] is True
    assert list(record["results"]) == ["fp32", "fp32+XLA", "mixed", "mixed+XLA"]
    policies = [r["policy"] for r in record["results"].values()]
    assert policies == ["float32", "float32", record["mixed_policy"], record["mixed_policy"]]
    assert [r["jit_compile"] for r in record["results"].values()] == [False, True, False, True]
    for result in record["results"].values():
        assert len(result["runs"]) == 3 and result["images_per_s"] > 0
        assert result["batch_size"] == 8 and result["input_shape"] == [16, 16, 3]


def test_ratios_and_verdict_follow_from_the_measurements(smoke_run):
    _, record = smoke_run
    fp32 = record["results"]["fp32"]["images_per_s"]
    for name, result in record["results"].items():
        assert record["ratio_to_fp32"][name] == pytest.approx(result["images_per_s"] / fp32)
    goal = record["goal"]
    base = record["results"][goal["baseline"]]["images_per_s"]
    assert goal["mixed_xla_ratio"] == pytest.approx(
        record["results"]["mixed+XLA"]["images_per_s"] / base)
    assert goal["baseline"] == ("fp32+XLA" if record["backend"] == "jax" else "fp32")
    if record["gpu"]:
        assert goal["met"] == (goal["mixed_xla_ratio"] >= goal["ratio"])
        assert record["mixed_policy"] == "mixed_float16"
    else:
        assert goal["met"] is None and "no GPU here" in record["verdict"]
        assert record["mixed_policy"] == "mixed_bfloat16"
    assert record["device"] and record["device"] in record["verdict"]


def test_slug_names_the_device_in_a_file_name(throughput):
    assert throughput.slug("NVIDIA H200") == "nvidia_h200"
    assert throughput.slug("AMD EPYC (2 cores)") == "amd_epyc_2_cores"


def test_recorded_results_name_the_device_they_measured(throughput):
    """Every results file the script wrote names its device, and its file name says it."""
    paths = sorted((ROOT / "benchmarks" / "results").glob("throughput_*.json"))
    assert paths, "no throughput results recorded: run python benchmarks/throughput.py"
    for path in paths:
        record = json.loads(path.read_text())
        assert path.stem == f"throughput_{throughput.slug(record['device'])}", path.name
        assert record["smoke"] is False, f"{path.name} records a smoke run"
        assert set(record["ratio_to_fp32"]) == set(record["results"]), path.name
