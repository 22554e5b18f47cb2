"""The contract every builder of the zoo keeps (``course_utils.zoo.common``'s docstring),
checked for everything in ``zoo.__all__`` (and the generic builders behind the named ones),
so that a network added later is checked without touching this file:

- options are keyword-only; only the argument that picks the network may come first;
- the ``keras.applications`` options are there, with Keras's names and defaults;
- every public function of the zoo (builders and blocks) documents each of its parameters
  in an ``Args:`` section, uses Keras's parameter names (``strides``, ``kernel_size``) and
  takes its switches (``True``/``False`` options) by keyword;
- a wrong argument fails at once, with a message that names it, says what it got and
  gives a hint;
- a good call builds: the features without the classifier, the classifier with its classes.
"""

import importlib
import inspect
import pkgutil
import re

import keras
import pytest

from course_utils import zoo
from course_utils.inspection import structure_only

HEAD_OPTIONS = ("include_top", "input_shape", "pooling", "classes", "classifier_activation")
KERAS_DEFAULTS = {"include_top": True, "input_shape": None, "pooling": None,
                  "classifier_activation": "softmax"}
# The one argument that may come first by position: it picks the network.
DEFINING = ("depth", "variant", "network", "version", "blocks")
# Values for a defining argument that has no default (the cheapest network to build).
EXAMPLES = {"densenet": (6, 12, 24, 16), "fashion_mnist_version": "LeNet-5", "vgg": 16,
            "resnet": 18, "resnext": 50}
# Keras's names for what some code calls otherwise.
KERAS_NAMES = {"stride": "strides", "kernel": "kernel_size"}
# Builders named after their module: exporting them from course_utils.zoo would hide the
# module (zoo.vgg, zoo.resnet), so they stay in the modules; the contract holds for them too.
GENERIC = ("vgg.vgg", "resnet.resnet", "efficientnet.efficientnet",
           "efficientnet_v2.efficientnet_v2", "regnet.regnet", "resnext.resnext",
           "convnext.convnext", "densenet.densenet")

MODULES = [importlib.import_module(f"{zoo.__name__}.{info.name}")
           for info in pkgutil.iter_modules(zoo.__path__)]
FUNCTIONS = {f"{module.__name__.rsplit('.', 1)[1]}.{name}": function
             for module in MODULES for name, function in vars(module).items()
             if inspect.isfunction(function) and not name.startswith("_")
             and function.__module__ == module.__name__}
BUILDERS = {name: getattr(zoo, name) for name in zoo.__all__} | {
    name.split(".")[1]: FUNCTIONS[name] for name in GENERIC}


# Where keras.applications names the classifier otherwise than "predictions".
KERAS_CLASSIFIER_NAMES = {name: "{model}_head_dense" for name in (
    "convnext", "convnext_tiny", "convnext_small", "convnext_base", "convnext_large",
    "convnext_xlarge")}
_NONE = inspect.Parameter("none", inspect.Parameter.KEYWORD_ONLY)


def _defining(name, builder):
    """The positional arguments a call needs: the defining argument, if it has no default."""
    first = next(iter(inspect.signature(builder).parameters.values()), None)
    if first is None or first.kind is not first.POSITIONAL_OR_KEYWORD:
        return ()
    if first.default is not first.empty:
        return (first.default,)
    assert name in EXAMPLES, f"{name}: add an example value for {first.name!r} to EXAMPLES"
    return (EXAMPLES[name],)


def _is_wrapper(builder):
    """A builder that hands its options to another one (``fashion_mnist_version``)."""
    parameters = inspect.signature(builder).parameters.values()
    return any(p.kind is p.VAR_KEYWORD for p in parameters)


def _args_section(function):
    doc = inspect.getdoc(function) or ""
    match = re.search(r"^Args:\n(.*?)(?=^\S|\Z)", doc, flags=re.M | re.S)
    return match.group(1) if match else None


