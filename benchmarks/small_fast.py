"""Small and fast: the size, latency and accuracy table behind lesson 16, in one process.

    python benchmarks/small_fast.py                      # cpu profile, a few minutes
    python benchmarks/small_fast.py --profile smoke      # seconds, what the test runs
    python benchmarks/small_fast.py --json benchmarks/results/small_fast_cpu.json

One trained network (``recipes.fast_model`` at width 48, trained with the fast recipe and
kept in the trained-weights cache under the key the lesson uses, so the two share it) and
its variants, every one measured by ``course_utils.deploy`` exactly as the lesson measures
them: the bytes of the file a device downloads (and gzipped), the median and interquartile
spread of batch-1 CPU calls (same random image, warm-up and repeats; every LiteRT variant
on one thread, Keras on TensorFlow's threads), and the test accuracy on the same images.
The variants: Keras float32; LiteRT float32 (the baseline of every ratio), float16, dynamic-range int8 and full-integer
int8 (a representative set of 100 training images); the network fine-tuned on 20x20
bicubic-downsampled inputs; a narrow network (width 16) trained alone and distilled from the
big one; the big one magnitude-pruned to 80% in its three big convolutions (and then
int8); and channel-pruned (half the filters of its stem and of the first convolution of its
residual block), fine-tuned.

It prints the table with ratios to LiteRT float32, the rows on the Pareto front, and the
goals of issue 14 for int8 against float32 (at least 3.9x smaller, 2x faster, at most 0.5
point of accuracy lost), each met or not, with the same two conversions of a wider,
untrained network (width 128) for the size and speed ratios only. The exit status is 0 when
everything ran: a missed goal is reported, not hidden.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from course_utils import cache, data, deploy, quantise  # noqa: E402
from course_utils.compress import Distiller, MagnitudePruning  # noqa: E402
from course_utils.profiles import setup  # noqa: E402
from course_utils.recipes import fast_model  # noqa: E402

WIDTH, NARROW, SIDE, WIDE = 48, 16, 20, 128


def _budget(P) -> dict:
    """The lesson's sizes for profile ``P`` (the same picks as its notebook)."""
    return {"n_train": P.pick(smoke=256, cpu=30_000, gpu=None),
            "n_test": P.pick(smoke=200, cpu=None, gpu=None),
            "epochs": P.pick(smoke=1, cpu=3, gpu=8),
            "finetune_epochs": P.pick(smoke=1, cpu=1, gpu=2),
            "repeats": P.pick(smoke=20, cpu=200, gpu=200),
            "wide": P.pick(smoke=64, cpu=WIDE, gpu=WIDE)}


