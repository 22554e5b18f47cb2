"""Small helpers of lesson 14 (data augmentation): square photos to augment, a grid of
augmented images, AlexNet's ten test-time crops, and predictions averaged over views and
networks (test-time augmentation and ensembles)."""

from __future__ import annotations

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
