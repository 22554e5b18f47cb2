"""Checks for autograded CNN assignments.

Every failed check raises :class:`CheckFailed`, whose message says what was checked,
what was expected, what was found, and a hint; never a bare ``AssertionError`` and never
the solution itself. Checks return nothing (only ``check_model`` returns the model), so a
test cell never ends on a number that nbgrader would read as partial credit. Test cells
call them like this::

    check_value("conv_output_size(32, 5)", conv_output_size(32, 5), 28,
                hint="no padding: the window must fit inside the input")
    model = check_model(build_lenet5)            # calls the builder, checks it returns a model
    check_output_shapes(model, {"c1_conv": (28, 28, 6), "s2_pool": (14, 14, 6)})
    check_params(model, total=61_706)
    check_same_structure(model, reference)      # names the first layer that differs
    check_same_outputs(model, reference)        # same weights in, same numbers out?
"""

from __future__ import annotations

import contextlib
import functools
import types
from collections.abc import Callable, Mapping

import numpy as np


class CheckFailed(AssertionError):
    """A check that failed, with what was checked, expected, found, and a hint."""

    def __init__(self, checked: str, expected, got, hint: str | None = None):
        self.checked, self.expected, self.got, self.hint = checked, expected, got, hint
        lines = [f"Checked:  {checked}", f"Expected: {expected}", f"Got:      {got}"]
        if hint:
            lines.append(f"Hint:     {hint}")
        super().__init__("\n".join(lines))


def _fail(checked, expected, got, hint=None):
    __tracebackhide__ = True
    raise CheckFailed(checked, expected, got, hint)


# ------------------------------------------------------------------------- values


def check_value(checked: str, got, expected, hint: str | None = None):
    """``got == expected`` exactly (ints, strings, tuples)."""
    __tracebackhide__ = True
    if isinstance(expected, (int, np.integer)) and isinstance(got, float) and got.is_integer():
        _fail(checked, expected, got, hint or "the answer is a whole number: use integer "
              "division (//) rather than / so the result is an int")
    if got is None and expected is not None:
        _fail(checked, expected, None, hint or "the function returned nothing: did you forget "
              "the `return` statement?")
    if type(got) is bool and type(expected) is not bool:
        _fail(checked, expected, got, hint)
    try:
        equal = bool(got == expected)
    except Exception:  # arrays and other types without a single truth value
        equal = False
    if not equal:
        _fail(checked, expected, got, hint)


def check_close(checked: str, got, expected, rtol: float = 1e-6, atol: float = 0.0,
                hint: str | None = None):
    """``got`` equals ``expected`` within a relative (and absolute) tolerance; arrays too."""
    __tracebackhide__ = True
    if got is None:
        _fail(checked, expected, None, hint or "the function returned nothing: did you forget "
              "the `return` statement?")
    got_array, expected_array = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    if got_array.shape != expected_array.shape:
        _fail(f"{checked} (shape)", expected_array.shape, got_array.shape, hint)
    if not np.allclose(got_array, expected_array, rtol=rtol, atol=atol, equal_nan=False):
        if got_array.size == 1:
            _fail(f"{checked} (within {rtol:g} relative)", expected, got, hint)
        worst = int(np.argmax(np.abs(got_array - expected_array)))
        _fail(f"{checked} (within {rtol:g} relative), worst element #{worst}",
              expected_array.ravel()[worst], got_array.ravel()[worst], hint)


# ------------------------------------------------------------------------- models


def check_model(built, checked: str = "the builder's return value"):
    """Call a builder (or take a model) and check that the result is a built Keras model."""
    __tracebackhide__ = True
    import keras

    model = built() if callable(built) and not isinstance(built, keras.layers.Layer) else built
    if model is None:
        _fail(checked, "a keras.Model", None, "the builder returned nothing: end it with "
              "`return keras.Model(inputs, outputs)`")
    if isinstance(model, keras.layers.Layer) and not isinstance(model, keras.Model):
        _fail(checked, "a keras.Model", f"a single {type(model).__name__} layer",
              "wrap your layers into a model: keras.Model(inputs, outputs)")
    if not isinstance(model, keras.Model):
        _fail(checked, "a keras.Model", type(model).__name__,
              "return the model object itself, not its summary or its output")
    try:
        model.inputs  # noqa: B018 - raises for unbuilt Sequential models
        built_ok = bool(model.inputs)
    except (AttributeError, ValueError):
        built_ok = False
    if not built_ok:
        _fail(checked, "a model with a known input shape", "a model that is not built yet",
              "start the model with keras.Input(shape=...)")
    return model


def _layer(model, key):
    """A layer by name or index, with a clear failure when it is missing."""
    __tracebackhide__ = True
    if isinstance(key, int):
        if not -len(model.layers) <= key < len(model.layers):
            _fail(f"layer #{key}", f"at least {key + 1} layers", f"{len(model.layers)} layers",
                  "a layer is missing; compare your model with the table in the instructions")
        return model.layers[key]
    names = [layer.name for layer in model.layers]
    if key not in names:
        _fail(f"a layer named {key!r}", f"a layer named {key!r}",
              f"layers named {', '.join(names)}",
              f"give the layer its name: name={key!r}")
    return model.get_layer(key)


def _output_shape(layer):
    output = layer.output
    if isinstance(output, (list, tuple)):
        return tuple(tuple(o.shape[1:]) for o in output)
    return tuple(output.shape[1:])


def shape_hint(expected: tuple, got: tuple) -> str | None:
    """A teaching guess at why a layer's output shape is off."""
    if len(expected) != len(got):
        if len(got) > len(expected):
            return "the output has too many axes: is a Flatten layer missing?"
        return "the output has too few axes: was the map flattened too early?"
    if not expected:
        return None
    spatial_e, spatial_g = expected[:-1], got[:-1]
    if expected[-1] != got[-1] and spatial_e == spatial_g:
        return f"the size is right but there are {got[-1]} channels instead of " \
               f"{expected[-1]}: check the number of filters (or units)"
    if spatial_e and all(g is not None and e is not None for e, g in zip(spatial_e, spatial_g)):
        diffs = {g - e for e, g in zip(spatial_e, spatial_g)}
        ratios = {g / e for e, g in zip(spatial_e, spatial_g) if e}
        d = next(iter(diffs)) if len(diffs) == 1 else 0
        if d > 0 and d % 2 == 0 and ratios != {2.0}:
            return (f"a {expected[0]}x{expected[1]} map was expected where yours is "
                    f"{got[0]}x{got[1]}: did you mean padding='valid' (no padding)?")
        if d < 0 and -d % 2 == 0 and ratios != {0.5}:
            return (f"a {expected[0]}x{expected[1]} map was expected where yours is "
                    f"{got[0]}x{got[1]}: did you mean padding='same'?")
        if ratios == {2.0}:
            return "the map is twice as large as expected: is a pooling layer or a stride of 2 " \
                   "missing?"
        if ratios == {0.5}:
            return "the map is half as large as expected: is there an extra pooling layer or " \
                   "stride?"
    return None


def check_output_shapes(model, expected: Mapping):
    """Each named (or numbered) layer's output shape, batch axis left out."""
    __tracebackhide__ = True
    for key, shape in expected.items():
        layer = _layer(model, key)
        got = _output_shape(layer)
        shape = tuple(shape)
        if got != shape:
            _fail(f"output shape of layer {layer.name!r}", shape, got, shape_hint(shape, got))


def params_hint(layer, expected: int, got: int) -> str | None:
    """A teaching guess at why a layer's parameter count is off."""
    if type(layer).__name__ == "DepthwiseConv2D":
        kernel = "x".join(map(str, layer.kernel_size))
        outputs = _output_shape(layer)[-1]
        if got - expected == outputs:
            return "one extra parameter per output channel: this layer should not have a " \
                   "bias (use_bias=False)"
        return (f"a depthwise convolution learns one {kernel} filter per input channel "
                f"(k_h * k_w * C_in weights, times depth_multiplier, + biases) and does not "
                f"mix the channels: check the kernel size and the channels that reach it")
    filters = getattr(layer, "filters", None) or getattr(layer, "units", None)
    if filters and got - expected == filters:
        return "one extra parameter per output: this layer should not have a bias (use_bias=False)"
    if filters and expected - got == filters:
        return "one parameter per output is missing: this layer should have a bias"
    if got == 0 and expected > 0:
        return "this layer should learn weights: is it the right kind of layer?"
    units = getattr(layer, "units", None)
    if units and got and expected:
        inputs = got // units - 1
        return (f"a dense layer learns (inputs + 1) x units parameters; yours sees {inputs:,} "
                f"inputs, the size of the layer before it: check the layers before this one")
    kernel = getattr(layer, "kernel_size", None)
    if kernel and got and expected:
        return (f"a {'x'.join(map(str, kernel))} kernel learns k_h * k_w * C_in * C_out weights "
                f"(+ C_out biases): check the kernel size, the filters and the input channels")
    return None


