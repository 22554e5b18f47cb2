"""Lesson 14 (data augmentation): answers computed with the course's code."""

from __future__ import annotations

from course_utils.exercises import answer


@answer("14.crop_positions", rtol=0.0, hint="a 28-pixel window fits into 32 pixels at offsets "
        "0 to 4 in each direction, and every crop can also be mirrored")
def _crop_positions():
    import numpy as np

    image = np.arange(32 * 32, dtype="float32").reshape(32, 32)
    crops = {image[top:top + 28, left:left + 28][:, ::step].tobytes()
             for top in range(32) for left in range(32) if top + 28 <= 32 and left + 28 <= 32
             for step in (1, -1)}
    return len(crops)


@answer("14.ensemble_ten_crop_passes", rtol=0.0, hint="every network of the ensemble looks at "
        "every one of the views")
def _ensemble_ten_crop_passes():
    import numpy as np

    from course_utils.augment import ten_crop

    views = ten_crop(np.zeros((1, 32, 32, 1), "float32"), 28)
    return 3 * len(views)


@answer("14.pca_shift", rtol=1e-5, hint="shift = P @ (alpha * lambda ** 0.5), with P the "
        "identity here: each alpha_i times the square root of its eigenvalue")
def _pca_shift():
    import numpy as np

    from course_utils.layers import PCAColorAugmentation

    layer = PCAColorAugmentation(eigenvalues=[0.01, 0.04, 0.09], eigenvectors=np.eye(3))
    alpha = np.array([1.0, -1.0, 2.0])
    shift = layer.eigenvectors @ (alpha * layer.eigenvalues ** layer.eigenvalue_power)
    return tuple(float(s) for s in shift)


@answer("14.pca_pixel_difference", rtol=0.0, hint="the layer draws one shift per image and adds "
        "it to every pixel")
def _pca_pixel_difference():
    import keras
    import numpy as np

    from course_utils.layers import PCAColorAugmentation

    images = np.random.default_rng(0).uniform(size=(4, 8, 8, 3)).astype("float32")
    layer = PCAColorAugmentation(std=0.1, seed=0).adapt(images)
    out = keras.ops.convert_to_numpy(layer(images, training=True))
    before = images[:, 0, 0] - images[:, 5, 3]
    after = out[:, 0, 0] - out[:, 5, 3]
    return round(float(np.abs(after - before).max()), 5)


@answer("14.overlap_epoch_seconds", rtol=0.0, hint="with perfect overlap the slower of the two "
        "sides sets the pace; the faster one waits")
def _overlap_epoch_seconds():
    data_side, training_side = 3.0, 5.0
    return max(data_side, training_side)
