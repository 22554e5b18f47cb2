"""Re-check a submission's test cells outside the student's kernel.

While nbgrader runs a notebook, the student's code and the test cells share one kernel, so
code in the submission could replace the checking functions, ``count_params`` or IPython's
error reporting and make a failing test pass. The re-check closes that gap: after the
notebook has run, every test cell (its original source, hidden tests included) runs again
*in the grading process*. There the names the student defined are stand-ins
(:class:`Standin`) that call the student's function in the kernel and bring back only data: numbers, strings, arrays, and models as their Keras JSON config, rebuilt here.
Whatever the submission did to its own kernel, the checks, ``assert`` and Keras itself are
the grader's. A test that passed in the notebook but fails here scores 0.

``check_own_work(f)`` on a stand-in is decided here too, from the submitted notebook's
source (:mod:`course_utils.grader.own_work`), never from what the kernel says: the kernel's
own answer (``code_origins`` run there) can only add reasons to fail.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
import warnings

MAX_REPLY_BYTES = 20_000_000
NOT_STUDENT_NAMES = {"In", "Out", "get_ipython", "exit", "quit", "open"}

# Runs in the student's kernel: call one function, encode what it returns as JSON.
KERNEL_HELPERS = f"__course_skip = {sorted(NOT_STUDENT_NAMES)!r}\n" + r'''
def __course_encode(value, depth=0):
    import numpy
    if depth > 20:
        return {"__object__": "too deeply nested"}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        items = [__course_encode(v, depth + 1) for v in value]
        return {"__tuple__": items} if isinstance(value, tuple) else items
    if isinstance(value, dict):
        return {"__dict__": [[__course_encode(k, depth + 1), __course_encode(v, depth + 1)]
                             for k, v in value.items()]}
    if isinstance(value, numpy.generic):
        return value.item()
    if isinstance(value, numpy.ndarray):
        return {"__array__": value.tolist(), "dtype": str(value.dtype)}
    try:
        import keras
        if isinstance(value, keras.Model):
            return {"__model__": value.to_json()}
    except ImportError:
        pass
    return {"__object__": type(value).__name__}


def __course_call(name, payload):
    import json
    inputs = []

    def decode(value):
        if isinstance(value, dict) and "__input__" in value:
            import keras
            inputs.append(keras.Input(shape=tuple(value["__input__"]), dtype=value["dtype"]))
            return inputs[-1]
        if isinstance(value, dict):
            return {k: decode(v) for k, v in value.items()}
        if isinstance(value, list):
            return [decode(v) for v in value]
        return value

    args, kwargs = decode(json.loads(payload))
    result = globals()[name](*args, **kwargs)
    if inputs:  # a block function: hand back the graph from the inputs to what it returned
        import keras
        return json.dumps({"__graph__": keras.Model(inputs, result).to_json()})
    return json.dumps(__course_encode(result))


def __course_names():
    import json, types
    skip = set(__course_skip)
    return json.dumps(sorted(
        k for k, v in globals().items()
        if callable(v) and not k.startswith("_") and k not in skip
        and not isinstance(v, (types.ModuleType, type(print)))))


def __course_code_names(name):
    import json
    from course_utils.grading import code_origins
    return json.dumps(sorted(code_origins(globals()[name])))
'''


class SubmissionError(Exception):
    """The student's function raised, timed out or returned what cannot be checked."""


