"""What the course's builders share: checking the input shape and finishing a network
without its classifier, with the same rules and names as ``keras.applications``."""

from __future__ import annotations

from keras import layers


def resolve_input_shape(input_shape, default_size: int, min_size: int, include_top: bool,
                        network: str) -> tuple:
    """``input_shape`` as the network will use it: the default ``(size, size, 3)`` when
    none is given and the classifier is on, ``(None, None, 3)`` without it."""
    if input_shape is None:
        return (default_size, default_size, 3) if include_top else (None, None, 3)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(
            f"{network}: input_shape must be (height, width, channels); got {input_shape}.")
    height, width = input_shape[:2]
    if any(side is not None and side < min_size for side in (height, width)):
        raise ValueError(
            f"{network} needs inputs of at least {min_size}x{min_size}: its downsampling "
            f"layers would leave nothing of a {height}x{width} image. Got "
            f"input_shape={input_shape}. Hint: resize or pad the images first.")
    if include_top and None in (height, width):
        raise ValueError(
            f"{network} with include_top=True needs a fixed input size (its dense classifier "
            f"expects a fixed number of features); got input_shape={input_shape}.")
    return input_shape


def check_pooling(pooling):
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"pooling must be None, 'avg' or 'max'; got {pooling!r}.")


def pool_features(x, pooling):
    """Without the classifier: keep the feature maps, or pool them to one vector."""
    check_pooling(pooling)
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="global_average_pooling2d")(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name="global_max_pooling2d")(x)
    return x


def scaled(channels: int, width: float) -> int:
    """``channels`` times the width multiplier, at least 1."""
    if width <= 0:
        raise ValueError(f"width must be positive; got {width}.")
    return max(1, int(round(channels * width)))
