"""Look inside a model: ``layer_table`` (shapes, parameters, MACs, receptive fields),
``trace`` (push one example through, layer by layer), ``structure_only`` (build a model
for its shapes and counts without drawing its weights) and ``compare_with_reference`` (is a
rebuilt network the ``keras.applications`` one, layer for layer and output for output?).

What ``layer_table`` counts as MACs (multiply-accumulates of one forward pass for one
input; biases, activations, additions and comparisons are not counted):

=================================  ========================================================
convolution (1-3D, ``groups``)     ``prod(out_spatial) * C_out * prod(kernel) * C_in / groups``
depthwise convolution              ``prod(out_spatial) * C_in * multiplier * prod(kernel)``
separable convolution              the depthwise part plus a 1x1 convolution to ``C_out``
transposed convolution             ``prod(in_spatial) * C_in * prod(kernel) * C_out``
dense (on any rank)                ``prod(leading axes) * n_in * n_out``
average pooling                    ``kernel`` additions per output (``prod(in)`` for global)
max pooling                        0 (comparisons, not multiplies)
batch / layer normalisation,       one per output element: the scale-and-shift that
``Rescaling``, ``Normalization``   inference folds them into
a nested model                     the sum over its layers
a layer of your own                ``layer.count_macs(input_shapes, output_shapes)`` if defined
anything else                      0
=================================  ========================================================

The receptive field (in input pixels) and its jump (the stride in input pixels between
neighbouring outputs) follow ``r_out = r_in + (k_eff - 1) * j_in``, ``j_out = j_in * s``
along every path; where branches meet (Inception, ResNet) the largest is kept. Flatten
and global pooling see the whole input. Upsampling and transposed convolutions are passed
through unchanged.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pandas as pd

from course_utils.keras_graph import producing_node, tensor_history

COLUMNS = ["layer", "type", "output_shape", "params", "macs", "receptive_field", "jump"]


class ModelInspectionError(TypeError):
    """The object cannot be inspected: not a Keras model, unbuilt, or without a graph."""


class LayerTable(pd.DataFrame):
    """A DataFrame that prints whole, with thousands separators, in a terminal and in a
    notebook. Everything else is plain pandas."""

    @property
    def _constructor(self):
        return LayerTable

    def _formatters(self):
        def count(value):
            if value is None or value is pd.NA:
                return ""
            if isinstance(value, (int, np.integer)):
                return f"{int(value):,}"
            return f"{value:,.4g}"

        def shape(value):
            if value is None:
                return ""
            if isinstance(value, tuple) and value and isinstance(value[0], tuple):
                return " ".join(str(v) for v in value)
            return str(value)

        def field(value):
            if value is None or value is pd.NA:
                return ""
            if isinstance(value, tuple):
                return "x".join(str(v) for v in value)
            return str(value)

        return {
            "params": count, "macs": count, "output_shape": shape,
            "receptive_field": field, "jump": field,
        }

    def _render(self, to_text):
        shown = {k: v for k, v in self._formatters().items() if k in self.columns}
        return to_text(formatters=shown, index=False, na_rep="",
                       max_rows=pd.get_option("display.max_rows"))

    # A selection that lost the layer names prints as a plain DataFrame.
    def __repr__(self):
        if "layer" not in self.columns:
            return super().__repr__()
        return self._render(self.to_string)

    def _repr_html_(self):
        if "layer" not in self.columns:
            return super()._repr_html_()
        return self._render(self.to_html)


# --------------------------------------------------------------------------- checks


def _require_graph_model(model):
    import keras

    if not isinstance(model, keras.Model):
        raise ModelInspectionError(
            f"layer_table expects a keras.Model; got {type(model).__name__}. Hint: wrap "
            f"layers in keras.Sequential([...]) or build a functional keras.Model(inputs, "
            f"outputs)."
        )
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):
        inputs = outputs = None
    if not inputs or not outputs:
        if isinstance(model, keras.Sequential):
            raise ModelInspectionError(
                f"The Sequential model {model.name!r} is not built yet, so its shapes are "
                f"unknown. Hint: start it with keras.Input(shape=...) or call "
                f"model.build((None, height, width, channels)) first."
            )
        raise ModelInspectionError(
            f"{model.name!r} is a subclassed model: Keras does not record how its layers "
            f"connect, so there is no graph to inspect. Hint: rebuild it as a Sequential or "
            f"functional model (the course's builders in course_utils.zoo are functional)."
        )
    return inputs, outputs


# --------------------------------------------------------------------------- graph walk


def _ordered_nodes(inputs, outputs):
    """(operation, node) pairs between ``inputs`` and ``outputs``, inputs first."""
    known = {id(t) for t in inputs}
    order, seen = [], set()
    stack = [(t, False) for t in reversed(outputs)]
    while stack:
        tensor, expanded = stack.pop()
        try:
            op, node = tensor_history(tensor)[0], producing_node(tensor)
        except ValueError as exc:
            raise ModelInspectionError(str(exc)) from None
        key = id(node)
        if expanded:
            if key not in seen:
                seen.add(key)
                order.append((op, node))
            continue
        if key in seen:
            continue
        stack.append((tensor, True))
        if id(tensor) in known or node.is_input:
            continue
        for parent in reversed(node.input_tensors):
            stack.append((parent, False))
    return order


def _shape(tensor):
    return tuple(tensor.shape[1:])


def _spatial(shape, data_format="channels_last"):
    """Spatial axes of a batch-free shape."""
    if len(shape) < 2:
        return ()
    return tuple(shape[:-1]) if data_format != "channels_first" else tuple(shape[1:])


class _Field:
    """Receptive field and jump per spatial axis of the model input."""

    __slots__ = ("rf", "jump")

    def __init__(self, rf, jump):
        self.rf, self.jump = tuple(rf), tuple(jump)

    @classmethod
    def pixel(cls, n_axes):
        return cls((1,) * n_axes, (1,) * n_axes)

    @classmethod
    def merge(cls, fields):
        fields = [f for f in fields if f is not None]
        if not fields:
            return None
        n = len(fields[0].rf)
        if any(len(f.rf) != n for f in fields):
            return None
        rf = tuple(_max_or_none(f.rf[i] for f in fields) for i in range(n))
        jump = tuple(max(f.jump[i] for f in fields) for i in range(n))
        return cls(rf, jump)

    def window(self, kernel, stride, dilation):
        if len(kernel) != len(self.rf):
            return None
        rf = tuple(
            None if r is None else r + (d * (k - 1)) * j
            for r, k, d, j in zip(self.rf, kernel, dilation, self.jump)
        )
        jump = tuple(j * s for j, s in zip(self.jump, stride))
        return _Field(rf, jump)

    def whole(self, spatial_size):
        """A layer that sees every position of its input (Flatten, global pooling)."""
        if len(spatial_size) != len(self.rf):
            return None
        rf = tuple(
            None if (r is None or n is None) else r + (n - 1) * j
            for r, n, j in zip(self.rf, spatial_size, self.jump)
        )
        return _Field(rf, self.jump)


def _max_or_none(values):
    values = list(values)
    return None if any(v is None for v in values) else max(values)


def _collapse(values):
    """(5, 5) -> 5; (1, 7) -> (1, 7); () -> None."""
    if not values:
        return None
    if any(v is None for v in values):
        return None
    return values[0] if len(set(values)) == 1 else tuple(values)


# --------------------------------------------------------------------------- per layer


def _is_model(op):
    import keras

    return isinstance(op, keras.Model)


def _layer_field(op, node, fields):
    """Receptive field after ``op`` given the fields of its inputs."""
    import keras

    L = keras.layers
    field = _Field.merge(fields)
    if field is None:
        return None
    in_shape = _shape(node.input_tensors[0]) if node.input_tensors else ()
    data_format = getattr(op, "data_format", "channels_last")
    global_pools = (
        L.GlobalAveragePooling1D, L.GlobalAveragePooling2D, L.GlobalAveragePooling3D,
        L.GlobalMaxPooling1D, L.GlobalMaxPooling2D, L.GlobalMaxPooling3D,
    )
    if isinstance(op, global_pools + (L.Flatten,)):
        return field.whole(_spatial(in_shape, data_format))
    transposed = (L.Conv1DTranspose, L.Conv2DTranspose, L.Conv3DTranspose)
    if isinstance(op, transposed):
        return field
    kernel = getattr(op, "kernel_size", None) or getattr(op, "pool_size", None)
    if kernel is not None and getattr(op, "strides", None) is not None:
        kernel = tuple(np.atleast_1d(kernel))
        stride = tuple(np.atleast_1d(op.strides))
        dilation = tuple(np.atleast_1d(getattr(op, "dilation_rate", 1)))
        if len(dilation) == 1 and len(kernel) > 1:
            dilation = dilation * len(kernel)
        return field.window(
            tuple(int(k) for k in kernel), tuple(int(s) for s in stride),
            tuple(int(d) for d in dilation),
        )
    return field


def _prod(values):
    return int(math.prod(int(v) for v in values))


def layer_macs(op, in_shapes, out_shapes):
    """MACs of one call of ``op`` for one input (batch-free shapes); ``None`` if unknown
    because a dimension is ``None``. See the module docstring for what is counted."""
    import keras

    L = keras.layers
    custom = getattr(op, "count_macs", None)
    if callable(custom):
        return int(custom(in_shapes, out_shapes))
    if not in_shapes or not out_shapes:
        return 0
    inp, out = in_shapes[0], out_shapes[0]
    data_format = getattr(op, "data_format", "channels_last")
    channels_first = data_format == "channels_first"

    def channels(shape):
        return shape[0] if channels_first else shape[-1]

    def spatial(shape):
        return shape[1:] if channels_first else shape[:-1]

    counted = (
        L.Conv1D, L.Conv2D, L.Conv3D, L.DepthwiseConv1D, L.DepthwiseConv2D,
        L.SeparableConv1D, L.SeparableConv2D, L.Conv1DTranspose, L.Conv2DTranspose,
        L.Conv3DTranspose, L.Dense, L.AveragePooling1D, L.AveragePooling2D,
        L.AveragePooling3D, L.GlobalAveragePooling1D, L.GlobalAveragePooling2D,
        L.GlobalAveragePooling3D, L.BatchNormalization, L.LayerNormalization,
        L.GroupNormalization, L.Normalization, L.Rescaling,
    )
    if not isinstance(op, counted):
        return 0
    if any(d is None for d in tuple(inp) + tuple(out)):
        return None
    if isinstance(op, (L.Conv1DTranspose, L.Conv2DTranspose, L.Conv3DTranspose)):
        return _prod(spatial(inp)) * channels(inp) * _prod(op.kernel_size) * op.filters
    if isinstance(op, (L.SeparableConv1D, L.SeparableConv2D)):
        middle = channels(inp) * op.depth_multiplier
        return _prod(spatial(out)) * middle * (_prod(op.kernel_size) + op.filters)
    if isinstance(op, (L.DepthwiseConv1D, L.DepthwiseConv2D)):
        return (_prod(spatial(out)) * channels(inp) * op.depth_multiplier
                * _prod(op.kernel_size))
    if isinstance(op, (L.Conv1D, L.Conv2D, L.Conv3D)):
        return (_prod(spatial(out)) * op.filters * _prod(op.kernel_size)
                * channels(inp) // op.groups)
    if isinstance(op, L.Dense):
        return _prod(inp[:-1]) * inp[-1] * op.units
    if isinstance(op, (L.AveragePooling1D, L.AveragePooling2D, L.AveragePooling3D)):
        return _prod(out) * _prod(op.pool_size)
    if isinstance(op, (L.GlobalAveragePooling1D, L.GlobalAveragePooling2D,
                       L.GlobalAveragePooling3D)):
        return _prod(inp)
    return _prod(out)  # normalisation and rescaling: one per element


def _walk(model, in_fields, prefix, expand):
    """Rows for ``model``'s operations and the fields of its outputs."""
    inputs, outputs = _require_graph_model(model)
    fields = {id(t): f for t, f in zip(inputs, in_fields)}
    rows, first_row = [], {}
    for op, node in _ordered_nodes(inputs, outputs):
        if node.is_input:
            for t in node.output_tensors:
                fields.setdefault(id(t), _Field.pixel(len(_spatial(_shape(t)))))
            out_fields = [fields.get(id(t)) for t in node.output_tensors]
            sub_rows, macs = [], 0
        else:
            in_f = [fields.get(id(t)) for t in node.input_tensors]
            if _is_model(op):
                sub_rows, out_fields = _walk(op, in_f, f"{prefix}{op.name}/", expand)
                known = [r["macs"] for r in sub_rows]
                macs = None if any(m is None for m in known) else sum(known)
            else:
                field = _layer_field(op, node, in_f)
                out_fields = [field] * len(node.output_tensors)
                sub_rows = []
                macs = layer_macs(
                    op,
                    [_shape(t) for t in node.input_tensors],
                    [_shape(t) for t in node.output_tensors],
                )
        for t, f in zip(node.output_tensors, out_fields):
            fields[id(t)] = f
        if id(op) in first_row:  # a shared layer called again: add its MACs only
            row = first_row[id(op)]
            if row["macs"] is not None and macs is not None:
                row["macs"] += macs
            continue
        if expand and _is_model(op):
            first_row[id(op)] = {"macs": None}  # rows already added below
            rows.extend(sub_rows)
            continue
        if node.is_input and prefix:
            first_row[id(op)] = {"macs": 0}
            continue
        field = _Field.merge(out_fields)
        shapes = [_shape(t) for t in node.output_tensors]
        row = {
            "layer": f"{prefix}{op.name}",
            "type": type(op).__name__,
            "output_shape": shapes[0] if len(shapes) == 1 else tuple(shapes),
            "params": int(op.count_params()) if hasattr(op, "count_params") and op.built
            else 0,
            "macs": macs,
            "receptive_field": None if field is None else _collapse(field.rf),
            "jump": None if field is None else _collapse(field.jump),
        }
        first_row[id(op)] = row
        rows.append(row)
    return _order_like_keras(model, rows, prefix), [fields.get(id(t)) for t in outputs]


