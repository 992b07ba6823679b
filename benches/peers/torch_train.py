#!/usr/bin/env python3
"""Peer for benches/train.rs: the same training step in PyTorch on the CPU.

The same Llama-family model as `src/model/llama.rs` (RMSNorm, rotary embeddings, grouped-query
attention with a causal mask, SwiGLU MLP, optional tied embeddings), the same shapes as the Rust
bench, and the same update: forward, mean next-token cross-entropy, backward, global-norm clipping
to 1.0, AdamW (lr 1e-4, weight decay 0.1). Timings are wall-clock per full update after warm-up;
tokens/s is batch × sequence length over the median step.

Usage (PyTorch from Debian, `apt-get install python3-torch`, or any CPU build from PyPI):
    python3 benches/peers/torch_train.py [--threads 2] [--shape tiny|smollm2|all] [--steps 20]
"""

import argparse
import math
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

SHAPES = {
    # name: (vocab, hidden, ff, layers, heads, kv_heads, tied, seq_len, batch)
    "tiny": (512, 128, 512, 4, 4, 4, False, 128, 8),
    "smollm2": (49_152, 576, 1536, 30, 9, 3, True, 256, 1),
}


class RmsNorm(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotary_tables(seq_len, head_dim, theta=10_000.0):
    inv = 1.0 / theta ** (torch.arange(0, head_dim, 2).float() / head_dim)
    angles = torch.outer(torch.arange(seq_len).float(), inv)
    angles = torch.cat([angles, angles], dim=-1)
    return angles.cos(), angles.sin()


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


class Block(nn.Module):
    def __init__(self, hidden, ff, heads, kv_heads):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, hidden // heads
        self.attn_norm = RmsNorm(hidden)
        self.q = nn.Linear(hidden, heads * self.head_dim, bias=False)
        self.k = nn.Linear(hidden, kv_heads * self.head_dim, bias=False)
        self.v = nn.Linear(hidden, kv_heads * self.head_dim, bias=False)
        self.o = nn.Linear(heads * self.head_dim, hidden, bias=False)
        self.mlp_norm = RmsNorm(hidden)
        self.gate = nn.Linear(hidden, ff, bias=False)
        self.up = nn.Linear(hidden, ff, bias=False)
        self.down = nn.Linear(ff, hidden, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        h = self.attn_norm(x)
        q = self.q(h).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k(h).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v(h).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        repeat = self.heads // self.kv_heads
        if repeat > 1:
            k = k.repeat_interleave(repeat, dim=1)
            v = v.repeat_interleave(repeat, dim=1)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(self.head_dim) + mask
        attn = scores.softmax(-1) @ v
        x = x + self.o(attn.transpose(1, 2).reshape(b, t, -1))
        h = self.mlp_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Llama(nn.Module):
    def __init__(self, vocab, hidden, ff, layers, heads, kv_heads, tied):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.blocks = nn.ModuleList(Block(hidden, ff, heads, kv_heads) for _ in range(layers))
        self.norm = RmsNorm(hidden)
        self.lm_head = nn.Linear(hidden, vocab, bias=False)
        if tied:
            self.lm_head.weight = self.embed.weight
        self.head_dim = hidden // heads

    def forward(self, ids):
        t = ids.shape[1]
        cos, sin = rotary_tables(t, self.head_dim)
        mask = torch.full((t, t), float("-inf")).triu(1)
        x = self.embed(ids)
        for block in self.blocks:
            x = block(x, cos, sin, mask)
        return self.lm_head(self.norm(x))


def measure(name, steps, warmup):
    vocab, hidden, ff, layers, heads, kv_heads, tied, seq_len, batch = SHAPES[name]
    torch.manual_seed(0)
    model = Llama(vocab, hidden, ff, layers, heads, kv_heads, tied)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1)
    windows = torch.randint(0, vocab, (batch, seq_len + 1))
    inputs, targets = windows[:, :-1], windows[:, 1:]

    def step():
        optimizer.zero_grad(set_to_none=True)
        logits = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    tokens = batch * seq_len
    print(
        f"train_step/{name}: median {median * 1e3:.1f} ms "
        f"(min {min(times) * 1e3:.1f} ms) = {tokens / median:,.0f} tok/s "
        f"(best {tokens / min(times):,.0f}) over {steps} steps"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--shape", choices=[*SHAPES, "all"], default="all")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for name in SHAPES if args.shape == "all" else [args.shape]:
        steps = args.steps if name == "tiny" else max(3, args.steps // 4)
        measure(name, steps, args.warmup if name == "tiny" else 1)


if __name__ == "__main__":
    main()
