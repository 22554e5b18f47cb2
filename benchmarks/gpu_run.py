"""Execute every notebook of a profile (``gpu`` by default) and record, per notebook, the
wall time, the device, the Keras backend the kernel used, the versions, the status and
every figure the notebook reported.

    python benchmarks/gpu_run.py                                  # every notebook, gpu
    KERAS_BACKEND=jax python benchmarks/gpu_run.py                # a GPU machine without TF
    python benchmarks/gpu_run.py notebooks/02_lenet5.ipynb --budget 500
    make gpu-run BACKEND=jax [PROFILE=gpu]

Before the notebooks, a probe kernel (started like theirs: same kernel, same environment)
says which backend Keras uses there, its version and the device it trains on: the GPU's
name (from ``nvidia-smi`` when the backend sees a GPU) or the CPU's model and cores.
The record goes to ``benchmarks/results/<profile>_<device>_<backend>.json`` (``gpu_...``
for the default profile; one file per device and backend, commit it): a partial run
updates only the notebooks it ran, and the file is written after every notebook, so a run
cut short keeps what finished. A failing notebook is recorded with its error's last line
and the run goes on; the exit status is 1 if any failed. ``--budget`` skips the notebooks
that would start after that many seconds (or that the last record says would not finish
in time): they are recorded as ``skipped``, not failed. See docs/gpu_runs.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

from notebook_results import NotebookRun, provenance, run_notebook  # noqa: E402
from throughput import slug  # noqa: E402

from course_utils.maintainer.colab import notebook_paths  # noqa: E402
from course_utils.maintainer.runner import NotebookError, execute_notebook  # noqa: E402

RESULTS_DIR = ROOT / "benchmarks" / "results"
BACKEND_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch",
                   "numpy": "numpy", "openvino": "openvino"}
# Runs in a kernel started like the notebooks' kernels; prints one JSON line.
PROBE = f"""\
import json, platform, sys
import keras
from course_utils import scale
backend = keras.backend.backend()
module = __import__({BACKEND_MODULES!r}.get(backend, backend))
print(json.dumps({{"backend": backend, "gpu": scale.device_is_gpu(),
                  "device": scale.device_name(), "python": platform.python_version(),
                  "keras": keras.__version__, backend: getattr(module, "__version__", "?"),
                  "executable": sys.executable}}))
"""


def kernel_environment() -> dict:
    """What the kernels get beyond the course's own variables: the repository on
    ``PYTHONPATH``, so that a machine where the course is not installed (the lent GPU
    machine) still imports ``course_utils`` from this checkout."""
    paths = [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {"PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}


def nvidia_smi_name() -> str | None:
    """The first GPU's name as ``nvidia-smi --query-gpu=name`` gives it, or None."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        done = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    names = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    return names[0] if done.returncode == 0 and names else None


def probe_kernel(profile: str, *, out: Path, timeout: int = 600) -> dict:
    """Backend, versions and device as a kernel like the notebooks' sees them.

    Raises RuntimeError (with the kernel's error) when Keras cannot even be imported
    there, e.g. ``KERAS_BACKEND=jax`` on a machine without JAX: nothing would run."""
    import nbformat

    out.mkdir(parents=True, exist_ok=True)
    path = out / "probe.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PROBE)]), path)
    try:
        nb = execute_notebook(path, profile, timeout, extra_env=kernel_environment())
    except NotebookError as exc:
        raise RuntimeError(
            f"the probe kernel could not import Keras and the course:\n{exc.error}\n"
            f"Hint: check KERAS_BACKEND (now {os.environ.get('KERAS_BACKEND', 'unset')!r}) "
            "and that keras and the backend's package are installed for this Python."
        ) from None
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs if o.output_type == "stream")
    info = json.loads(text.strip().splitlines()[-1])
    smi = nvidia_smi_name()
    info["nvidia_smi"] = smi
    if info["gpu"] and smi:
        info["device"] = smi
    elif smi:
        print(f"WARNING: nvidia-smi sees {smi}, but Keras on {info['backend']} does not: the "
              "notebooks will run on the CPU (is the backend's CUDA build installed?)",
              file=sys.stderr)
    return info


def results_path(info: dict, profile: str, directory: Path = RESULTS_DIR) -> Path:
    """``<directory>/<profile>_<device slug>_<backend>.json``."""
    return directory / f"{profile}_{slug(info['device'])}_{info['backend']}.json"


