"""Keras's private graph attributes are read in course_utils.keras_graph alone, and the tests
say clearly when a Keras release changes them."""

import ast
from pathlib import Path

import pytest

from course_utils import keras_graph

PACKAGE = Path(__file__).resolve().parent.parent / "course_utils"
PRIVATE = ("_keras_history", "_inbound_nodes", "_outbound_nodes")


def test_this_keras_has_the_graph_attributes_the_course_reads():
    keras_graph.check_keras_graph_api()  # raises KerasInternalsChanged with a hint if not


def test_no_other_module_reads_them():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "keras_graph.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            name = (node.attr if isinstance(node, ast.Attribute) else
                    node.value if isinstance(node, ast.Constant) else None)
            if name in PRIVATE:
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {name}")
    assert not offenders, ("read Keras's private graph attributes through "
                           f"course_utils.keras_graph instead: {offenders}")


def test_a_changed_keras_gives_a_message_that_names_the_attribute():
    class Renamed:  # what an operation looks like to a Keras that renamed _inbound_nodes
        pass

    with pytest.raises(keras_graph.KerasInternalsChanged, match="_inbound_nodes.*Hint"):
        keras_graph.inbound_nodes(Renamed())
    with pytest.raises(ValueError, match="no Keras graph history"):
        keras_graph.tensor_history(object())
