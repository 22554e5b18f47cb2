"""The course's preprocessors for nbgrader, switched on in ``nbgrader_config.py``.

- :class:`GraderExecute` runs a submission with a time budget for the whole notebook
  and survives a dead kernel: cells it could not run get an error that says why (0 points
  for them), the cells before keep their grades, and the batch goes on.
- :class:`LimitOutputSize` caps the size of every output (gigantic prints and images).
- :class:`StderrIsNotFailure` stops text on stderr (warnings, library chatter) from
  zeroing a test cell; only an exception fails a test.
- :class:`HideTestCode` keeps the code of hidden tests out of feedback tracebacks.
"""

from __future__ import annotations

import contextlib
import re
import time

from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Bool, Integer, default

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _as_exception(ename, evalue) -> Exception:
    """The student's exception, rebuilt here as the same built-in type where there is one."""
    import builtins

    from course_utils.grader.recheck import SubmissionError

    kind = getattr(builtins, ename or "", None)
    if isinstance(kind, type) and issubclass(kind, Exception) and kind is not SystemExit:
        with contextlib.suppress(Exception):
            return kind(evalue)
    return SubmissionError(f"{ename}: {evalue}")


def _error_output(ename: str, message: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=message,
                        traceback=[f"{ename}: {message}"])


class GraderExecute(Execute):
    """nbgrader's Execute with a notebook-wide time budget, dead-kernel handling, and a
    re-check of every passed test outside the student's kernel (course_utils.grader.recheck)."""

    budget = Integer(
        600, help="Seconds for the whole notebook; cells after it runs out are not run."
    ).tag(config=True)
    recheck = Bool(
        True, help="Re-run passed test cells in the grading process (see course_utils.grader.recheck)."
    ).tag(config=True)

    @default("shutdown_kernel")
    def _kill_when_done(self):
        # Nothing in the kernel is needed once the notebook and its re-check have run: a
        # graceful shutdown would wait a few seconds per submission for TensorFlow to tear
        # down. What a killed kernel leaves, the driver sweeps (kernel.sweep_workdirs).
        return "immediate"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timeout_func = self._cell_timeout
        self._started = None
        self._stopped = None

    def _remaining(self) -> float:
        return self.budget - (time.monotonic() - self._started)

    def _cell_timeout(self, cell) -> int:
        return max(1, int(min(self.timeout or self.budget, self._remaining())))

    def preprocess(self, nb, resources=None, km=None):
        # nbconvert's ExecutePreprocessor.preprocess, with the re-check while the kernel lives
        self._started, self._stopped = time.monotonic(), None
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        with self.setup_kernel():
            info = self.wait_for_reply(self.kc.kernel_info())
            self.nb.metadata["language_info"] = info["content"]["language_info"]
            for index, cell in enumerate(self.nb.cells):
                self.preprocess_cell(cell, resources, index)
            if self.recheck and self._stopped is None:
                self._recheck_tests(resources)
        self.set_widgets_metadata()
        return self.nb, self.resources

    # -- re-check ---------------------------------------------------------------------

    def _evaluate(self, code: str, expression: str) -> str:
        """Run ``code`` in the student's kernel and return the str value of ``expression``."""
        from course_utils.grader.recheck import SubmissionError, literal

        msg_id = self.kc.execute(code, silent=False, store_history=False, allow_stdin=False,
                                 user_expressions={"r": expression})
        probe = NotebookNode(cell_type="code", source="", metadata={})
        try:
            reply = self.wait_for_reply(msg_id, probe)
        except TimeoutError:
            run_sync(self.km.interrupt_kernel)()
            raise SubmissionError(
                f"your function did not finish within {self._cell_timeout(probe)} s") from None
        except DeadKernelError:
            raise SubmissionError("the kernel died while your function ran") from None
        content = reply["content"]
        if content.get("status") != "ok":
            raise _as_exception(content.get("ename"), content.get("evalue"))
        result = content.get("user_expressions", {}).get("r", {})
        if result.get("status") != "ok":
            raise _as_exception(result.get("ename"), result.get("evalue"))
        return literal(result["data"]["text/plain"])

    def _source_tests(self, resources) -> dict[str, str]:
        from nbgrader.api import Gradebook

        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            notebook = gb.find_notebook(info["notebook"], info["assignment"])
            return {cell.name: gb.find_source_cell(cell.name, info["notebook"],
                                                   info["assignment"]).source
                    for cell in notebook.grade_cells if cell.cell_type == "code"}

    def _recheck_tests(self, resources) -> None:
        from course_utils.grader.own_work import Submission
        from course_utils.grader.recheck import KernelChannel, run_test_cell

        sources = self._source_tests(resources)
        passed = [cell for cell in self.nb.cells
                  if utils.is_grade(cell) and cell.cell_type == "code"
                  and cell.metadata["nbgrader"]["grade_id"] in sources
                  and not any(o.output_type == "error" for o in cell.get("outputs", []))]
        if not passed:
            return
        try:
            # check_own_work is decided from the notebook's source, read here
            channel = KernelChannel(self._evaluate, Submission.from_notebook(self.nb))
            names = channel.names()
        except Exception as exc:  # the submission blocks the re-check: nothing is vouched for
            failures = {id(cell): f"the re-check could not reach your code ({exc})"
                        for cell in passed}
        else:
            failures = {}
            for cell in passed:
                message = run_test_cell(sources[cell.metadata["nbgrader"]["grade_id"]],
                                        channel, names)
                if message:
                    failures[id(cell)] = message
        for cell in passed:
            if id(cell) in failures:
                self.log.warning("Re-check failed for %s: %s",
                                 cell.metadata["nbgrader"]["grade_id"], failures[id(cell)])
                # First, so that nbgrader reads it before any (forged) partial-credit value.
                cell.outputs.insert(0, _error_output(
                    "RecheckFailed",
                    "This test passed inside your notebook but failed when the grader ran it "
                    f"again outside it:\n{failures[id(cell)]}"))

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return super().preprocess_cell(cell, resources, index)
        if self._stopped is None and self._remaining() <= 0:
            self._stopped = (
                f"not run: this notebook used up its time budget of {self.budget} s "
                "(an endless loop earlier on?)")
        if self._stopped is not None:
            cell.outputs = [_error_output("NotRun", self._stopped)]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except CellTimeoutError:
            # The kernel ignored the interrupt and is still busy: nothing after can run.
            self._stopped = (
                f"not run: cell {index} would not stop when interrupted, so this notebook "
                f"used up its time budget")
            cell.outputs = list(cell.get("outputs", [])) + [
                _error_output("CellTimeoutError", "this cell did not stop when interrupted")]
            return cell, resources
        except DeadKernelError:
            self._stopped = (
                f"not run: the kernel died in cell {index} (a crash, os._exit, or more "
                "memory than the grader allows)")
            cell.outputs = list(cell.get("outputs", [])) + [
                _error_output("DeadKernel", "the kernel died while running this cell")]
            return cell, resources


