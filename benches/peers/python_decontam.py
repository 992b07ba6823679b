#!/usr/bin/env python3
"""Peers for benches/decontam.rs: decontamination of the same 50,000 prompts in Python.

Two peers, timed on the scan only (building the eval-side index is timed apart):

1. lm-eval's janitor (`lm_eval.decontamination.janitor.Janitor`, pure-Python mode, as installed by
   `pip install lm_eval`; its C++ helper is not on PyPI), with `ngram_n=8` to match the Tülu rule's
   n-gram size. The janitor's own rule: it normalizes text, registers every eval n-gram, and cuts
   the matching n-grams (plus a window) out of each training text.
2. The Tülu 3 rule itself in plain Python, written the way a user would write it: the same
   tokenizer (lowercase, split on ` ,.?!:;()"-`, newline and backslash), an index from each eval
   8-gram to where it occurs, and per training prompt the fraction of each touched eval instance's
   tokens covered by shared 8-grams; contaminated above 0.5. Its counts must match tulu's (the
   Rust bench prints them).

Usage:
    TULU_DECONTAM_CORPUS=/tmp/decontam cargo bench --bench decontam
    python3 -m venv /tmp/lmeval && /tmp/lmeval/bin/pip install --no-deps lm_eval
    /tmp/lmeval/bin/python benches/peers/python_decontam.py /tmp/decontam
"""

import json
import os
import re
import sys
import time
from collections import defaultdict

NGRAM = 8
THRESHOLD = 0.5
SPLIT = re.compile(r'[ ,.?!:;()"\-\n\\]+')


def read(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def tokens(text):
    return [t for t in SPLIT.split(text.lower()) if t]


def tulu_rule(train, evals):
    start = time.perf_counter()
    eval_tokens = [tokens(e) for e in evals]
    index = defaultdict(list)
    for eval_id, toks in enumerate(eval_tokens):
        for i in range(len(toks) - NGRAM + 1):
            index[tuple(toks[i : i + NGRAM])].append((eval_id, i))
    built = time.perf_counter() - start

    start = time.perf_counter()
    contaminating = 0
    contaminated = set()
    for text in train:
        toks = tokens(text)
        covered = defaultdict(set)
        for i in range(len(toks) - NGRAM + 1):
            for eval_id, at in index.get(tuple(toks[i : i + NGRAM]), ()):
                covered[eval_id].update(range(at, at + NGRAM))
        hit = [e for e, c in covered.items() if len(c) / len(eval_tokens[e]) > THRESHOLD]
        if hit:
            contaminating += 1
            contaminated.update(hit)
    scan = time.perf_counter() - start
    return built, scan, contaminating, len(contaminated)


def janitor(train, evals):
    from lm_eval.decontamination.janitor import Janitor

    start = time.perf_counter()
    j = Janitor(ngram_n=NGRAM)
    for e in evals:
        j.register_contaminant_python(e)
    built = time.perf_counter() - start
    start = time.perf_counter()
    changed = 0
    for text in train:
        if j.clean_python(text) != [text]:
            changed += 1
    scan = time.perf_counter() - start
    return built, scan, changed


def main():
    corpus = sys.argv[1]
    train = read(os.path.join(corpus, "train.jsonl"))
    evals = read(os.path.join(corpus, "eval.jsonl"))
    print(f"{len(train)} training prompts, {len(evals)} eval instances")

    built, scan, contaminating, contaminated = tulu_rule(train, evals)
    print(
        f"plain Python, Tülu rule: index {built * 1e3:.0f} ms, scan {scan:.2f} s = "
        f"{len(train) / scan:,.0f} prompts/s; {contaminating} contaminating prompts, "
        f"{contaminated} eval instances contaminated"
    )
    try:
        built, scan, changed = janitor(train, evals)
    except ImportError:
        print("lm-eval is not installed: `pip install --no-deps lm_eval` to time its janitor")
        return
    print(
        f"lm-eval janitor (python mode, {NGRAM}-grams): register {built * 1e3:.0f} ms, clean "
        f"{scan:.2f} s = {len(train) / scan:,.0f} prompts/s; {changed} prompts cut"
    )


if __name__ == "__main__":
    main()
