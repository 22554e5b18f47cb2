"""Small helpers of lesson 14 (data augmentation): square photos to augment, a grid of
augmented images, AlexNet's ten test-time crops, predictions averaged over views and
networks (test-time augmentation and ensembles), and augmentation on every Keras backend:
random crops and mirrors drawn per image (:func:`random_crop_and_mirror`,
:class:`CropAndMirror`, a ``keras.utils.PyDataset`` for ``fit`` where ``tf.data`` is not
there) and a layer applied batch by batch in training mode (:func:`transformed`)."""

from __future__ import annotations

import keras
import numpy as np


def square_photo(name: str = "astronaut", side: int = 192) -> np.ndarray:
    """A scikit-image sample photo (no download), its centre square resized to ``side``.

    Args:
        name: one of ``course_utils.data.SAMPLE_PHOTOS`` (colour: astronaut, cat, coffee,
            chelsea, rocket).
        side: height and width of the result in pixels.

    Returns:
        float32 array ``(side, side, 3)`` (``(side, side, 1)`` for a grey photo) in [0, 1].
    """
    import skimage.transform

    from course_utils.data import sample_photo

    if not isinstance(side, int) or side < 8:
        raise ValueError(f"square_photo: side is the size in pixels, an int >= 8; got "
                         f"{side!r}. Hint: 192 shows well in a grid.")
    image = sample_photo(name)
    if image.ndim == 2:
        image = image[..., None]
    height, width = image.shape[:2]
    edge = min(height, width)
    top, left = (height - edge) // 2, (width - edge) // 2
    square = image[top:top + edge, left:left + edge]
    return skimage.transform.resize(square, (side, side), anti_aliasing=True).astype("float32")


