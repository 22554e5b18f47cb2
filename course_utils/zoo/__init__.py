"""The course's canonical network builders.

Every builder uses only ``keras`` and ``keras.ops`` (no ``tf.*``), so the architectures
run on any Keras 3 backend; each returns a functional ``keras.Model`` whose layer names
say where a layer sits. Where ``keras.applications`` has the network (VGG16, VGG19,
InceptionV3, ResNet50/101/152, ResNet50V2, MobileNet, MobileNetV2, MobileNetV3Small, MobileNetV3Large, EfficientNetB0-B7) the builder takes the same main arguments and
builds the same model, layer for layer; the tests prove it.

Every builder keeps one contract (see :mod:`course_utils.zoo.common`): options by keyword
only (``zoo.vgg16(include_top=False, input_shape=(64, 64, 3))``; only the argument that
picks the network may come first, as in ``zoo.resnet_d(50)``), ``keras.applications``'
names and meanings for ``include_top``, ``input_shape``, ``pooling``, ``classes`` and
``classifier_activation``, and a clear error naming the argument for a value that cannot
work.

- :mod:`course_utils.zoo.common`        the argument checks and the head every builder shares
- :mod:`course_utils.zoo.lenet`         LeNet-5 (LeCun et al. 1998)
- :mod:`course_utils.zoo.alexnet`       AlexNet with local response normalisation (2012)
- :mod:`course_utils.zoo.vgg`           VGG-16 and VGG-19 (Simonyan and Zisserman 2014)
- :mod:`course_utils.zoo.nin`           Network in Network (Lin et al. 2013)
- :mod:`course_utils.zoo.googlenet`     GoogLeNet / Inception v1 with auxiliary heads (2014)
- :mod:`course_utils.zoo.inception_v3`  Inception v3 and its factorised modules (2015)
- :mod:`course_utils.zoo.resnet`        ResNet-18 to 152, ResNet-50 v2, ResNet-D (2015-2018)
- :mod:`course_utils.zoo.mobilenet`     MobileNet v1 and its depthwise separable blocks (2017)
- :mod:`course_utils.zoo.mobilenet_v2`  MobileNet v2: inverted residuals, linear bottlenecks (2018)
- :mod:`course_utils.zoo.mobilenet_v3`  MobileNet v3 Small and Large: hard swish, squeeze-and-excite (2019)
- :mod:`course_utils.zoo.efficientnet`  EfficientNet B0 to B7: MBConv blocks, compound scaling (2019)
- :mod:`course_utils.zoo.squeezenet`    SqueezeNet 1.0 and 1.1 and the fire module (2016)
- :mod:`course_utils.zoo.cifar_resnet`  the CIFAR-10 plain, residual and highway nets of ResNet's section 4.2
- :mod:`course_utils.zoo.fashion`       28x28 Fashion-MNIST versions of the classic line
"""

from course_utils.zoo.alexnet import alexnet
from course_utils.zoo.cifar_resnet import cifar_resnet
from course_utils.zoo.efficientnet import (
    efficientnet_b0,
    efficientnet_b1,
    efficientnet_b2,
    efficientnet_b3,
    efficientnet_b4,
    efficientnet_b5,
    efficientnet_b6,
    efficientnet_b7,
)
from course_utils.zoo.fashion import fashion_mnist_version
from course_utils.zoo.googlenet import googlenet
from course_utils.zoo.inception_v3 import inception_v3
from course_utils.zoo.lenet import lenet5
from course_utils.zoo.mobilenet import mobilenet
from course_utils.zoo.mobilenet_v2 import mobilenet_v2
from course_utils.zoo.mobilenet_v3 import mobilenet_v3_large, mobilenet_v3_small
from course_utils.zoo.nin import nin
from course_utils.zoo.resnet import (
    resnet18,
    resnet34,
    resnet50,
    resnet50_v2,
    resnet101,
    resnet152,
    resnet_d,
)
from course_utils.zoo.squeezenet import squeezenet
from course_utils.zoo.vgg import vgg16, vgg19

__all__ = ["alexnet", "cifar_resnet", "efficientnet_b0", "efficientnet_b1", "efficientnet_b2",
           "efficientnet_b3", "efficientnet_b4", "efficientnet_b5", "efficientnet_b6",
           "efficientnet_b7", "fashion_mnist_version", "googlenet", "inception_v3",
           "lenet5", "mobilenet", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small", "nin", "resnet18", "resnet34", "resnet50", "resnet50_v2", "resnet101",
           "resnet152", "resnet_d", "squeezenet", "vgg16", "vgg19"]
