"""ConvNeXt T, S, B, L and XL (Liu et al., "A ConvNet for the 2020s", CVPR 2022,
arXiv:2201.03545).

Section 2 of the paper walks a ResNet-50 step by step towards the design of a vision
Transformer (Swin) without any attention: blocks per stage in the ratio 3:3:9:3, a
"patchify" stem (one 4x4 convolution of stride 4, as ViT cuts its patches), depthwise
convolutions (ResNeXt's grouped convolution with one channel per group) on a wider network,
the inverted bottleneck (4 times as wide inside the block, as a Transformer's MLP), the
depthwise convolution moved to the front of the block and grown to 7x7, then the micro
design: GELU instead of ReLU, one activation and one normalisation per block, LayerNorm
instead of batch norm, and downsampling by separate layers between the stages. What comes
out is the ConvNeXt block (:func:`convnext_block`)::

    x -> 7x7 depthwise conv -> LayerNorm -> Dense 4C -> GELU -> Dense C -> layer scale
      -> stochastic depth -> + x

The variants (section 3) differ only in the channels ``C`` of the four stages and the
number ``B`` of blocks in each: T has ``C = (96, 192, 384, 768)``, ``B = (3, 3, 9, 3)``; S,
B, L and XL have ``B = (3, 3, 27, 3)`` with ``C`` starting at 96, 128, 192 and 256 and
doubling from stage to stage (:data:`VARIANTS`). Two training aids from the Transformers
are part of the network: layer scale (:class:`LayerScale`, from CaiT), every residual
branch multiplied by learned per-channel factors that start at 1e-6, and stochastic depth
(:class:`StochasticDepth`), whose rate grows linearly from 0 at the first block to
``drop_path_rate`` at the last (:func:`drop_path_rates`).

Layer names, arguments and weights line up with ``keras.applications.ConvNeXtTiny`` to
``ConvNeXtXLarge``: the layers are named after the model (``convnext_tiny_stem``,
``convnext_tiny_stage_2_block_8_pointwise_conv_1``); the stem and each downsampling layer
are small ``keras.Sequential`` models of two layers; the pointwise convolutions are
``Dense`` layers applied to every pixel's channels (the same numbers as a 1x1 ``Conv2D``,
as the paper's code computes them); the residual additions are ``keras.ops.add``
operations, not layers, as in Keras (named ``add``, ``add_1``, ... in a fresh session);
and the images come in as pixels in ``[0, 255]``, standardised with ImageNet's statistics
by the first layer.

The block functions take keyword options beyond Keras's (``kernel_size``, ``groups``,
``expand_ratio``, ``norm``, ``activation``) so that the intermediate networks of section
2's roadmap can be built from the same parts; their defaults are ConvNeXt's.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import keras
import numpy as np
from keras import layers

from course_utils.zoo.common import KERAS_POOL_NAMES, check_head_options, check_input_shape, head


class Variant(NamedTuple):
    """One ConvNeXt variant (section 3): blocks per stage and channels per stage."""

    depths: tuple
    projection_dims: tuple


VARIANTS = {
    "tiny": Variant((3, 3, 9, 3), (96, 192, 384, 768)),
    "small": Variant((3, 3, 27, 3), (96, 192, 384, 768)),
    "base": Variant((3, 3, 27, 3), (128, 256, 512, 1024)),
    "large": Variant((3, 3, 27, 3), (192, 384, 768, 1536)),
    "xlarge": Variant((3, 3, 27, 3), (256, 512, 1024, 2048)),
}
# keras.applications' class names, for the docstrings.
KERAS_NAMES = {"tiny": "ConvNeXtTiny", "small": "ConvNeXtSmall", "base": "ConvNeXtBase",
               "large": "ConvNeXtLarge", "xlarge": "ConvNeXtXLarge"}
DEFAULT_SIZE = 224
MIN_SIZE = 32  # the stem and three downsampling layers divide the side by 32
STAGES = 4
LAYER_SCALE_INIT = 1e-6  # appendix A: every variant starts its layer scales at 1e-6
EPSILON = 1e-6  # every LayerNorm's epsilon, as in the paper's code
# ImageNet's per-channel statistics of pixels in [0, 1]; the first layer scales them by 255.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
NORMS = {"layer": "layernorm", "batch": "batchnorm"}  # the choices, and their layer names


def _is_number(value, *, whole=False) -> bool:
    """Whether ``value`` is a (whole) number and not ``True`` or ``False``."""
    kind = numbers.Integral if whole else numbers.Real
    return isinstance(value, kind) and not isinstance(value, bool)


def _check(ok: bool, value, argument: str, expected: str, hint: str, network="ConvNeXt"):
    """Raise a ValueError naming ``argument`` unless ``ok``."""
    if not ok:
        raise ValueError(f"{network}: {argument} must be {expected}; got {value!r}. "
                         f"Hint: {hint}")


def _check_rate(rate, argument: str, network="ConvNeXt"):
    """Refuse a stochastic-depth rate outside [0, 1)."""
    _check(_is_number(rate) and 0 <= rate < 1, rate, argument,
           "a rate from 0 up to (not including) 1",
           "0 keeps every residual branch; the paper trains ConvNeXt-T with 0.1 and the "
           "larger variants with up to 0.5.", network)


def _check_norm(norm):
    _check(isinstance(norm, str) and norm in NORMS, norm, "norm", f"one of {sorted(NORMS)}",
           "'layer' is ConvNeXt's LayerNorm, 'batch' ResNet's batch norm (section 2.6).")


def _norm_layer(norm: str, name: str):
    """A LayerNorm (ConvNeXt's, epsilon 1e-6) or a batch norm (ResNet's), named ``name``."""
    if norm == "layer":
        return layers.LayerNormalization(epsilon=EPSILON, name=name)
    return layers.BatchNormalization(name=name)


@keras.saving.register_keras_serializable(package="course_utils")
class LayerScale(layers.Layer):
    """Layer scale (Touvron et al., "Going deeper with Image Transformers" (CaiT), ICCV
    2021, arXiv:2103.17239, section 3): the output of a residual branch multiplied, channel
    by channel, by learned factors ``gamma`` that start small (``init_values``, 1e-6 in
    ConvNeXt). Each block then starts close to the identity, which lets very deep residual
    networks train; the factors grow where the block is useful.

    One weight, ``gamma`` of shape ``(projection_dim,)``, as in ``keras.applications``'
    ConvNeXt (whose layer of the same name leaves it unnamed, so the variable is called
    ``variable``; so is this one, and the weight paths are Keras's).

    Args:
        init_values: the factors' starting value (0 starts every branch switched off).
        projection_dim: the channels of the input, one factor each.
        **kwargs: the options of every layer (``name``, ``dtype``).
    """

    def __init__(self, init_values, projection_dim, **kwargs):
        super().__init__(**kwargs)
        _check(_is_number(init_values), init_values, "init_values", "a number",
               "ConvNeXt starts its layer scales at 1e-6.", "LayerScale")
        _check(_is_number(projection_dim, whole=True) and projection_dim >= 1, projection_dim,
               "projection_dim", "a whole number of channels, at least 1",
               "the channels of the branch it scales.", "LayerScale")
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] != self.projection_dim:
            raise ValueError(
                f"LayerScale: projection_dim must be the input's channels; got "
                f"projection_dim={self.projection_dim} for an input of shape "
                f"{tuple(input_shape)}. Hint: one factor per channel of the last axis.")
        self.gamma = self.add_weight(shape=(self.projection_dim,),
                                     initializer=keras.initializers.Constant(self.init_values),
                                     trainable=True)

    def call(self, x):
        return x * self.gamma

    def get_config(self):
        return {**super().get_config(), "init_values": self.init_values,
                "projection_dim": self.projection_dim}


@keras.saving.register_keras_serializable(package="course_utils")
class StochasticDepth(layers.Layer):
    """Stochastic depth (Huang et al., "Deep Networks with Stochastic Depth", ECCV 2016,
    arXiv:1603.09382), also called drop path: in training, the residual branch of each
    example is dropped whole with probability ``drop_path_rate`` (the block then passes the
    example on unchanged) and kept, divided by the keeping probability, otherwise, so that
    its expected value is unchanged; in inference the layer is the identity. The paper
    scaled at test time instead; dividing in training is the same in expectation.

    No weights, as in ``keras.applications``' ConvNeXt. Unlike Keras's layer of the same
    name, the random numbers come from a seed generator of the layer's own, so that it
    also trains inside a compiled JAX step.

    Args:
        drop_path_rate: the probability of dropping an example's branch, from 0 up to (not
            including) 1.
        seed: the seed of the random numbers (``None``: a random one).
        **kwargs: the options of every layer (``name``, ``dtype``).
    """

    def __init__(self, drop_path_rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_rate(drop_path_rate, "drop_path_rate", "StochasticDepth")
        self.drop_path_rate = drop_path_rate
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=None):
        if not training or not self.drop_path_rate:
            return x
        keep = 1.0 - self.drop_path_rate
        # One number per example, broadcast over its height, width and channels.
        shape = (keras.ops.shape(x)[0],) + (1,) * (len(x.shape) - 1)
        noise = keras.random.uniform(shape, dtype=x.dtype, seed=self.seed_generator)
        kept = keras.ops.floor(keep + noise)  # 1 with probability keep, else 0
        return x / keep * kept

    def get_config(self):
        return {**super().get_config(), "drop_path_rate": self.drop_path_rate,
                "seed": self.seed}


def preprocessing(x, name: str):
    """Keras's preprocessing for ConvNeXt, taking pixels in [0, 255]: with 3 channels,
    ``{name}_prestem_normalization`` (each channel minus ImageNet's mean, over its standard
    deviation, both times 255; the statistics are fixed, not weights); images of any other
    number of channels pass unchanged.

    Args:
        x: the input images.
        name: the model's name, the prefix of the layer's name.

    Returns:
        The preprocessed images.
    """
    if x.shape[-1] != 3:
        return x
    return layers.Normalization(mean=[m * 255 for m in IMAGENET_MEAN],
                                variance=[(s * 255) ** 2 for s in IMAGENET_STD],
                                name=f"{name}_prestem_normalization")(x)


def patchify_stem(x, filters: int, name: str, *, patch_size=4, norm="layer"):
    """The "patchify" stem (section 2.2): one ``patch_size`` x ``patch_size`` convolution of
    the same stride, which cuts the image into non-overlapping patches as ViT does (ResNet's
    stem, a 7x7 convolution of stride 2 and a max pooling, overlaps), then a LayerNorm. A
    ``keras.Sequential`` of the two layers, ``{name}_stem`` (``{name}_stem_conv``,
    ``{name}_stem_layernorm``), as in Keras.

    Args:
        x: the (preprocessed) images.
        filters: the first stage's channels.
        name: the model's name, the prefix of the layer names.
        patch_size: the side of the patches and the stride (4 in ConvNeXt).
        norm: ``"layer"`` (ConvNeXt) or ``"batch"``.

    Returns:
        The first stage's input, ``patch_size`` times smaller on each side.
    """
    _check_norm(norm)
    return keras.Sequential([
        layers.Conv2D(filters, patch_size, strides=patch_size, name=f"{name}_stem_conv"),
        _norm_layer(norm, f"{name}_stem_{NORMS[norm]}"),
    ], name=f"{name}_stem")(x)


def downsampling_block(x, filters: int, name: str, index: int, *, norm="layer"):
    """A separate downsampling layer between two stages (section 2.6): a LayerNorm (it keeps
    the training stable where the resolution changes), then a 2x2 convolution of stride 2
    to ``filters`` channels. A ``keras.Sequential`` of the two,
    ``{name}_downsampling_block_{index}`` (``{name}_downsampling_layernorm_{index}``,
    ``{name}_downsampling_conv_{index}``), as in Keras.

    Args:
        x: the last stage's output.
        filters: the next stage's channels.
        name: the model's name, the prefix of the layer names.
        index: which downsampling layer: 0 before the second stage, ... 2 before the fourth.
        norm: ``"layer"`` (ConvNeXt) or ``"batch"``.

    Returns:
        The next stage's input, half as high and wide.
    """
    _check_norm(norm)
    return keras.Sequential([
        _norm_layer(norm, f"{name}_downsampling_{NORMS[norm]}_{index}"),
        layers.Conv2D(filters, 2, strides=2, name=f"{name}_downsampling_conv_{index}"),
    ], name=f"{name}_downsampling_block_{index}")(x)


def convnext_block(x, projection_dim: int, name: str, *, drop_path_rate=0.0,
                   layer_scale_init_value=LAYER_SCALE_INIT, kernel_size=7, groups=None,
                   expand_ratio=4, norm="layer", activation="gelu"):
    """One ConvNeXt block (section 2, Figure 4): ``{name}_depthwise_conv`` (a 7x7 depthwise
    convolution, a ``Conv2D`` with one group per channel, as in Keras), ``{name}_layernorm``,
    ``{name}_pointwise_conv_1`` (a ``Dense`` layer on every pixel's channels: a 1x1
    convolution to ``expand_ratio`` times the channels, the inverted bottleneck),
    ``{name}_gelu``, ``{name}_pointwise_conv_2`` (back to ``projection_dim``),
    ``{name}_layer_scale`` (:class:`LayerScale`; left out when ``layer_scale_init_value`` is
    ``None``), ``{name}_stochastic_depth`` (:class:`StochasticDepth`; ``{name}_identity``,
    a linear activation, when the rate is 0), and the block's input added back.

    The options past ``layer_scale_init_value`` build the steps of section 2's roadmap from
    ResNet to ConvNeXt; their defaults are ConvNeXt's.

    Args:
        x: the input tensor; it must have ``projection_dim`` channels.
        projection_dim: the block's input and output channels (the stage's ``C``).
        name: the prefix of the layer names, e.g. ``"convnext_tiny_stage_0_block_0"``.
        drop_path_rate: the stochastic-depth rate of the residual branch.
        layer_scale_init_value: the layer scale's starting value; ``None`` for none.
        kernel_size: the depthwise convolution's kernel size (7; 3 in ResNet, section 2.5).
        groups: the groups of the spatial convolution; ``None`` for one per channel
            (depthwise); e.g. 32 for ResNeXt's grouped convolution (section 2.3).
        expand_ratio: the hidden Dense layer's channels over ``projection_dim`` (4, section
            2.4).
        norm: ``"layer"`` (LayerNorm) or ``"batch"`` (batch norm, section 2.6).
        activation: the activation between the pointwise layers (``"gelu"``; ``"relu"`` in
            ResNet, section 2.6); its layer is named ``{name}_{activation}``.

    Returns:
        The block's output tensor, the same shape as ``x``.
    """
    if x.shape[-1] != projection_dim:
        raise ValueError(
            f"convnext_block {name}: projection_dim must equal the input's channels (the "
            f"input is added back at the end); got projection_dim={projection_dim} for an "
            f"input of shape {tuple(x.shape)}. Hint: change the channels between stages "
            f"with downsampling_block.")
    _check_rate(drop_path_rate, "drop_path_rate", f"convnext_block {name}")
    _check(layer_scale_init_value is None or _is_number(layer_scale_init_value),
           layer_scale_init_value, "layer_scale_init_value", "None or a number",
           "ConvNeXt uses 1e-6; None leaves the layer scale out.", f"convnext_block {name}")
    _check_norm(norm)
    inputs = x
    x = layers.Conv2D(projection_dim, kernel_size, padding="same",
                      groups=projection_dim if groups is None else groups,
                      name=f"{name}_depthwise_conv")(x)
    x = _norm_layer(norm, f"{name}_{NORMS[norm]}")(x)
    x = layers.Dense(expand_ratio * projection_dim, name=f"{name}_pointwise_conv_1")(x)
    suffix = activation if isinstance(activation, str) else "activation"
    x = layers.Activation(activation, name=f"{name}_{suffix}")(x)
    x = layers.Dense(projection_dim, name=f"{name}_pointwise_conv_2")(x)
    if layer_scale_init_value is not None:
        x = LayerScale(layer_scale_init_value, projection_dim, name=f"{name}_layer_scale")(x)
    if drop_path_rate:
        x = StochasticDepth(drop_path_rate, name=f"{name}_stochastic_depth")(x)
    else:
        x = layers.Activation("linear", name=f"{name}_identity")(x)
    # An operation rather than a layer, unnamed, as Keras's `inputs + x`: its rows in the
    # layer table are add, add_1, ... (in a fresh session) and model.layers is Keras's list.
    return keras.ops.add(inputs, x)


def drop_path_rates(depths, drop_path_rate: float) -> list:
    """The stochastic-depth rate of every block, from 0 at the first to ``drop_path_rate``
    at the last, evenly spaced (as the paper's code and Keras schedule them).

    Args:
        depths: the blocks of each stage.
        drop_path_rate: the last block's rate.

    Returns:
        One rate per block, in order.
    """
    return [float(rate) for rate in np.linspace(0.0, drop_path_rate, sum(depths))]


def convnext_stages(x, depths, projection_dims, name: str, *, drop_path_rate=0.0,
                    layer_scale_init_value=LAYER_SCALE_INIT):
    """The network between the preprocessing and the head: the patchify stem, then four
    stages of ConvNeXt blocks, each after the first entered through a downsampling layer.
    Blocks are named ``{name}_stage_{i}_block_{j}``, counting from 0.

    Args:
        x: the (preprocessed) images.
        depths: the blocks of each of the four stages.
        projection_dims: the channels of each of the four stages.
        name: the model's name, the prefix of the layer names.
        drop_path_rate: the stochastic-depth rate of the last block (:func:`drop_path_rates`).
        layer_scale_init_value: the layer scales' starting value; ``None`` for none.

    Returns:
        The last stage's feature maps, 32 times smaller than the images on each side.
    """
    rates = iter(drop_path_rates(depths, drop_path_rate))
    x = patchify_stem(x, projection_dims[0], name)
    for stage, (blocks, filters) in enumerate(zip(depths, projection_dims)):
        if stage > 0:
            x = downsampling_block(x, filters, name, stage - 1)
        for block in range(blocks):
            x = convnext_block(x, filters, f"{name}_stage_{stage}_block_{block}",
                               drop_path_rate=next(rates),
                               layer_scale_init_value=layer_scale_init_value)
    return x


def convnext_head(x, name: str, *, include_top, pooling=None, classes=1000,
                  classifier_activation="softmax"):
    """ConvNeXt's end, which differs from the zoo's :func:`~course_utils.zoo.common.head`
    by a LayerNorm: with the classifier, ``{name}_head_gap`` (global average pooling),
    ``{name}_head_layernorm`` and ``{name}_head_dense``; without it, the maps or their
    pooling (``common.head``), then a LayerNorm that Keras leaves unnamed
    (``layer_normalization`` in a fresh session), on the maps or on the pooled vector.

    Args:
        x: the last stage's feature maps.
        name: the model's name, the prefix of the layer names.
        include_top: end with the classifier; ``False`` ends with the normalised features.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: the number of classes of the classifier.
        classifier_activation: the classifier's activation (``None`` for logits).

    Returns:
        The network's output tensor.
    """
    if include_top:
        x = layers.GlobalAveragePooling2D(name=f"{name}_head_gap")(x)
        x = layers.LayerNormalization(epsilon=EPSILON, name=f"{name}_head_layernorm")(x)
        return layers.Dense(classes, activation=classifier_activation,
                            name=f"{name}_head_dense")(x)
    x = head(x, include_top=False, pooling=pooling, classes=classes,
             classifier_activation=classifier_activation, pool_names=KERAS_POOL_NAMES)
    return layers.LayerNormalization(epsilon=EPSILON)(x)


def _check_layout(depths, projection_dims, network):
    """``depths`` and ``projection_dims`` as tuples of four whole numbers, or a ValueError."""
    layout = []
    for argument, given, least, hint in (
            ("depths", depths, 0, "(3, 3, 9, 3) for ConvNeXt-T, (3, 3, 27, 3) for S to XL."),
            ("projection_dims", projection_dims, 1,
             "(96, 192, 384, 768) for ConvNeXt-T and S; each stage doubles the last.")):
        values = tuple(given) if isinstance(given, (list, tuple)) else ()
        _check(len(values) == STAGES
               and all(_is_number(v, whole=True) and v >= least for v in values),
               given, argument, f"four whole numbers (one per stage), each at least {least}",
               hint, network)
        layout.append(tuple(int(v) for v in values))
    return tuple(layout)


def convnext(*, depths=VARIANTS["tiny"].depths, projection_dims=VARIANTS["tiny"].projection_dims,
             drop_path_rate=0.0, layer_scale_init_value=LAYER_SCALE_INIT,
             default_size=DEFAULT_SIZE, include_top=True, include_preprocessing=True,
             input_shape=None, pooling=None, classes=1000, classifier_activation="softmax",
             name=None):
    """ConvNeXt of any depth and width: four stages of ``depths`` blocks with
    ``projection_dims`` channels; with the defaults, ConvNeXt-T.
    ``keras.src.applications.convnext.ConvNeXt`` layer for layer.

    Args:
        depths: the blocks of each of the four stages (:data:`VARIANTS`).
        projection_dims: the channels of each of the four stages.
        drop_path_rate: the stochastic-depth rate of the last block, growing linearly from
            0 at the first (:func:`drop_path_rates`); 0 for none (Keras's variants; the
            paper trains with 0.1 for T up to 0.5 for the larger variants).
        layer_scale_init_value: the layer scales' starting value (1e-6); ``None`` leaves
            the layer scales out.
        default_size: the side of the default input with the classifier.
        include_top: end with global average pooling, LayerNorm and the classifier;
            ``False`` ends with the last stage's maps (or their pooling) and a LayerNorm.
        include_preprocessing: start with ``{name}_prestem_normalization``
            (:func:`preprocessing`), taking pixels in [0, 255]; ``False`` expects the
            images already preprocessed.
        input_shape: ``(height, width, channels)``; default ``default_size`` x
            ``default_size`` x 3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        name: model name and the prefix of every layer name; defaults to ``convnext``.

    Returns:
        The ``keras.Model``.
    """
    network = "convnext" if name is None else name
    _check(isinstance(network, str) and network != "", name, "name", "a non-empty string",
           "every layer name starts with it, e.g. 'convnext_tiny'.")
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, network=network)
    if not isinstance(include_preprocessing, bool):
        raise TypeError(
            f"{network}: include_preprocessing must be True or False; got "
            f"{include_preprocessing!r}. Hint: True takes pixels in [0, 255] and "
            f"standardises them in the model; False expects them standardised.")
    if keras.backend.image_data_format() != "channels_last":
        raise ValueError(
            f"{network}: ConvNeXt needs the channels_last image data format (its pointwise "
            f"Dense layers and LayerNorms work on the last axis); got "
            f"{keras.backend.image_data_format()!r}. Hint: "
            f"keras.backend.set_image_data_format('channels_last').")
    depths, projection_dims = _check_layout(depths, projection_dims, network)
    _check_rate(drop_path_rate, "drop_path_rate", network)
    _check(layer_scale_init_value is None or _is_number(layer_scale_init_value),
           layer_scale_init_value, "layer_scale_init_value", "None or a number",
           "ConvNeXt uses 1e-6; None leaves the layer scales out.", network)
    _check(_is_number(default_size, whole=True) and default_size >= MIN_SIZE, default_size,
           "default_size", f"a whole number of pixels, at least {MIN_SIZE}",
           "224, the side of ImageNet's images.", network)
    shape = check_input_shape(input_shape, default_size=default_size, min_size=MIN_SIZE,
                              include_top=include_top, network=network)
    inputs = keras.Input(shape=shape)
    x = preprocessing(inputs, network) if include_preprocessing else inputs
    x = convnext_stages(x, depths, projection_dims, network, drop_path_rate=drop_path_rate,
                        layer_scale_init_value=layer_scale_init_value)
    x = convnext_head(x, network, include_top=include_top, pooling=pooling, classes=classes,
                      classifier_activation=classifier_activation)
    return keras.Model(inputs, x, name=network)


def _variant(key: str):
    """``convnext_{key}``: :func:`convnext` with :data:`VARIANTS`."""
    depths, projection_dims = VARIANTS[key]

    def build(*, include_top=True, include_preprocessing=True, input_shape=None, pooling=None,
              classes=1000, classifier_activation="softmax", name=None):
        return convnext(depths=depths, projection_dims=projection_dims, include_top=include_top,
                        include_preprocessing=include_preprocessing, input_shape=input_shape,
                        pooling=pooling, classes=classes,
                        classifier_activation=classifier_activation,
                        name=f"convnext_{key}" if name is None else name)

    build.__name__ = build.__qualname__ = f"convnext_{key}"
    build.__module__ = __name__
    build.__doc__ = f"""ConvNeXt-{'XL' if key == 'xlarge' else key[0].upper()} (section 3):
    blocks per stage {depths}, channels {projection_dims}, layer scales starting at 1e-6,
    no stochastic depth; ``keras.applications.{KERAS_NAMES[key]}`` layer for layer.

    Args:
        include_top: end with global average pooling, LayerNorm and the classifier;
            ``False`` ends with the last stage's maps (or their pooling) and a LayerNorm.
        include_preprocessing: take pixels in [0, 255] and standardise 3-channel images
            with ImageNet's statistics in the model; ``False`` expects them standardised.
        input_shape: ``(height, width, channels)``; default 224x224x3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        name: model name and the prefix of every layer name; defaults to Keras's
            ``convnext_{key}``.

    Returns:
        The ``keras.Model``.
    """
    return build


convnext_tiny, convnext_small, convnext_base, convnext_large, convnext_xlarge = (
    _variant(key) for key in VARIANTS)