def _order_like_keras(model, rows, prefix):
    """Keep Keras's own layer order (``model.operations``) for readability."""
    operations = getattr(model, "operations", None)
    if operations is None:
        return rows
    rank = {op.name: i for i, op in enumerate(operations)}

    def key(row):
        return rank.get(row["layer"][len(prefix):].split("/")[0], len(rank))

    return sorted(rows, key=key)


def _frame(rows):
    """Rows -> LayerTable; shapes and fields stay Python objects (None, int or tuple)."""
    columns = {c: pd.Series([r[c] for r in rows], dtype=object) for c in COLUMNS}
    table = LayerTable(columns)
    table["params"] = table["params"].astype("int64")
    table["macs"] = pd.array([r["macs"] for r in rows], dtype="Int64")
    return table


def layer_table(model, expand_nested: bool = False, totals: bool = True) -> LayerTable:
    """One row per layer: ``layer``, ``type``, ``output_shape`` (without the batch axis),
    ``params``, ``macs``, ``receptive_field`` and ``jump``; a last ``total`` row when
    ``totals`` is true (its totals are also in ``table.attrs["totals"]``).

    Works on Sequential and functional models, nested models (one row each, or their
    layers as ``outer/inner`` rows with ``expand_nested=True``) and every
    ``keras.applications`` model. ``macs`` is empty where an input size is unknown.
    """
    inputs, outputs = _require_graph_model(model)
    in_fields = [_Field.pixel(len(_spatial(_shape(t)))) for t in inputs]
    rows, out_fields = _walk(model, in_fields, "", expand_nested)
    field = _Field.merge(out_fields)
    shapes = [_shape(t) for t in outputs]
    known_macs = [r["macs"] for r in rows if r["macs"] is not None]
    summary = {
        "layer": "total",
        "type": "",
        "output_shape": shapes[0] if len(shapes) == 1 else tuple(shapes),
        "params": int(model.count_params()),
        "macs": sum(known_macs) if len(known_macs) == len(rows) else None,
        "receptive_field": None if field is None else _collapse(field.rf),
        "jump": None if field is None else _collapse(field.jump),
    }
    table = _frame(rows + [summary] if totals else rows)
    table.attrs["totals"] = summary
    table.attrs["model"] = model.name
    return table


