#!/usr/bin/env python3
"""Build, train briefly and fully int8-quantise a MobileNetV2 (alpha 0.35, 96x96x3, 10 classes).

The model is the Pex experiments' MobileNetV2-style network (inverted residual blocks with
expansion 6, as in MCUNet and the Pex paper): Keras' own MobileNetV2 with alpha 0.35 at 96x96x3.
A randomly initialised network quantised with random calibration data gives degenerate
quantisation (zero ranges, saturated activations), so the weights come from a short training run
on data that installs offline: scikit-learn's bundled 8x8 digits, upscaled to 96x96 and coloured
with a per-image random tint so the three input channels differ.

TensorFlow is not a dependency of mcusim: run this with an environment that has it, e.g.

    /work/tfenv/bin/python scripts/make_mobilenetv2.py nn/models/mobilenetv2_035_96.tflite

The result uses only operators of the model path (CONV_2D, DEPTHWISE_CONV_2D, PAD, ADD, MEAN,
FULLY_CONNECTED, SOFTMAX; ReLU6 is folded into the convolutions as activation clamps), int8
inputs and outputs, per-channel int8 weights. The script checks that and says so.
"""

from __future__ import annotations

import argparse
import os
import sys

ALLOWED_OPS = {
    "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D",
    "ADD", "RESHAPE", "SOFTMAX", "PAD", "MEAN", "QUANTIZE", "DEQUANTIZE",
}


def digits_96(seed: int):
    """scikit-learn's 1797 digits as 96x96x3 float images in [0, 1] with a random tint."""
    import numpy as np
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    images = digits.images.astype(np.float32) / 16.0  # (n, 8, 8) in [0, 1]
    big = np.kron(images, np.ones((12, 12), dtype=np.float32))  # nearest-neighbour 96x96
    tint = rng.uniform(0.4, 1.0, size=(len(big), 1, 1, 3)).astype(np.float32)
    background = rng.uniform(0.0, 0.3, size=(len(big), 1, 1, 3)).astype(np.float32)
    x = background + big[..., None] * tint
    x += rng.normal(0.0, 0.03, size=x.shape).astype(np.float32)
    x = np.clip(x, 0.0, 1.0) * 2.0 - 1.0  # MobileNetV2's input range [-1, 1]
    return x, digits.target.astype(np.int64)


def build_and_train(epochs: int, seed: int):
    import keras
    import numpy as np

    keras.utils.set_random_seed(seed)
    x, y = digits_96(seed)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    split = int(0.85 * len(x))
    model = keras.applications.MobileNetV2(
        input_shape=(96, 96, 3), alpha=0.35, weights=None, classes=10,
        classifier_activation="softmax",
    )
    # Keras' MobileNetV2 keeps BatchNorm statistics with momentum 0.999, far too slow for a
    # run of a few hundred steps: inference would use almost the initial statistics.
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9
    model.compile(optimizer=keras.optimizers.Adam(2e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:split], y[:split], batch_size=32, epochs=epochs, verbose=2,
              validation_data=(x[split:], y[split:]))
    _, accuracy = model.evaluate(x[split:], y[split:], verbose=0)
    return model, x, (x[split:], y[split:]), accuracy


def quantise(model, calibration) -> bytes:
    import tensorflow as tf

    def representative():
        for image in calibration[:200]:
            yield [image[None, ...]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def int8_accuracy(flatbuffer: bytes, validation) -> float:
    """Top-1 accuracy of the quantised model on the held-out digits (a sanity check)."""
    import numpy as np
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_content=flatbuffer)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    scale, zero = inp["quantization"]
    images, labels = validation
    hits = 0
    for image, label in zip(images, labels, strict=True):
        q = np.clip(np.round(image / scale + zero), -128, 127).astype(np.int8)
        interpreter.set_tensor(inp["index"], q[None, ...])
        interpreter.invoke()
        hits += int(np.argmax(interpreter.get_tensor(out["index"])[0]) == label)
    return hits / len(labels)


def check_ops(flatbuffer: bytes) -> list[str]:
    """Names of the operators the model uses; raise if one is outside the model path's list."""
    import tflite

    model = tflite.Model.GetRootAsModel(flatbuffer, 0)
    names = {v: k for k, v in tflite.BuiltinOperator.__dict__.items() if not k.startswith("_")}
    graph = model.Subgraphs(0)
    used = []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        used.append(names.get(builtin, str(builtin)))
    bad = sorted(set(used) - ALLOWED_OPS)
    if bad:
        raise SystemExit(f"make_mobilenetv2: operators outside the model path: {bad}")
    for index in (graph.Inputs(0), graph.Outputs(0)):
        if graph.Tensors(index).Type() != tflite.TensorType.INT8:
            raise SystemExit("make_mobilenetv2: model input/output is not int8")
    return used


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="path of the .tflite to write")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--force", action="store_true", help="overwrite an existing output")
    args = parser.parse_args(argv)
    if os.path.exists(args.output) and not args.force:
        print(f"make_mobilenetv2: {args.output} exists (use --force to overwrite)", file=sys.stderr)
        return 73
    model, images, validation, accuracy = build_and_train(args.epochs, args.seed)
    flatbuffer = quantise(model, images)
    used = check_ops(flatbuffer)
    accuracy_int8 = int8_accuracy(flatbuffer, validation)
    with open(args.output, "wb") as f:
        f.write(flatbuffer)
    counts = {name: used.count(name) for name in sorted(set(used))}
    print(f"wrote {args.output}: {len(flatbuffer)} bytes, float validation accuracy "
          f"{accuracy:.3f}, int8 {accuracy_int8:.3f}, {len(used)} operators {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
