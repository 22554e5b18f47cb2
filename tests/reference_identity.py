"""The proof that a course builder *is* a ``keras.applications`` network: the same layer
names and types in the same order, the same output shape and parameter count for every
layer, and the same outputs once the reference's weights are copied in.

Also :func:`built_then_drawn`, a faster way to build with weights. Tests that read only a
model's structure build it in ``course_utils.inspection.structure_only()``."""

import keras
import numpy as np


def _layers(model):
    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def built_then_drawn(build, *args, **kwargs):
    """``build(*args, **kwargs)`` with its weights drawn all at once when it is built (a
    ``StatelessScope`` defers each initializer until the scope ends), which takes about
    half the time of drawing them layer by layer; the same model, the same initializers."""
    with keras.StatelessScope():
        return build(*args, **kwargs)


def assert_identical(ours_fn, reference_fn, kwargs, rtol=1e-5, atol=1e-5):
    keras.backend.clear_session()  # Keras names unnamed layers from fresh counters
    reference = built_then_drawn(reference_fn, weights=None, **kwargs)
    keras.backend.clear_session()
    ours = built_then_drawn(ours_fn, **kwargs)
    assert ours.count_params() == reference.count_params()
    mine, theirs = _layers(ours), _layers(reference)
    assert [x.name for x in mine] == [x.name for x in theirs]
    assert [type(x) for x in mine] == [type(x) for x in theirs]
    for a, b in zip(mine, theirs):
        assert tuple(a.output.shape) == tuple(b.output.shape), a.name
        assert a.count_params() == b.count_params(), a.name
    ours.set_weights(reference.get_weights())
    rng = np.random.default_rng(0)
    shape = tuple(d or 96 for d in reference.input_shape[1:])
    x = rng.uniform(0, 1, size=(2, *shape)).astype("float32")
    np.testing.assert_allclose(ours(x), reference(x), rtol=rtol, atol=atol)