@contextlib.contextmanager
def structure_only():
    """Build models for their layers, shapes and parameter counts alone::

        with structure_only():
            vgg = zoo.vgg16()           # no 138 million random numbers drawn
        layer_table(vgg)                # shapes, params and MACs are all there

    Drawing random weights is most of what building a big network costs (VGG-16's are
    half a gigabyte). Inside the block Keras creates every variable without its value
    (``keras.StatelessScope(initialize_variables=False)``): counting and ``layer_table``
    work; reading a weight or running the model draws the weight again at each use and
    keeps nothing, so build a model you will run or train outside the block, and a model
    made from the block's layers (``keras.Model(m.input, m.outputs[0])``) inside it: on
    PyTorch, wrapping variables that have no value fails once the block is left. On the way out
    Keras's session is cleared (``course_utils.clear_session()``, which keeps the dtype
    policy), so nothing built later draws these leftovers, and unnamed layers are numbered
    afresh.
    """
    import keras

    from course_utils.profiles import clear_session

    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        clear_session()


IDENTITY_COLUMNS = ["layer", "type", "output_shape", "params", "macs"]


def compare_with_reference(build, reference, *, seed: int = 0, side: int = 224,
                           **options) -> dict:
    """Is ``build(**options)`` the very network ``reference(weights=None, **options)`` (a
    ``keras.applications`` builder) builds? The course's one identity check, in the
    notebooks and (through ``tests/reference_identity.py``) in the tests. The two are
    built in fresh sessions (Keras names unnamed layers from fresh counters), their layer
    tables compared row for row (name, type, output shape, parameters, MACs), the
    reference's weights copied into ours, and both run on the same two random images with
    pixels from 0 to 255::

        compare_with_reference(zoo.mobilenet, keras.applications.MobileNet,
                               input_shape=(224, 224, 3), alpha=0.5)

    Args:
        build: the course's builder, e.g. ``zoo.mobilenet_v2``.
        reference: the reference's builder, e.g. ``keras.applications.MobileNetV2``.
        seed: for the random images.
        side: the height or width of the images where the network accepts any.
        **options: the arguments both builders get (``input_shape``, ``alpha``, ...).

    Returns:
        ``{"network", "input", "parameters", "same layer table", "largest output
        difference", "largest output", "first difference"}``: one row of a proof table.
        ``"largest output difference"`` is NaN when the tables differ (the weights would
        not fit); ``"largest output"`` (the reference's largest absolute output) sets it
        in scale; ``"first difference"`` names the first row of the tables that differs
        and how (empty when they agree).
    """
    import keras

    from course_utils.profiles import clear_session

    clear_session()
    with keras.StatelessScope():  # all weights drawn at once at the end: about twice as fast
        theirs = reference(weights=None, **options)
    clear_session()
    with keras.StatelessScope():
        ours = build(**options)
    mine, other = (layer_table(m)[IDENTITY_COLUMNS].reset_index(drop=True) for m in (ours, theirs))
    same = mine.equals(other)
    first = "" if same else _first_difference(mine, other)
    shape = tuple(d or side for d in theirs.input_shape[1:])
    gap = largest = float("nan")
    if same:
        copy_weights(theirs, ours)
        images = np.random.default_rng(seed).uniform(0, 255, size=(2, *shape))
        images = images.astype("float32")
        expected = keras.ops.convert_to_numpy(theirs(images))
        gap = float(np.max(np.abs(keras.ops.convert_to_numpy(ours(images)) - expected)))
        largest = float(np.max(np.abs(expected)))
    return {"network": theirs.name, "input": "x".join(str(d) for d in shape),
            "parameters": int(theirs.count_params()), "same layer table": bool(same),
            "largest output difference": gap, "largest output": largest,
            "first difference": first}


