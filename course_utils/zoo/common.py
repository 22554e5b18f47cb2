"""What every builder of the zoo shares: the checks on its arguments and its head.

The contract every builder keeps (``tests/test_zoo_contract.py`` checks it for all of
``zoo.__all__``):

- Options are keyword-only. Only the one argument that picks the network (``depth``,
  ``variant``, ``network``) may come first by position: ``zoo.resnet_d(50)``,
  ``zoo.lenet5("modern")``, ``zoo.vgg16(include_top=False)``.
- The options ``keras.applications`` has keep its names and meanings: ``include_top``,
  ``input_shape``, ``pooling``, ``classes``, ``classifier_activation``. They are checked
  first, by :func:`check_head_options` and :func:`check_input_shape`, so a wrong value
  fails at once with a message that names it, says what was expected and gives a hint.
- The network ends in :func:`head`: the classifier, or (``include_top=False``) the feature
  maps, pooled to one vector with ``pooling="avg"`` or ``"max"``.
- Block functions take the input tensor, the numbers that define the block and the name of
  where it sits by position, every other option by keyword; the parameters are Keras's
  (``strides``, ``kernel_size``, ``padding``).
"""

from __future__ import annotations

import numbers

import keras
from keras import layers

POOLINGS = (None, "avg", "max")
# The names keras.applications gives its unnamed pooling layers (VGG, Inception v3).
KERAS_POOL_NAMES = ("global_average_pooling2d", "global_max_pooling2d")
POOL_NAMES = ("avg_pool", "max_pool")


def check_head_options(*, include_top, pooling, classes, classifier_activation, network):
    """Refuse values of the ``keras.applications`` options that cannot build a network.

    Args:
        include_top: ``True`` (end with the classifier) or ``False`` (end with the features).
        pooling: ``None``, ``"avg"`` or ``"max"``; only with ``include_top=False``.
        classes: the number of classes, a whole number of at least 1.
        classifier_activation: ``None`` (logits), an activation's name or a callable.
        network: the network's name, to start the messages with.

    Raises:
        TypeError: ``include_top`` is not ``True`` or ``False``.
        ValueError: any other value that does not fit; the message names the argument.
    """
    if not isinstance(include_top, bool):
        raise TypeError(
            f"{network}: include_top must be True or False; got {include_top!r}. Hint: "
            f"include_top=False leaves out the classifier and returns the features.")
    if pooling not in POOLINGS:
        raise ValueError(
            f"{network}: pooling must be None, 'avg' or 'max'; got {pooling!r}. Hint: 'avg' "
            f"averages each feature map to one number (global average pooling), None keeps "
            f"the maps.")
    if include_top and pooling is not None:
        raise ValueError(
            f"{network}: pooling={pooling!r} needs include_top=False; got include_top=True, "
            f"where the network ends in its own classifier. Hint: pass include_top=False for "
            f"pooled features, or leave pooling out.")
    if isinstance(classes, bool) or not isinstance(classes, numbers.Integral) or classes < 1:
        raise ValueError(
            f"{network}: classes must be a whole number of at least 1; got {classes!r}. "
            f"Hint: 10 for Fashion-MNIST or CIFAR-10, 1000 for ImageNet.")
    try:
        keras.activations.get(classifier_activation)
    except (ValueError, TypeError):
        raise ValueError(
            f"{network}: classifier_activation must be None, the name of a Keras activation "
            f"or a callable; got {classifier_activation!r}. Hint: 'softmax' gives "
            f"probabilities, None gives logits (then use from_logits=True in the loss)."
        ) from None