def test_the_builders_are_exported():
    assert "cifar_resnet" in zoo.__all__
    for name in zoo.__all__:
        assert callable(getattr(zoo, name)), name
    # a builder takes an input shape and has the classifier on by default (block helpers
    # have no default; counting helpers such as densenet.parameter_count take no input shape)
    with_a_head = {name for name, function in FUNCTIONS.items()
                   if inspect.signature(function).parameters.get("include_top", _NONE).default
                   is True and "input_shape" in inspect.signature(function).parameters}
    exported = {f"{function.__module__.rsplit('.', 1)[1]}.{function.__name__}"
                for function in (getattr(zoo, name) for name in zoo.__all__)}
    missing = sorted(with_a_head - exported - set(GENERIC))
    assert not missing, f"public builders missing from course_utils.zoo.__all__: {missing}"


@pytest.mark.parametrize("name", BUILDERS)
def test_options_are_keyword_only(name):
    parameters = list(inspect.signature(BUILDERS[name]).parameters.values())
    positional = [p for p in parameters
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)]
    assert len(positional) <= 1, (
        f"{name}: only the argument that picks the network may come by position; "
        f"{[p.name for p in positional]} do")
    if positional:
        first = positional[0]
        assert first is parameters[0] and first.kind is first.POSITIONAL_OR_KEYWORD
        assert first.name in DEFINING, (
            f"{name}: its positional argument {first.name!r} is not one that picks the "
            f"network {DEFINING}; make it keyword-only")


@pytest.mark.parametrize("name", BUILDERS)
def test_the_keras_applications_options_are_there(name):
    builder = BUILDERS[name]
    parameters = inspect.signature(builder).parameters
    if _is_wrapper(builder):  # checked below: the options reach the builder it wraps
        return
    missing = [option for option in HEAD_OPTIONS if option not in parameters]
    assert not missing, f"{name} lacks keras.applications' options {missing}"
    for option, default in KERAS_DEFAULTS.items():
        assert parameters[option].default == default, (
            f"{name}: {option} defaults to {parameters[option].default!r}, Keras's to "
            f"{default!r}")
    assert parameters["classes"].default >= 1


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_parameter_is_documented(name):
    function = FUNCTIONS[name]
    section = _args_section(function)
    assert section is not None, f"{name}: its docstring has no Args: section"
    documented = re.findall(r"^ {4}(\*{0,2}\w+)(?: \([^)]*\))?:", section, flags=re.M)
    expected = [("**" if p.kind is p.VAR_KEYWORD else "*" if p.kind is p.VAR_POSITIONAL
                 else "") + p.name for p in inspect.signature(function).parameters.values()]
    assert documented == expected, (
        f"{name}: Args documents {documented}, the parameters are {expected} (same order)")


@pytest.mark.parametrize("name", FUNCTIONS)
def test_keras_parameter_names_and_switches_by_keyword(name):
    for parameter in inspect.signature(FUNCTIONS[name]).parameters.values():
        assert parameter.name not in KERAS_NAMES, (
            f"{name}: call {parameter.name!r} {KERAS_NAMES[parameter.name]!r}, as Keras does")
        if isinstance(parameter.default, bool):
            assert parameter.kind is parameter.KEYWORD_ONLY, (
                f"{name}: the switch {parameter.name!r} must be keyword-only")


@pytest.mark.parametrize("name", BUILDERS)
def test_options_by_position_are_refused(name):
    builder = BUILDERS[name]
    with pytest.raises(TypeError, match="positional"):
        builder(*_defining(name, builder), True)


BAD_ARGUMENTS = [
    # (arguments, error, the argument the message must name)
    ({"input_shape": (32, 32)}, ValueError, "input_shape"),
    ({"input_shape": (96, 96, 0)}, ValueError, "input_shape"),
    ({"include_top": False, "input_shape": (2, 2, 3)}, ValueError, "input_shape"),
    ({"classes": 0}, ValueError, "classes"),
    ({"classes": 2.5}, ValueError, "classes"),
    ({"include_top": False, "pooling": "max-ish"}, ValueError, "pooling"),
    ({"include_top": True, "pooling": "avg"}, ValueError, "pooling"),
    ({"classifier_activation": "softmaxx"}, ValueError, "classifier_activation"),
    ({"include_top": "yes"}, TypeError, "include_top"),
]


@pytest.mark.parametrize("name", BUILDERS)
@pytest.mark.parametrize("kwargs, error, argument", BAD_ARGUMENTS,
                         ids=["-".join(f"{k}={v!r}" for k, v in kw.items())
                              for kw, _, _ in BAD_ARGUMENTS])
