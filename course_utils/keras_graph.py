"""The one module that reads Keras's private graph attributes.

Keras 3 keeps a functional model's graph in two private attributes: every symbolic tensor's
``_keras_history`` (the operation that made it, which call of it, which output) and every
operation's ``_inbound_nodes`` (one node per call). ``layer_table``, ``trace`` and the grading
checks walk the graph through the three functions below, so a Keras release that renames
them breaks this module alone, and :func:`check_keras_graph_api` (run by the tests) says so.
"""

from __future__ import annotations


class KerasInternalsChanged(RuntimeError):
    """This Keras no longer has the private attributes the course reads."""


def _changed(what: str) -> KerasInternalsChanged:
    import keras

    return KerasInternalsChanged(
        f"Keras {keras.__version__} has no {what}, which course_utils.keras_graph reads to "
        "walk a functional model's graph. Hint: pin the Keras version the course was tested "
        "with (pyproject.toml), or adapt course_utils/keras_graph.py to the new release.")


def tensor_history(tensor):
    """``(operation, node_index, tensor_index)`` of a symbolic tensor of a functional model."""
    history = getattr(tensor, "_keras_history", None)
    if history is None:
        raise ValueError(f"Tensor {tensor} carries no Keras graph history: is it a symbolic "
                         "tensor of a functional model (keras.Input, then layers)?")
    return history


def inbound_nodes(operation) -> list:
    """The nodes of ``operation``: one per call in a functional graph."""
    nodes = getattr(operation, "_inbound_nodes", None)
    if nodes is None:
        raise _changed(f"`_inbound_nodes` on {type(operation).__name__}")
    return list(nodes)


def producing_node(tensor):
    """The node (call of an operation) that produced ``tensor``."""
    operation, node_index, _ = tensor_history(tensor)
    return inbound_nodes(operation)[node_index]


def check_keras_graph_api() -> None:
    """Build a two-layer functional model and read its graph the way the course does;
    raise :class:`KerasInternalsChanged` with a clear message if this Keras differs."""
    import keras

    inputs = keras.Input((4,))
    dense = keras.layers.Dense(2, name="probe")
    outputs = dense(inputs)
    if not hasattr(outputs, "_keras_history"):
        raise _changed("`_keras_history` on symbolic tensors")
    operation, node_index, tensor_index = tensor_history(outputs)
    if operation is not dense or (node_index, tensor_index) != (0, 0):
        raise _changed("`_keras_history` of the form (operation, node_index, tensor_index)")
    node = producing_node(outputs)
    for attribute in ("input_tensors", "output_tensors", "is_input"):
        if not hasattr(node, attribute):
            raise _changed(f"`{attribute}` on graph nodes")
    if [tensor_history(t)[0] for t in node.input_tensors] != [tensor_history(inputs)[0]]:
        raise _changed("nodes whose `input_tensors` lead back to the model's input")


def all_layers(model):
    """Every layer of ``model`` in order, looking inside nested models (a layer that is a
    model is given, then its own layers). Uses only the public ``layers`` attribute."""
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from all_layers(layer)
