"""Answers of lesson 09 (inside residual networks), computed with the course's own code."""

from __future__ import annotations

from course_utils.exercises import answer

IMAGE, SQUARE = 28, 3  # the position task: a 3x3 square on a 28x28 image


@answer("09.gate_params", rtol=0.0,
        hint="the gate is one 3x3 convolution from the block's input channels to its output "
             "channels, with a bias per output channel")
def _gate_params():
    """Parameters of the gate of conv3_block2 (32 channels in and out) of a highway
    CIFAR net with widths (16, 32, 64)."""
    from course_utils import zoo

    model = zoo.cifar_resnet(14, kind="highway", widths=(16, 32, 64), input_shape=(32, 32, 3))
    return model.get_layer("conv3_block2_gate").count_params()


def _best_pooled_accuracy(window: int, image: int = IMAGE, square: int = SQUARE) -> float:
    """The best accuracy a network of valid convolutions seeing ``window`` x ``window``
    pixels, then global average pooling, can reach on the position task: squares whose
    columns every window that overlaps them sees whole look alike wherever they are (a coin
    toss); the others, near the left or right edge, can be told apart."""
    positions = image - square + 1  # where the square's left column can be
    last_window = image - window  # the left column of the last window
    # the windows that overlap the square start at c - window + 1 ... c + square - 1
    inside = sum(1 for c in range(positions)
                 if c - window + 1 >= 0 and c + square - 1 <= last_window)
    edge = (positions - inside) / positions
    return 0.5 + edge / 2


@answer("09.position_best_three_convs", rtol=0.01,
        hint="three valid 3x3 convolutions see 7x7 windows; count the columns where a 3x3 "
             "square is cut by some window that should see it, on each side")
def _position_best_three_convs():
    """The pooled network's best accuracy with three valid 3x3 convolutions (7x7 windows)."""
    return _best_pooled_accuracy(7)


@answer("09.flops_112", rtol=0.1,
        hint="about 2 x 3 x forward MACs x images x epochs; halving the side divides the "
             "MACs by about four")
def _flops_112():
    """Training FLOPs of ResNet-50 on 112x112x3 ImageNet-1k images for 90 epochs."""
    from course_utils import cost

    return cost.training_flops(cost.resnet50_forward_macs((112, 112, 3)),
                               cost.IMAGENET_1K_TRAIN_IMAGES, cost.RESNET50_EPOCHS)