def check_params(model, per_layer: Mapping | None = None, total: int | None = None):
    """Parameter counts per named layer and/or in total."""
    __tracebackhide__ = True
    for key, expected in (per_layer or {}).items():
        layer = _layer(model, key)
        got = int(layer.count_params())
        if got != expected:
            _fail(f"parameters of layer {layer.name!r}", f"{expected:,}", f"{got:,}",
                  params_hint(layer, expected, got))
    if total is not None:
        got = int(model.count_params())
        if got != total:
            by_layer = ", ".join(f"{layer.name}={layer.count_params():,}"
                                 for layer in model.layers if layer.count_params())
            _fail("total parameters of the model", f"{total:,}", f"{got:,}",
                  f"your layers hold: {by_layer}; compare each with the formula "
                  f"(k_h * k_w * C_in + 1) * C_out")


_CONFIG_KEYS = ("filters", "units", "kernel_size", "strides", "padding", "pool_size",
                "activation", "use_bias", "rate")


def _config_value(layer, key):
    config = layer.get_config()
    value = config.get(key)
    if key == "activation" and value is not None:
        return value if isinstance(value, str) else getattr(value, "__name__", str(value))
    if isinstance(value, list):
        return tuple(value)
    return value


def check_layer(model, key, kind: type | str | None = None, **config):
    """A layer's type and key settings, e.g.
    ``check_layer(model, "c1_conv", keras.layers.Conv2D, kernel_size=(5, 5), activation="tanh")``.
    """
    __tracebackhide__ = True
    layer = _layer(model, key)
    if kind is not None:
        name = kind if isinstance(kind, str) else kind.__name__
        if type(layer).__name__ != name:
            _fail(f"type of layer {layer.name!r}", name, type(layer).__name__,
                  "use the layer class named in the instructions")
    for setting, expected in config.items():
        got = _config_value(layer, setting)
        if isinstance(expected, list):
            expected = tuple(expected)
        if got != expected:
            hint = None
            if setting == "activation":
                hint = f"pass activation={expected!r} to the layer"
            elif setting == "padding":
                hint = f"pass padding={expected!r}"
            _fail(f"{setting} of layer {layer.name!r}", expected, got, hint)


def _signature(layer):
    return {
        "type": type(layer).__name__,
        "output_shape": _output_shape(layer),
        "params": int(layer.count_params()),
        **{k: _config_value(layer, k) for k in _CONFIG_KEYS if k in layer.get_config()},
    }


def _same_names(ours, theirs) -> bool:
    names = [x.name for x in ours]
    return len(set(names)) == len(names) == len(theirs) and set(names) == {
        x.name for x in theirs}


def check_same_structure(model, reference, compare_names: bool = False):
    """Layer by layer, the same types, output shapes, parameter counts and key settings as
    ``reference``; the first layer that differs is named in the failure."""
    __tracebackhide__ = True
    import keras

    ours = [x for x in model.layers if not isinstance(x, keras.layers.InputLayer)]
    theirs = [x for x in reference.layers if not isinstance(x, keras.layers.InputLayer)]
    if compare_names and _same_names(ours, theirs):
        # Keras orders parallel branches by how they meet (Add([a, b]) or Add([b, a])):
        # with the right names everywhere, compare each layer with its namesake.
        by_name = {x.name: x for x in ours}
        ours = [by_name[x.name] for x in theirs]
    for position, (mine, ref) in enumerate(zip(ours, theirs), start=1):
        a, b = _signature(mine), _signature(ref)
        if compare_names and mine.name != ref.name:
            _fail(f"name of layer #{position}", ref.name, mine.name)
        for field in b:
            if a.get(field) != b[field]:
                hint = shape_hint(b[field], a.get(field)) if field == "output_shape" else None
                _fail(f"{field} of layer #{position} ({mine.name!r})", b[field], a.get(field),
                      hint or f"layers before #{position} match the reference; start looking here")
    if len(ours) != len(theirs):
        extra = "extra" if len(ours) > len(theirs) else "missing"
        _fail("number of layers", len(theirs), len(ours),
              f"the first {min(len(ours), len(theirs))} layers match; some are {extra} at the end")


# ------------------------------------------------------------------------- outputs

_NOT_SETTINGS = ("name", "trainable", "dtype", "seed")


def _plain(value):
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _settings(layer) -> dict:
    """What decides a layer's computation, from its config: not its name or initialisers;
    an axis counted from the end (-1) is the same as counted from the start (3)."""
    settings = {k: _plain(v) for k, v in layer.get_config().items()
                if k not in _NOT_SETTINGS
                and not k.endswith(("_initializer", "_regularizer", "_constraint"))}
    try:
        rank = len(layer.input.shape)
    except (AttributeError, ValueError, TypeError):
        rank = None
    axis = settings.get("axis")
    if rank and isinstance(axis, int):
        settings["axis"] = axis % rank
    elif rank and isinstance(axis, tuple) and all(isinstance(a, int) for a in axis):
        settings["axis"] = tuple(a % rank for a in axis)
    return settings


def inbound_layer_names(layer) -> list[str]:
    """Names of the layers that feed ``layer``; the model's input is called "the input"."""
    import keras

    from course_utils.keras_graph import inbound_nodes, tensor_history

    nodes = inbound_nodes(layer)
    if len(nodes) != 1:
        return []
    names = []
    for tensor in nodes[0].input_tensors:
        operation = tensor_history(tensor)[0]
        names.append("the input" if isinstance(operation, keras.layers.InputLayer)
                     else operation.name)
    return names


def _randomise_constants(reference, seed):
    """New random values for every constant weight (biases; batch norm's scale, shift and
    statistics), so that a slip in how a layer uses them shows in its output."""
    rng = np.random.default_rng(seed)
    for layer in reference.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        fresh = []
        for w in weights:
            if w.size and np.issubdtype(w.dtype, np.floating) and np.all(w == w.flat[0]):
                if w.flat[0] > 0:  # scales and variances stay positive
                    w = w.flat[0] * rng.uniform(0.5, 1.5, w.shape)
                else:
                    w = rng.normal(0.0, 0.1, w.shape)
            fresh.append(np.asarray(w, dtype=weights[len(fresh)].dtype))
        layer.set_weights(fresh)


def _weights_hint(mine, ref, got, expected):
    if type(mine) is not type(ref):
        return (f"yours is a {type(mine).__name__} where the reference has a "
                f"{type(ref).__name__}")
    if len(got) != len(expected):
        return (f"the reference's layer holds {len(expected)} weight arrays and yours "
                f"{len(got)}: check use_bias (convolutions, dense layers) or center and "
                f"scale (batch norm)")
    if getattr(ref, "kernel_size", None) is not None:
        return ("a convolution's kernel is shaped (k_h, k_w, C_in, C_out): check its kernel "
                "size and filters, and which tensor feeds it (that sets C_in)")
    if getattr(ref, "units", None):
        return "a dense kernel is shaped (inputs, units): check the units and what feeds it"
    if type(ref).__name__ == "BatchNormalization":
        return "batch norm keeps four numbers per channel: check which tensor feeds it"
    return "check this layer's settings and which tensor feeds it"


def _difference_hint(mine, ref, by_name: bool) -> str:
    """Why a layer whose inputs agree with the reference computes something else."""
    if type(mine) is not type(ref):
        return (f"the layers before it agree with the reference, but this one is a "
                f"{type(mine).__name__} where the reference has a {type(ref).__name__}")
    if by_name:
        fed, wanted = inbound_layer_names(mine), inbound_layer_names(ref)
        if type(ref).__name__ == "Add":
            fed, wanted = sorted(fed), sorted(wanted)
        if fed and wanted and fed != wanted:
            extra = (" (for example: is the shortcut added before the ReLU, and to the right "
                     "tensor?)" if type(ref).__name__ in ("Add", "Activation") else "")
            return (f"the layers before it agree with the reference, but this one is fed by "
                    f"{', '.join(repr(n) for n in fed)}, which is not what the instructions "
                    f"describe: check which tensors go into it{extra}")
    a, b = _settings(mine), _settings(ref)
    differ = [k for k in b if a.get(k) != b[k]] + [k for k in a if k not in b]
    if differ:
        return (f"this layer gets the same input and the same weights as the reference's, "
                f"so the difference starts here; its settings that differ from what the "
                f"instructions ask for: {', '.join(differ)}")
    return ("this layer gets the same input and the same weights as the reference's, so the "
            "difference starts here: check how it is built")


def _max_difference(got, expected):
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    diff = float(np.max(np.abs(got - expected))) if expected.size else 0.0
    return diff, scale