def _encode_argument(value, tensors: list):
    """Plain values go as JSON; a Keras tensor goes as "an input of this shape" (kept in
    ``tensors``, to reconnect what comes back)."""
    import keras

    if keras.backend.is_keras_tensor(value):
        tensors.append(value)
        return {"__input__": list(value.shape[1:]), "dtype": str(value.dtype)}
    if isinstance(value, (tuple, list)):
        return [_encode_argument(v, tensors) for v in value]
    if isinstance(value, dict):
        return {k: _encode_argument(v, tensors) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise SubmissionError(
        f"the re-check can only pass plain values and Keras tensors to your function, not "
        f"{type(value).__name__}")


def _reconnect(graph_json: str, tensors: list):
    """Rebuild the layers a block function added and call them on the grader's own
    tensors, so the result joins the test cell's graph layer by layer."""
    import keras

    model = decode({"__model__": graph_json})
    clone = keras.models.clone_model(model, input_tensors=list(tensors))
    return clone.outputs[0] if len(clone.outputs) == 1 else list(clone.outputs)


def decode(value):
    """JSON from the kernel -> Python values; models are rebuilt from their config."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tuple__" in value:
        return tuple(decode(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {decode(k): decode(v) for k, v in value["__dict__"]}
    if "__array__" in value:
        import numpy

        return numpy.asarray(value["__array__"], dtype=value["dtype"])
    if "__model__" in value:
        import keras

        try:
            return keras.models.model_from_json(value["__model__"])
        except Exception as exc:
            raise SubmissionError(
                f"your model could not be rebuilt from its configuration outside your "
                f"notebook ({type(exc).__name__}: {exc})") from None
    if "__object__" in value:
        raise SubmissionError(
            f"your function returned a {value['__object__']}, which the grader cannot check")
    return value


class KernelChannel:
    """Calls into the student's kernel through ``evaluate(code, expression) -> str``, which
    runs ``code`` there and returns the value of ``expression`` (a str) or raises."""

    def __init__(self, evaluate, submission=None):
        """``submission``: the notebook's source (an ``own_work.Submission``), which decides
        ``check_own_work``. Without it (unit tests of the mechanics) only the kernel's
        answer is there, and the grading pipeline always passes it."""
        self._evaluate = evaluate
        self.submission = submission
        self._replies = {}  # (name, arguments) -> the kernel's reply: asked once per re-check
        self._evaluate(KERNEL_HELPERS, "''")

    def _json(self, expression):
        text = self._evaluate("", expression)
        if len(text) > MAX_REPLY_BYTES:
            raise SubmissionError("your function returned more data than the grader accepts")
        return json.loads(text)

    def names(self) -> list[str]:
        return self._json("__course_names()")

    def code_names(self, name: str) -> list[str]:
        return self._json(f"__course_code_names({name!r})")

    def call(self, name: str, args, kwargs):
        """``name(*args, **kwargs)`` in the kernel, as data. The same call twice in one
        re-check (two test cells building the same network) is asked of the kernel once;
        what comes back is rebuilt here afresh each time."""
        tensors = []
        payload = json.dumps([_encode_argument(list(args), tensors),
                              _encode_argument(kwargs, tensors)])
        if (name, payload) not in self._replies:
            self._replies[name, payload] = self._json(f"__course_call({name!r}, {payload!r})")
        result = self._replies[name, payload]
        if isinstance(result, dict) and "__graph__" in result:
            return _reconnect(result["__graph__"], tensors)
        return decode(result)


class Standin:
    """Stands for a function the student defined; calling it calls the real one in the
    student's kernel and returns the checked data."""

    def __init__(self, channel: KernelChannel, name: str):
        self._channel, self.__name__ = channel, name

    def __call__(self, *args, **kwargs):
        return self._channel.call(self.__name__, args, kwargs)

    def own_work_findings(self, forbidden) -> list:
        """Why the real function is not the student's own work (``own_work.Finding``s);
        empty if it is. Decided from the notebook's source; the kernel's ``code_origins``
        is asked only when the source finds nothing, and can only add a reason."""
        from course_utils.grader.own_work import Finding

        submission = self._channel.submission
        if submission is not None:
            found = submission.findings(self.__name__, forbidden)
            if found:
                return found
        try:
            origins = self._channel.code_names(self.__name__)
        except Exception as exc:  # the kernel will not say: nothing is vouched for
            return [Finding(f"no answer from your kernel about {self.__name__} "
                            f"({type(exc).__name__}: {exc})",
                            "the grader could not confirm how the function builds its network")]
        used = sorted(o for o in origins if any(w in o.split(".") for w in forbidden))
        return [Finding(f"a call through {', '.join(used)}",
                        "a ready-made network (or block) is not your own work")] if used else []

    def __repr__(self):
        return f"<your function {self.__name__}>"


def run_test_cell(source: str, channel: KernelChannel, names: list[str]) -> str | None:
    """Run one test cell here with stand-ins for the student's names. Returns None if it
    passes, else the failure message."""
    from IPython.core.inputtransformer2 import TransformerManager

    namespace = {"__name__": "__course_recheck__", "__builtins__": builtins}
    namespace.update({name: Standin(channel, name) for name in names})
    code = TransformerManager().transform_cell(source)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(code, "<test cell>", "exec"), namespace)
    except Exception as exc:  # every failure, the student's or the check's
        return f"{type(exc).__name__}: {exc}"
    return None


def literal(text: str) -> str:
    """The value of a str that the kernel sent back as its repr."""
    value = ast.literal_eval(text)
    if not isinstance(value, str):
        raise SubmissionError("the kernel sent back something other than text")
    return value
