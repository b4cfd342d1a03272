"""PyTorch's side of GenRec's export and TensorBoard files (run where torch, safetensors and tensorboard exist).

Usage: python3 docs/design/pytorch-check.py FIXTURE EXPORT_OFFICIAL_IDS EXPORT_DATA_IDS RUN_DIR

1. EXPORT_OFFICIAL_IDS/model.safetensors (`genrec import official FIXTURE` then `genrec export`, official ids) must
   hold exactly the official state_dict FIXTURE/model.pt: same keys, shapes, dtypes and values, so that the official
   HSTU's load_state_dict(strict=True) takes it as it took its own.
2. EXPORT_DATA_IDS (the import laid out in the data's ids) must hold the same rows under the item keys its
   config.json lists.
3. RUN_DIR/tensorboard must read in TensorBoard's own loader with the values of RUN_DIR/metrics.jsonl.
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

fixture, official_ids, data_ids, run = sys.argv[1:5]
want = torch.load(os.path.join(fixture, "model.pt"), map_location="cpu")
got = load_file(os.path.join(official_ids, "model.safetensors"))
assert sorted(want) == sorted(got), (sorted(want), sorted(got))
for k in want:
    assert want[k].dtype == got[k].dtype and want[k].shape == got[k].shape, (k, want[k].dtype, got[k].dtype)
    assert torch.equal(want[k], got[k]), k
print(f"1. {len(want)} tensors equal to the official state_dict (keys, shapes, dtypes, values)")

laid = load_file(os.path.join(data_ids, "model.safetensors"))
keys = json.load(open(os.path.join(data_ids, "config.json")))["item_keys"]
rows = torch.tensor([0] + [int(k) for k in keys])
table = "_embedding_module._item_emb.weight"
assert torch.equal(laid[table], want[table][rows])
assert all(torch.equal(laid[k], want[k]) for k in want if k != table)
print(f"2. data-id export: {len(keys)} item rows equal the official rows its item_keys name")

acc = EventAccumulator(os.path.join(run, "tensorboard"))
acc.Reload()
epochs = [json.loads(line) for line in open(os.path.join(run, "metrics.jsonl"))]
checked = 0
for e in epochs:
    for tag, value in [("train/loss", e["trainLoss"]), ("train/tokens_per_second", e["tokensPerSecond"])] + (
        [("eval/hr@10", e["metrics"]["hr10"]), ("eval/ndcg@10", e["metrics"]["ndcg10"])] if e.get("metrics") else []
    ):
        (scalar,) = [s for s in acc.Scalars(tag) if s.step == e["epoch"]]
        assert abs(scalar.value - value) <= 1e-6 * max(1.0, abs(value)), (tag, e["epoch"], scalar.value, value)
        checked += 1
print(f"3. TensorBoard read {len(acc.Tags()['scalars'])} scalar tags; {checked} values equal metrics.jsonl")
print("ALL OK")
