"""Binarised networks (course_utils.binary): the straight-through sign and its gradient, the
binary layers against float layers run on the signs, training of the latent weights, the
config round trip, bit-packed storage that restores the same outputs at 1/32 of the size,
and the XNOR + popcount dot product against the float one."""

import ast
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import ops

from course_utils import binary, scale
from course_utils.binary import (
    BinaryConv2D,
    BinaryDense,
    WeightClip,
    binary_cnn,
    binary_layer_storage,
    binary_layers,
    float32_size_bytes,
    float_twin_cnn,
    load_packed,
    pack_binary_weights,
    pack_signs,
    packed_size_bytes,
    read_packed,
    save_packed,
    sign_ste,
    unpack_signs,
    xnor_matmul,
    xnor_popcount_dot,
)


def _np(x):
    return np.asarray(ops.convert_to_numpy(ops.cast(x, "float32")))


def _normal(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _sign(x):
    return np.where(np.asarray(x) >= 0, 1.0, -1.0).astype("float32")


def _alpha(kernel):
    """XNOR-Net's alpha computed plainly in NumPy: mean |W| over all axes but the last."""
    return np.abs(kernel).reshape(-1, kernel.shape[-1]).mean(axis=0)


# ---------------------------------------------------------------- sign_ste

def test_sign_ste_forward_is_plus_or_minus_one_never_zero():
    x = np.array([-3.0, -1.0, -0.5, -1e-30, -0.0, 0.0, 1e-30, 0.5, 1.0, 3.0], "float32")
    np.testing.assert_array_equal(_np(sign_ste(x)), [-1, -1, -1, -1, 1, 1, 1, 1, 1, 1])
    for dtype in ("float16", "bfloat16", "float32"):
        out = sign_ste(ops.cast(x, dtype))
        assert keras.backend.standardize_dtype(out.dtype) == dtype
        assert set(np.unique(_np(out))) == {-1.0, 1.0}


def test_sign_ste_gradient_is_the_upstream_gradient_where_abs_x_is_at_most_one():
    values = np.concatenate([np.linspace(-2.5, 2.5, 40), [-0.999, 0.999, 1.001]]).astype(
        "float32")  # linspace misses +-1 exactly (ties differ by backend)
    x = keras.Variable(values)
    upstream = _normal(values.shape, seed=1)
    [grad] = scale.gradients(lambda: ops.sum(ops.multiply(sign_ste(x.value), upstream)), [x])
    expected = np.where(np.abs(values) <= 1, upstream, 0)  # d clip(x, -1, 1) / dx
    np.testing.assert_array_equal(grad, expected)
    assert (grad[np.abs(values) > 1] == 0).all() and (grad[np.abs(values) < 1] != 0).all()


def test_weight_clip_clips_to_the_limit_and_round_trips():
    np.testing.assert_array_equal(_np(WeightClip()(np.array([-2.0, -0.5, 0.25, 1.7], "float32"))),
                                  [-1.0, -0.5, 0.25, 1.0])
    assert WeightClip.from_config(WeightClip(0.5).get_config()).limit == 0.5
    with pytest.raises(ValueError, match=r"(?s)limit.*got.*Hint"):
        WeightClip(0)


# ---------------------------------------------------------------- the layers against float ones

def _float_dense(kernel, x, alpha=None, bias=None):
    units = kernel.shape[-1]
    dense = keras.layers.Dense(units, use_bias=False)
    dense.build((None, kernel.shape[0]))
    dense.set_weights([_sign(kernel) * (1 if alpha is None else alpha)])
    out = _np(dense(x))
    return out if bias is None else out + bias


@pytest.mark.parametrize("scale", ["none", "channel"])
@pytest.mark.parametrize("binarize_inputs", [True, False])
def test_binary_dense_is_a_float_dense_on_the_signs(scale, binarize_inputs):
    layer = BinaryDense(9, binarize_inputs=binarize_inputs, scale=scale)
    x = _normal((5, 13), seed=2)
    out = _np(layer(x))
    kernel = _np(layer.kernel)
    alpha = _alpha(kernel) if scale == "channel" else None
    expected = _float_dense(kernel, _sign(x) if binarize_inputs else x, alpha)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    if scale == "none" and binarize_inputs:  # +-1 times +-1, summed: whole numbers, exactly
        np.testing.assert_array_equal(out, _sign(x) @ _sign(kernel))
    if scale == "channel":
        np.testing.assert_allclose(_np(layer.scaling_factors()), alpha, rtol=1e-6)


def test_binary_dense_bias_is_added_after_the_binary_product():
    layer = BinaryDense(4, use_bias=True, bias_initializer="ones", scale="channel")
    x = _normal((3, 6), seed=3)
    out = _np(layer(x))
    kernel = _np(layer.kernel)
    np.testing.assert_allclose(out, _float_dense(kernel, _sign(x), _alpha(kernel), bias=1.0),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("scale", ["none", "channel"])
@pytest.mark.parametrize("strides, padding", [(1, "same"), (2, "same"), ((1, 2), "valid")])
def test_binary_conv_is_a_float_conv_on_the_signs(scale, strides, padding):
    layer = BinaryConv2D(6, (3, 2), strides=strides, padding=padding, scale=scale)
    x = _normal((2, 7, 8, 3), seed=4)
    out = _np(layer(x))
    kernel = _np(layer.kernel)
    conv = keras.layers.Conv2D(6, (3, 2), strides=strides, padding=padding, use_bias=False)
    conv.build(x.shape)
    conv.set_weights([_sign(kernel) * (_alpha(kernel) if scale == "channel" else 1)])
    np.testing.assert_allclose(out, _np(conv(_sign(x))), rtol=1e-5, atol=1e-5)
    assert out.shape == tuple(layer.compute_output_shape(x.shape))


def test_binary_conv_first_layer_sees_real_inputs():
    layer = BinaryConv2D(4, 3, binarize_inputs=False)
    x = _normal((2, 5, 5, 3), seed=5)
    conv = keras.layers.Conv2D(4, 3, padding="same", use_bias=False)
    out = _np(layer(x))
    conv.build(x.shape)
    conv.set_weights([_sign(_np(layer.kernel))])
    np.testing.assert_allclose(out, _np(conv(x)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make, shape", [
    (lambda: BinaryDense(7), (2, 5)),
    (lambda: BinaryDense(7), (2, 3, 5)),
    (lambda: BinaryConv2D(4, 3), (2, 9, 7, 3)),
    (lambda: BinaryConv2D(4, (3, 1), strides=2, padding="valid"), (2, 9, 7, 3)),
])
def test_output_shape_agrees_with_compute_output_shape(make, shape):
    layer = make()
    out = layer(_normal(shape))
    assert tuple(out.shape) == tuple(layer.compute_output_shape(shape))
    symbolic = make()(keras.Input(shape[1:]))
    assert tuple(symbolic.shape) == (None, *tuple(layer.compute_output_shape(shape))[1:])


@pytest.mark.parametrize("policy, dtype", [("float32", "float32"), ("mixed_bfloat16", "bfloat16"),
                                           ("mixed_float16", "float16")])
def test_compute_dtype_out_float32_latent_kernel(policy, dtype):
    layer = BinaryConv2D(4, 3, scale="channel", dtype=policy)
    out = layer(_normal((2, 5, 5, 3)))
    assert keras.backend.standardize_dtype(out.dtype) == dtype
    assert keras.backend.standardize_dtype(layer.kernel.dtype) == "float32"
    assert np.isfinite(_np(out)).all()


# ---------------------------------------------------------------- training the latent weights

@pytest.mark.parametrize("make, shape", [(lambda: BinaryDense(5, scale="channel"), (4, 8)),
                                         (lambda: BinaryConv2D(5, 3), (4, 6, 6, 3))])
def test_gradients_reach_the_latent_kernel_except_where_it_is_beyond_one(make, shape):
    layer = make()
    x = _normal(shape, seed=6)
    layer.build(shape)
    kernel = _np(layer.kernel)
    kernel.flat[:3] = [1.5, -2.0, 1.25]  # set directly, past the clip: BNN cancels these
    layer.kernel.assign(kernel)
    upstream = _normal(layer.compute_output_shape(shape), seed=7)
    [grad] = scale.gradients(lambda: ops.sum(ops.multiply(layer(x), upstream)),
                             [layer.kernel])
    beyond = np.abs(kernel) > 1
    assert (grad[~beyond] != 0).mean() > 0.9, "the straight-through gradient reaches W"
    if layer.scale == "none":
        assert (grad[beyond] == 0).all()


def test_a_training_step_changes_the_real_kernel_and_keeps_it_real():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6, 6, 2)),
                              BinaryConv2D(4, 3, binarize_inputs=False, name="conv"),
                              keras.layers.BatchNormalization(),
                              keras.layers.Flatten(),
                              BinaryDense(3, scale="channel", name="dense")])
    model.compile(keras.optimizers.SGD(0.5),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = _normal((16, 6, 6, 2), seed=8), np.arange(16) % 3
    before = {name: _np(model.get_layer(name).kernel) for name in ("conv", "dense")}
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    for name, old in before.items():
        new = _np(model.get_layer(name).kernel)
        assert not np.allclose(new, old), f"{name}: the latent kernel learns"
        assert np.abs(new).max() <= 1.0, f"{name}: clipped to [-1, 1]"
        assert len(np.unique(new)) > new.size // 2, f"{name}: the kernel stays real, not +-1"


def test_the_optimizer_clips_the_latent_kernel_to_one():
    layer = BinaryDense(4)
    layer.build((None, 6))
    kernel = _np(layer.kernel)
    outward = -10 * _sign(kernel)  # a step of 10 away from zero: far past the clip
    outward[0] = 0.0  # the first row does not move
    keras.optimizers.SGD(1.0).apply_gradients([(ops.convert_to_tensor(outward),
                                                layer.kernel)])
    new = _np(layer.kernel)
    np.testing.assert_array_equal(new[1:], _sign(kernel)[1:])
    np.testing.assert_array_equal(new[0], kernel[0])


# ---------------------------------------------------------------- config and errors

@pytest.mark.parametrize("make", [
    lambda: BinaryDense(7, binarize_inputs=False, scale="channel", use_bias=True, name="d"),
    lambda: BinaryConv2D(4, (3, 1), strides=(2, 1), padding="valid", scale="channel",
                         name="c"),
])
def test_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(again) is type(layer) and again.get_config() == config


def test_a_model_saved_as_keras_reloads_with_the_same_outputs(tmp_path):
    model = _model()
    x = _normal((3, 8, 8, 3), seed=9)
    model.save(tmp_path / "binary.keras")
    loaded = keras.models.load_model(tmp_path / "binary.keras")
    np.testing.assert_array_equal(_np(loaded(x)), _np(model(x)))
    assert isinstance(loaded.layers[1].kernel.constraint, WeightClip)


@pytest.mark.parametrize("make, named", [
    (lambda: BinaryDense(0), "units"),
    (lambda: BinaryDense(3.0), "units"),
    (lambda: BinaryDense(3, scale="layer"), "scale"),
    (lambda: BinaryDense(3, binarize_inputs="yes"), "binarize_inputs"),
    (lambda: BinaryDense(3, use_bias=1), "use_bias"),
    (lambda: BinaryConv2D(0, 3), "filters"),
    (lambda: BinaryConv2D(4, (3, 0)), "kernel_size"),
    (lambda: BinaryConv2D(4, 3, strides=-1), "strides"),
    (lambda: BinaryConv2D(4, 3, padding="causal"), "padding"),
    (lambda: BinaryConv2D(4, 3)(np.zeros((2, 5, 5), "float32")), "input"),
])
def test_bad_arguments(make, named):
    with pytest.raises(ValueError, match=rf"(?s){named}.*got.*Hint"):
        make()


def test_the_layers_use_keras_only():
    """No ``tf.*``: the layers run on every backend; NumPy (and json) for the storage; the
    course's own modules only for walking nested models."""
    tree = ast.parse(Path(binary.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in (node.names if isinstance(node, ast.Import)
                              else [ast.alias(node.module or "")])}
    assert imported <= {"__future__", "json", "math", "time", "typing", "keras", "numpy",
                        "course_utils"}, imported


# ---------------------------------------------------------------- packed storage

def _model(seed=0):
    """Float first layer's inputs, binary convolution, batch norm, binary dense, float head;
    names left to Keras, so two models have different layer names."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 3))
    x = BinaryConv2D(6, 3, binarize_inputs=False, scale="channel")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    x = BinaryDense(10, use_bias=True, bias_initializer="random_normal")(x)
    x = keras.layers.BatchNormalization()(x)
    outputs = keras.layers.Dense(3)(x)
    return keras.Model(inputs, outputs)


def _randomise_batch_norm(model, seed=10):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights([rng.uniform(0.5, 2, w.shape).astype("float32")
                               for w in layer.get_weights()])


def _layer_outputs(model, x):
    probe = keras.Model(model.input, [layer.output for layer in model.layers[1:]])
    return [_np(out) for out in probe(x)]


def test_save_and_load_packed_give_the_same_outputs(tmp_path):
    model = _model(seed=0)
    _randomise_batch_norm(model)
    path = tmp_path / "weights.npz"
    save_packed(model, path)
    other = _model(seed=1)  # other weights, other layer names
    x = _normal((4, 8, 8, 3), seed=11)
    assert not np.array_equal(_np(other(x)), _np(model(x)))
    assert load_packed(other, path) is other
    for got, expected in zip(_layer_outputs(other, x), _layer_outputs(model, x), strict=True):
        np.testing.assert_array_equal(got, expected)
    for a, b in zip(model.layers, other.layers, strict=True):
        if isinstance(a, (BinaryConv2D, BinaryDense)):
            np.testing.assert_array_equal(_sign(_np(b.kernel)), _sign(_np(a.kernel)))
            if a.scale == "channel":
                np.testing.assert_array_equal(_np(b.scaling_factors()),
                                              _np(a.scaling_factors()))


def test_packed_entries_are_bits_for_binary_kernels_and_float32_otherwise():
    model = _model()
    packed = pack_binary_weights(model)
    conv, dense = (layer for layer in model.layers if isinstance(layer, binary._BinaryKernel))
    entry = packed[conv.kernel.path]
    assert entry.data.dtype == np.uint8 and entry.shape == (3, 3, 3, 6)
    assert entry.data.size == -(-3 * 3 * 3 * 6 // 8)
    np.testing.assert_array_equal(unpack_signs(entry.data, entry.shape), _sign(_np(conv.kernel)))
    np.testing.assert_array_equal(packed[f"{conv.kernel.path}:alpha"].data,
                                  _np(conv.scaling_factors()))
    assert f"{dense.kernel.path}:alpha" not in packed  # scale="none": no factors
    assert packed[dense.bias.path].data.dtype == np.float32
    floats = [w for w in model.weights if id(w) not in (id(conv.kernel), id(dense.kernel))]
    for weight in floats:
        np.testing.assert_array_equal(packed[weight.path].data, _np(weight))
    assert len(packed) == len(model.weights) + 1


def test_read_packed_returns_what_was_packed(tmp_path):
    model = _model()
    save_packed(model, tmp_path / "w.npz")
    stored, packed = read_packed(tmp_path / "w.npz"), pack_binary_weights(model)
    assert list(stored) == list(packed)
    for key in packed:
        assert stored[key].shape == packed[key].shape
        np.testing.assert_array_equal(stored[key].data, packed[key].data)


@pytest.mark.parametrize("scale", ["none", "channel"])
def test_a_256_by_256_binary_layer_is_at_least_25_times_smaller_than_float32(scale, tmp_path):
    model = keras.Sequential([keras.Input((256,)), BinaryDense(256, scale=scale)])
    float_bytes = float32_size_bytes(model)
    assert float_bytes == 256 * 256 * 4
    packed = packed_size_bytes(model)
    assert packed == 256 * 256 // 8 + (256 * 4 if scale == "channel" else 0)
    assert packed * 25 <= float_bytes
    save_packed(model, tmp_path / "w.npz")  # the file, headers and manifest included
    assert (tmp_path / "w.npz").stat().st_size * 25 <= float_bytes


def test_load_packed_refuses_a_different_model(tmp_path):
    save_packed(_model(), tmp_path / "w.npz")
    wider = keras.Sequential([keras.Input((8, 8, 3)), BinaryConv2D(7, 3, scale="channel")])
    with pytest.raises(ValueError, match=r"(?s)shape.*expected.*got.*Hint"):
        load_packed(wider, tmp_path / "w.npz")
    floats = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(6, 3)])
    with pytest.raises(ValueError, match=r"(?s)kind.*expected float32, got bits.*Hint"):
        load_packed(floats, tmp_path / "w.npz")


# ---------------------------------------------------------------- XNOR + popcount

@pytest.mark.parametrize("n", [1, 5, 8, 9, 63, 64, 100, 257])
def test_xnor_popcount_dot_is_the_dot_product_of_the_signs(n):
    rng = np.random.default_rng(n)
    for _ in range(5):
        a, b = _sign(rng.normal(size=n)), _sign(rng.normal(size=n))
        assert xnor_popcount_dot(pack_signs(a), pack_signs(b), n) == int(a @ b)
    assert xnor_popcount_dot(pack_signs(a), pack_signs(a), n) == n
    assert xnor_popcount_dot(pack_signs(a), pack_signs(-a), n) == -n


def test_xnor_popcount_dot_ignores_the_padding_bits():
    a, b = _sign(_normal(13, seed=1)), _sign(_normal(13, seed=2))
    a_bits = pack_signs(a)
    a_bits[-1] |= 0b00000111  # 13 = 8 + 5: the last 3 bits are padding
    assert xnor_popcount_dot(a_bits, pack_signs(b), 13) == int(a @ b)


@pytest.mark.parametrize("n", [3, 16, 77])
def test_xnor_matmul_is_the_float_matmul_of_the_signs(n):
    a, b = _sign(_normal((6, n), seed=n)), _sign(_normal((4, n), seed=n + 1))
    got = xnor_matmul(pack_signs(a), pack_signs(b), n)
    assert got.shape == (6, 4) and np.issubdtype(got.dtype, np.integer)
    np.testing.assert_array_equal(got, a @ b.T)


def test_xnor_matmul_reproduces_a_binary_dense_layer():
    layer = BinaryDense(5)
    x = _normal((3, 20), seed=12)
    out = _np(layer(x))
    kernel_rows = _np(layer.kernel).T  # one row per output unit
    np.testing.assert_array_equal(xnor_matmul(pack_signs(x), pack_signs(kernel_rows), 20), out)


def test_xnor_bad_bits():
    with pytest.raises(ValueError, match=r"(?s)bytes.*got.*Hint"):
        xnor_popcount_dot(pack_signs(np.ones(9)), pack_signs(np.ones(8)), 9)
    with pytest.raises(ValueError, match=r"(?s)uint8.*got.*Hint"):
        xnor_matmul(np.ones((2, 2)), np.ones((2, 2)), 16)


@pytest.mark.parametrize("n", [64, 512, 2304, 2300])  # whole 64-bit words, and not
def test_xnor_popcount_agrees_with_the_bit_count_table(n, monkeypatch):
    a, b = _sign(_normal((3, n), seed=13)), _sign(_normal((n, 5), seed=14)).T
    a_bits, b_bits = pack_signs(a), pack_signs(b)  # b: a kernel's columns, not C-contiguous
    fast = xnor_matmul(a_bits, b_bits, n)
    np.testing.assert_array_equal(fast, a @ b.T)
    monkeypatch.delattr(np, "bitwise_count", raising=False)  # NumPy 1: the table
    np.testing.assert_array_equal(xnor_matmul(a_bits, b_bits, n), fast)
    assert xnor_popcount_dot(a_bits[0], b_bits[0], n) == int(a[0] @ b[0])


# ---------------------------------------------------------------- the binarised CNN and its twin

def _kinds(model):
    return [type(layer).__name__ for layer in model.layers]


@pytest.mark.parametrize("scale", ["none", "channel"])
def test_binary_cnn_keeps_the_first_and_last_layers_real_and_binarises_between(scale):
    model = binary_cnn(widths=(4, 6, 8), scale=scale)
    assert _kinds(model) == ["InputLayer", "Conv2D", "MaxPooling2D", "BatchNormalization",
                             "BinaryConv2D", "MaxPooling2D", "BatchNormalization", "Flatten",
                             "BinaryDense", "BatchNormalization", "Activation", "Dense"]
    conv, dense = binary_layers(model)
    assert (conv.filters, dense.units) == (6, 8)
    assert conv.binarize_inputs and dense.binarize_inputs and conv.padding == "valid"
    assert conv.scale == dense.scale == scale
    assert model.output_shape == (None, 10)
    # what reaches the real classifier is +-1: binary activations all the way
    x = _normal((4, 28, 28, 1), seed=15)
    signs = keras.Model(model.input, model.get_layer("classifier").input)(x)
    assert set(np.unique(_np(signs))) <= {-1.0, 1.0}


def test_the_float_twin_has_the_same_layout_in_full_precision():
    twin, bnn = float_twin_cnn(widths=(4, 6, 8)), binary_cnn(widths=(4, 6, 8))
    assert binary_layers(twin) == []
    assert twin.count_params() == bnn.count_params()
    weighted = [(layer.name, tuple(w.shape for w in layer.weights)) for layer in bnn.layers
                if layer.weights]
    assert [(layer.name, tuple(w.shape for w in layer.weights)) for layer in twin.layers
            if layer.weights] == weighted
    assert sum(isinstance(layer, keras.layers.ReLU) for layer in twin.layers) == 3
    assert twin.output_shape == bnn.output_shape


def test_the_twins_train_a_step_and_the_binary_kernels_stay_clipped():
    x, y = _normal((16, 28, 28, 1), seed=16), np.arange(16) % 10
    for make in (binary_cnn, float_twin_cnn):
        keras.utils.set_random_seed(0)
        model = make(widths=(4, 6, 8))
        model.compile(keras.optimizers.Adam(0.5), "sparse_categorical_crossentropy")
        history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"]).all()
        for layer in binary_layers(model):
            assert np.abs(_np(layer.kernel)).max() <= 1.0


@pytest.mark.parametrize("make, named", [
    (lambda: binary_cnn(widths=(4, 6)), "widths"),
    (lambda: binary_cnn(widths=(4, 0, 8)), "widths"),
    (lambda: float_twin_cnn(widths=(4, 6.0, 8)), "widths"),
    (lambda: binary_cnn(scale="layer"), "scale"),
])
def test_binary_cnn_bad_arguments(make, named):
    with pytest.raises(ValueError, match=rf"(?s){named}.*got.*Hint"):
        make()


def test_binary_layers_looks_inside_nested_models_and_accepts_a_layer():
    inner = keras.Sequential([keras.Input((8,)), BinaryDense(4, name="inner")])
    outer = keras.Sequential([keras.Input((8,)), inner, BinaryDense(3, name="outer")])
    assert [layer.name for layer in binary_layers(outer)] == ["inner", "outer"]
    assert binary_layers(inner.layers[0]) == [inner.layers[0]]
    assert binary_layers(keras.layers.Dense(2)) == []


@pytest.mark.parametrize("scale", ["none", "channel"])
def test_binary_layer_storage_counts_bits_and_factors(scale, tmp_path):
    model = binary_cnn(widths=(4, 16, 8), scale=scale)
    conv, dense = binary_layer_storage(model)
    conv_weights, dense_weights = 3 * 3 * 4 * 16, 6 * 6 * 16 * 8  # 28 -> 14 -> 12 -> 6
    assert (conv.layer, conv.weights, conv.float32_bytes) == ("conv", conv_weights,
                                                              4 * conv_weights)
    assert (dense.layer, dense.weights) == ("dense", dense_weights)
    factors = 4 if scale == "channel" else 0
    assert conv.packed_bytes == conv_weights // 8 + factors * 16
    assert dense.packed_bytes == dense_weights // 8 + factors * 8
    # one binary layer alone saves and loads: its file is the bits (and factors) + headers
    layer = model.get_layer("dense")
    save_packed(layer, tmp_path / "dense.npz")
    stored = read_packed(tmp_path / "dense.npz")
    assert [entry.data.dtype for entry in stored.values()] == (
        [np.uint8, np.float32] if scale == "channel" else [np.uint8])
    x = _normal((2, 6 * 6 * 16), seed=17)
    before = _np(layer(x))
    layer.kernel.assign(_normal(layer.kernel.shape, seed=18))
    np.testing.assert_array_equal(_np(load_packed(layer, tmp_path / "dense.npz")(x)), before)
