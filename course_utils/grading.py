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
"""

from __future__ import annotations

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


def check_same_structure(model, reference, compare_names: bool = False):
    """Layer by layer, the same types, output shapes, parameter counts and key settings as
    ``reference``; the first layer that differs is named in the failure."""
    __tracebackhide__ = True
    import keras

    ours = [x for x in model.layers if not isinstance(x, keras.layers.InputLayer)]
    theirs = [x for x in reference.layers if not isinstance(x, keras.layers.InputLayer)]
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


# ------------------------------------------------------------------------- honesty


def code_origins(function, _seen=None) -> set[str]:
    """The names a function's code uses, nested functions included, and for each global
    one the module it comes from (so an alias of a ready-made builder is still seen);
    functions of the same module that it calls are followed too."""
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
    for name in names:
        value = scope.get(name)
        if value is None:
            continue
        origins.add(getattr(value, "__module__", None) or getattr(value, "__name__", ""))
        if getattr(value, "__globals__", None) is scope:  # a helper written beside it
            origins |= code_origins(value, seen)
    return {o for o in origins if o}


def check_own_work(function: Callable, forbidden=("zoo", "applications")):
    """The function must not hand back a ready-made network (``course_utils.zoo`` or
    ``keras.applications``): neither the names its code uses nor the modules they come
    from may lead there."""
    __tracebackhide__ = True
    origins = (function.code_origins() if hasattr(function, "code_origins")
               else code_origins(function))
    used = sorted(o for o in origins if any(word in o.split(".") for word in forbidden))
    if used:
        _fail(f"how {getattr(function, '__name__', 'your function')} builds its network",
              "layers you create yourself", f"a call through {', '.join(used)}",
              "build the network from keras.layers yourself; the ready-made ones are for "
              "checking, not for handing in")