def entry(run: NotebookRun | None, info: dict, *, skipped: str | None = None) -> dict:
    """One notebook's record: status, wall time, where and with what it ran, figures."""
    versions = {k: info[k] for k in ("python", "keras", info["backend"]) if k in info}
    common = {"device": info["device"], "gpu": info["gpu"], "backend": info["backend"],
              "versions": versions, **provenance()}
    if skipped is not None:
        return {"status": "skipped", "reason": skipped, **common}
    return {"status": "ok" if run.ok else "failed", "wall_s": round(run.wall_s, 1),
            "error": run.error_line, **common, "results": run.results}


def write(path: Path, profile: str, info: dict, notebooks: dict) -> None:
    """Merge ``notebooks`` (name -> entry) into the record at ``path``, atomically."""
    old = json.loads(path.read_text()) if path.exists() else {}
    record = {"profile": profile, "device": info["device"], "gpu": info["gpu"],
              "backend": info["backend"],
              "notebooks": dict(sorted({**old.get("notebooks", {}), **notebooks}.items()))}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(temporary, path)


def skip_reason(name: str, elapsed: float, *, budget: float | None, skip: set,
                previous: dict) -> str | None:
    """Why ``name`` is not started, or None to run it."""
    if name in skip:
        return "named in --skip"
    if budget is None:
        return None
    expected = (previous.get(name) or {}).get("wall_s") or 0.0
    if elapsed + expected > budget:
        return (f"time budget: {elapsed:.0f} s spent + {expected:.0f} s last time > "
                f"--budget {budget:.0f} s")
    return None


def run_guarded(path: Path, profile: str, *, out: Path, timeout: int) -> NotebookRun:
    """``run_notebook`` that also turns a kernel that never started (or any other error of
    the machinery) into a failed run, so that the notebooks after it still run."""
    start = time.perf_counter()
    try:
        return run_notebook(path, profile, out=out, timeout=timeout,
                            extra_env=kernel_environment())
    except Exception as exc:  # noqa: BLE001 - recorded, and the run goes on
        return NotebookRun(path.name, time.perf_counter() - start,
                           error=f"{type(exc).__name__}: {exc}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: every lesson)")
    parser.add_argument("--profile", default="gpu", help="smoke, cpu or gpu (default: gpu)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    parser.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                        help="start no notebook that would end after SECONDS (skipped)")
    parser.add_argument("--skip", action="append", default=[], metavar="NAME",
                        help="notebook file name to record as skipped (repeatable)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR,
                        help="where the record goes (default: benchmarks/results)")
    parser.add_argument("--out", type=Path, default=None,
                        help="executed copies (default: build/gpu-run/<profile>)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or notebook_paths()
    out = args.out or ROOT / "build" / "gpu-run" / args.profile
    started = time.perf_counter()
    try:
        info = probe_kernel(args.profile, out=out / "probe")
    except RuntimeError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    path = results_path(info, args.profile, args.results_dir)
    print(f"{len(notebooks)} notebook(s), profile {args.profile} | {info['device']} | "
          f"Keras {info['keras']} on {info['backend']} {info.get(info['backend'], '')} | "
          f"record: {path}")
    previous = json.loads(path.read_text()).get("notebooks", {}) if path.exists() else {}
    failed = []
    for notebook in notebooks:
        name = Path(notebook).name
        reason = skip_reason(name, time.perf_counter() - started, budget=args.budget,
                             skip=set(args.skip), previous=previous)
        if reason:
            print(f"skip  {name}: {reason}")
            write(path, args.profile, info, {name: entry(None, info, skipped=reason)})
            continue
        run = run_guarded(Path(notebook), args.profile, out=out, timeout=args.timeout)
        write(path, args.profile, info, {name: entry(run, info)})
        if run.ok:
            print(f"ok    {name}: {run.wall_s:.0f} s, {len(run.results)} figure(s)")
        else:
            failed.append(name)
            print(f"FAIL  {name}: {run.wall_s:.0f} s, {run.error_line}\n{run.error}",
                  file=sys.stderr)
    print(f"\n{len(notebooks) - len(failed)} of {len(notebooks)} not failed "
          f"({time.perf_counter() - started:.0f} s) on {info['device']}; "
          f"record: {path}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