def check_same_outputs(model, reference, checked: str = "your model", batch: int = 2,
                       seed: int = 0, rtol: float = 1e-5, atol: float = 1e-6,
                       match: str = "auto", randomize: bool = True):
    """Does ``model`` compute what ``reference`` computes, given the same weights?

    First the weights must line up: the same layers hold arrays of the same shapes (the
    first layer that does not fit is named). Then ``reference``'s weights are copied into
    ``model`` (with ``randomize``, biases and batch-norm statistics first get random
    values in the reference, so a slip in how they are used shows), both run on the same
    random input (inference mode), and every layer's output is compared with its
    counterpart's, in the reference's order: the first layer whose output differs by more
    than ``atol + rtol * (largest value of the reference's output)`` is named, with the
    difference and a hint. ``match``: ``"name"`` pairs layers by name, ``"order"`` by
    position, ``"auto"`` by name when most of the reference's layer names are in ``model``.
    Both models' weights are changed.
    """
    __tracebackhide__ = True
    import keras

    from course_utils.inspection import copy_weights

    if match not in ("auto", "name", "order"):
        raise ValueError(f"match must be 'auto', 'name' or 'order'; got {match!r}")
    model = check_model(model, checked)
    shapes = [tuple(t.shape[1:]) for t in reference.inputs]
    got_shapes = [tuple(t.shape[1:]) for t in model.inputs]
    if got_shapes != shapes:
        _fail(f"input shape of {checked}", shapes[0] if len(shapes) == 1 else shapes,
              got_shapes[0] if len(got_shapes) == 1 else got_shapes,
              "start the model with keras.Input(shape=...) of the shape it is asked for")

    def own(m):
        return [x for x in m.layers if not isinstance(x, keras.layers.InputLayer)]

    ref_layers, my_layers = own(reference), own(model)
    mine_by_name = {x.name: x for x in my_layers}
    by_name = match == "name" or (match == "auto" and 2 * sum(
        x.name in mine_by_name for x in ref_layers) >= len(ref_layers))
    if by_name:
        for ref in ref_layers:
            if ref.name not in mine_by_name:
                _fail(f"a layer named {ref.name!r} in {checked}",
                      f"a layer named {ref.name!r}, as in the reference", "no layer of that name",
                      "a layer is missing or has another name: compare yours with the "
                      "instructions, layer by layer")
        pairs = [(mine_by_name[ref.name], ref) for ref in ref_layers]
    else:
        pairs = list(zip(my_layers, ref_layers))

    # 1. The weights line up.
    weighted = [(mine, ref) for mine, ref in pairs if ref.weights]
    paired = {id(mine) for mine, _ in weighted}
    for position, (mine, ref) in enumerate(weighted, start=1):
        got = [tuple(w.shape) for w in mine.weights]
        expected = [tuple(w.shape) for w in ref.weights]
        if got != expected:
            where = "" if by_name else f" (layer #{position} that holds weights)"
            _fail(f"weight shapes of layer {mine.name!r}{where}", expected, got or "no weights",
                  _weights_hint(mine, ref, got, expected))
    extra = [x.name for x in my_layers if x.weights and id(x) not in paired]
    if extra:
        _fail(f"the layers of {checked} that hold weights",
              f"{len(weighted)} layers with weights, as in the reference",
              f"{len(weighted) + len(extra)}; not in the reference: {', '.join(extra)}",
              "remove the extra layer, or give it the name the instructions use")

    # 2. Same weights in.
    if randomize:
        _randomise_constants(reference, seed)
    for mine, ref in weighted:
        copy_weights(ref, mine)

    # 3. Same numbers out, layer by layer.
    def probe(m, layers):
        outputs = []
        for layer in layers:
            try:
                output = layer.output
            except (AttributeError, ValueError):  # a layer called more than once
                output = None
            outputs.append(output if keras.backend.is_keras_tensor(output) else None)
        return outputs

    mine_out, ref_out = probe(model, [m for m, _ in pairs]), probe(reference,
                                                                  [r for _, r in pairs])
    usable = [i for i, (a, b) in enumerate(zip(mine_out, ref_out))
              if a is not None and b is not None]
    rng = np.random.default_rng(seed)
    data = [rng.normal(size=(batch, *(32 if d is None else d for d in shape))).astype("float32")
            for shape in shapes]
    data = data[0] if len(data) == 1 else data

    def run(m, outputs):
        inputs = m.inputs[0] if len(m.inputs) == 1 else m.inputs
        values = keras.Model(inputs, outputs + list(m.outputs))(data, training=False)
        return [keras.ops.convert_to_numpy(v) for v in values]

    got_values = run(model, [mine_out[i] for i in usable])
    expected_values = run(reference, [ref_out[i] for i in usable])
    n = len(usable)
    for i, got, expected in zip(usable, got_values[:n], expected_values[:n]):
        mine, ref = pairs[i]
        if got.shape != expected.shape:
            hint = shape_hint(tuple(expected.shape[1:]), tuple(got.shape[1:]))
            settings = _difference_hint(mine, ref, by_name)
            _fail(f"output shape of layer {mine.name!r}, on the reference's input",
                  tuple(expected.shape[1:]), tuple(got.shape[1:]),
                  f"{settings}. {hint[0].upper()}{hint[1:]}" if hint else settings)
        diff, scale = _max_difference(got, expected)
        if not diff <= atol + rtol * scale:  # also catches NaN
            _fail(f"output of layer {mine.name!r} with the reference's weights, on the same "
                  f"random input",
                  f"the reference's output, to within {rtol:g} of its largest value "
                  f"({scale:.4g})",
                  f"values that differ by up to {diff:.4g}",
                  _difference_hint(mine, ref, by_name))
    for got, expected in zip(got_values[n:], expected_values[n:]):
        if got.shape != expected.shape:
            _fail(f"shape of the output of {checked}", tuple(expected.shape[1:]),
                  tuple(got.shape[1:]), "the model should end where the reference ends")
        diff, scale = _max_difference(got, expected)
        if not diff <= atol + rtol * scale:
            _fail(f"output of {checked} with the reference's weights, on the same random input",
                  f"the reference's output, to within {rtol:g} of its largest value "
                  f"({scale:.4g})", f"values that differ by up to {diff:.4g}",
                  "every layer the reference has agrees with it, so the difference comes from "
                  "a layer of yours it does not have: the model should end where it ends")


# ------------------------------------------------------------------------- honesty


def _held(values, scope, limit: int = 2_000) -> list:
    """The values and what they hold or wrap: a partial's function and arguments, a
    method's function, the items of a list, tuple, set or dict, the attributes of a class
    defined beside the function; so a ready-made builder is seen however it is kept."""
    found, todo, seen = [], list(values), set()
    while todo and len(found) < limit:
        value = todo.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        found.append(value)
        if isinstance(value, (list, tuple, set, frozenset)):
            todo += list(value)[:200]
        elif isinstance(value, dict):
            todo += list(value.values())[:200]
        elif isinstance(value, functools.partial):
            todo += [value.func, *value.args, *value.keywords.values()]
        elif isinstance(value, (types.MethodType, staticmethod, classmethod)):
            todo.append(value.__func__)
        elif isinstance(value, type) and value.__module__ == scope.get("__name__"):
            todo += list(vars(value).values())
        elif isinstance(value, types.FunctionType) and "__wrapped__" in value.__dict__:
            todo.append(value.__dict__["__wrapped__"])
    return found


def code_origins(function, _seen=None) -> set[str]:
    """The names a function's code uses, nested functions included, and for each global
    one the module it comes from (so an alias of a ready-made builder is still seen);
    functions of the same module that it calls are followed too, and so are the values it
    holds as default arguments or closure variables."""
    code = getattr(function, "__code__", None)
    seen = set() if _seen is None else _seen
    if code is None or id(function) in seen:
        return set()
    seen.add(id(function))
    names, todo = set(), [code]
    while todo:
        current = todo.pop()
        names |= set(current.co_names)
        todo += [c for c in current.co_consts if hasattr(c, "co_names")]
    origins = set(names)
    scope = getattr(function, "__globals__", {})
    values = [scope[name] for name in names if scope.get(name) is not None]
    values += list(getattr(function, "__defaults__", None) or ())
    values += list((getattr(function, "__kwdefaults__", None) or {}).values())
    for cell in getattr(function, "__closure__", None) or ():
        with contextlib.suppress(ValueError):  # a cell not filled yet
            values.append(cell.cell_contents)
    for value in _held(values, scope):
        if value is None:
            continue
        try:
            origin = getattr(value, "__module__", None) or getattr(value, "__name__", "")
        except Exception:  # an object with a __getattr__ of its own
            origin = ""
        origins.add(origin if isinstance(origin, str) else "")
        if getattr(value, "__globals__", None) is scope:  # a helper written beside it
            origins |= code_origins(value, seen)
    return {o for o in origins if o}


