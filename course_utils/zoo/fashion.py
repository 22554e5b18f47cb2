"""The classic networks cut down to Fashion-MNIST, so that they train on a laptop.

Every version takes 32x32x1 images (Fashion-MNIST padded by two pixels:
``data.prepare(x, pad=2)``) and returns 10 class probabilities. What is cut:

=============  ========================================================================
LeNet-5        nothing: the modern variant (ReLU, max pooling) at its own size
AlexNet        a quarter of the channels and units; images resized to 67x67 first, the
               smallest input its 11x11 stride-4 stem and three poolings accept
VGG-16         a quarter of the channels and units, at 32x32
NiN            a quarter of the channels, images resized to 67x67 (as AlexNet), and no
               ReLU on the class maps (with it, a class can go silent for good early on)
GoogLeNet      a quarter of the channels, at 32x32
SqueezeNet     nothing cut: version 1.0 (or ``version="1.1"``) at 32x32, He-uniform
               weights and no ReLU on the class maps (with Keras's default weights and
               that ReLU it barely learns in a few epochs)
=============  ========================================================================
"""

from __future__ import annotations

import keras
from keras import layers

from course_utils.zoo.alexnet import alexnet
from course_utils.zoo.googlenet import googlenet
from course_utils.zoo.lenet import lenet5
from course_utils.zoo.nin import nin
from course_utils.zoo.squeezenet import squeezenet
from course_utils.zoo.vgg import vgg16

INPUT_SHAPE = (32, 32, 1)
CLASSES = 10
# name -> (builder, input size it runs at, width multiplier alpha, other builder arguments)
VERSIONS = {
    "LeNet-5": (lambda **options: lenet5("modern", **options), 32, None, {}),
    "AlexNet": (alexnet, 67, 0.25, {}),
    "VGG-16": (vgg16, 32, 0.25, {}),
    "NiN": (nin, 67, 0.25, {"class_map_relu": False}),
    "GoogLeNet": (googlenet, 32, 0.25, {}),
    "SqueezeNet": (squeezenet, 32, None, {"class_map_relu": False,
                                          "kernel_initializer": "he_uniform"}),
}
FIXED = {"input_shape": INPUT_SHAPE, "classes": CLASSES}


def fashion_mnist_version(network: str, **options) -> keras.Model:
    """The Fashion-MNIST version of ``network``: 32x32x1 images in, 10 classes out.

    Args:
        network: a key of ``VERSIONS``: ``"LeNet-5"``, ``"AlexNet"``, ``"VGG-16"``,
            ``"NiN"``, ``"GoogLeNet"`` or ``"SqueezeNet"``.
        **options: keyword arguments for the builder (``classifier_activation=None``,
            ``activation="tanh"``, ``aux_classifiers=True``, ``alpha=0.5``,
            ``version="1.1"``, ...); the input shape and the classes are fixed.
    """
    if network not in VERSIONS:
        raise ValueError(f"Unknown network {network!r}. Choose one of: {', '.join(VERSIONS)}.")
    for option, value in FIXED.items():
        if option in options:
            raise ValueError(
                f"fashion_mnist_version fixes {option}={value}; got {option}="
                f"{options[option]!r}. Hint: call the builder itself (zoo.vgg16, ...) for "
                f"other inputs or classes.")
    builder, size, alpha, defaults = VERSIONS[network]
    options = {**defaults, **options}
    if alpha is not None:
        options.setdefault("alpha", alpha)
    net = builder(input_shape=(size, size, INPUT_SHAPE[-1]), classes=CLASSES, **options)
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = layers.Resizing(size, size, name="resize")(inputs) if size != INPUT_SHAPE[0] else inputs
    outputs = net(x)
    if isinstance(outputs, (list, tuple)):  # keep each head's name (losses, histories)
        names = net.output_names
        outputs = [layers.Identity(name=name)(o) for name, o in zip(names, outputs)]
    return keras.Model(inputs, outputs, name=f"{net.name}_fashion")
