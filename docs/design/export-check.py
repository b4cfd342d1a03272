"""Reads GenRec's safetensors export with nothing but the Python standard library and compares it, byte for byte,
with the official code's tensors in the fixture (tensors/*.npy, float32 C-order; _attn_mask stored there as 0/1).

Usage: python3 docs/design/export-check.py FIXTURE EXPORT_OFFICIAL_IDS
(docs/design/pytorch-check.py makes the same check through torch.load / safetensors.torch, plus TensorBoard.)
"""
import ast
import json
import os
import struct
import sys

fixture, export = sys.argv[1:3]


def npy(path):
    with open(path, "rb") as f:
        assert f.read(6) == b"\x93NUMPY"
        major = f.read(2)[0]
        n = struct.unpack("<H" if major == 1 else "<I", f.read(2 if major == 1 else 4))[0]
        header = ast.literal_eval(f.read(n).decode("latin1"))
        assert header["descr"] == "<f4" and not header["fortran_order"], header
        return list(header["shape"]), f.read()


with open(os.path.join(export, "model.safetensors"), "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    data = f.read()
header.pop("__metadata__", None)
names = sorted(p[: -len(".npy")] for p in os.listdir(os.path.join(fixture, "tensors")))
assert sorted(header) == names, (sorted(header), names)
for name in names:
    shape, raw = npy(os.path.join(fixture, "tensors", name + ".npy"))
    entry = header[name]
    start, end = entry["data_offsets"]
    assert entry["shape"] == shape, (name, entry["shape"], shape)
    if entry["dtype"] == "BOOL":  # the causal-mask buffer: bool in model.pt, 0/1 floats in the .npy
        floats = struct.unpack(f"<{len(raw) // 4}f", raw)
        assert bytes(int(x) for x in floats) == data[start:end], name
    else:
        assert entry["dtype"] == "F32" and data[start:end] == raw, (name, entry["dtype"])
print(f"{len(names)} tensors: names, shapes, dtypes and bytes equal to the official state_dict")
