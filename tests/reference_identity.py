"""The proof that a course builder *is* a ``keras.applications`` network, in the tests:
``course_utils.inspection.compare_with_reference`` (the same check the notebooks print as a
proof table) turned into assertions: the same layer table row for row (names, types,
output shapes, parameters, MACs) and the same outputs once the reference's weights are
copied in.

Also :func:`built_then_drawn`, a faster way to build with weights. Tests that read only a
model's structure build it in ``course_utils.inspection.structure_only()``."""

import keras

from course_utils.inspection import compare_with_reference


def built_then_drawn(build, *args, **kwargs):
    """``build(*args, **kwargs)`` with its weights drawn all at once when it is built (a
    ``StatelessScope`` defers each initializer until the scope ends), which takes about
    half the time of drawing them layer by layer; the same model, the same initializers."""
    with keras.StatelessScope():
        return build(*args, **kwargs)


def assert_identical(ours_fn, reference_fn, kwargs, rtol=1e-5, atol=1e-5):
    """``ours_fn(**kwargs)`` is ``reference_fn(weights=None, **kwargs)``; images of any size
    are run at 96x96."""
    row = compare_with_reference(ours_fn, reference_fn, side=96, **kwargs)
    assert row["same layer table"], f"{row['network']} {kwargs}: {row['first difference']}"
    bound = atol + rtol * row["largest output"]
    assert row["largest output difference"] <= bound, (
        f"{row['network']} {kwargs}: outputs differ by {row['largest output difference']:.3g} "
        f"(allowed {bound:.3g}) with the same layer table and weights")


def layer_config(layer) -> dict:
    """A layer's configuration without its name, the axis of a 4-D batch norm or
    normalization as -1 (Keras writes 3 or -1 for the same axis), for comparing a course
    layer's options with its keras.applications twin's."""
    import numpy as np

    config = layer.get_config()
    config.pop("name")
    if "axis" in config:
        config["axis"] = [-1 if a == 3 else a for a in np.atleast_1d(config["axis"])]
    return config