def _own_work_findings(function, forbidden) -> list:
    """Why ``function`` is not the student's own work. In the grading process ``function``
    is the re-check's stand-in, and the notebook's source decides
    (:mod:`course_utils.grader.own_work`). Anywhere else (the student's notebook) this is
    early feedback only: the names the function's code uses and what they hold
    (:func:`code_origins`), and the function's own source read alone."""
    from course_utils.grader import own_work
    from course_utils.grader.recheck import Standin

    if isinstance(function, Standin):
        return function.own_work_findings(tuple(forbidden))
    found = []
    with contextlib.suppress(Exception):  # no source at hand (built-ins, exec'd code)
        import inspect

        found += own_work.function_findings(inspect.getsource(function),
                                            getattr(function, "__name__", ""), forbidden)
    used = sorted(o for o in code_origins(function)
                  if any(word in o.split(".") for word in forbidden))
    if used:
        found.append(own_work.Finding(f"a call through {', '.join(used)}",
                                      "a ready-made network (or block) is not your own work"))
    return found


def _findings_listed(found, most=3) -> str:
    """The first ``most`` own-work findings in words, and how many more there are."""
    more = f" (and {len(found) - most} more)" if len(found) > most else ""
    return "; ".join(f.describe() for f in found[:most]) + more


def check_own_work(function: Callable, forbidden=("zoo", "applications")):
    """The function must build its network itself: no ready-made network
    (``course_utils.zoo``, ``keras.applications``, or what ``forbidden`` names), and
    nothing the grader cannot read (code run from text, imports by computed name, names
    looked up by text, networks rebuilt from a saved description). When a submission is
    graded this is decided from the notebook's source, outside the student's kernel."""
    __tracebackhide__ = True
    found = _own_work_findings(function, forbidden)
    if found:
        name = getattr(function, "__name__", "your function")
        _fail(f"how {name} builds its network", "layers you create yourself, in code the "
              "grader can read", _findings_listed(found),
              "build the network from keras.layers yourself; the ready-made ones are for "
              "checking, not for handing in, and the grader must be able to read how "
              "your code builds it")


# ------------------------------------------------------------------------- training behaviour
# Assignment 5 (augmentation, feature extraction, fine-tuning): checks of what a model or a
# pipeline *does*: in which mode it changes its input, which weights one step of training
# changes, what it was compiled with. Each runs the model itself (in the grading process,
# on the model rebuilt from the student's configuration).


def _numpy(value):
    import keras

    return np.asarray(keras.ops.convert_to_numpy(value))


def _nested_layers(model):
    """Every layer of ``model``, the layers of nested models included (the nested model
    itself too), in order."""
    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        if hasattr(layer, "layers"):
            found += _nested_layers(layer)
    return found


def _find(model, name, checked):
    __tracebackhide__ = True
    import keras

    for layer in _nested_layers(model):
        if layer.name == name:
            return layer
    names = [x.name for x in _nested_layers(model) if not isinstance(x, keras.layers.InputLayer)]
    _fail(f"a layer named {name!r} in {checked}", f"a layer named {name!r}",
          f"layers named {', '.join(names)}",
          "keep the layers of the given base and the names the instructions use")


def _is_batch_norm(layer) -> bool:
    return type(layer).__name__ == "BatchNormalization"


def _images(shape, seed=0):
    return np.random.default_rng(seed).uniform(0.0, 1.0, size=shape).astype("float32")


def check_keeps_shape(pipeline, shape, checked: str):
    """``pipeline`` maps a batch of ``shape`` to a batch of the same shape and dtype
    (float32), in training and in inference mode."""
    __tracebackhide__ = True
    import keras

    if not isinstance(pipeline, keras.layers.Layer):
        _fail(f"what {checked} returns", "a keras.Sequential of preprocessing layers",
              type(pipeline).__name__,
              "return the pipeline itself: keras.Sequential([layers.RandomFlip(...), ...])")
    images = _images(shape)
    for training in (True, False):
        try:
            out = pipeline(images, training=training)
        except Exception as exc:  # noqa: BLE001 - the student's pipeline failed
            _fail(f"{checked} on a batch of shape {tuple(shape)} (training={training})",
                  "a batch of the same shape", f"{type(exc).__name__}: {exc}",
                  "use Keras preprocessing layers that work on any height, width and number "
                  "of channels; nothing in the pipeline should assume one image size")
        got = tuple(out.shape)
        if got != tuple(shape):
            _fail(f"the shape {checked} returns for a batch of shape {tuple(shape)} "
                  f"(training={training})", tuple(shape), got,
                  "augmentation must keep the image size: shift or crop within the image "
                  "(a crop that makes the image smaller changes what the network sees)")
        dtype = str(_numpy(out).dtype)
        if dtype != "float32":
            _fail(f"the dtype {checked} returns (training={training})", "float32", dtype)


def check_identity_at_inference(pipeline, shape, checked: str):
    """In inference mode (``training=False``) the pipeline returns its input unchanged."""
    __tracebackhide__ = True
    images = _images(shape, seed=1)
    out = _numpy(pipeline(images, training=False))
    if out.shape != images.shape or not np.allclose(out, images, rtol=0, atol=1e-6):
        diff = float(np.max(np.abs(out - images))) if out.shape == images.shape else None
        _fail(f"{checked} in inference mode (training=False), on a batch of shape "
              f"{tuple(shape)}", "the images unchanged",
              f"images that differ by up to {diff:.4g}" if diff is not None
              else f"a batch of shape {out.shape}",
              "augmentation is for training only: at inference (evaluation, prediction) the "
              "pipeline must do nothing; Keras's random layers already do nothing when "
              "training=False. Scaling or normalising belongs in the model, not here")


def check_changes_in_training(pipeline, shape, checked: str):
    """In training mode the pipeline changes (some of) the images."""
    __tracebackhide__ = True
    images = _images(shape, seed=2)
    out = _numpy(pipeline(images, training=True))
    changed = int(sum(not np.allclose(a, b, atol=1e-6) for a, b in zip(out, images)))
    if not changed:
        _fail(f"{checked} in training mode (training=True), on {len(images)} images of shape "
              f"{tuple(shape[1:])}", "some images changed", "every image unchanged",
              "the pipeline should transform images at random while training: random "
              "layers need training=True, which Keras passes during fit()")


def check_reproducible(first, second, shape, checked: str, same: bool = True):
    """Two pipelines give the same augmented batch (``same``) or different ones."""
    __tracebackhide__ = True
    images = _images(shape, seed=3)
    a = _numpy(first(images, training=True))
    b = _numpy(second(images, training=True))
    equal = a.shape == b.shape and np.allclose(a, b, atol=1e-6)
    if same and not equal:
        _fail(checked, "the same augmented images twice", "different images",
              "pass the seed to every random layer (seed=...), so that two pipelines made "
              "with the same seed make the same random choices")
    if not same and equal:
        _fail(checked, "different augmented images", "the same images",
              "use the seed you are given; a fixed seed written into the code makes every "
              "pipeline draw the same transformations")


def _axis_trend(images, axis):
    """Per image: the mean of the second half along ``axis`` (1: rows, 2: columns) minus that
    of the first half, over the pixels that are not fill (zero): positive for an image that
    grows downwards (rightwards), negative once flipped; shifts, zero fill, small rotations
    and zooms keep the sign."""
    images = np.moveaxis(images, axis, 1)
    half = images.shape[1] // 2
    first, second = images[:, :half], images[:, images.shape[1] - half:]

    def mean(part):
        part = part.reshape(len(part), -1)
        seen = part > 1e-3
        return (part * seen).sum(axis=1) / np.maximum(seen.sum(axis=1), 1)

    return mean(second) - mean(first)


def check_flips(pipeline, shape, checked: str, horizontal: bool = True,
                vertical: bool = False):
    """On images that brighten downwards (and others that brighten rightwards), does the
    pipeline flip left-right (some images mirrored) and never upside down?"""
    __tracebackhide__ = True
    batch, height, width, channels = shape
    rows = np.linspace(0.2, 1.0, height, dtype="float32")[None, :, None, None]
    cols = np.linspace(0.2, 1.0, width, dtype="float32")[None, None, :, None]
    down = np.broadcast_to(rows, shape).copy()
    right = np.broadcast_to(cols, shape).copy()
    upside = _axis_trend(_numpy(pipeline(down, training=True)), axis=1)
    mirrored = _axis_trend(_numpy(pipeline(right, training=True)), axis=2)
    what = f"{checked} in training mode, on {batch} images of {height}x{width}"
    if not vertical and np.any(upside < 0):
        _fail(f"{what} that brighten from top to bottom",
              "every image still brightest at the bottom (never upside down)",
              f"{int(np.sum(upside < 0))} of {batch} images turned upside down",
              "an upside-down shoe or shirt is not a shoe or shirt any more: flip "
              "left-right only (RandomFlip('horizontal')), and keep rotations small")
    if horizontal and not np.any(mirrored < 0):
        _fail(f"{what} that brighten from left to right",
              "some images mirrored left-right", "no image mirrored",
              "flip images left-right at random (about half of them)")
    if horizontal and not np.any(mirrored > 0):
        _fail(f"{what} that brighten from left to right",
              "about half of the images mirrored", "every image mirrored",
              "a random flip mirrors some images and keeps the others")


