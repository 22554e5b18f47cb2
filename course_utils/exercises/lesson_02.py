"""Self-checking exercises of lesson 02 (LeNet-5)."""

from __future__ import annotations

from course_utils import arithmetic as ar
from course_utils.exercises import answer

# LeCun et al. 1998, Table I: which S2 maps (0-5) each of the 16 C3 maps reads.
C3_TABLE = [(0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
            (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
            (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5), (0, 1, 2, 3, 4, 5)]


@answer("02.c3_partial_macs", hint="each C3 map has one 5x5 kernel per S2 map it reads and "
        "100 output positions (10x10): six maps read 3 S2 maps, nine read 4, one reads all 6")
def _c3_partial_macs():
    return sum(ar.conv_macs(10, 10, 1, 5, c_in=len(inputs)) for inputs in C3_TABLE)


@answer("02.params_28", rtol=0.0, hint="only C5 changes: without padding S4's maps are 4x4")
def _params_28():
    from course_utils import zoo

    return zoo.lenet5("classic", input_shape=(28, 28, 1)).count_params()


@answer("02.macs_28", rtol=0.01, hint="C1's output is 24x24, C3's 8x8; count the average "
        "pooling's additions too, as layer_table does")
def _macs_28():
    from course_utils import zoo
    from course_utils.inspection import layer_table

    return layer_table(zoo.lenet5("classic", input_shape=(28, 28, 1))).attrs["totals"]["macs"]
