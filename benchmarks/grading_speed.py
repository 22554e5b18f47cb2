"""How fast does a class get graded? Seconds per submission, sequential vs parallel, and
the ratio to the bare floor (starting the grader kernel and importing TensorFlow). It
also prints what starting a kernel costs when it is forked from the fork server, as the
autograde workers do (course_utils/grader/forkserver.py).

    python benchmarks/grading_speed.py                 # 8 submissions, 1 job vs all cores
    python benchmarks/grading_speed.py -n 16 --jobs 1 2 4

It grades N copies of the correct solution of assignment 1 in a scratch course.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import nbformat  # noqa: E402

from course_utils.grader import autograde, collect, paths, release  # noqa: E402
from course_utils.grader import kernel as grader_kernel  # noqa: E402


def scratch_course(directory: Path, n: int) -> Path:
    import submissions

    root = directory / "course"
    shutil.copytree(ROOT / "solutions", root / "solutions")
    shutil.copytree(ROOT / "assignments", root / "assignments")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    release.release(root)
    inbox = root / "inbox"
    for i in range(n):
        (inbox / f"student{i:03d}").mkdir(parents=True)
        nbformat.write(submissions.correct(), inbox / f"student{i:03d}" / "a1.ipynb")
    collect.collect(root, "a1", inbox)
    return root


def floor_seconds(repeats: int = 3, forked: bool = False) -> float:
    """Start the grader kernel, import TensorFlow through Keras, shut down; ``forked``: the
    kernels come from a fork server (its own start is not counted)."""
    import contextlib

    from jupyter_client.manager import start_new_kernel

    from course_utils.grader import forkserver

    grader_kernel.install_kernelspec()
    times = []
    with forkserver.running() if forked else contextlib.nullcontext() as server:
        if server is not None:
            server.wait_ready()
        for _ in range(repeats):
            times.append(_one_kernel(start_new_kernel))
    return min(times)


def _one_kernel(start_new_kernel) -> float:
    start = time.perf_counter()
    km, kc = start_new_kernel(kernel_name=paths.KERNEL_NAME)
    try:
        kc.execute_interactive("import keras", timeout=120)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=8, help="submissions to grade")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, os.cpu_count() or 1])
    args = parser.parse_args(argv)
    floor = floor_seconds()
    print(f"floor (grader kernel start + TensorFlow import): {floor:.2f} s")
    forked = floor_seconds(forked=True)
    print(f"the same, forked from the fork server: {forked:.2f} s = {forked / floor:.2f} x "
          f"the floor")
    rows = []
    for jobs in args.jobs:
        with tempfile.TemporaryDirectory() as tmp:
            root = scratch_course(Path(tmp), args.n)
            start = time.perf_counter()
            results = autograde.autograde(root, "a1", jobs=jobs, verbose=False)
            seconds = time.perf_counter() - start
        graded = sum(r["status"] == "graded" for r in results.values())
        per = seconds / args.n
        rows.append((jobs, seconds, per))
        print(f"jobs={jobs}: {args.n} submissions ({graded} graded) in {seconds:.1f} s = "
              f"{per:.2f} s each, {per / floor:.2f} x the floor")
    if len(rows) > 1:
        base = rows[0][2]
        for jobs, _, per in rows[1:]:
            print(f"speed-up of jobs={jobs} over jobs={rows[0][0]}: {base / per:.2f} x")
    print(f"cores: {os.cpu_count()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
