"""Training throughput (images/s) of ResNet-50 in float32, mixed precision and mixed
precision + XLA, with the ratios to float32: the figures behind lesson 17.

    python benchmarks/throughput.py            # this CPU: 64x64 images, batch 16, 2-3 min
    python benchmarks/throughput.py --smoke    # a small CNN, seconds: what the test runs

On a GPU, the real measurement (goal of issue 14: mixed precision + XLA at least 2.5x the
float32 throughput):

    python benchmarks/throughput.py --image-size 224 --batch-size 128 --steps 10
    KERAS_BACKEND=jax python benchmarks/throughput.py --image-size 224 --batch-size 128 \\
        --steps 10                              # a GPU machine without TensorFlow

Every configuration trains the same network (``keras.applications.ResNet50``, random
weights, SGD, cross-entropy) on the same random images, in this one process, measured by
``course_utils.scale.throughputs``: each configuration's first step (tracing, compiling)
apart, then the configurations timed in turn, ``--repeats`` rounds of one block of
``--steps`` steps each (a change in the machine's load falls on all alike): the median
images/s and the spread (IQR) between blocks. Four configurations: float32 and mixed precision, each without and
with XLA (``jit_compile``). Mixed precision means ``mixed_float16`` on a GPU (tensor
cores) and ``mixed_bfloat16`` on a CPU (``--policy`` to choose).

Without XLA, TensorFlow runs the step as a graph, but JAX runs it op by op (JAX compiles
only with ``jax.jit``, which is what ``jit_compile=True`` is there), so on JAX the goal is
judged against float32 *with* XLA; the JSON says which baseline it used. The results go to
``benchmarks/results/throughput_<device>.json`` with the device named (the GPU, or the
CPU's model and cores), the backend and the versions.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_utils import scale  # noqa: E402

GOAL = 2.5  # mixed precision + XLA against float32, on a GPU (issue 14)
CONFIGS = {"fp32": ("float32", False), "fp32+XLA": ("float32", True),
           "mixed": (None, False), "mixed+XLA": (None, True)}


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", choices=scale.NETWORKS, default="resnet50")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=2, help="steps per timed block")
    parser.add_argument("--repeats", type=int, default=5, help="timed blocks (>= 3)")
    parser.add_argument("--policy", choices=("mixed_float16", "mixed_bfloat16"),
                        help="mixed precision policy (default: float16 on a GPU, else "
                             "bfloat16)")
    parser.add_argument("--json", type=Path, help="where to write the results (default: "
                        "benchmarks/results/throughput_<device>.json)")
    parser.add_argument("--smoke", action="store_true",
                        help="a small CNN on 16x16 images, batch 8: checks that it runs")
    args = parser.parse_args(argv)
    if args.smoke:
        args.network, args.image_size, args.batch_size, args.steps = "timing_cnn", 16, 8, 1
    return args


def slug(device: str) -> str:
    """``"NVIDIA H200"`` -> ``"nvidia_h200"``: the device in a file name."""
    return re.sub(r"[^a-z0-9]+", "_", device.lower()).strip("_")


def ratios(results: dict, baseline: str) -> dict:
    """Each configuration's median images/s divided by ``baseline``'s."""
    base = results[baseline]["images_per_s"]
    return {name: r["images_per_s"] / base for name, r in results.items()}


def main(argv=None) -> int:
    import keras

    args = _arguments(argv)
    device = scale.device_name()
    on_gpu = scale.device_is_gpu()
    policy = args.policy or ("mixed_float16" if on_gpu else "mixed_bfloat16")
    backend = keras.backend.backend()
    print(f"{args.network}, {args.image_size}x{args.image_size}x3 images, batch "
          f"{args.batch_size}, {args.repeats} blocks of {args.steps} steps | {device} | "
          f"Keras {keras.__version__} on {backend}")
    found = scale.throughputs(
        [{"policy": p or policy, "jit_compile": jit} for p, jit in CONFIGS.values()],
        network=args.network, batch_size=args.batch_size,
        input_shape=(args.image_size, args.image_size, 3), classes=10 if args.smoke else 1000,
        steps=args.steps, repeats=args.repeats)
    results = dict(zip(CONFIGS, found))
    for name, r in results.items():
        print(f"  {name:10s} {r['policy']:15s} jit_compile={str(r['jit_compile']):5s} "
              f"{r['images_per_s']:10.1f} images/s (IQR {r['spread']:.1f}; first step "
              f"{r['first_step_s']:.1f} s)")
    baseline = "fp32+XLA" if backend == "jax" else "fp32"
    to_fp32 = ratios(results, "fp32")
    to_baseline = ratios(results, baseline)
    for name in CONFIGS:
        print(f"  {name:10s} {to_fp32[name]:.2f}x fp32" +
              (f", {to_baseline[name]:.2f}x {baseline}" if baseline != "fp32" else ""))
    met = to_baseline["mixed+XLA"] >= GOAL
    if on_gpu:
        verdict = (f"goal {'met' if met else 'NOT met'}: mixed precision + XLA is "
                   f"{to_baseline['mixed+XLA']:.2f}x {baseline} (goal {GOAL}x) on {device}")
    else:
        verdict = (f"no GPU here ({device}): the {GOAL}x goal is a GPU one (tensor cores); "
                   f"run this script on a GPU, see its docstring")
    print(verdict)
    record = {"device": device, "gpu": on_gpu, "backend": backend,
              "keras": keras.__version__, "python": platform.python_version(),
              "network": args.network, "image_size": args.image_size,
              "batch_size": args.batch_size, "steps": args.steps, "repeats": args.repeats,
              "mixed_policy": policy, "results": results, "ratio_to_fp32": to_fp32,
              "goal": {"ratio": GOAL, "baseline": baseline,
                       "mixed_xla_ratio": to_baseline["mixed+XLA"],
                       "met": met if on_gpu else None},
              "verdict": verdict, "smoke": args.smoke}
    path = args.json or ROOT / "benchmarks" / "results" / f"throughput_{slug(device)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n")
    print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
