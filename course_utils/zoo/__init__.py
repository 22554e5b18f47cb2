"""The course's canonical network builders.

Every builder uses only ``keras`` and ``keras.ops`` (no ``tf.*``), so the architectures
run on any Keras 3 backend; each returns a functional ``keras.Model`` whose layer names
say where a layer sits. Where ``keras.applications`` has the network (VGG16, VGG19,
InceptionV3, ResNet50/101/152, ResNet50V2) the builder takes the same main arguments and builds the same model, layer
for layer; the tests prove it.
"""

from course_utils.zoo.alexnet import alexnet
from course_utils.zoo.fashion import fashion_mnist_version
from course_utils.zoo.googlenet import googlenet
from course_utils.zoo.inception_v3 import inception_v3
from course_utils.zoo.lenet import lenet5
from course_utils.zoo.nin import nin
from course_utils.zoo.resnet import (
    resnet18,
    resnet34,
    resnet50,
    resnet50_v2,
    resnet101,
    resnet152,
    resnet_d,
)
from course_utils.zoo.vgg import vgg16, vgg19

__all__ = ["alexnet", "fashion_mnist_version", "googlenet", "inception_v3", "lenet5", "nin",
           "resnet18", "resnet34", "resnet50", "resnet50_v2", "resnet101", "resnet152",
           "resnet_d", "vgg16", "vgg19"]
