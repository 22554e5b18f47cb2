"""The course's canonical network builders.

Every builder uses only ``keras`` and ``keras.ops`` (no ``tf.*``), so the architectures
run on any Keras 3 backend; each returns a functional ``keras.Model`` whose layer names
say where a layer sits.
"""

from course_utils.zoo.lenet import lenet5

__all__ = ["lenet5"]