def _variants(P, b, x, y, x_test, y_test, log):
    """Every row of the table, in the lesson's order."""
    fit = {"run_eagerly": P.run_eagerly}
    recipe = {"width": WIDTH, "epochs": b["epochs"], "n_train": b["n_train"], "max_lr": 5e-3}
    teacher = cache.trained(
        f"16-fashion-fast-w{WIDTH}", lambda: fast_model(WIDTH),
        lambda m: deploy.fit_recipe(m, x, y, epochs=b["epochs"], **fit), recipe=recipe)
    lite = {"repeats": b["repeats"]}
    rep = x[:100]

    def litert(name, model, images=x_test, mode="float32"):
        log(f"measuring {name}")
        flatbuffer = quantise.to_litert(model, mode, representative=rep)
        return deploy.measure_litert(name, flatbuffer, images, y_test, **lite)

    rows = [deploy.measure_keras("Keras float32", teacher, x_test, y_test, **lite),
            litert("LiteRT float32", teacher)]
    small = deploy.at_input_size(teacher, SIDE)
    deploy.fit_recipe(small, deploy.downsample(x, SIDE), y, epochs=b["finetune_epochs"],
                      max_lr=5e-4, **fit)
    rows.append(litert(f"{SIDE}x{SIDE} input", small, deploy.downsample(x_test, SIDE)))
    keras.utils.set_random_seed(0)
    narrow = deploy.fit_recipe(fast_model(NARROW), x, y, epochs=b["epochs"],
                               label_smoothing=0.0, **fit)
    rows.append(litert(f"narrow (width {NARROW})", narrow))
    for mode, name in (("float16", "LiteRT float16"), ("dynamic", "LiteRT dynamic int8"),
                       ("int8", "LiteRT int8")):
        rows.append(litert(name, teacher, mode=mode))
    pruned = deploy.copy_model(teacher)
    steps = b["finetune_epochs"] * int(np.ceil(len(x) / 256))
    pruning = MagnitudePruning(0.8, 0, max(1, int(0.7 * steps)), frequency=max(1, steps // 20),
                               layers=["layer1_conv", "res_a_conv", "res_b_conv"])
    deploy.fit_recipe(pruned, x, y, epochs=b["finetune_epochs"], max_lr=5e-4,
                      callbacks=[pruning], **fit)
    rows += [litert("magnitude-pruned 80%", pruned),
             litert("pruned 80% + int8", pruned, mode="int8")]
    slim = deploy.slim_conv(deploy.slim_conv(teacher, "stem_conv", WIDTH // 2), "res_a_conv",
                            WIDTH)
    deploy.fit_recipe(slim, x, y, epochs=b["finetune_epochs"], max_lr=5e-4, **fit)
    rows.append(litert("channel-pruned", slim))
    keras.utils.set_random_seed(0)
    student = fast_model(NARROW)
    deploy.fit_recipe(Distiller(deploy.logits_model(student), deploy.logits_model(teacher),
                                alpha=0.1, temperature=3.0), x, y, epochs=b["epochs"], **fit)
    rows.append(litert("narrow, distilled", student))
    return teacher, rows


def _wide_ratios(width, x, repeats):
    """Size and speed ratios of float32 to int8 for an untrained network of ``width``."""
    model = fast_model(width)
    f32, i8 = (quantise.to_litert(model, m, representative=x[:100]) for m in ("float32", "int8"))
    return {"width": width, "x smaller": len(f32) / len(i8),
            "x faster": deploy.litert_latency(f32, repeats=repeats).median_ms
            / deploy.litert_latency(i8, repeats=repeats).median_ms}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="cpu", choices=["smoke", "cpu", "gpu"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, help="write the table and goals here")
    args = parser.parse_args(argv)

    import pandas as pd
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    P = setup(args.seed, profile=args.profile)
    b = _budget(P)
    started = time.perf_counter()

    def log(message):
        print(f"[{time.perf_counter() - started:6.0f} s] {message}", flush=True)

    (x_all, y_all), (x_test_all, y_test_all) = data.load_fashion_mnist()
    x, y = data.prepare(x_all[:b["n_train"]]), y_all[:b["n_train"]]
    x_test, y_test = data.prepare(x_test_all[:b["n_test"]]), y_test_all[:b["n_test"]]
    teacher, rows = _variants(P, b, x, y, x_test, y_test, log)
    results = deploy.table(rows, baseline="LiteRT float32")
    results["on the Pareto front"] = deploy.pareto_front(results)
    checks = deploy.goals(results, "LiteRT int8")
    wide = _wide_ratios(b["wide"], x, b["repeats"])

    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(f"\nProfile {P.name}, LiteRT on 1 thread (Keras on {deploy.cpu_threads()}), "
              f"ratios to LiteRT float32:")
        print(results.drop(columns="runtime").round(3).to_string())
    for goal in checks:
        print(f"int8 {goal.goal}: {goal.measured:.2f} (goal {goal.target:g}): "
              f"{'met' if goal.met else 'NOT met'}")
    print(f"width {wide['width']} (untrained), float32 -> int8: {wide['x smaller']:.2f}x smaller, "
          f"{wide['x faster']:.2f}x faster")
    print(f"wall time {time.perf_counter() - started:.0f} s")

    if args.json:
        figures = {
            "profile": P.name, "seed": args.seed, "date": time.strftime("%Y-%m-%d"),
            "machine": f"{os.cpu_count()} cores, {platform.machine()}",
            "litert_threads": 1, "keras_threads": deploy.cpu_threads(),
            "parameters": teacher.count_params(),
            "baseline": "LiteRT float32",
            "rows": {name: {k: (v.item() if hasattr(v, "item") else v)
                            for k, v in row.items()} for name, row in results.iterrows()},
            "goals": [g._asdict() for g in checks], "wide": wide,
            "wall_s": time.perf_counter() - started}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
