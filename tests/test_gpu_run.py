"""benchmarks/gpu_run.py (issue 15) records each notebook's time, device, backend, versions,
status and figures, keeps going past a failing notebook and exits 1 for it; the README's
"Measured runs" (course_utils.maintainer.runs) is rendered from those records and in sync.

The end-to-end run here uses the CPU and the smoke profile: one real notebook (02, which
reports figures), one that fails on purpose and one skipped."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import nbformat
import pytest

from course_utils.maintainer import runs

ROOT = Path(__file__).resolve().parent.parent
FAST = ROOT / "notebooks" / "02_lenet5.ipynb"  # trains in seconds in smoke, reports figures
SKIPPED = "01_convolution_arithmetic.ipynb"
BROKEN_ERROR = "ValueError: broken on purpose"


@pytest.fixture(scope="module")
def gpu_run():
    spec = importlib.util.spec_from_file_location("gpu_run", ROOT / "benchmarks" / "gpu_run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _broken_notebook(directory: Path) -> Path:
    path = directory / "99_broken.ipynb"
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 99 · Broken on purpose"),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("raise ValueError('broken on purpose')"),
    ])
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def smoke_run(gpu_run, tmp_path_factory):
    """gpu_run.py's main on [02, 01 (skipped), a broken notebook], smoke profile, CPU."""
    tmp = tmp_path_factory.mktemp("gpu-run")
    broken = _broken_notebook(tmp)
    status = gpu_run.main(["--profile", "smoke", str(FAST), str(ROOT / "notebooks" / SKIPPED),
                           str(broken), "--skip", SKIPPED, "--results-dir", str(tmp / "results"),
                           "--out", str(tmp / "executed")])
    files = sorted((tmp / "results").glob("*.json"))
    assert len(files) == 1, f"expected one record in {tmp / 'results'}, got {files}"
    return {"status": status, "path": files[0], "record": json.loads(files[0].read_text()),
            "broken": broken}


@pytest.mark.notebook  # runs notebook 02 in smoke
def test_the_broken_notebook_makes_the_exit_status_1(smoke_run):
    assert smoke_run["status"] == 1, (
        f"gpu_run.py returned {smoke_run['status']} after a failing notebook; expected 1")


@pytest.mark.notebook  # runs notebook 02 in smoke
def test_the_record_names_the_cpu_and_the_backend_the_kernel_used(smoke_run, gpu_run):
    import keras

    record = smoke_run["record"]
    backend = keras.config.backend()  # what $KERAS_BACKEND / keras.json choose
    assert record["backend"] == backend, (
        f"backend recorded {record['backend']!r}; this environment chooses {backend!r}")
    assert record["gpu"] is False and "cores" in record["device"], (
        f"on this CPU machine the device should be the CPU with its cores; got "
        f"{record['device']!r} (gpu={record['gpu']})")
    expected = f"smoke_{gpu_run.slug(record['device'])}_{backend}.json"
    assert smoke_run["path"].name == expected, (
        f"record file {smoke_run['path'].name}; expected {expected} (profile, device, backend)")
    assert record["profile"] == "smoke"


@pytest.mark.notebook  # runs notebook 02 in smoke
def test_a_notebook_that_ran_has_its_time_versions_and_figures(smoke_run):
    import keras

    entry = smoke_run["record"]["notebooks"][FAST.name]
    assert entry["status"] == "ok" and entry["error"] is None, entry
    assert entry["wall_s"] > 0
    assert entry["versions"]["keras"] == keras.__version__
    assert entry["backend"] in entry["versions"], (
        f"the backend's own version is missing: {entry['versions']}")
    figures = entry["results"]
    for name in ("LeNet-5 classic test accuracy", "LeNet-5 modern test accuracy"):
        assert name in figures and 0.0 <= figures[name] <= 1.0, (
            f"{FAST.name} reports {name!r} (an accuracy); recorded figures: {figures}")
    assert entry["commit"] and entry["date"]