def test_a_wrong_argument_is_explained(name, kwargs, error, argument):
    builder = BUILDERS[name]
    with pytest.raises(error) as raised:
        builder(*_defining(name, builder), **kwargs)
    message = str(raised.value)
    assert argument in message, f"{name}: the message does not name {argument}: {message}"
    assert "got" in message and "Hint:" in message, (
        f"{name}: the message should say what it got and give a hint: {message}")


def _generic_behind(builder):
    """``(module, name)`` of the generic builder that ``builder`` only calls with its own
    numbers (``vgg16`` returns ``vgg(16, ...)``, ``regnetx_002`` ``regnet(...)``), or
    ``None`` for a builder that builds the network itself."""
    module = inspect.getmodule(builder)
    generic = next((g.split(".")[1] for g in GENERIC
                    if module.__name__.endswith("." + g.split(".")[0])), None)
    if generic is None or builder is getattr(module, generic):
        return None
    calls = re.search(rf"\breturn {generic}\(", inspect.getsource(builder))
    return (module, generic) if calls else None


NAMED = [name for name in BUILDERS if _generic_behind(BUILDERS[name])]


def test_the_named_builders_are_found():
    for name in ("vgg16", "resnet50", "resnet_d", "densenet121", "efficientnet_b0",
                 "efficientnet_v2_s", "regnetx_002", "resnext50_32x4d", "convnext_tiny"):
        assert name in NAMED, f"{name} should be found as a call of its generic builder"
    for name in ("resnet50_v2", "mobilenet", "lenet5", "vgg", "regnet"):
        assert name not in NAMED, f"{name} builds its network itself"


@pytest.mark.parametrize("name", NAMED)
def test_a_named_builder_hands_its_options_to_the_generic_one(name, monkeypatch):
    """A named builder is its generic builder with the paper's numbers: that it hands on
    every option of the call is checked here, the build itself once per family (the
    generic builder's good call below) and for every named network by its identity check
    against keras.applications or its published counts."""
    module, generic = _generic_behind(BUILDERS[name])
    received = []

    def record(*args, **kwargs):  # only the defining argument (the depth) may come by position
        received.append({**({key: "by position" for key in DEFINING} if args else {}),
                         **kwargs})
        return "built"

    monkeypatch.setattr(module, generic, record)
    calls = [{"include_top": False, "pooling": "max", "input_shape": (96, 96, 3)},
             {"classes": 3, "classifier_activation": None, "input_shape": (96, 96, 3)}]
    for call in calls:
        assert BUILDERS[name](**call) == "built"
        handed = {key: received[-1].get(key, "(not handed on)") for key in call}
        assert handed == call, (f"{name} does not hand its options to {generic}(): called "
                                f"with {call}, {generic} got {handed}")
    lost = set(inspect.signature(BUILDERS[name]).parameters) - set(received[-1])
    assert not lost, f"{name} takes options it does not hand to {generic}(): {sorted(lost)}"


@pytest.mark.parametrize("name", [name for name in BUILDERS if name not in NAMED])
def test_a_good_call_builds(name):
    builder = BUILDERS[name]
    defining = _defining(name, builder)
    shape = {} if _is_wrapper(builder) else {"input_shape": (96, 96, 3)}
    keras.backend.clear_session()
    with structure_only():  # what is built is checked, not the weights
        features = builder(*defining, include_top=False, pooling="max", **shape)
        assert isinstance(features, keras.Model) and len(features.output_shape) == 2
        if not _is_wrapper(builder):
            last = features.layers[-1]
            if name.startswith("convnext"):  # Keras's twin normalises the pooled features
                assert isinstance(last, keras.layers.LayerNormalization), name
                last = features.layers[-2]
            assert isinstance(last, keras.layers.GlobalMaxPooling2D), (
                f"{name}: pooling='max' should end in common.head's global max pooling")
            classifier = builder(*defining, classes=3, classifier_activation=None, **shape)
            outputs = classifier.outputs
            assert [tuple(o.shape) for o in outputs] == [(None, 3)] * len(outputs)
            predictions = classifier.get_layer(KERAS_CLASSIFIER_NAMES.get(
                name, "predictions").format(model=classifier.name))
            assert predictions.activation is keras.activations.linear
