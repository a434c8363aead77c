#!/usr/bin/env python3
"""Train the small LeNet-like CNN bundled in nn/models/ and quantise it to a fully-int8 .tflite.

The data set is scikit-learn's bundled handwritten digits (1797 images of 8x8 pixels, 10
classes), which installs with scikit-learn and needs no download. The images are upscaled to
16x16 (bilinear) so the convolutions have enough MAC positions to be worth approximating, in the
spirit of the CIFAR-10 LeNet of Armeniakos et al. (2024).

TensorFlow is not a dependency of mcusim; this script is only needed to remake the model:

    /work/tfenv/bin/python scripts/train_digits_cnn.py --out nn/models

It writes:
  digits_cnn_int8.tflite  the model (int8 input and output, per-channel conv weights)
  digits_test.npz         the held-out test split: x (int8, N x 16 x 16 x 1, quantised with the
                          model's input scale/zero point) and y (uint8 labels)
  digits_calib.npz        calibration inputs from the training split (x only) for the
                          significance analysis of approximate kernels
  digits_cnn.json         how it was made and the float / int8 test accuracy
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

SEED = 12
SIDE = 16
TEST_FRACTION = 0.4
CALIB_COUNT = 128


def load_digits_upscaled() -> tuple[np.ndarray, np.ndarray]:
    """Digits as float32 in [0, 1], shape (N, 16, 16, 1), and integer labels."""
    import tensorflow as tf
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = digits.images.astype(np.float32)[..., None] / 16.0
    x = tf.image.resize(x, (SIDE, SIDE), method="bilinear").numpy()
    return np.clip(x, 0.0, 1.0).astype(np.float32), digits.target.astype(np.int64)


def build_model(batch_size: int | None = None):
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input((SIDE, SIDE, 1), batch_size=batch_size),
        layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1"),
        layers.MaxPooling2D(2, name="pool1"),
        layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2"),
        layers.MaxPooling2D(2, name="pool2"),
        layers.Flatten(name="flatten"),
        layers.Dense(32, activation="relu", name="fc1"),
        layers.Dense(10, name="fc2"),
        layers.Softmax(name="softmax"),
    ])


def quantise(model, calib: np.ndarray) -> bytes:
    import tensorflow as tf

    def representative():
        for i in range(len(calib)):
            yield [calib[i:i + 1]]

    # The same network with a fixed batch of one, so Flatten becomes one static RESHAPE
    # (no SHAPE / STRIDED_SLICE / PACK for a dynamic batch).
    fixed = build_model(batch_size=1)
    fixed.set_weights(model.get_weights())
    conv = tf.lite.TFLiteConverter.from_keras_model(fixed)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    # Per-tensor FULLY_CONNECTED weights, as TFLite Micro's reference kernels expect; the
    # convolutions keep per-channel weights.
    conv._experimental_disable_per_channel_quantization_for_dense_layers = True
    return conv.convert()


def int8_accuracy(tflite: bytes, xq: np.ndarray, y: np.ndarray) -> float:
    import tensorflow as tf

    interp = tf.lite.Interpreter(
        model_content=tflite,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    hits = 0
    for i in range(len(xq)):
        interp.set_tensor(inp["index"], xq[i:i + 1])
        interp.invoke()
        hits += int(np.argmax(interp.get_tensor(out["index"])[0]) == y[i])
    return hits / len(xq)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("nn/models"))
    ap.add_argument("--epochs", type=int, default=60)
    args = ap.parse_args()

    os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
    import keras
    import tensorflow as tf
    from sklearn.model_selection import train_test_split

    keras.utils.set_random_seed(SEED)
    x, y = load_digits_upscaled()
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=TEST_FRACTION, random_state=SEED, stratify=y)

    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(2e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_tr, y_tr, epochs=args.epochs, batch_size=32, verbose=0,
              validation_split=0.1)
    float_acc = float(model.evaluate(x_te, y_te, verbose=0)[1])

    calib = x_tr[:CALIB_COUNT]
    tflite = quantise(model, x_tr[:256])
    interp = tf.lite.Interpreter(model_content=tflite)
    scale, zp = interp.get_input_details()[0]["quantization"]

    def q(a: np.ndarray) -> np.ndarray:
        return np.clip(np.round(a / scale) + zp, -128, 127).astype(np.int8)

    xq_te, xq_cal = q(x_te), q(calib)
    int8_acc = int8_accuracy(tflite, xq_te, y_te)

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "digits_cnn_int8.tflite").write_bytes(tflite)
    np.savez_compressed(args.out / "digits_test.npz", x=xq_te, y=y_te.astype(np.uint8))
    np.savez_compressed(args.out / "digits_calib.npz", x=xq_cal)
    info = {
        "dataset": "sklearn.datasets.load_digits, bilinear upscale 8x8 -> 16x16, [0, 1]",
        "split": {"test_fraction": TEST_FRACTION, "seed": SEED, "stratified": True,
                  "train": len(x_tr), "test": len(x_te), "calib": CALIB_COUNT},
        "epochs": args.epochs,
        "input_quantization": {"scale": float(scale), "zero_point": int(zp)},
        "float_test_accuracy": float_acc,
        "int8_test_accuracy": int8_acc,
        "tensorflow": tf.__version__,
    }
    (args.out / "digits_cnn.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
