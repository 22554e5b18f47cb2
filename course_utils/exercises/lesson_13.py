"""Lesson 13 (transfer learning): answers computed with the course's code."""

from __future__ import annotations

from course_utils.exercises import answer


@answer("13.head_params", rtol=0.0, hint="each of the 64 features meets each of the 5 "
        "units, plus one bias per unit")
def _head_params():
    from course_utils import transfer

    model = transfer.add_head(transfer.freeze(transfer.convnet_base(16)), 5)
    return transfer.count_weights(model)["trainable"]


@answer("13.passes_saved", rtol=0.0, hint="through the base, every epoch runs each image "
        "forward once; with the cache, each image runs forward once in all")
def _passes_saved():
    images, epochs = 1_000, 20
    return images * epochs - images


@answer("13.unfrozen_weights", rtol=0.0, hint="conv4 turns 2 x 16 = 32 channels into "
        "4 x 16 = 64 with 3x3 kernels, and its batch norm stays frozen")
def _unfrozen_weights():
    from course_utils import transfer

    base = transfer.convnet_base(16)
    transfer.unfreeze_top(base, 1)
    return transfer.count_weights(base)["trainable"]


@answer("13.batch_norm_weights", rtol=0.0, hint="a batch norm layer holds four numbers per "
        "channel: scale, shift, moving mean and moving variance; the four layers have "
        "16, 32, 32 and 64 channels")
def _batch_norm_weights():
    import numpy as np

    from course_utils import transfer

    base = transfer.convnet_base(16)
    return int(sum(np.prod(w.shape) for layer in base.layers
                   if isinstance(layer, transfer.BATCH_NORM) for w in layer.weights))


@answer("13.one_cycle_start", rtol=1e-5, hint="the cycle starts at max_lr / div_factor")
def _one_cycle_start():
    import keras

    from course_utils.schedules import OneCycle

    return float(keras.ops.convert_to_numpy(OneCycle(1e-3, 100)(0)))
