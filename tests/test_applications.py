"""layer_table must work on every keras.applications model (built with random weights)."""

import keras
import pytest

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