def check_shifts(pipeline, shape, checked: str, most: float = 0.125):
    """A bright square in the middle of each image moves in some of the augmented images,
    by at most ``most`` of the image size (plus two pixels) along each axis."""
    __tracebackhide__ = True
    batch, height, width, channels = shape
    images = np.zeros(shape, dtype="float32")
    images[:, height // 2 - 2:height // 2 + 2, width // 2 - 2:width // 2 + 2, :] = 1.0
    out = np.clip(_numpy(pipeline(images, training=True)), 0, None)

    def centre(x):
        mass = x.sum(axis=(1, 2, 3)) + 1e-12
        r = (x.sum(axis=(2, 3)) * np.arange(height)).sum(axis=1) / mass
        c = (x.sum(axis=(1, 3)) * np.arange(width)).sum(axis=1) / mass
        return r, c

    r0, c0 = centre(images)
    r1, c1 = centre(out)
    dr, dc = np.abs(r1 - r0), np.abs(c1 - c0)
    what = f"{checked} in training mode, on {batch} images of {height}x{width} with a " \
           f"bright square in the middle"
    if not np.any(dr > 0.5) or not np.any(dc > 0.5):
        _fail(f"{what}: does the square move?", "the square shifted up/down and left/right "
              "in some images", "it never moves " + ("up or down" if not np.any(dr > 0.5)
                                                     else "left or right"),
              "shift images at random by up to an eighth of their height and width "
              "(layers.RandomTranslation)")
    limit_r, limit_c = most * height + 2, most * width + 2
    if np.max(dr) > limit_r or np.max(dc) > limit_c:
        _fail(f"{what}: how far does the square move?",
              f"at most {most:g} of the image size, and a pixel or two ({limit_r:.1f} rows, "
              f"{limit_c:.1f} columns)",
              f"up to {np.max(dr):.1f} rows and {np.max(dc):.1f} columns",
              "large shifts push the object out of the image: the factors of "
              "RandomTranslation are fractions of the height and width")


def check_trainable(model, checked: str, trainable=(), frozen=(), hint: str | None = None):
    """The layers named in ``trainable`` are trainable, those in ``frozen`` are not (layers
    of nested models too). A batch normalisation layer left trainable gets its own hint
    (it stays frozen when fine-tuning); ``hint`` is for the other layers."""
    __tracebackhide__ = True
    wrong_frozen = [n for n in trainable if not _find(model, n, checked).trainable]
    wrong_trainable = [n for n in frozen if _find(model, n, checked).trainable]
    if wrong_frozen or wrong_trainable:
        got = []
        if wrong_trainable:
            got.append(f"trainable, but should be frozen: {', '.join(wrong_trainable)}")
        if wrong_frozen:
            got.append(f"frozen, but should train: {', '.join(wrong_frozen)}")
        expected = []
        if trainable:
            expected.append(f"trainable: {', '.join(trainable)}")
        if frozen:
            expected.append(f"frozen: {', '.join(frozen)}")
        if any(_is_batch_norm(_find(model, n, checked)) for n in wrong_trainable):
            hint = ("batch normalisation stays frozen when you fine-tune: set trainable = "
                    "False on every BatchNormalization layer (it then runs in inference "
                    "mode), so that its statistics, learnt on the large data set, stay")
        _fail(f"which layers of {checked} are trainable", "; ".join(expected),
              "; ".join(got), hint or "set each layer's trainable attribute, layer by layer, "
              "after the base's own (setting a model's trainable sets it on every layer "
              "inside it)")


def check_no_trainable_weights(model, checked: str):
    """Nothing in ``model`` trains: every weight is frozen."""
    __tracebackhide__ = True
    names = [w.path for w in model.trainable_weights]
    if names:
        more = f" (and {len(names) - 4} more)" if len(names) > 4 else ""
        _fail(f"the trainable weights of {checked}", "none: every weight frozen",
              f"{len(names)}: {', '.join(names[:4])}{more}",
              "a feature extractor does not learn: freeze the base as a whole (its "
              "trainable attribute), which freezes every layer inside it, batch "
              "normalisation included")


def _randomise_batch_norm(model, seed=0):
    rng = np.random.default_rng(seed)
    for layer in _nested_layers(model):
        if _is_batch_norm(layer):
            shape = tuple(layer.moving_mean.shape)
            layer.moving_mean.assign(rng.normal(0.0, 0.1, size=shape).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, size=shape).astype("float32"))


def _moving_statistics(model):
    return {f"{layer.name}/{w.name}": _numpy(w).copy() for layer in _nested_layers(model)
            if _is_batch_norm(layer) for w in (layer.moving_mean, layer.moving_variance)}


def check_inference_mode(model, shape, checked: str):
    """Batch normalisation runs in inference mode even when ``model`` is called in training
    mode: the output does not depend on the mode nor on the other images of the batch, and
    the moving statistics do not change."""
    __tracebackhide__ = True
    _randomise_batch_norm(model)
    images = _images(shape, seed=4)
    before = _moving_statistics(model)
    train = _numpy(model(images, training=True))
    after = _moving_statistics(model)
    moved = [k for k in before if not np.array_equal(before[k], after[k])]
    hint = ("call the base as base(inputs, training=False) and freeze it: batch "
            "normalisation must use the statistics it learnt, not those of the batch")
    if moved:
        _fail(f"the moving statistics of batch normalisation in {checked} after a call in "
              f"training mode", "unchanged", f"changed: {', '.join(moved[:4])}", hint)
    infer = _numpy(model(images, training=False))
    one = _numpy(model(images[:1], training=True))
    if train.shape != infer.shape or not np.allclose(train, infer, rtol=1e-4, atol=1e-5):
        _fail(f"the output of {checked} in training mode against inference mode",
              "the same features in both modes", "different features", hint)
    if not np.allclose(one[0], train[0], rtol=1e-4, atol=1e-5):
        _fail(f"the features of one image computed alone and within a batch ({checked})",
              "the same features", "different features", hint)


def _optimizer_learning_rate(model):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    rate = optimizer.learning_rate
    try:
        return float(_numpy(rate))
    except Exception:  # noqa: BLE001 - a schedule
        return None


def check_learning_rate(model, expected: float, checked: str, hint: str | None = None):
    """``model`` is compiled, with an optimizer whose learning rate is ``expected``."""
    __tracebackhide__ = True
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        _fail(f"the optimizer of {checked}", "a compiled model", "a model that is not compiled",
              "call model.compile(optimizer=..., loss=...) before returning the model")
    got = _optimizer_learning_rate(model)
    if got is None or not np.isclose(got, expected, rtol=1e-5, atol=0):
        _fail(f"the learning rate of {checked}'s optimizer", f"{expected:g}",
              "a schedule" if got is None else f"{got:g}",
              hint or "the learning rate is the optimizer's: compile with "
                      "keras.optimizers.Adam(rate), the rate the instructions ask for")


def check_training_step(model, shape, classes: int, checked: str, changed=(), unchanged=(),
                        batch_norm_unchanged: bool = True):
    """One step of training (``train_on_batch`` on random labels and images of ``shape``, or
    on ``shape`` itself when it is an array: cached features): the layers in
    ``changed`` have weights that moved, those in ``unchanged`` (and, with
    ``batch_norm_unchanged``, every batch normalisation layer, moving statistics included)
    kept every weight."""
    __tracebackhide__ = True
    if getattr(model, "optimizer", None) is None:
        _fail(f"the optimizer of {checked}", "a compiled model", "a model that is not compiled",
              "call model.compile(optimizer=..., loss=...) before returning the model")
    _randomise_batch_norm(model, seed=5)
    layers = [x for x in _nested_layers(model) if x.weights and not hasattr(x, "layers")]
    before = {x.name: [_numpy(w).copy() for w in x.weights] for x in layers}
    images = shape if isinstance(shape, np.ndarray) else _images(shape, seed=6)
    labels = np.random.default_rng(7).integers(0, classes, size=len(images))
    model.run_eagerly = True  # one step: tracing a graph would cost more than the step
    try:
        model.train_on_batch(images, labels)
    except Exception as exc:  # noqa: BLE001 - the student's model failed
        _fail(f"one step of training of {checked}", "a step of training",
              f"{type(exc).__name__}: {exc}",
              "compile with the loss for integer labels: "
              "loss='sparse_categorical_crossentropy'")
    moved = {x.name: [w.name for w, b in zip(x.weights, before[x.name])
                      if not np.array_equal(_numpy(w), b)] for x in layers}
    for name in changed:
        _find(model, name, checked)
        if not moved.get(name):
            _fail(f"the weights of layer {name!r} after one step of training {checked}",
                  "changed", "unchanged",
                  "this layer should learn: is it trainable, and is it reached by the "
                  "gradient (not frozen by its model)?")
    still = [n for n in unchanged]
    if batch_norm_unchanged:
        still += [x.name for x in layers if _is_batch_norm(x) and x.name not in still]
    for name in still:
        layer = _find(model, name, checked)
        if moved.get(name):
            if _is_batch_norm(layer):
                hint = ("batch normalisation must stay frozen and in inference mode: "
                        "trainable = False on it (its scale and offset do not learn) and "
                        "the base called with training=False (its moving statistics stay)")
            else:
                hint = ("this layer should stay frozen: only the top layers of the base "
                        "and the head learn when fine-tuning")
            _fail(f"the weights of layer {name!r} after one step of training {checked}",
                  "unchanged", f"changed: {', '.join(moved[name])}", hint)


