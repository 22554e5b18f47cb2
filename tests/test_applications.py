"""layer_table must work on every keras.applications model (built with random weights), and
every convolutional family of keras.applications has a course twin proven identical to it,
named in the README's table."""

import importlib
import re
from pathlib import Path

import keras
import pytest

from course_utils import zoo
from course_utils.inspection import layer_table, structure_only

NAMES = sorted(n for n in dir(keras.applications) if n[0].isupper())
FIXED_SIZE = {"MobileNetV3Small": (224, 224, 3), "MobileNetV3Large": (224, 224, 3)}


def test_the_list_is_complete():
    assert len(NAMES) >= 40 and "VGG16" in NAMES and "ConvNeXtTiny" in NAMES


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_layer_table_on_every_application(name):
    if name.startswith("NASNet") and keras.backend.backend() == "torch":
        pytest.skip("Keras refuses NASNet on the torch backend ('not available with the torch "
                    "backend at this time due to an outstanding bug')")
    kwargs = {"input_shape": FIXED_SIZE[name]} if name in FIXED_SIZE else {}
    with structure_only():  # the table reads shapes and counts, never the values
        model = getattr(keras.applications, name)(weights=None, **kwargs)
        rows = layer_table(model, totals=False)
        assert rows.params.sum() == model.count_params()
        assert rows.macs.notna().all()
        assert rows.macs.sum() > 1e7
        assert rows.iloc[-1].output_shape == tuple(model.output.shape[1:])
        by_name = {layer.name: layer for layer in model.layers}
        for row in rows.itertuples():
            layer = by_name.get(row.layer)
            if layer is not None and not isinstance(layer.output, (list, tuple)):
                assert row.output_shape == tuple(layer.output.shape[1:]), row.layer
        fields = [f for f in rows.receptive_field if f is not None]
        assert fields and max(f if isinstance(f, int) else max(f) for f in fields) > 100
        expanded = layer_table(model, totals=False, expand_nested=True)
        assert expanded.params.sum() == model.count_params()
        assert expanded.macs.sum() == rows.macs.sum()


# --- Every family has its course twin (README: "Every `keras.applications` family") --------
LEFT_OUT = ("NASNetMobile", "NASNetLarge")  # the README says why
IDENTITY_MODULES = sorted(p.stem for p in Path(__file__).parent.glob("test_zoo_*.py"))


def _proven_twins() -> dict:
    """{keras.applications name: [test modules whose identity check runs it]}: the
    reference of every network that a module's identity variants run."""
    proven = {}
    for stem in IDENTITY_MODULES:
        module = importlib.import_module(stem)
        references = getattr(module, "REFERENCES", {})
        variants = getattr(module, "VARIANTS_TO_RUN", getattr(module, "VARIANTS", []))
        for network in {v[0] for v in variants if isinstance(v, tuple)}:
            reference = references.get(network, (None, None))[1]
            name = getattr(reference, "__name__", "")
            if getattr(keras.applications, name, None) is reference:
                proven.setdefault(name, []).append(stem)
    return proven


def test_every_convolutional_application_is_proven_by_an_identity_check():
    proven = _proven_twins()
    missing = [name for name in NAMES if name not in proven and name not in LEFT_OUT]
    assert not missing, (
        f"keras.applications models with no course twin run by an identity check: {missing}. "
        "Expected each to be the reference of a network in some tests/test_zoo_*.py "
        "REFERENCES that its VARIANTS run. Hint: add a builder to course_utils.zoo and its "
        "identity variants, or list it in LEFT_OUT with the README's reason.")


def test_the_readme_table_names_every_application_and_only_real_builders():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("### Every `keras.applications` family")
    section = readme[start:readme.index("\n### ", start + 1)]
    unnamed = [name for name in NAMES if f"`{name}`" not in section]
    assert not unnamed, (f"the README's table of keras.applications families does not name "
                         f"{unnamed}. Hint: add them to their family's row (or the left-out row).")
    builders = re.findall(r"`zoo\.(\w+)`", section)
    unknown = [b for b in builders if not callable(getattr(zoo, b, None))]
    assert builders and not unknown, (f"the README's table names course builders that "
                                      f"course_utils.zoo does not have: {unknown}")
