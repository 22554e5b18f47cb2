"""Transfer learning, a few lines at a time: the lesson's small network split into a base and a
head, freezing and unfreezing from the top, class subsets, a second domain that needs no
download (rendered digits), and ``keras.applications``' ImageNet bases with a clear message
when their weights cannot be downloaded.

::

    base = transfer.convnet_base(width=16)
    model = transfer.add_head(base, classes=5)          # base runs in inference mode
    transfer.freeze(base)                               # train the head only
    transfer.unfreeze_top(base, 1)                      # then the top convolution too
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from course_utils.arguments import require

BATCH_NORM = (layers.BatchNormalization,)


# --------------------------------------------------------------------------- the network


def convnet_base(width: int = 16, input_shape=(28, 28, 1), name: str = "base",
                 bn_momentum: float = 0.9) -> keras.Model:
    """The lesson's base: four 3x3 convolutions (``width``, ``2 width``, ``2 width``,
    ``4 width`` channels), each followed by batch norm and ReLU, max pooling after the first
    and the third, and global average pooling: ``4 width`` features per image.

    Args:
        width: channels of the first convolution, a positive whole number.
        input_shape: ``(height, width, channels)``.
        name: the model's name.
        bn_momentum: of batch norm's moving averages. 0.9 (PyTorch's default) lets them
            settle within the few hundred steps of a run on a small training set; Keras's
            0.99 needs thousands, and until then inference mode normalises with wrong
            statistics.
    """
    require(isinstance(width, (int, np.integer)) and width >= 1, "convnet_base", "width",
            "a positive whole number of channels", width, "16 gives 64 features per image.")
    inputs = x = keras.Input(input_shape, name="image")
    for block, filters in enumerate((width, 2 * width, 2 * width, 4 * width), start=1):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{block}")(x)
        x = layers.BatchNormalization(momentum=bn_momentum, name=f"bn{block}")(x)
        x = layers.ReLU(name=f"relu{block}")(x)
        if block in (1, 3):
            x = layers.MaxPooling2D(name=f"pool{block}")(x)
    x = layers.GlobalAveragePooling2D(name="features")(x)
    return keras.Model(inputs, x, name=name)


def add_head(base: keras.Model, classes: int, *, base_inference: bool = True,
             name: str = "classifier") -> keras.Model:
    """``base`` followed by a new softmax layer of ``classes`` units (the *head*).

    Args:
        base: a model that outputs one feature vector per image.
        classes: how many classes the head predicts.
        base_inference: call ``base(x, training=False)``, as the Keras transfer-learning
            guide does, marking the base for inference mode; ``False`` lets it follow the
            caller, as when training it from scratch or pretraining it. Mind that Keras 3's
            ``fit`` calls the model with ``training=True``, which a nested model passes on
            to its layers over the recorded ``False`` (keras-team/keras#20285): during
            ``fit``, what keeps batch norm in inference mode is its ``trainable = False``
            (:func:`freeze`, :func:`unfreeze_top`'s ``keep_batch_norm_frozen``).
        name: the model's name.
    """
    require(isinstance(classes, (int, np.integer)) and classes >= 2, "add_head", "classes",
            "a whole number >= 2", classes, "the number of classes of the new task.")
    require(len(base.output_shape) == 2, "add_head", "the base's output",
            "one feature vector per image, shape (None, features)", base.output_shape,
            "end the base with GlobalAveragePooling2D or Flatten.")
    inputs = keras.Input(base.input_shape[1:], name="image")
    features = base(inputs, training=False) if base_inference else base(inputs)
    outputs = layers.Dense(classes, activation="softmax", name="head")(features)
    return keras.Model(inputs, outputs, name=name)


# --------------------------------------------------------------------------- freezing


def freeze(model: keras.Model) -> keras.Model:
    """Make every weight of ``model`` non-trainable (``model.trainable = False``) and return
    it. In Keras 3 a frozen ``BatchNormalization`` also runs in inference mode, whatever
    ``training`` it is called with. Compile the model that uses it again afterwards."""
    model.trainable = False
    return model


def weighted_layers(base: keras.Model) -> list:
    """The layers of ``base`` that hold weights, batch norm left out, bottom to top."""
    return [layer for layer in base.layers
            if layer.weights and not isinstance(layer, BATCH_NORM)]


def unfreeze_top(base: keras.Model, n: int, keep_batch_norm_frozen: bool = True) -> list[str]:
    """Fine-tune from the top: the top ``n`` layers with weights (batch norm not counted)
    become trainable, every layer below stays frozen. Compile again afterwards.

    Args:
        base: the pretrained base.
        n: how many layers with weights to unfreeze, counted from the top; 0 freezes all.
        keep_batch_norm_frozen: keep every batch norm layer frozen (its scale and shift not
            trained, its statistics not updated), so that a small target set cannot
            replace the statistics the base was trained with.

    Returns:
        The names of the layers now trainable, bottom to top.
    """
    candidates = weighted_layers(base)
    require(isinstance(n, (int, np.integer)) and 0 <= n <= len(candidates), "unfreeze_top",
            "n", f"a whole number from 0 to {len(candidates)} (the layers with weights)", n,
            f"the top layers are {[layer.name for layer in candidates[-3:]]}.")
    base.trainable = True
    top, reached = set(map(id, candidates[len(candidates) - n:])), False
    for layer in base.layers:  # in the order they are called: bottom to top
        reached = reached or id(layer) in top
        if isinstance(layer, BATCH_NORM):
            layer.trainable = reached and not keep_batch_norm_frozen
        elif layer.weights:
            layer.trainable = id(layer) in top
    return [layer.name for layer in base.layers if layer.weights and layer.trainable]


def count_weights(model: keras.Model) -> dict:
    """``{"trainable": ..., "frozen": ...}``: the numbers of trainable and non-trainable
    weights of ``model`` (batch norm's moving statistics count as frozen)."""
    def total(variables):
        return int(sum(np.prod(v.shape) for v in variables))

    return {"trainable": total(model.trainable_weights),
            "frozen": total(model.non_trainable_weights)}


# --------------------------------------------------------------------------- data


def take_classes(x, y, classes) -> tuple[np.ndarray, np.ndarray]:
    """The examples of ``classes`` only, relabelled ``0 .. len(classes) - 1`` in the order
    given: ``take_classes(x, y, [5, 6, 7, 8, 9])`` turns label 5 into 0.

    Raises:
        ValueError: a class that no example has.
    """
    x, y = np.asarray(x), np.asarray(y).ravel()
    require(len(x) == len(y), "take_classes", "y", f"one label per example ({len(x)})",
            len(y), "pass the images and labels of one split.")
    missing = sorted(set(classes) - set(np.unique(y).tolist()))
    require(not missing, "take_classes", "classes", f"labels present in y "
            f"({sorted(np.unique(y).tolist())})", list(classes), f"{missing} never occur.")
    keep = np.isin(y, list(classes))
    relabel = {c: i for i, c in enumerate(classes)}
    return x[keep], np.array([relabel[c] for c in y[keep]], dtype="int64")


def per_class(x, y, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` examples of every class, drawn at random with ``seed`` (in a shuffled order).

    Raises:
        ValueError: a class has fewer than ``n`` examples.
    """
    y = np.asarray(y).ravel()
    rng = np.random.default_rng(seed)
    labels, counts = np.unique(y, return_counts=True)
    require(counts.min() >= n, "per_class", "n", f"at most {counts.min()} (the rarest class)",
            n, "use fewer examples per class, or more data.")
    chosen = np.concatenate([rng.choice(np.flatnonzero(y == c), n, replace=False)
                             for c in labels])
    chosen = rng.permutation(chosen)
    return np.asarray(x)[chosen], y[chosen]


def _digit_fonts():
    from pathlib import Path

    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    names = ["DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSans-BoldOblique",
             "DejaVuSansMono", "DejaVuSansMono-Bold", "DejaVuSerif", "DejaVuSerif-Bold",
             "DejaVuSerif-Italic", "DejaVuSerif-BoldItalic", "STIXGeneral", "STIXGeneralBol",
             "STIXGeneralItalic", "STIXGeneralBolIta", "cmr10", "cmss10", "cmtt10", "cmb10"]
    fonts = [folder / f"{name}.ttf" for name in names if (folder / f"{name}.ttf").is_file()]
    if not fonts:
        raise FileNotFoundError(f"rendered_digits: no font found in {folder}; expected "
                                "matplotlib's bundled DejaVu fonts. Hint: reinstall matplotlib.")
    return fonts


def rendered_digits(n: int, seed: int = 0, size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """``n`` printed digits 0-9, white on black like MNIST, as uint8 ``(n, size, size)`` and
    their labels: each drawn in one of matplotlib's bundled fonts, at a random size,
    rotation, stroke, position and with a little noise. Needs no download: a second
    domain, far from clothes, on every machine.

    Args:
        n: how many images; the labels cycle through 0-9, then are shuffled.
        seed: the same seed gives the same images.
        size: the side of the square images.
    """
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    require(isinstance(n, (int, np.integer)) and n >= 1, "rendered_digits", "n",
            "a positive whole number of images", n, "e.g. 2000.")
    rng = np.random.default_rng(seed)
    fonts = _digit_fonts()
    labels = rng.permutation(np.arange(n) % 10)
    canvas = 4 * size
    images = np.empty((n, size, size), "uint8")
    for i, label in enumerate(labels):
        font = ImageFont.truetype(str(fonts[rng.integers(len(fonts))]),
                                  int(canvas * rng.uniform(0.45, 0.7)))
        picture = Image.new("L", (canvas, canvas), 0)
        ImageDraw.Draw(picture).text((canvas / 2, canvas / 2), str(label), fill=255,
                                     font=font, anchor="mm",
                                     stroke_width=int(rng.integers(0, 4)), stroke_fill=255)
        picture = picture.rotate(rng.uniform(-15, 15), resample=Image.BILINEAR)
        box = picture.getbbox() or (0, 0, canvas, canvas)
        picture = picture.crop(box)
        scale = (size * rng.uniform(0.6, 0.8)) / max(picture.size)
        picture = picture.resize((max(1, round(picture.width * scale)),
                                  max(1, round(picture.height * scale))), Image.LANCZOS)
        framed = Image.new("L", (size, size), 0)
        left = int(rng.integers(0, size - picture.width + 1))
        top = int(rng.integers(0, size - picture.height + 1))
        framed.paste(picture, (left, top))
        framed = framed.filter(ImageFilter.GaussianBlur(rng.uniform(0, 0.6)))
        noisy = np.asarray(framed, "float32") + rng.normal(0, 8, (size, size))
        images[i] = np.clip(noisy, 0, 255).astype("uint8")
    return images, labels.astype("int64")


# --------------------------------------------------------------------------- ImageNet bases


class WeightsUnavailableError(OSError):
    """``keras.applications`` could not get the pretrained weights (no network, a blocked
    download, a damaged file in Keras's cache)."""


def imagenet_base(name: str = "MobileNetV2", input_shape=(96, 96, 3), weights="imagenet",
                  **options) -> keras.Model:
    """``keras.applications.<name>`` without its classifier, averaged into one feature
    vector per image (``include_top=False, pooling="avg"``), with ``weights``.

    Args:
        name: a network of ``keras.applications``, e.g. ``"MobileNetV2"``, ``"ResNet50"``.
        input_shape: ``(height, width, 3)``; MobileNetV2's ImageNet weights exist for sides
            96, 128, 160, 192 and 224.
        weights: ``"imagenet"`` (downloaded once into ``~/.keras/models``), ``None``
            (random), or the path of a weights file saved from the same network (a
            ``.weights.h5`` from ``save_weights``, or the ``.h5`` Keras downloads).
        **options: other arguments of the builder, e.g. ``alpha=0.35``.

    Raises:
        ValueError: ``name`` is not in ``keras.applications``.
        WeightsUnavailableError: the weights could not be downloaded or read; the message
            says what happened and what to do.
    """
    builder = getattr(keras.applications, name, None)
    require(callable(builder) and name[:1].isupper(), "imagenet_base", "name",
            "a network of keras.applications", name,
            "e.g. 'MobileNetV2', 'ResNet50', 'EfficientNetB0' (mind the capitals).")
    try:
        return builder(include_top=False, pooling="avg", weights=weights,
                       input_shape=tuple(input_shape), **options)
    except ValueError:
        raise  # a wrong size or option: Keras's own message says which
    except Exception as exc:  # urllib's URLError, HTTPError, OSError, h5py's errors...
        where = ("downloading them from storage.googleapis.com"
                 if weights == "imagenet" else f"reading {weights!r}")
        raise WeightsUnavailableError(
            f"imagenet_base: expected the {weights!r} weights of {name}; got "
            f"{type(exc).__name__} while {where}: {str(exc)[:400]}. Hint: run once on a "
            f"machine online (Colab always is); Keras keeps the file in ~/.keras/models, "
            f"which you can copy to an offline machine.") from exc