def copy_weights(source, target) -> None:
    """Give ``target`` the values of ``source``'s weights, one by one in order: what
    ``target.set_weights(source.get_weights())`` does, without the round trip through
    NumPy, which for VGG-16's 138 million weights takes seconds.

    Args:
        source: the model or layer whose weights are copied.
        target: a model or layer whose weights have the same shapes, in the same order.
    """
    theirs, mine = list(source.weights), list(target.weights)
    if len(theirs) != len(mine):
        raise ValueError(
            f"copy_weights: {source.name} holds {len(theirs)} weights and {target.name} "
            f"{len(mine)}; got two models that differ. Hint: compare their layer tables "
            "(layer_table) row by row to find the layer that one of them lacks.")
    for have, value in zip(mine, theirs):
        if tuple(have.shape) != tuple(value.shape):
            raise ValueError(
                f"copy_weights: {target.name}'s weight {have.path} has shape "
                f"{tuple(have.shape)}, expected {tuple(value.shape)} from {value.path}. "
                "Hint: the two models part at that layer; compare their layer tables.")
        have.assign(value.value)


def _first_difference(mine, other) -> str:
    """The first row where two layer tables (``IDENTITY_COLUMNS``) part, in words."""
    for i in range(min(len(mine), len(other))):
        a, b = mine.iloc[i], other.iloc[i]
        differs = [c for c in IDENTITY_COLUMNS if str(a[c]) != str(b[c])]
        if differs:
            return (f"row {i}: " + "; ".join(f"{c} {a[c]!s} here, {b[c]!s} in the reference"
                                             for c in differs))
    return (f"the tables agree for {min(len(mine), len(other))} rows, then this one has "
            f"{len(mine)} rows and the reference {len(other)}")


