#!/usr/bin/env python3
"""Writes the TorchScript fixtures the models module's tests load through DJL.

Two tiny models with the contract io.streamrlhf.models.torchscript expects (vocab 64, d 32,
1 layer, 2 heads, context 16; under 100 KB each):

  policy: forward(tokens int64 (B, T), attention_mask float32 (B, T)) -> (logits (B, T, V), values (B, T))
  reward: forward(tokens int64 (B, T), attention_mask float32 (B, T)) -> (scores (B), pooled (B, D))

and, for fixed inputs, the outputs PyTorch computed (JSON), which the Java tests must reproduce
within 1e-4. Positions count real tokens only (a left-padded row gives the outputs of the same row
without its padding), as our own policy does.

Run (PyTorch 1.13 from Debian, unpacked by ../shared/tools/torch-baseline/setup):
  eval "$(/work/shared/tools/torch-baseline/setup)"
  $TORCH_PYTHON models/scripts/make_torchscript_fixture.py models/src/test/resources/torchscript
"""
import json
import math
import os
import sys
from typing import Tuple

import torch
from torch import nn, Tensor

VOCAB, D_MODEL, HEADS, CONTEXT = 64, 32, 2, 16


class Layer(nn.Module):
    """Pre-norm transformer layer: causal self-attention and a 4x MLP."""

    def __init__(self):
        super().__init__()
        self.heads = HEADS
        self.ln1 = nn.LayerNorm(D_MODEL)
        self.qkv = nn.Linear(D_MODEL, 3 * D_MODEL)
        self.proj = nn.Linear(D_MODEL, D_MODEL)
        self.ln2 = nn.LayerNorm(D_MODEL)
        self.up = nn.Linear(D_MODEL, 4 * D_MODEL)
        self.down = nn.Linear(4 * D_MODEL, D_MODEL)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        b, t, d = x.shape
        hd = d // self.heads
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q = q.view(b, t, self.heads, hd).transpose(1, 2)  # (B, H, T, hd)
        k = k.view(b, t, self.heads, hd).transpose(1, 2)
        v = v.view(b, t, self.heads, hd).transpose(1, 2)
        scores = q @ k.transpose(2, 3) / math.sqrt(hd)  # (B, H, T, T)
        causal = torch.tril(torch.ones(t, t, device=x.device)) > 0.5
        allowed = causal.view(1, 1, t, t) & (mask.view(b, 1, 1, t) > 0.5)
        scores = scores.masked_fill(~allowed, -1e9)
        att = torch.softmax(scores, dim=-1) @ v  # (B, H, T, hd)
        x = x + self.proj(att.transpose(1, 2).reshape(b, t, d))
        return x + self.down(torch.relu(self.up(self.ln2(x))))


class Trunk(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, D_MODEL)
        self.pos = nn.Embedding(CONTEXT, D_MODEL)
        self.layer = Layer()
        self.ln_f = nn.LayerNorm(D_MODEL)

    def forward(self, tokens: Tensor, mask: Tensor) -> Tensor:
        # positions count real tokens only, so left padding does not shift them
        positions = (torch.cumsum(mask, dim=1) - 1).clamp(min=0).long()  # (B, T)
        x = self.tok(tokens) + self.pos(positions)  # (B, T, D)
        return self.ln_f(self.layer(x, mask))


class TinyPolicy(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = Trunk()
        self.lm_head = nn.Linear(D_MODEL, VOCAB)
        self.value_head = nn.Linear(D_MODEL, 1)

    def forward(self, tokens: Tensor, attention_mask: Tensor) -> Tuple[Tensor, Tensor]:
        h = self.trunk(tokens, attention_mask)
        return self.lm_head(h), self.value_head(h).squeeze(-1)


class TinyReward(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = Trunk()
        self.head = nn.Linear(D_MODEL, 1)

    def forward(self, tokens: Tensor, attention_mask: Tensor) -> Tuple[Tensor, Tensor]:
        h = self.trunk(tokens, attention_mask)  # (B, T, D)
        last = (attention_mask.sum(dim=1) - 1).clamp(min=0).long()  # right padding: final real token
        pooled = h[torch.arange(h.shape[0]), last]  # (B, D)
        return self.head(pooled).squeeze(-1), pooled


def main(out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(1234)
    tokens = torch.tensor([[1, 5, 9, 13, 2, 40, 41, 63],
                           [0, 0, 1, 7, 7, 30, 22, 2],
                           [1, 60, 3, 4, 5, 0, 0, 0]], dtype=torch.long)
    left_mask = torch.tensor([[1] * 8, [0, 0] + [1] * 6, [1] * 8], dtype=torch.float32)
    right_mask = torch.tensor([[1] * 8, [1] * 8, [1] * 5 + [0] * 3], dtype=torch.float32)
    record = {"config": {"vocabSize": VOCAB, "contextLength": CONTEXT, "dModel": D_MODEL, "layers": 1,
                         "heads": HEADS},
              "tokens": tokens.tolist()}
    policy = torch.jit.script(TinyPolicy().eval())
    reward = torch.jit.script(TinyReward().eval())
    with torch.no_grad():
        logits, values = policy(tokens, left_mask)
        scores, pooled = reward(tokens, right_mask)
    record["policy"] = {"file": "tiny_policy.pt", "attention_mask": left_mask.tolist(),
                        "logits": logits.tolist(), "values": values.tolist()}
    record["reward"] = {"file": "tiny_reward.pt", "attention_mask": right_mask.tolist(),
                        "scores": scores.tolist(), "pooled": pooled.tolist()}
    policy.save(os.path.join(out_dir, "tiny_policy.pt"))
    reward.save(os.path.join(out_dir, "tiny_reward.pt"))
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump(record, f)
    print(f"wrote tiny_policy.pt, tiny_reward.pt, expected.json to {out_dir} (torch {torch.__version__})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "models/src/test/resources/torchscript")
