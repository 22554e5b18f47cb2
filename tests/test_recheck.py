"""The re-check's mechanics, with a stand-in 'kernel' namespace in this process. (That the
re-check holds against a tampered kernel needs a real, separate kernel: see the
patches_* cases in test_grader_attacks.py.)"""

import keras
import numpy as np
import pytest

from course_utils import zoo
from course_utils.grader import recheck


def _channel(student_code):
    kernel = {}
    exec(student_code, kernel)

    def evaluate(code, expression):
        exec(code, kernel)
        return eval(expression, kernel)

    return recheck.KernelChannel(evaluate), kernel


STUDENT = '''
import keras, numpy
from course_utils import zoo
def conv_output_size(n, k, stride=1, padding="valid"):
    return (n - k) // stride + 1
def as_array(n):
    return numpy.arange(n)
def build():
    inputs = keras.Input((8, 8, 1))
    return keras.Model(inputs, keras.layers.Conv2D(2, 3, name="c")(inputs))
def shortcut():
    return zoo.lenet5()
def broken():
    raise NotImplementedError()
def odd():
    return object()
def block(x, filters):
    x = keras.layers.Conv2D(filters, 3, padding="same", name="block_conv")(x)
    return keras.layers.MaxPooling2D(2, name="block_pool")(x)
'''


def test_names_are_the_students_functions_only():
    channel, _ = _channel(STUDENT)
    names = channel.names()
    assert {"conv_output_size", "as_array", "build", "shortcut", "broken"} <= set(names)
    assert "keras" not in names and "numpy" not in names and "zoo" not in names


def test_values_arrays_and_models_come_back_as_data():
    channel, _ = _channel(STUDENT)
    assert channel.call("conv_output_size", (32, 5), {}) == 28
    np.testing.assert_array_equal(channel.call("as_array", (3,), {}), [0, 1, 2])
    model = channel.call("build", (), {})
    assert isinstance(model, keras.Model) and model.count_params() == 20
    assert tuple(model.get_layer("c").output.shape) == (None, 6, 6, 2)


def test_the_same_call_is_asked_of_the_kernel_once_and_rebuilt_each_time():
    channel, kernel = _channel(STUDENT + """
calls = []
_build, _size = build, conv_output_size
def build():
    calls.append("build")
    return _build()
def conv_output_size(n, k, stride=1, padding="valid"):
    calls.append((n, k))
    return _size(n, k, stride, padding)
""")
    first, second = channel.call("build", (), {}), channel.call("build", (), {})
    assert kernel["calls"] == ["build"]
    assert first is not second and first.get_layer("c") is not second.get_layer("c")
    assert first.to_json() == second.to_json()
    sizes = [channel.call("conv_output_size", args, {}) for args in [(32, 5), (32, 3), (32, 3)]]
    assert sizes == [28, 30, 30]
    assert kernel["calls"] == ["build", (32, 5), (32, 3)]  # other arguments: asked again


def test_failures_and_odd_results_are_explained():
    channel, _ = _channel(STUDENT)
    with pytest.raises(NotImplementedError):
        channel.call("broken", (), {})
    with pytest.raises(recheck.SubmissionError, match="returned a object"):
        channel.call("odd", (), {})
    with pytest.raises(recheck.SubmissionError, match="plain values"):
        channel.call("conv_output_size", (object(),), {})


def test_run_test_cell_uses_the_graders_checks():
    channel, kernel = _channel(STUDENT)
    names = channel.names()
    passing = ("from course_utils.grading import check_value\n"
               "check_value('n', conv_output_size(32, 5), 28)")
    failing = ("from course_utils.grading import check_value\n"
               "check_value('n', conv_output_size(32, 5, padding=2), 32)")
    assert recheck.run_test_cell(passing, channel, names) is None
    message = recheck.run_test_cell(failing, channel, names)
    assert message.startswith("CheckFailed") and "Expected: 32" in message
    assert "NameError" in recheck.run_test_cell("missing_function()", channel, names)


def test_check_own_work_sees_the_kernels_code():
    channel, _ = _channel(STUDENT)
    names = channel.names()
    cell = "from course_utils.grading import check_own_work\ncheck_own_work({})"
    assert recheck.run_test_cell(cell.format("build"), channel, names) is None
    assert "zoo" in recheck.run_test_cell(cell.format("shortcut"), channel, names)


def test_decode_refuses_models_it_cannot_rebuild():
    with pytest.raises(recheck.SubmissionError, match="could not be rebuilt"):
        recheck.decode({"__model__": '{"class_name": "NoSuchLayer", "config": {}}'})
    assert recheck.decode({"__tuple__": [1, [2, {"__tuple__": [3]}]]}) == (1, [2, (3,)])
    assert zoo  # the course's own builders stay importable next to the re-check


def test_block_functions_called_on_a_tensor_join_the_graders_graph():
    channel, _ = _channel(STUDENT)
    x = keras.Input((8, 8, 3))
    y = channel.call("block", (x, 4), {})
    model = keras.Model(x, y)
    assert [layer.name for layer in model.layers[1:]] == ["block_conv", "block_pool"]
    assert model.count_params() == 3 * 3 * 3 * 4 + 4 and tuple(y.shape) == (None, 4, 4, 4)
