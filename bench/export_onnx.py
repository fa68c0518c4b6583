"""Builds an ONNX decoder from `vae export-decoder` JSON (the same weights as the bundle).

    python bench/export_onnx.py DECODER.json OUT.onnx

Each layer is MatMul + Add + Relu (Sigmoid on the last), input "z" [batch, latent], output
"pixels" [batch, pixels] — the graph ONNX Runtime Web runs in the benchmark.
"""

import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build(decoder):
    nodes, inits = [], []
    h = "z"
    for i, layer in enumerate(decoder["layers"]):
        w = np.asarray(layer["weight"], dtype=np.float32).reshape(layer["inputs"], layer["outputs"])
        b = np.asarray(layer["bias"], dtype=np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes.append(helper.make_node("MatMul", [h, f"w{i}"], [f"mm{i}"]))
        nodes.append(helper.make_node("Add", [f"mm{i}", f"b{i}"], [f"pre{i}"]))
        act = {"relu": "Relu", "sigmoid": "Sigmoid"}[layer["activation"]]
        out = "pixels" if i == len(decoder["layers"]) - 1 else f"h{i}"
        nodes.append(helper.make_node(act, [f"pre{i}"], [out]))
        h = out
    graph = helper.make_graph(
        nodes,
        f"{decoder['model']}-decoder",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", decoder["latent_dim"]])],
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["batch", decoder["pixels"]])],
        inits,
    )
    # Opset 17 / IR 8: what onnxruntime-web 1.30 runs on both execution providers.
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="vae-explorer")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: python bench/export_onnx.py DECODER.json OUT.onnx")
    with open(sys.argv[1]) as f:
        decoder = json.load(f)
    model = build(decoder)
    onnx.save(model, sys.argv[2])
    print(f"{sys.argv[2]}: {len(decoder['layers'])} layers, opset 17")


if __name__ == "__main__":
    main()
