"""Execute notebooks headless, cell by cell, in a chosen profile.

    python -m course_utils.maintainer.runner --profile smoke notebooks/*.ipynb --out build/executed
    python -m course_utils.maintainer.runner --profile smoke --slowest 5 notebooks/08_resnet.ipynb

``--slowest N`` prints the N cells that took longest, from the timings nbclient records in
each executed cell's metadata. A failure names the notebook, the cell and its first lines,
and the error, so a broken notebook is found without opening it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

from course_utils.profiles import ENV_VAR as PROFILE_VAR
from course_utils.profiles import current_profile


class NotebookError(RuntimeError):
    """A notebook cell raised: the message names notebook, cell and error."""

    def __init__(self, notebook, index, source, error):
        self.notebook, self.index, self.source, self.error = notebook, index, source, error
        head = "\n".join(f"    {line}" for line in source.splitlines()[:6])
        super().__init__(f"{notebook}, cell {index}:\n{head}\n{error}")


@contextlib.contextmanager
def _environment(**values):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update({k: v for k, v in values.items() if v is not None})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _error_text(exc) -> str:
    text = str(exc)
    # nbclient puts the traceback first; the last lines carry the error itself.
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-12:]) if lines else type(exc).__name__


def execute_notebook(path, profile: str = "smoke", timeout: int = 900, output=None,
                     extra_env: dict | None = None):
    """Run every cell of ``path`` in a fresh kernel with ``$COURSE_PROFILE=profile``.

    Returns the executed notebook; writes it to ``output`` when given (also on failure,
    so the outputs up to the failing cell can be read). Raises :class:`NotebookError`.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    current_profile(profile)  # an unknown profile fails here, before a kernel starts
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    env = {PROFILE_VAR: profile, "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    env.update(extra_env or {})
    try:
        with _environment(**env), client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                try:
                    client.execute_cell(cell, index)
                except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
                    raise NotebookError(path.as_posix(), index, cell.source,
                                        _error_text(exc)) from None
    finally:
        if output is not None:
            Path(output).parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, output)
    return nb


def cell_seconds(nb) -> list[tuple[int, float, str]]:
    """``(index, seconds, first line)`` of each executed code cell, slowest first."""
    from datetime import datetime

    times = []
    for index, cell in enumerate(nb.cells):
        stamps = cell.get("metadata", {}).get("execution", {})
        start, end = stamps.get("iopub.execute_input"), stamps.get("shell.execute_reply")
        if cell.cell_type == "code" and start and end:
            seconds = (datetime.fromisoformat(end.replace("Z", "+00:00"))
                       - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()
            first = next((line for line in cell.source.splitlines() if line.strip()), "")
            times.append((index, seconds, first[:60]))
    return sorted(times, key=lambda t: -t[1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Execute course notebooks headless.")
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--profile", default=None,
                        help="smoke, cpu or gpu (default: $COURSE_PROFILE or the hardware)")
    parser.add_argument("--out", type=Path, default=Path("build/executed"),
                        help="where executed copies go (default: build/executed)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument("--slowest", type=int, default=0, metavar="N",
                        help="print the N slowest cells of each notebook")
    args = parser.parse_args(argv)
    profile = current_profile(args.profile).name
    failures = 0
    for path in args.notebooks:
        start = time.perf_counter()
        try:
            nb = execute_notebook(path, profile, args.timeout, args.out / path.name)
            times = cell_seconds(nb)
            print(f"ok    {path}  ({time.perf_counter() - start:.0f} s, profile {profile}; "
                  f"cells {sum(t[1] for t in times):.1f} s)")
            for index, seconds, first in times[: args.slowest]:
                print(f"      cell {index:>3}  {seconds:6.1f} s  {first}")
        except NotebookError as exc:
            failures += 1
            print(f"FAIL  {exc}", file=sys.stderr)
    print(f"executed copies are in {args.out}/")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
