"""activation_memory: the bytes of every layer's output for one input, as notebook 04 counts
VGG-16's and notebook 18 DenseNet-121's: each output once, reshapes as nothing, the input
included, a dense block's concatenations growing with every layer, unknown sizes refused."""

import keras
import numpy as np
import pytest
from keras import layers

from course_utils.diagrams import block_model
from course_utils.inspection import (
    ModelInspectionError,
    activation_memory,
    layer_table,
    structure_only,
)
from course_utils.zoo.densenet import dense_block
from course_utils.zoo.vgg import vgg16


def _small():
    inputs = keras.Input((8, 8, 3), name="image")
    x = layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    x = layers.Flatten(name="flatten")(x)
    return keras.Model(inputs, layers.Dense(10, name="dense")(x))


def test_counts_every_output_once_and_a_reshape_as_nothing():
    memory = activation_memory(_small())
    expected = {"image": 8 * 8 * 3 * 4, "conv": 8 * 8 * 4 * 4, "flatten": 0, "dense": 10 * 4}
    assert memory.to_dict() == expected, (
        f"float32 bytes per layer: expected {expected} (the input kept, Flatten the same "
        f"values as its input), got {memory.to_dict()}")
    assert memory.name == "activation bytes" and memory.index.name == "layer"
    assert memory.dtype == np.int64


def test_a_table_gives_what_its_model_gives_and_the_total_row_is_left_out():
    model = _small()
    table = layer_table(model)
    from_table = activation_memory(table)
    assert "total" not in from_table.index, "the table's 'total' row is not a layer"
    assert from_table.equals(activation_memory(model)), (
        f"from the model {activation_memory(model).to_dict()}, from its layer table "
        f"{from_table.to_dict()}")


def test_bytes_per_value_scales_every_layer():
    model = _small()
    half = activation_memory(model, bytes_per_value=2)
    assert (2 * half).equals(activation_memory(model)), (
        f"float16 (2 bytes) should be half of float32 (4 bytes) layer by layer; got "
        f"{half.to_dict()} against {activation_memory(model).to_dict()}")


def test_equals_the_count_of_the_vgg_lesson():
    """By hand: 4 * prod(output_shape) per layer, Flatten as 0 (the count notebook 04
    prints, through activation_memory)."""
    with structure_only():
        table = layer_table(vgg16())
    rows = table[table.layer != "total"]
    by_hand = [0 if kind == "Flatten" else 4 * int(np.prod(shape))
               for kind, shape in zip(rows.type, rows.output_shape)]
    memory = activation_memory(table)
    assert memory.tolist() == by_hand, "VGG-16 per layer differs from the count by hand"
    assert memory.sum() == 60_950_432, (
        f"VGG-16 keeps 15,237,608 float32 values per image (224x224x3 input, 13 convolutions "
        f"and 5 poolings, 3 dense layers): expected 60,950,432 bytes, got {memory.sum():,}")


def test_a_dense_block_keeps_every_concatenation_whole():
    """Layer l's concatenation holds k0 + k * l maps: 16 + 4, + 8, + 12 on 8x8."""
    block = block_model(dense_block, (8, 8, 16), 3, "b", growth_rate=4)
    memory = activation_memory(block)
    concatenations = memory[memory.index.str.endswith("_concat")].tolist()
    expected = [4 * 8 * 8 * (16 + 4 * layer) for layer in (1, 2, 3)]
    assert concatenations == expected, (
        f"concatenation outputs: expected {expected} bytes (each a new tensor of all the maps "
        f"so far), got {concatenations}")
    new_maps = memory[memory.index.str.endswith("_2_conv")].tolist()
    assert new_maps == [4 * 8 * 8 * 4] * 3, f"each 3x3 convolution writes k = 4 maps: {new_maps}"


def test_a_nested_model_is_counted_layer_by_layer_from_the_model_and_whole_from_its_table():
    inner_in = keras.Input((4, 4, 2))
    inner = keras.Model(inner_in, layers.Conv2D(3, 1, name="inner_conv")(
        layers.Conv2D(5, 1, name="inner_wide")(inner_in)), name="inner")
    inputs = keras.Input((4, 4, 2), name="x")
    outer = keras.Model(inputs, inner(inputs), name="outer")
    expanded = activation_memory(outer)
    assert expanded.to_dict() == {"x": 4 * 32, "inner/inner_wide": 4 * 80,
                                  "inner/inner_conv": 4 * 48}, expanded.to_dict()
    folded = activation_memory(layer_table(outer))
    assert folded.to_dict() == {"x": 4 * 32, "inner": 4 * 48}, (
        f"a table that does not expand the nested model counts its output alone; got "
        f"{folded.to_dict()}")


def test_a_layer_with_several_outputs_counts_them_all():
    inner_in = keras.Input((3, 3, 2))
    pair = keras.Model(inner_in, [layers.Conv2D(4, 1, name="a")(inner_in),
                                  layers.Conv2D(1, 1, name="b")(inner_in)], name="pair")
    inputs = keras.Input((3, 3, 2), name="x")
    outer = keras.Model(inputs, pair(inputs))
    memory = activation_memory(layer_table(outer))
    assert memory["pair"] == 4 * 9 * (4 + 1), (
        f"two outputs of 3x3x4 and 3x3x1: expected {4 * 9 * 5} bytes, got {memory['pair']}")


def test_an_unknown_size_is_refused_naming_the_layer():
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, layers.Conv2D(2, 3, name="conv_any_size")(inputs))
    with pytest.raises(ValueError, match=r"input_layer|conv_any_size"):
        activation_memory(model)


@pytest.mark.parametrize("bad", [0, -4, 2.5, True, "4"])
def test_bytes_per_value_must_be_a_positive_whole_number(bad):
    with pytest.raises(ValueError, match="bytes_per_value"):
        activation_memory(_small(), bytes_per_value=bad)


def test_something_else_than_a_model_or_a_table_is_refused():
    with pytest.raises(ModelInspectionError, match="layer_table"):
        activation_memory([layers.Dense(3)])
