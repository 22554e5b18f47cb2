"""Answers to lesson 07's self-checking exercises (batch normalisation), computed with the
course's own layers and builders."""

from __future__ import annotations

from course_utils.exercises import answer


@answer("07.bn_params", hint="per channel: gamma and beta (trained) and the moving mean and "
        "variance (not trained, but counted by count_params)")
def bn_params():
    import keras

    layer = keras.layers.BatchNormalization()
    layer.build((None, 16, 16, 64))
    return layer.count_params()


@answer("07.vgg_bn_extra", hint="four numbers per channel of each of the thirteen "
        "convolutions; the cut-down VGG-16 has a quarter of the paper's channels")
def vgg_bn_extra():
    from course_utils import zoo

    return (zoo.fashion_mnist_version("VGG-16", batch_norm=True).count_params()
            - zoo.fashion_mnist_version("VGG-16").count_params())


@answer("07.steps_to_90", hint="after k steps on batches of mean m, the moving mean is "
        "m (1 - momentum^k) when it starts at zero")
def steps_to_90():
    import numpy as np

    from course_utils.layers import ScratchBatchNorm

    layer = ScratchBatchNorm(momentum=0.99)
    batch = np.full((4, 1), 5.0, dtype="float32")
    layer.build(batch.shape)
    for step in range(1, 2000):
        layer(batch, training=True)
        if float(layer.moving_mean.numpy()[0]) >= 0.9 * 5.0:
            return step
    raise RuntimeError("the moving mean never reached 90% of the batch mean")