def ten_crop(images, size: int) -> np.ndarray:
    """AlexNet's ten test-time views (Krizhevsky et al. 2012, section 4.1): the four corner
    crops and the centre crop of side ``size``, then the same five mirrored left to right.

    Args:
        images: a batch shaped ``(N, H, W, C)`` with ``H`` and ``W`` at least ``size``.
        size: the side of the square crops (AlexNet: 224 out of 256; lesson 14: 28 out of
            Fashion-MNIST padded to 32).

    Returns:
        array ``(10, N, size, size, C)``: views 0-4 top-left, top-right, bottom-left,
        bottom-right and centre; views 5-9 the same crops mirrored.
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"ten_crop expects a batch of images shaped (N, H, W, C); got shape "
                         f"{images.shape}. Hint: add the batch axis with images[None] or the "
                         "channel axis with images[..., None].")
    height, width = images.shape[1:3]
    if not isinstance(size, (int, np.integer)) or not 1 <= size <= min(height, width):
        raise ValueError(f"ten_crop: size must be an int from 1 to {min(height, width)} (the "
                         f"images are {height}x{width}); got {size!r}. Hint: pad the images "
                         "first (data.prepare(x, pad=2) makes 28x28 into 32x32).")
    bottom, right = height - size, width - size
    corners = [(0, 0), (0, right), (bottom, 0), (bottom, right), (bottom // 2, right // 2)]
    crops = [images[:, top:top + size, left:left + size] for top, left in corners]
    return np.stack(crops + [crop[:, :, ::-1] for crop in crops])


def predict_averaged(models, views, batch_size: int = 512) -> np.ndarray:
    """Class probabilities averaged over every network and every view of the same images:
    one network and one view is a plain prediction, several views are test-time
    augmentation, several networks an ensemble. It costs ``len(models) * len(views)``
    forward passes per image.

    Args:
        models: a list of trained ``keras.Model`` with softmax outputs (or one model).
        views: a list (or array) of image batches of the same images, each ``(N, H, W, C)``,
            e.g. ``ten_crop(x, 28)`` or ``[x]``.
        batch_size: images per forward call.

    Returns:
        array ``(N, classes)``: the mean of the softmax outputs.
    """
    models = list(models) if isinstance(models, (list, tuple)) else [models]
    views = list(views)
    if not models or not views:
        raise ValueError(f"predict_averaged needs at least one model and one view; got "
                         f"{len(models)} model(s) and {len(views)} view(s). Hint: views of "
                         "untransformed images are [x], not x.")
    sizes = {len(view) for view in views}
    if len(sizes) != 1:
        raise ValueError(f"predict_averaged: every view must hold the same images, so the same "
                         f"number of them; got view sizes {sorted(sizes)}. Hint: build the "
                         "views of one batch, e.g. ten_crop(x_test, 28).")
    total = 0.0
    for model in models:
        for view in views:
            total = total + model.predict(np.asarray(view), batch_size=batch_size, verbose=0)
    return total / (len(models) * len(views))


def augmentation_grid(images, augmentations: dict, size: float = 1.5, seed: int = 0):
    """A grid of pictures: the images in the first row, then one row per augmentation, each
    image augmented on its own (in training mode, so the random layers act). Values are
    clipped to [0, 1] for display only.

    Args:
        images: a batch ``(N, H, W, C)`` in [0, 1], C = 1 or 3.
        augmentations: ``{row title: layer or callable}``; each is called as
            ``layer(image[None], training=True)``.
        size: inches per picture.
        seed: seeds Keras's random draws first, so the grid is the same on every run.

    Returns:
        the matplotlib figure (rows: 1 + len(augmentations); columns: N).
    """
    import keras
    import matplotlib.pyplot as plt

    images = np.asarray(images, dtype="float32")
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"augmentation_grid expects images shaped (N, H, W, 1 or 3); got "
                         f"{images.shape}. Hint: data.prepare(x) gives Fashion-MNIST that "
                         "shape; stack photos with np.stack.")
    if not augmentations:
        raise ValueError("augmentation_grid needs at least one augmentation, as {title: "
                         "layer}; got none. Hint: {'mirror': keras.layers.RandomFlip()}.")
    keras.utils.set_random_seed(seed)
    rows = {"original": None, **augmentations}
    fig, axes = plt.subplots(len(rows), len(images), squeeze=False,
                             figsize=(size * len(images), size * len(rows)))
    for r, (title, layer) in enumerate(rows.items()):
        for c, image in enumerate(images):
            shown = image if layer is None else keras.ops.convert_to_numpy(
                layer(image[None], training=True))[0]
            shown = np.clip(shown, 0, 1)
            ax = axes[r, c]
            ax.imshow(shown[..., 0] if shown.shape[-1] == 1 else shown,
                      cmap="gray" if shown.shape[-1] == 1 else None, vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(title, fontsize=8)
    fig.tight_layout()
    return fig


def _check_batch(who, images):
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"{who} expects a batch of images shaped (N, H, W, C); got shape "
                         f"{images.shape}. Hint: data.prepare(x) adds the channel axis.")
    return images


def random_crop_and_mirror(images, size: int, *, rng) -> np.ndarray:
    """A random ``size`` x ``size`` crop of every image, each at its own place (every whole
    offset equally likely, as ``keras.layers.RandomCrop`` draws them), mirrored left to
    right half the time, each image on its own draw (``RandomFlip("horizontal")``). Keras's
    ``RandomCrop`` called on a batch crops every image of it at one place; this is what
    mapping it over single images in a ``tf.data`` pipeline does, in NumPy.

    Args:
        images: a batch ``(N, H, W, C)`` with ``H`` and ``W`` at least ``size``.
        size: the side of the crops (lesson 14: 28 out of Fashion-MNIST padded to 32).
        rng: a ``numpy.random.Generator``, e.g. ``np.random.default_rng(seed)``.

    Returns:
        array ``(N, size, size, C)``, the images' dtype.
    """
    images = _check_batch("random_crop_and_mirror", images)
    height, width = images.shape[1:3]
    if not isinstance(size, (int, np.integer)) or not 1 <= size <= min(height, width):
        raise ValueError(f"random_crop_and_mirror: size must be an int from 1 to "
                         f"{min(height, width)} (the images are {height}x{width}); got "
                         f"{size!r}. Hint: pad first, data.prepare(x, pad=2).")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"random_crop_and_mirror: rng should be a numpy.random.Generator; "
                         f"got {type(rng).__name__}. Hint: rng=np.random.default_rng(0).")
    n = len(images)
    tops = rng.integers(0, height - size + 1, n)
    lefts = rng.integers(0, width - size + 1, n)
    mirrored = rng.random(n) < 0.5
    steps = np.arange(size)
    columns = lefts[:, None] + np.where(mirrored[:, None], steps[::-1], steps)  # (N, size)
    rows = tops[:, None] + steps
    return images[np.arange(n)[:, None, None], rows[:, :, None], columns[:, None, :]]


class CropAndMirror(keras.utils.PyDataset):
    """Training batches for ``fit`` on any Keras backend: the images shuffled every
    epoch, then each cropped at its own random place and mirrored half the time
    (:func:`random_crop_and_mirror`): a ``tf.data`` pipeline's
    ``shuffle().map(crop and mirror one image).batch()`` without TensorFlow. Every
    batch is a function of the seed, the epoch and its index only.

    Args:
        x: training images ``(N, H, W, C)`` (padded: the crops are smaller).
        y: their labels.
        size: the side of the crops.
        batch_size: images per batch; the last batch holds the rest.
        seed: for the order and the draws.
    """

    def __init__(self, x, y, *, size, batch_size=128, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.x = _check_batch("CropAndMirror", x)
        self.y = np.asarray(y)
        if len(self.x) != len(self.y) or not len(self.x):
            raise ValueError(f"CropAndMirror: x and y should hold the same number (> 0) "
                             f"of images and labels; got {len(self.x)} and {len(self.y)}. "
                             f"Hint: slice them alike, x[:n] and y[:n].")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"CropAndMirror: batch_size should be a positive int; got "
                             f"{batch_size!r}. Hint: batch_size=128.")
        random_crop_and_mirror(self.x[:1], size, rng=np.random.default_rng(0))  # checks
        self.size, self.batch_size, self.seed, self.epoch = size, batch_size, seed, 0

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"CropAndMirror: batch {index} of {len(self)}")
        order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.x))
        chosen = order[index * self.batch_size:(index + 1) * self.batch_size]
        rng = np.random.default_rng([self.seed, self.epoch, index + 1])
        return random_crop_and_mirror(self.x[chosen], self.size, rng=rng), self.y[chosen]

    def on_epoch_end(self):
        self.epoch += 1


def transformed(images, layer, *, batch_size: int = 256) -> np.ndarray:
    """``layer`` applied to ``images`` in training mode (so a random layer draws), batch by
    batch, as NumPy: what ``tf.data.Dataset.from_tensor_slices(images).batch(batch_size)
    .map(lambda x: layer(x, training=True))`` gives, on every backend.

    Args:
        images: a batch ``(N, H, W, C)``.
        layer: a Keras layer or any callable taking ``(batch, training=True)``.
        batch_size: images per call.
    """
    images = _check_batch("transformed", images)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"transformed: batch_size should be a positive int; got "
                         f"{batch_size!r}. Hint: batch_size=256.")
    return np.concatenate([keras.ops.convert_to_numpy(layer(images[i:i + batch_size],
                                                            training=True))
                           for i in range(0, len(images), batch_size)])