@pytest.mark.notebook  # runs notebook 02 in smoke
def test_a_failing_notebook_is_recorded_with_its_error_and_the_run_goes_on(smoke_run):
    notebooks = smoke_run["record"]["notebooks"]
    entry = notebooks[smoke_run["broken"].name]
    assert entry["status"] == "failed", entry
    assert entry["error"] == BROKEN_ERROR, (
        f"error recorded {entry['error']!r}; expected the error's last line {BROKEN_ERROR!r} "
        "without terminal colours")
    assert entry["results"] == {} and entry["wall_s"] > 0
    assert notebooks[SKIPPED]["status"] == "skipped"
    assert "--skip" in notebooks[SKIPPED]["reason"] and "wall_s" not in notebooks[SKIPPED]


def test_a_probe_that_cannot_import_keras_stops_the_run_at_once(gpu_run, tmp_path, monkeypatch,
                                                                capsys):
    monkeypatch.setenv("KERAS_BACKEND", "no_such_backend")
    status = gpu_run.main(["--profile", "smoke", str(FAST), "--results-dir",
                           str(tmp_path / "results"), "--out", str(tmp_path / "executed")])
    err = capsys.readouterr().err
    assert status == 2 and "KERAS_BACKEND" in err and "no_such_backend" in err, err[-2000:]
    assert not (tmp_path / "results").exists(), "no record may be written when nothing ran"


def test_records_merge_notebook_by_notebook(gpu_run, tmp_path):
    info = {"device": "NVIDIA H100 80GB HBM3", "gpu": True, "backend": "jax",
            "python": "3.12.3", "keras": "3.15.1", "jax": "0.10.2"}
    path = gpu_run.results_path(info, "gpu", tmp_path)
    assert path.name == "gpu_nvidia_h100_80gb_hbm3_jax.json"
    first = gpu_run.NotebookRun("02_lenet5.ipynb", 12.34, {"LeNet-5 modern test accuracy": 0.9})
    gpu_run.write(path, "gpu", info, {first.name: gpu_run.entry(first, info)})
    again = gpu_run.NotebookRun("03_alexnet.ipynb", 3.0, error="cell 4:\nKeyError: 'x'")
    gpu_run.write(path, "gpu", info, {again.name: gpu_run.entry(again, info)})
    notebooks = json.loads(path.read_text())["notebooks"]
    assert list(notebooks) == ["02_lenet5.ipynb", "03_alexnet.ipynb"]
    assert notebooks["02_lenet5.ipynb"]["wall_s"] == 12.3
    assert notebooks["02_lenet5.ipynb"]["versions"] == {"python": "3.12.3", "keras": "3.15.1",
                                                        "jax": "0.10.2"}
    assert notebooks["03_alexnet.ipynb"]["error"] == "KeyError: 'x'"


def test_the_budget_skips_what_would_not_finish(gpu_run):
    previous = {"02_lenet5.ipynb": {"wall_s": 300.0}}
    reason = gpu_run.skip_reason("02_lenet5.ipynb", 250.0, budget=500, skip=set(),
                                 previous=previous)
    assert reason and "budget" in reason
    assert gpu_run.skip_reason("02_lenet5.ipynb", 150.0, budget=500, skip=set(),
                               previous=previous) is None
    assert gpu_run.skip_reason("03_alexnet.ipynb", 499.0, budget=500, skip=set(),
                               previous=previous) is None  # never run: no estimate
    assert gpu_run.skip_reason("03_alexnet.ipynb", 0.0, budget=None, skip={"03_alexnet.ipynb"},
                               previous={}) == "named in --skip"


# --- the README's "Measured runs" ---------------------------------------------------------


def test_readme_measured_runs_are_in_sync(capsys):
    assert runs.main(["--check"]) == 0, capsys.readouterr().out