# --------------------------------------------------------------------------- trace


def trace(model, x):
    """Push one example through ``model`` layer by layer and print each output shape.

    ``model`` is a Sequential model (built or not) or a list of layers; ``x`` is an array
    or a shape with the batch axis, e.g. ``(1, 32, 32, 1)``. Returns the final output.
    Functional models are traced layer by layer through their graph.
    """
    import keras

    if isinstance(x, tuple) and all(isinstance(d, int) for d in x):
        x = np.random.default_rng(0).normal(size=x).astype("float32")
    x = keras.ops.convert_to_tensor(x)
    if isinstance(model, (list, tuple)):
        layers = list(model)
    elif isinstance(model, keras.Sequential):
        layers = list(model.layers)
    elif isinstance(model, keras.Model):
        return _trace_functional(model, x)
    else:
        raise ModelInspectionError(
            f"trace expects a Sequential model, a functional model or a list of layers; got "
            f"{type(model).__name__}."
        )
    print(f"{'layer':<24}{'type':<22}output shape")
    print(f"{'input':<24}{'':<22}{tuple(x.shape)}")
    for layer in layers:
        if not isinstance(layer, keras.layers.Layer):
            raise ModelInspectionError(f"{layer!r} is not a Keras layer.")
        try:
            x = layer(x)
        except Exception as exc:
            raise ValueError(
                f"trace stopped at layer {layer.name!r} ({type(layer).__name__}): it cannot "
                f"take an input of shape {tuple(x.shape)}. Keras said: {exc}"
            ) from None
        print(f"{layer.name:<24}{type(layer).__name__:<22}{tuple(x.shape)}")
    return x


