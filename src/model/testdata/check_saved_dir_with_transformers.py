#!/usr/bin/env python3
"""Loads a directory written by tulu's `save_hf_dir` in transformers and checks it against
smollm2_reference.json: same logits as transformers' own reading of the GGUF, same token ids,
same rendered chat. Manual check (needs torch + transformers; CI has neither).

Usage: save SmolLM2 with `save_hf_dir(&load_gguf(path)?, dir)`, then
    python src/model/testdata/check_saved_dir_with_transformers.py DIR
"""
import json
import os
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def main():
    folder = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    ref = json.load(open(os.path.join(here, "smollm2_reference.json")))
    model = AutoModelForCausalLM.from_pretrained(folder)
    tok = AutoTokenizer.from_pretrained(folder)
    assert type(model).__name__ == "LlamaForCausalLM"
    ids = tok(ref["forward"]["prompt"], add_special_tokens=False, return_tensors="pt").input_ids
    assert ids[0].tolist() == ref["forward"]["prompt_ids"]
    with torch.no_grad():
        logits = model(ids).logits[0, -1]
    for token, want in ref["forward"]["last_position_top10"]:
        assert abs(float(logits[token]) - want) < 1e-3, (token, float(logits[token]), want)
    for case in ref["encodings"]:
        assert tok.encode(case["text"], add_special_tokens=True) == case["ids"], case
    chat = ref["chat"]
    rendered = tok.apply_chat_template(chat["messages"], tokenize=False, add_generation_prompt=True)
    assert rendered == chat["rendered_with_generation_prompt"], rendered
    print("ok: transformers loads the directory and reproduces the reference")


if __name__ == "__main__":
    main()