# ------------------------------------------------------------------------- binary layers
# Assignment 6 (a binary dense layer with the straight-through estimator, packed storage).
# The student's sign_ste, BinaryDense and packed_storage_bytes cannot travel to the grading
# process (a layer of the student's own class cannot be rebuilt here), so the notebook's
# given measuring functions (measure_*) run them on plain values and return arrays and
# numbers. The checks below choose the values, call the measuring function and decide,
# against BNN's definitions computed here in NumPy (Hubara et al. 2016, arXiv:1602.02830,
# section 1.1, eq. 1; section 1.3; Algorithm 1) and course_utils.binary's packed count. In
# the grading process the measuring functions are the re-check's stand-ins: the kernel
# only runs the student's code, every decision is the grader's.

BINARY_FORBIDDEN = ("zoo", "applications", "binary")
_STE_SPECIALS = (0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0)


def check_own_code(thing: Callable):
    """``thing`` (a function or a class) and what it reaches are the student's own code:
    not ``course_utils.binary`` (the course's reference, which the grader uses), nor
    anything the grader cannot read. Decided from the notebook's source when graded."""
    __tracebackhide__ = True
    found = _own_work_findings(thing, BINARY_FORBIDDEN)
    if found:
        name = getattr(thing, "__name__", "your code")
        _fail(f"whose code {name} runs", "your own code, with keras, keras.ops, tensorflow "
              "or numpy, in cells the grader can read", _findings_listed(found),
              "write the sign, the layer and the count yourself: course_utils.binary is the "
              "course's reference, for checking your work, not for handing in; and leave the "
              "measuring functions the tests use as they were given")


_CUSTOM_GRADIENT_ON_VARIABLE = (
    "tf.custom_gradient treats a variable as a weight of its own: give sign_ste a tensor, "
    "tf.convert_to_tensor(self.kernel), and the gradient still reaches the kernel")


def _failure_hint(exc: Exception, hint: str) -> str:
    """``hint``, or what a known TensorFlow pitfall in ``exc`` calls for."""
    if "must accept keyword argument 'variables'" in str(exc):
        return _CUSTOM_GRADIENT_ON_VARIABLE
    return hint


