#!/usr/bin/env python3
"""Writes smollm2_reference.json: what independent implementations read from the SmolLM2 GGUF.

The Rust tests in src/model/ compare tulu's GGUF loader, tokenizer and chat template against
these numbers. Two references are used:
  - `gguf` (llama.cpp's own Python reader and dequantizer) for the tensors as stored in the file,
    still in llama.cpp's permuted Q/K row order;
  - `transformers` (its GGUF integration: dequantizes, undoes the Q/K permutation, builds the
    tokenizer from the metadata, renders the chat template) for Hugging Face-layout tensors,
    token ids, the rendered chat, and the logits of a forward pass.

Usage (needs the asset from scripts/fetch-assets):
    python -m venv /tmp/ref && /tmp/ref/bin/pip install gguf numpy torch transformers accelerate
    /tmp/ref/bin/python src/model/testdata/make_smollm2_reference.py GGUF_PATH > src/model/testdata/smollm2_reference.json
"""
import json
import os
import sys

import numpy as np

GGUF_TENSORS = [
    "token_embd.weight",  # Q8_0
    "blk.0.attn_q.weight",  # Q4_1, permuted rows
    "blk.0.attn_k.weight",  # Q4_1, permuted rows (3 kv heads)
    "blk.3.ffn_down.weight",  # Q4_1
    "blk.29.ffn_norm.weight",  # F32
    "output_norm.weight",  # F32
]
HF_TENSORS = [
    "model.layers.0.self_attn.q_proj.weight",
    "model.layers.0.self_attn.k_proj.weight",
    "model.layers.17.self_attn.k_proj.weight",
    "model.layers.17.self_attn.v_proj.weight",
    "model.embed_tokens.weight",
]
TEXTS = [
    "Hello world",
    "The capital of France is Paris.",
    "  leading spaces and 12345 digits",
    "<|im_start|>user\nHi<|im_end|>\n",
    "héllo wörld 日本語 🎉",
    "def f(x):\n\treturn x**2  # square\n\n\n",
    "It's 3.14159, isn't it? I'll see; we'd know.",
]
CHAT = [
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": "2+2 = 4."},
    {"role": "user", "content": "And 3+3?"},
]
CHAT_WITH_SYSTEM = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Name a colour."},
]
PROMPT = "The capital of France is"


def stats(array):
    flat = np.asarray(array, dtype=np.float64).reshape(-1)
    n = flat.size
    picks = sorted({0, 1, 7, n // 3, n // 2, (2 * n) // 3, n - 2, n - 1})
    return {
        "shape": list(array.shape),
        "sum": float(flat.sum()),
        "sum_sq": float((flat * flat).sum()),
        "samples": [[i, float(flat[i])] for i in picks],
    }


def main():
    path = sys.argv[1]
    import gguf

    reader = gguf.GGUFReader(path)
    by_name = {t.name: t for t in reader.tensors}
    stored = {}
    for name in GGUF_TENSORS:
        t = by_name[name]
        values = gguf.quants.dequantize(t.data, t.tensor_type)
        stored[name] = {"ggml_type": t.tensor_type.name, **stats(values)}

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, file = os.path.split(path)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=file)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=file, torch_dtype=torch.float32)
    state = model.state_dict()
    hf = {name: stats(state[name].numpy()) for name in HF_TENSORS}

    with torch.no_grad():
        ids = tok(PROMPT, return_tensors="pt", add_special_tokens=False).input_ids
        logits = model(ids).logits[0, -1].double().numpy()
    top = np.argsort(-logits)[:10]

    out = {
        "generated_by": "src/model/testdata/make_smollm2_reference.py",
        "gguf_tensors": stored,
        "hf_tensors": hf,
        "encodings": [{"text": t, "ids": tok.encode(t, add_special_tokens=True)} for t in TEXTS],
        "chat": {
            "messages": CHAT,
            "rendered_with_generation_prompt": tok.apply_chat_template(
                CHAT, tokenize=False, add_generation_prompt=True
            ),
        },
        "chat_with_system": {
            "messages": CHAT_WITH_SYSTEM,
            "rendered": tok.apply_chat_template(CHAT_WITH_SYSTEM, tokenize=False),
        },
        "forward": {
            "prompt": PROMPT,
            "prompt_ids": ids[0].tolist(),
            "last_position_top10": [[int(i), float(logits[i])] for i in top],
            "last_position_logit_sum": float(logits.sum()),
        },
    }
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