def test_every_key_figure_is_a_notebook_and_a_benchmarked_result():
    names = {p.name for p in runs.notebook_paths()}
    cpu = json.loads((ROOT / "benchmarks" / "results" / "cpu.json").read_text())["results"]
    unknown = sorted(set(runs.KEY_FIGURES) - names)
    assert not unknown, f"KEY_FIGURES names notebooks that do not exist: {unknown}"
    missing = {nb: name for nb, (name, _) in runs.KEY_FIGURES.items() if name not in cpu}
    assert not missing, (f"key figures not in benchmarks/results/cpu.json: {missing}. Hint: a "
                         "result was renamed; name the new one in runs.KEY_FIGURES")
    without = sorted(names - set(runs.KEY_FIGURES) - runs.WITHOUT_KEY_FIGURE)
    assert not without, (f"notebooks with no key figure in the README's measured runs: "
                         f"{without}. Hint: name the result that sums each one up in "
                         "runs.KEY_FIGURES (or, if it trains nothing, in WITHOUT_KEY_FIGURE)")


def _course_copy(root: Path, smoke_run) -> Path:
    (root / "notebooks").mkdir(parents=True)
    for path in (FAST, ROOT / "notebooks" / SKIPPED, smoke_run["broken"]):
        shutil.copy(path, root / "notebooks" / path.name)
    results = root / "benchmarks" / "results"
    results.mkdir(parents=True)
    cpu = {"machine": "2 cores, x86_64", "results": {"LeNet-5 modern test accuracy": 0.9006},
           "notebooks": {FAST.name: {"wall_s": 444}}}
    (results / "cpu.json").write_text(json.dumps(cpu))
    shutil.copy(smoke_run["path"], results / "gpu_demo_device.json")
    return root


@pytest.mark.notebook  # runs notebook 02 in smoke
def test_the_section_shows_each_gpu_run_from_its_record(smoke_run, tmp_path):
    root = _course_copy(tmp_path, smoke_run)
    text = runs.render(root)
    record = smoke_run["record"]
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("| notebook"))
    assert f"{record['device']}, Keras on {record['backend']}" in header, header
    row = {name: next(line for line in lines if f"(notebooks/{name})" in line)
           for name in (FAST.name, SKIPPED, smoke_run["broken"].name)}
    seconds = record["notebooks"][FAST.name]["wall_s"]
    accuracy = record["notebooks"][FAST.name]["results"]["LeNet-5 modern test accuracy"]
    assert row[FAST.name].endswith(f"| 444 s | 90.1% (LeNet-5 modern test accuracy) | ok, "
                                   f"{seconds:.0f} s, {accuracy:.1%} |"), row[FAST.name]
    assert row[SKIPPED].endswith("| — | — | skipped |"), row[SKIPPED]
    assert "failed after " in row[smoke_run["broken"].name]
    assert BROKEN_ERROR in row[smoke_run["broken"].name]
    assert "No GPU run is recorded yet" not in text


@pytest.mark.notebook  # runs notebook 02 in smoke
def test_the_readme_section_is_written_between_its_markers_and_checked(smoke_run, tmp_path):
    root = _course_copy(tmp_path, smoke_run)
    readme = root / "README.md"
    readme.write_text("# Course\n\nno markers here\n")
    with pytest.raises(runs.SectionError, match="measured-runs"):
        runs.sync_readme(root)
    readme.write_text(f"# Course\n\n{runs.START}\nstale\n{runs.END}\n\n## Next\n")
    assert runs.sync_readme(root, write=False) and "stale" in readme.read_text()
    assert runs.sync_readme(root)
    assert not runs.sync_readme(root, write=False)
    text = readme.read_text()
    assert f"{runs.START}\n{runs.render(root)}\n{runs.END}\n\n## Next\n" in text
    assert text.startswith("# Course\n\n")


def test_without_a_gpu_record_the_section_says_so(tmp_path):
    (tmp_path / "notebooks").mkdir()
    shutil.copy(FAST, tmp_path / "notebooks" / FAST.name)
    text = runs.render(tmp_path)
    assert "No GPU run is recorded yet" in text
    header = next(line for line in text.splitlines() if line.startswith("| notebook"))
    assert header == "| notebook | `cpu` time | `cpu` key figure |", header
    assert "| — | — |" in text  # no cpu benchmark either: dashes, not an error