def check_input_shape(input_shape, *, default_size: int, min_size: int, include_top: bool,
                      network: str, channels: int = 3, top_needs_fixed_size: bool = True,
                      hint: str | None = None) -> tuple:
    """``input_shape`` as the network will use it, or a ValueError that says what is wrong.

    With ``input_shape=None`` the network takes ``(default_size, default_size, channels)``
    when the classifier is on and ``(None, None, channels)`` (any size) without it, as in
    ``keras.applications``.

    Args:
        input_shape: ``(height, width, channels)``, ``None`` for the default; height and
            width may be ``None`` (any size) where the network allows it.
        default_size: the side of the default input, e.g. 224.
        min_size: the smallest side the network's downsampling leaves something of.
        include_top: whether the network ends in its classifier.
        network: the network's name, to start the messages with.
        channels: the default number of channels.
        top_needs_fixed_size: whether the classifier needs a fixed input size (it does
            when it flattens the maps into dense layers; a head that averages them does not).
        hint: what to do about a too small input (default: resize or pad).

    Raises:
        TypeError: ``input_shape`` is not a sequence.
        ValueError: it has not three entries, an entry is not a positive whole number, or the
            image is too small; the message names ``input_shape``.
    """
    if input_shape is None:
        side = default_size if include_top else None
        return (side, side, channels)
    try:
        shape = tuple(input_shape)
    except TypeError:
        raise TypeError(
            f"{network}: input_shape must be a tuple (height, width, channels); got "
            f"{input_shape!r}. Hint: one example's shape, without the batch axis, e.g. "
            f"({default_size}, {default_size}, {channels}).") from None
    if len(shape) != 3:
        raise ValueError(
            f"{network}: input_shape must be (height, width, channels), three entries; got "
            f"{shape} ({len(shape)} entries). Hint: one example's shape without the batch "
            f"axis; grayscale images have one channel: (28, 28, 1), not (28, 28).")
    height, width, depth = shape
    for axis, size in (("height", height), ("width", width), ("channels", depth)):
        if size is None and axis != "channels":
            continue
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
            raise ValueError(
                f"{network}: input_shape must hold positive whole numbers; got {shape}, whose "
                f"{axis} is {size!r}. Hint: None stands for any height or width; the "
                f"channels must be given.")
    if any(side is not None and side < min_size for side in (height, width)):
        raise ValueError(
            f"{network}: input_shape must be at least {min_size}x{min_size} (its "
            f"downsampling layers would leave nothing of a smaller image); got "
            f"input_shape={shape}, at least {min_size}x{min_size} needed. Hint: "
            f"{hint or 'resize or pad the images first (keras.layers.Resizing).'}")
    if include_top and top_needs_fixed_size and None in (height, width):
        raise ValueError(
            f"{network}: with include_top=True input_shape needs a fixed input size (its dense "
            f"classifier expects a fixed number of features); got input_shape={shape}. Hint: "
            f"give height and width, or pass include_top=False.")
    return shape


def head(x, *, include_top: bool, pooling, classes: int, classifier_activation,
         flatten: bool = False, hidden=(), hidden_activation="relu", dropout: float = 0.0,
         class_maps: bool = False, pool_names=POOL_NAMES, prefix: str = ""):
    """The end of a network: its classifier, or (``include_top=False``) its features.

    With the classifier: ``{prefix}avg_pool`` (global average pooling) or, with ``flatten``,
    ``{prefix}flatten``; then the ``hidden`` dense layers, each followed by
    ``{name}_dropout`` when ``dropout`` is set (without hidden layers, one
    ``{prefix}dropout`` before the classifier); then ``{prefix}predictions``. Without it:
    the feature maps, or their global average or maximum (``pool_names``).

    Args:
        x: the last feature maps, ``(batch, height, width, channels)``.
        include_top: ``True`` for the classifier, ``False`` for the features.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: the number of classes of the classifier.
        classifier_activation: the activation of ``predictions`` (``None`` for logits).
        flatten: flatten the maps (for dense layers that expect a fixed size) rather than
            average them.
        hidden: ``(name, units)`` of the dense layers before the classifier.
        hidden_activation: their activation.
        dropout: the dropout rate after each hidden layer (or before the classifier).
        class_maps: the maps are already one per class (Network in Network): average them
            and apply ``classifier_activation``, without a dense layer.
        pool_names: the names of the average and the maximum pooling without the classifier.
        prefix: put in front of the layer names (for a second head, e.g. ``"aux1_"``).

    Returns:
        The network's output tensor.
    """
    if not include_top:
        if pooling == "avg":
            return layers.GlobalAveragePooling2D(name=pool_names[0])(x)
        if pooling == "max":
            return layers.GlobalMaxPooling2D(name=pool_names[1])(x)
        return x
    if flatten:
        x = layers.Flatten(name=f"{prefix}flatten")(x)
    else:
        x = layers.GlobalAveragePooling2D(name=f"{prefix}avg_pool")(x)
    if class_maps:
        return layers.Activation(classifier_activation or "linear",
                                 name=f"{prefix}predictions")(x)
    for name, units in hidden:
        x = layers.Dense(units, activation=hidden_activation, name=name)(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    if dropout and not hidden:
        x = layers.Dropout(dropout, name=f"{prefix}dropout")(x)
    return layers.Dense(classes, activation=classifier_activation,
                        name=f"{prefix}predictions")(x)


def scaled(channels: int, alpha: float) -> int:
    """``channels`` times the width multiplier ``alpha``, rounded, at least 1.

    Args:
        channels: the number of channels (or units) in the paper's network.
        alpha: the width multiplier (``keras.applications.MobileNet``'s ``alpha``).

    Raises:
        ValueError: ``alpha`` is not a positive number.
    """
    check_alpha(alpha)
    return max(1, int(round(channels * alpha)))


def check_alpha(alpha, *, network: str = "", hint: str = "alpha=0.25 keeps a quarter of "
                "every layer's channels, alpha=1 the paper's."):
    """Refuse a width multiplier that is not a positive number.

    Args:
        alpha: the width multiplier.
        network: the network's name, to start the message with.
        hint: what to say about good values.

    Raises:
        ValueError: ``alpha`` is not a positive number; the message names it.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or alpha <= 0:
        raise ValueError(
            f"{network + ': ' if network else ''}alpha must be a positive number (the width "
            f"multiplier); got {alpha!r}. Hint: {hint}")