def _measure(measure, checked: str, hint: str, *args, **kwargs) -> dict:
    """``measure(*args, **kwargs)``, which must return a dict; a failure is the student's."""
    __tracebackhide__ = True
    try:
        got = measure(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the student's code failed
        _fail(checked, "your code to run", f"{type(exc).__name__}: {exc}",
              _failure_hint(exc, hint))
    if not isinstance(got, dict):
        _fail(f"what {getattr(measure, '__name__', 'the measuring function')} returns",
              "a dict, as the given function returns", type(got).__name__,
              "leave the measuring functions the tests use as they were given")
    return got


def _entry(got: dict, key: str, checked: str, shape: tuple, hint: str) -> np.ndarray:
    __tracebackhide__ = True
    if key not in got:
        _fail(checked, f"an entry {key!r}", f"entries {sorted(got)}",
              "leave the measuring functions the tests use as they were given")
    value = np.asarray(got[key])
    if value.shape != tuple(shape):
        _fail(f"{checked}: the shape", tuple(shape), value.shape, hint)
    return value


def _away_from_one(x: np.ndarray) -> np.ndarray:
    """Move values within 0.01 of +-1 to +-2 (where the clip's derivative is clear)."""
    near = np.abs(np.abs(x) - 1.0) < 0.01
    return np.where(near, 2.0 * np.sign(x), x)


def ste_case(shape, *, seed: int = 0):
    """The values a test gives ``sign_ste``: uniform in [-3, 3] with 0, +-1, +-0.5 and +-2
    at random places (as many as fit), and a gradient coming back (``upstream``), each
    entry of size 0.5 to 2 and either sign. Both float32."""
    rng = np.random.default_rng(seed)
    x = _away_from_one(rng.uniform(-3.0, 3.0, size=shape)).ravel()
    places = rng.permutation(x.size)[:len(_STE_SPECIALS)]
    x[places] = _STE_SPECIALS[:len(places)]
    upstream = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return x.reshape(shape).astype("float32"), upstream.astype("float32")


def binary_sign_reference(x) -> np.ndarray:
    """BNN's sign (eq. 1) with sign(0) = +1: +1 where ``x >= 0``, -1 elsewhere."""
    return np.where(np.asarray(x) >= 0, 1.0, -1.0).astype("float32")


def clipped_identity_derivative(x, *, step: float = 1e-3) -> np.ndarray:
    """The derivative of ``clip(x, -1, 1)`` by central differences (float64): 1 inside,
    0 outside; 0.5 exactly at +-1, where either side is accepted."""
    x = np.asarray(x, dtype="float64")
    return (np.clip(x + step, -1, 1) - np.clip(x - step, -1, 1)) / (2 * step)


def _ste_measured(measure, shape, seed):
    __tracebackhide__ = True
    x, upstream = ste_case(shape, seed=seed)
    checked = f"sign_ste on a float32 tensor of shape {tuple(shape)}"
    got = _measure(measure, checked, "sign_ste takes a float32 tensor of any shape and "
                   "returns one of the same shape; build it from keras.ops (or tensorflow) "
                   "operations, not NumPy, so that a gradient can flow", x.tolist(),
                   upstream.tolist())
    return x, upstream, checked, got


def check_binary_sign(measure, shape, *, seed: int = 0):
    """``sign_ste``'s forward pass: +1 where x >= 0 (0 included), -1 elsewhere, in the
    input's shape and dtype (float32). ``measure`` is the notebook's ``measure_sign_ste``."""
    __tracebackhide__ = True
    x, _, checked, got = _ste_measured(measure, shape, seed)
    values = _entry(got, "values", checked, shape, "return a tensor of the input's shape: "
                    "the sign is taken element by element")
    if values.dtype != np.float32:
        _fail(f"{checked}: the dtype", "float32 (the input's)", str(values.dtype),
              "the +1 and -1 go back into float computations: keep the input's dtype")
    expected = binary_sign_reference(x)
    wrong = values != expected
    if not wrong.any():
        return
    zero = x == 0
    if np.allclose(values, np.clip(x, -1, 1)):
        hint = ("that is the clipped identity, the backward pass's function: the forward "
                "pass is the sign itself")
    elif np.any(values[zero] == 0):
        hint = ("a binary value is +1 or -1, never 0, and the instructions send 0 to +1 "
                "(keras.ops.sign(0) is 0)")
    elif np.any(values[zero] == -1):
        hint = "the instructions send 0 to +1: x >= 0 gives +1"
    else:
        hint = "the forward pass is the sign: +1 where x >= 0, -1 elsewhere"
    first = int(np.argmax(wrong.ravel()))
    _fail(f"{checked} (values from -3 to 3, with 0 and +-1 among them): {int(wrong.sum())} "
          f"of {x.size} values wrong, the first at x = {x.ravel()[first]:g}",
          f"{expected.ravel()[first]:g}", f"{values.ravel()[first]:g}", hint)


def check_straight_through(measure, shape, *, seed: int = 0):
    """``sign_ste``'s backward pass: the gradient coming back is passed on where |x| <= 1
    and cancelled where |x| > 1: it is multiplied by the derivative of the clipped identity
    ``clip(x, -1, 1)``, computed here numerically (at exactly +-1 either 0 or 1 is
    accepted). ``measure`` is the notebook's ``measure_sign_ste``."""
    __tracebackhide__ = True
    x, upstream, checked, got = _ste_measured(measure, shape, seed + 1)
    checked = f"the gradient of {checked}"
    gradient = _entry(got, "gradient", checked, shape, "the gradient has the input's shape")
    slope = clipped_identity_derivative(x)
    edge = np.isclose(slope, 0.5)
    expected = upstream * np.round(slope) + 0.0  # + 0.0: no -0 in messages
    ok = np.isclose(gradient, expected, rtol=1e-5, atol=1e-6) | (
        edge & np.isclose(gradient, upstream, rtol=1e-5, atol=1e-6))
    if ok.all():
        return
    outside, inside = np.abs(x) > 1, np.abs(x) < 1
    if np.allclose(gradient, 0):
        hint = ("no gradient reaches x: the sign's own derivative is 0 almost everywhere; "
                "the straight-through estimator replaces it in the backward pass (BNN, "
                "section 1.3)")
    elif np.allclose(gradient[outside], upstream[outside], rtol=1e-5):
        hint = ("the gradient also passes where |x| > 1: the straight-through estimator "
                "cancels it there (the derivative of clip(x, -1, 1) is 0 outside [-1, 1])")
    elif np.allclose(gradient, np.round(slope) + edge, atol=1e-6) or np.allclose(
            gradient[inside], 1.0):
        hint = ("the gradient that comes back must be passed on, multiplied by the "
                "estimator's derivative (1 or 0), not replaced by it")
    else:
        hint = ("in the backward pass sign_ste acts like clip(x, -1, 1): the gradient "
                "passes unchanged where |x| <= 1 and is 0 elsewhere")
    first = int(np.argmax(~ok.ravel()))
    _fail(f"{checked}, for a gradient g coming back: {int((~ok).sum())} of {x.size} "
          f"entries wrong, the first at x = {x.ravel()[first]:g}, g = "
          f"{upstream.ravel()[first]:g}", f"{expected.ravel()[first]:g} (g times the "
          f"derivative of clip(x, -1, 1))", f"{gradient.ravel()[first]:g}", hint)


# --- the binary dense layer


def dense_case(n_inputs: int, units: int, *, batch: int = 4, seed: int = 0):
    """What a test gives ``BinaryDense``: a latent kernel uniform in (-1, 1), inputs of
    spread 1.5 (some beyond +-1, none within 0.01 of +-1 or 0), a bias and a gradient
    coming back; all float32."""
    rng = np.random.default_rng(seed)
    x = _away_from_one(rng.normal(0.0, 1.5, size=(batch, n_inputs)))
    x = np.where(np.abs(x) < 0.01, 0.5, x)
    return {"kernel": rng.uniform(-0.99, 0.99, size=(n_inputs, units)).astype("float32"),
            "inputs": x.astype("float32"),
            "bias": rng.normal(0.0, 1.0, size=units).astype("float32"),
            "upstream": rng.uniform(-1.0, 1.0, size=(batch, units)).astype("float32")}


def _dense_call(n_inputs, units, binarize_inputs, use_bias):
    return (f"BinaryDense({units}, binarize_inputs={binarize_inputs}, use_bias={use_bias}) "
            f"on inputs of {n_inputs} features")


def _dense_measured(measure, n_inputs, units, batch, binarize_inputs, use_bias, seed):
    __tracebackhide__ = True
    data = dense_case(n_inputs, units, batch=batch, seed=seed)
    checked = _dense_call(n_inputs, units, binarize_inputs, use_bias)
    got = _measure(measure, checked, "the layer is built on its first call, for any number "
                   "of input features: create self.kernel (inputs, units) and, with "
                   "use_bias=True, self.bias (units,) in build()",
                   data["kernel"].tolist(), data["inputs"].tolist(),
                   data["upstream"].tolist(), binarize_inputs=binarize_inputs,
                   use_bias=use_bias, bias=data["bias"].tolist() if use_bias else None)
    return data, checked, got


def _check_dense_weights(got, checked, n_inputs, units, use_bias):
    __tracebackhide__ = True
    if "weights" not in got:
        _fail(checked, "an entry 'weights'", f"entries {sorted(got)}",
              "leave the measuring functions the tests use as they were given")
    shapes = [tuple(shape) for _, shape in got["weights"]]
    expected = [(n_inputs, units)] + ([(units,)] if use_bias else [])
    if sorted(shapes) != sorted(expected):
        names = ", ".join(f"{name} {tuple(shape)}" for name, shape in got["weights"]) or "none"
        _fail(f"the weights of {checked}", " and ".join(map(str, expected)), names,
              "one latent kernel of shape (input features, units), built for the input "
              "the layer first sees, and a bias of shape (units,) only when use_bias=True")


def check_binary_dense(measure, n_inputs: int, units: int, *, batch: int = 4,
                       binarize_inputs: bool = True, use_bias: bool = False, seed: int = 0):
    """``BinaryDense``'s weights (a kernel (n_inputs, units), a bias with ``use_bias``) and
    outputs: ``f(x) @ sign(W) (+ b)``, ``f`` the sign with ``binarize_inputs`` and the
    identity without (BNN, section 1.1). ``measure`` is the notebook's
    ``measure_binary_dense``."""
    __tracebackhide__ = True
    data, checked, got = _dense_measured(measure, n_inputs, units, batch, binarize_inputs,
                                         use_bias, seed)
    _check_dense_weights(got, checked, n_inputs, units, use_bias)
    outputs = _entry(got, "outputs", f"the outputs of {checked}", (batch, units),
                     "a dense layer maps (batch, inputs) to (batch, units)")
    x, w, b = data["inputs"], data["kernel"], data["bias"] if use_bias else 0.0
    x_used = binary_sign_reference(x) if binarize_inputs else x
    expected = x_used @ binary_sign_reference(w) + b

    def same(value):
        return np.allclose(outputs, value, rtol=1e-5, atol=1e-4)

    if same(expected):
        return
    if same(x_used @ w + b):
        hint = ("the latent kernel is used as it is: binarise it in call() with sign_ste, "
                "so that the layer computes with +1 and -1")
    elif binarize_inputs and same(x @ binary_sign_reference(w) + b):
        hint = "binarize_inputs=True binarises the inputs with sign_ste before the product"
    elif not binarize_inputs and same(binary_sign_reference(x) @ binary_sign_reference(w) + b):
        hint = ("binarize_inputs=False leaves the inputs real: the first layer of a BNN "
                "sees the image itself")
    elif use_bias and same(expected - b):
        hint = "use_bias=True adds the (real) bias after the product"
    else:
        hint = ("compare with the instructions: the inputs (binarised when "
                "binarize_inputs=True) times the binarised kernel, plus the bias when "
                "use_bias=True")
    worst = np.unravel_index(int(np.argmax(np.abs(outputs - expected))), outputs.shape)
    _fail(f"the outputs of {checked}, the latent kernel uniform in (-1, 1); worst entry "
          f"{tuple(int(i) for i in worst)}", f"{expected[worst]:g}", f"{outputs[worst]:g}",
          hint)


def check_binary_dense_gradients(measure, n_inputs: int, units: int, *, batch: int = 4,
                                 binarize_inputs: bool = True, seed: int = 0):
    """The gradients of ``sum(g * BinaryDense(x))`` for a gradient ``g`` coming back: to
    the latent kernel ``f(x).T @ g`` times the estimator's derivative at ``W`` (1 inside
    [-1, 1]), and to the inputs ``g @ sign(W).T``, times the estimator's derivative at
    ``x`` when the inputs are binarised (BNN, section 1.3). ``measure`` is the notebook's
    ``measure_binary_dense``."""
    __tracebackhide__ = True
    data, checked, got = _dense_measured(measure, n_inputs, units, batch, binarize_inputs,
                                         False, seed + 1)
    x, w, g = data["inputs"], data["kernel"], data["upstream"]
    sign_w = binary_sign_reference(w)
    x_used = binary_sign_reference(x) if binarize_inputs else x
    through_x = np.round(clipped_identity_derivative(x)) if binarize_inputs else 1.0
    kernel_checked = f"the gradient reaching the latent kernel of {checked}"
    kernel_gradient = _entry(got, "kernel_gradient", kernel_checked, (n_inputs, units),
                             "the kernel's gradient has the kernel's shape")
    expected = (x_used.T @ g) * np.round(clipped_identity_derivative(w)) + 0.0
    if not np.allclose(kernel_gradient, expected, rtol=1e-5, atol=1e-4):
        if np.allclose(kernel_gradient, 0):
            hint = ("no gradient reaches the latent kernel: binarise it with sign_ste, whose "
                    "straight-through estimator lets the gradient through, not with a sign "
                    "that has none")
        elif np.allclose(kernel_gradient, x.T @ g, rtol=1e-5, atol=1e-4):
            hint = "the gradient sees the real inputs: binarize_inputs=True binarises them"
        else:
            hint = ("the kernel's gradient goes straight through its sign: f(x).T @ g, "
                    "where f(x) are the inputs the product used")
        worst = np.unravel_index(int(np.argmax(np.abs(kernel_gradient - expected))),
                                 expected.shape)
        _fail(f"{kernel_checked}; worst entry {tuple(int(i) for i in worst)}",
              f"{expected[worst]:g}", f"{kernel_gradient[worst]:g}", hint)
    input_checked = f"the gradient reaching the inputs of {checked}"
    input_gradient = _entry(got, "input_gradient", input_checked, (batch, n_inputs),
                            "the inputs' gradient has the inputs' shape")
    expected = (g @ sign_w.T) * through_x + 0.0
    if not np.allclose(input_gradient, expected, rtol=1e-5, atol=1e-4):
        if binarize_inputs and np.allclose(input_gradient, g @ sign_w.T, rtol=1e-5, atol=1e-4):
            hint = ("the gradient passes where |x| > 1 too: the inputs go through sign_ste, "
                    "whose estimator cancels the gradient there (part 1)")
        elif np.allclose(input_gradient, 0):
            hint = ("no gradient reaches the inputs: the layers below could not learn; "
                    "binarise with sign_ste, which lets the gradient through")
        else:
            hint = ("the inputs' gradient is g @ sign(W).T, through the estimator when the "
                    "inputs are binarised")
        worst = np.unravel_index(int(np.argmax(np.abs(input_gradient - expected))),
                                 expected.shape)
        _fail(f"{input_checked}; worst entry {tuple(int(i) for i in worst)}",
              f"{expected[worst]:g}", f"{input_gradient[worst]:g}", hint)


def check_binary_training_step(measure, n_inputs: int, units: int, *, batch: int = 4,
                               binarize_inputs: bool = True, seed: int = 0):
    """One step of plain SGD on the mean squared error, by a ``keras.Model`` holding one
    ``BinaryDense``: the latent kernel moves by the straight-through gradient and is then
    clipped to [-1, 1] (BNN, Algorithm 1). The learning rate is large enough to push some
    weights beyond +-1 before the clip. ``measure`` is the notebook's
    ``measure_training_step``."""
    __tracebackhide__ = True
    data = dense_case(n_inputs, units, batch=batch, seed=seed + 2)
    x, w = data["inputs"], data["kernel"]
    targets = (np.random.default_rng(seed).normal(0.0, 2.0, size=(batch, units))
               .astype("float32"))
    x_used = binary_sign_reference(x) if binarize_inputs else x
    outputs = x_used @ binary_sign_reference(w)
    gradient = x_used.T @ (2.0 * (outputs - targets) / outputs.size)
    rate = 2.5 / max(float(np.max(np.abs(gradient))), 1e-6)
    checked = (f"one step of SGD(learning_rate={rate:.3g}) on the mean squared error, of a "
               f"keras.Model holding {_dense_call(n_inputs, units, binarize_inputs, False)}")
    still = ("the optimizer updates the latent kernel by the gradient that comes straight "
             "through sign_ste: it must be a trainable weight, binarised with sign_ste in "
             "call()")
    try:
        got = measure(w.tolist(), x.tolist(), targets.tolist(), learning_rate=rate,
                      binarize_inputs=binarize_inputs)
    except Exception as exc:  # noqa: BLE001 - the student's code failed
        if "No gradients provided" in str(exc):
            _fail(f"the latent kernel after {checked}", "moved",
                  f"no gradient reached it ({type(exc).__name__}: {exc})", still)
        _fail(checked, "your code to run", f"{type(exc).__name__}: {exc}", _failure_hint(
            exc, "BinaryDense must work inside a keras.Model: called on a keras.Input, then "
                 "trained by the model's optimizer"))
    if not isinstance(got, dict):
        _fail("what measure_training_step returns", "a dict, as the given function returns",
              type(got).__name__, "leave the measuring functions the tests use as they were "
              "given")
    after = _entry(got, "kernel", f"the latent kernel after {checked}", w.shape,
                   "the kernel keeps its shape")
    if np.array_equal(after, w):
        _fail(f"the latent kernel after {checked}", "moved", "unchanged", still)
    if np.max(np.abs(after)) > 1 + 1e-6:
        _fail(f"the largest |weight| of the latent kernel after {checked}",
              "at most 1: the kernel is clipped to [-1, 1] after each step",
              f"{np.max(np.abs(after)):g}",
              "beyond +-1 the estimator's gradient is 0 and a weight could grow without "
              "changing its sign: give the kernel a constraint that clips it to [-1, 1] "
              "(add_weight(..., constraint=...)), which Keras applies after every update")
    expected = np.clip(w - rate * gradient, -1.0, 1.0)
    if not np.allclose(after, expected, rtol=1e-5, atol=1e-4):
        worst = np.unravel_index(int(np.argmax(np.abs(after - expected))), expected.shape)
        _fail(f"the latent kernel after {checked}; worst entry "
              f"{tuple(int(i) for i in worst)}", f"{expected[worst]:g}",
              f"{after[worst]:g}", "the step is W - rate * gradient, then the clip to "
              "[-1, 1]; the gradient is the straight-through one (see the gradient tests)")


# --- packed storage


def storage_reference(n_inputs: int, spec):
    """The model ``storage_model(n_inputs, spec)`` describes, built with the course's own
    ``course_utils.binary.BinaryDense``: ``("binary", units, use_bias)``, ``("dense",
    units, use_bias)`` (a float ``keras.layers.Dense``) or ``("batchnorm",)``."""
    import keras

    from course_utils.binary import BinaryDense

    model = keras.Sequential([keras.Input(shape=(n_inputs,))])
    for index, (kind, *options) in enumerate(spec):
        if kind == "binary":
            model.add(BinaryDense(options[0], binarize_inputs=index > 0, use_bias=options[1]))
        elif kind == "dense":
            model.add(keras.layers.Dense(options[0], use_bias=options[1]))
        else:
            model.add(keras.layers.BatchNormalization())
    return model


def storage_slips(model) -> dict[str, float]:
    """What common miscounts of ``model``'s storage give, by the hint that explains each."""
    import math

    from course_utils.binary import BinaryDense

    kernels = {id(layer.kernel): layer for layer in model.layers
               if isinstance(layer, BinaryDense)}
    bits = [math.prod(w.shape) for w in model.weights if id(w) in kernels]
    floats = [math.prod(w.shape) for w in model.weights if id(w) not in kernels]
    trainable = [math.prod(w.shape) for w in model.trainable_weights if id(w) not in kernels]
    packed = sum(-(-n // 8) for n in bits)
    biases = [math.prod(layer.bias.shape) for layer in kernels.values()
              if layer.bias is not None]
    return {
        "each layer's kernel is packed into whole bytes, as numpy.packbits does: "
        "ceil(bits / 8) per layer, not the bits of all layers divided by 8 at the end":
            sum(bits) / 8 + 4 * sum(floats),
        "each layer's kernel is packed into whole bytes on its own (numpy.packbits pads "
        "every layer's last byte): round up per layer, not once for the whole model":
            -(-sum(bits) // 8) + 4 * sum(floats),
        "a binarised weight takes 1 bit, 8 to a byte, not a byte of its own":
            sum(bits) + 4 * sum(floats),
        "the binarised kernels take 1 bit a weight, not 32: find them by their layer "
        "(isinstance(layer, BinaryDense))": 4 * (sum(bits) + sum(floats)),
        "every other weight is stored as float32, 4 bytes, not float64's 8":
            packed + 8 * sum(floats),
        "count every weight of the model, the non-trainable ones too (batch normalisation's "
        "moving mean and variance are stored with it): model.weights, not "
        "model.trainable_weights": packed + 4 * sum(trainable),
        "only the kernel of a BinaryDense is binarised: its bias stays float32":
            packed + -(-sum(biases) // 8) + 4 * (sum(floats) - sum(biases)),
    }


def check_packed_storage(measure, n_inputs: int, spec):
    """``packed_storage_bytes`` of ``storage_model(n_inputs, spec)``: each binarised
    kernel at 1 bit a weight, packed to whole bytes per layer (``numpy.packbits``), every
    other weight at 4 bytes (float32), as ``course_utils.binary.packed_size_bytes``
    counts. ``measure`` is the notebook's ``measure_packed_storage``."""
    __tracebackhide__ = True
    from course_utils.binary import float32_size_bytes, packed_size_bytes

    spec = [tuple(item) for item in spec]
    checked = f"packed_storage_bytes(storage_model({n_inputs}, {spec}))"
    try:
        got = measure(n_inputs, spec)
    except Exception as exc:  # noqa: BLE001 - the student's code failed
        _fail(checked, "a number of bytes", f"{type(exc).__name__}: {exc}",
              "the model holds your BinaryDense layers (built, with self.kernel and, "
              "with use_bias=True, self.bias), keras.layers.Dense and "
              "BatchNormalization: count every weight in model.weights")
    reference = storage_reference(n_inputs, spec)
    expected = packed_size_bytes(reference)
    if isinstance(got, bool) or not isinstance(got, (int, float, np.integer, np.floating)):
        _fail(checked, f"{expected:,} (a number of bytes)", type(got).__name__,
              "return the number of bytes, an int")
    if got == expected:
        return
    hint = next((why for why, value in storage_slips(reference).items()
                 if value != expected and abs(value - got) < 1e-9),
                "count every weight of model.weights: a binarised kernel at ceil(n / 8) "
                "bytes per layer, every other weight at 4 bytes")
    _fail(f"{checked} (float32: {float32_size_bytes(reference):,} bytes)", f"{expected:,}",
          f"{got:,}" if isinstance(got, (int, np.integer)) else f"{got:g}", hint)
