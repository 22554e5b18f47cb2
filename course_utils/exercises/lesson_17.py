"""Lesson 17 (training at scale): answers computed with the course's code."""

from __future__ import annotations

from course_utils.exercises import answer


@answer("17.per_device_batch", rtol=0.0, hint="data parallelism splits the global batch "
        "evenly: Goyal et al. trained with 8,192 images per step on 256 GPUs")
def _per_device_batch():
    import numpy as np

    return len(np.array_split(np.arange(8192), 256)[0])


@answer("17.linear_scaled_rate", rtol=1e-6, hint="the rate is 0.1 for 256 images, and grows "
        "by the same factor as the batch")
def _linear_scaled_rate():
    from course_utils import scale

    return scale.linear_scaled_rate(8192)


@answer("17.float16_smallest", rtol=0.01, hint="below the smallest normal number float16 "
        "still has subnormals: 10 mantissa bits below 2^-14")
def _float16_smallest():
    from course_utils import scale

    return float(scale.float_ranges(("float16",)).loc["float16", "smallest subnormal"])


@answer("17.bfloat16_eps_ratio", rtol=1e-6, hint="eps is 2 to the minus the number of "
        "mantissa bits: 10 for float16, 7 for bfloat16")
def _bfloat16_eps_ratio():
    from course_utils import scale

    table = scale.float_ranges(("float16", "bfloat16"))
    return float(table.loc["bfloat16", "eps"] / table.loc["float16", "eps"])


@answer("17.hours_on_256", rtol=0.01, hint="14 days on one device, 256 devices at 90% of a "
        "linear speed-up: divide by 256 x 0.9, then count hours")
def _hours_on_256():
    from course_utils import cost

    table = cost.scaling_table(cost.images_per_second(14 * cost.SECONDS_PER_DAY))
    return float(table.loc[256, "days"] * 24)


@answer("17.scale_after_overflows", rtol=0.0, hint="each step whose gradients are not finite "
        "is skipped and halves the scale; Keras starts at 2^15")
def _scale_after_overflows():
    import keras
    import numpy as np

    from course_utils.scale import apply_gradients  # optimizer.apply fails here on JAX

    weight = keras.Variable(np.zeros(2, "float32"))
    optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1))
    optimizer.build([weight])
    for _ in range(3):
        apply_gradients(optimizer, [np.array([np.inf, 1.0], "float32")], [weight])
    return float(keras.ops.convert_to_numpy(optimizer.dynamic_scale))