def _single(tensors):
    return tensors[0] if len(tensors) == 1 else tensors


def _trace_functional(model, x):
    import keras

    _require_graph_model(model)
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    probe = keras.Model(_single(model.inputs), [layer.output for layer in layers])
    outputs = probe(x)
    print(f"{'layer':<24}{'type':<22}output shape")
    print(f"{'input':<24}{'':<22}{tuple(x.shape)}")
    for layer, y in zip(layers, outputs):
        print(f"{layer.name:<24}{type(layer).__name__:<22}{tuple(y.shape)}")
    return outputs[-1]


def feature_maps(model, x, layer_name: str) -> np.ndarray:
    """The output of layer ``layer_name`` for input batch ``x``, as a NumPy array."""
    import keras

    _require_graph_model(model)
    names = [layer.name for layer in model.layers]
    if layer_name not in names:
        raise ValueError(
            f"No layer named {layer_name!r} in {model.name!r}. Layers: {', '.join(names)}."
        )
    probe = keras.Model(_single(model.inputs), model.get_layer(layer_name).output)
    return keras.ops.convert_to_numpy(probe(x))


# --------------------------------------------------------------------------- memory


RESHAPES = ("Flatten", "Reshape")  # views of their input: the same values, no new tensor


def activation_memory(model_or_table, bytes_per_value: int = 4) -> pd.Series:
    """The bytes of every layer's output for one input, as a plain implementation keeps
    them from the forward pass for the backward pass: each output a tensor of its own,
    ``bytes_per_value`` bytes per value (4 for float32, 2 for float16), the input image
    included; a reshape (``Flatten``, ``Reshape``) counts 0, being the same values. The
    sum is the activation memory of one image (notebook 04 counts VGG-16's this way)::

        memory = activation_memory(layer_table(zoo.vgg16()))
        memory.sum() / 2**20            # MiB per image

    Args:
        model_or_table: a ``keras.Model`` (its nested models' layers are counted, as
            ``layer_table(model, expand_nested=True)`` lists them) or a table from
            :func:`layer_table` (its ``total`` row is left out; a nested model that the
            table does not expand counts as its output alone).
        bytes_per_value: the bytes of one value, a positive whole number.

    Returns:
        A ``pandas.Series`` of whole numbers of bytes, one per layer in the table's order,
        indexed by the layer's name and named ``"activation bytes"``.

    Raises:
        ValueError: ``bytes_per_value`` is not a positive whole number, or a layer's
            output size is unknown (a ``None`` in its shape); the message names the layer.
    """
    import keras

    if (isinstance(bytes_per_value, bool) or not isinstance(bytes_per_value, (int, np.integer))
            or bytes_per_value < 1):
        raise ValueError(f"activation_memory: bytes_per_value must be a positive whole number; "
                         f"got {bytes_per_value!r}. Hint: 4 for float32, 2 for float16 or "
                         f"bfloat16.")
    if isinstance(model_or_table, keras.Model):
        table = layer_table(model_or_table, expand_nested=True, totals=False)
    elif isinstance(model_or_table, pd.DataFrame) and {"layer", "type", "output_shape"} <= set(
            model_or_table.columns):
        table = model_or_table[model_or_table["layer"] != "total"]
    else:
        raise ModelInspectionError(
            f"activation_memory expects a keras.Model or a layer_table; got "
            f"{type(model_or_table).__name__}. Hint: activation_memory(layer_table(model)).")
    sizes = []
    for name, kind, shape in zip(table["layer"], table["type"], table["output_shape"]):
        shapes = shape if shape and isinstance(shape[0], tuple) else (shape,)
        if any(d is None for s in shapes for d in s):
            raise ValueError(f"activation_memory: the output of layer {name!r} has an unknown "
                             f"size {shape}. Hint: build the model with a fixed input_shape, "
                             f"e.g. (224, 224, 3).")
        sizes.append(0 if kind in RESHAPES else sum(_prod(s) for s in shapes) * int(bytes_per_value))
    return pd.Series(sizes, index=pd.Index(list(table["layer"]), name="layer"), dtype="int64",
                     name="activation bytes")