class LimitOutputSize(NbGraderPreprocessor):
    """Cap what one output may weigh: text beyond ``max_text`` characters is cut, and
    images or other rich data beyond ``max_data`` bytes are replaced by a note, so a
    notebook that prints gigabytes cannot bloat the graded copy or the feedback."""

    max_text = Integer(20_000, help="characters kept per text output").tag(config=True)
    max_data = Integer(2_000_000, help="bytes kept per rich output").tag(config=True)

    def _cut(self, text):
        if isinstance(text, list):
            text = "".join(text)
        if len(text) <= self.max_text:
            return text
        return text[: self.max_text] + f"\n... [{len(text) - self.max_text:,} more characters cut]\n"

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                output.text = self._cut(output.text)
            elif output.output_type == "error":
                output.evalue = self._cut(output.evalue)
                output.traceback = [self._cut(line) for line in output.traceback[-40:]]
            elif "data" in output:
                for mime, value in list(output.data.items()):
                    size = len(value) if isinstance(value, str) else len(str(value))
                    if mime.startswith("text/") and size > self.max_text:
                        output.data[mime] = self._cut(value)
                    elif size > self.max_data:
                        del output.data[mime]
                        output.data["text/plain"] = (
                            f"[{mime} output of {size:,} bytes removed by the grader]")
        return cell, resources


class HideTestCode(NbGraderPreprocessor):
    """For feedback: in test cells, drop the traceback frames that show the test cell's own
    code (hidden tests would leak through them); the failure message and the frames in the
    student's own code stay."""

    def preprocess_cell(self, cell, resources, index):
        if utils.is_grade(cell) and cell.cell_type == "code":
            own = f"Cell In[{cell.get('execution_count')}]"
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [
                        frame for frame in output.traceback
                        if own not in _ANSI.sub("", frame)
                        and "course_utils/grading.py" not in _ANSI.sub("", frame)]
        return cell, resources


class StderrIsNotFailure(NbGraderPreprocessor):
    """In test cells, move stderr text to stdout: nbgrader would score it 0, but warnings
    and library chatter are not failures. An exception still fails the cell."""

    def preprocess_cell(self, cell, resources, index):
        if utils.is_grade(cell) and cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if output.output_type == "stream" and output.name == "stderr":
                    output.name = "stdout"
                    output.text = "[stderr] " + output.text
        return cell, resources


