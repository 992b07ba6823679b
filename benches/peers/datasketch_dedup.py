#!/usr/bin/env python3
"""Peer for benches/dedup.rs: MinHash LSH near-dedup with datasketch on the same corpus.

Usage:
    pip install datasketch
    TULU_DEDUP_CORPUS=/tmp/corpus.jsonl cargo bench --bench dedup   # writes the corpus
    python3 benches/peers/datasketch_dedup.py /tmp/corpus.jsonl

Same settings as tulu's defaults: NFKC + casefold + whitespace-collapsed text, tokens = words
(runs of \\w) and single non-space symbols, word 5-gram shingles (a shorter document is one
shingle), 128 permutations, threshold 0.8 with datasketch's own banding, candidates confirmed by
estimated Jaccard >= 0.8, first document of a group kept. datasketch's MinHash hashes shingles
with SHA-1 and permutes them modulo the Mersenne prime 2^61 - 1; `MinHash.bulk` is its fastest
path (numpy over all shingles of a document). The process is single-threaded, as datasketch is.
"""

import json
import re
import sys
import time
import unicodedata

from datasketch import MinHash, MinHashLSH

NGRAM = 5
NUM_PERM = 128
THRESHOLD = 0.8
TOKEN = re.compile(r"\w+|[^\w\s]")


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = unicodedata.normalize("NFKC", text.casefold())
    return " ".join(text.split())


def shingles(text: str) -> list[bytes]:
    tokens = TOKEN.findall(normalize(text))
    if not tokens:
        return []
    if len(tokens) < NGRAM:
        return [" ".join(tokens).encode()]
    return [" ".join(tokens[i : i + NGRAM]).encode() for i in range(len(tokens) - NGRAM + 1)]


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: datasketch_dedup.py CORPUS.jsonl (one JSON string per line)")
    with open(sys.argv[1], encoding="utf-8") as f:
        docs = [json.loads(line) for line in f]

    start = time.perf_counter()
    shingle_sets = [shingles(d) for d in docs]
    tokenized = time.perf_counter()
    minhashes = MinHash.bulk(shingle_sets, num_perm=NUM_PERM)
    hashed = time.perf_counter()
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    removed = 0
    for i, m in enumerate(minhashes):
        if any(minhashes[c].jaccard(m) >= THRESHOLD for c in lsh.query(m)):
            removed += 1
        else:
            lsh.insert(i, m)
    done = time.perf_counter()

    total = done - start
    print(f"datasketch: {len(docs)} documents, {removed} removed as near-duplicates")
    print(f"  shingling {tokenized - start:.2f} s, MinHash {hashed - tokenized:.2f} s, "
          f"LSH query+insert {done - hashed:.2f} s")
    print(f"  total {total:.2f} s = {len(docs) / total:,.0f} docs/s (bands, rows = {lsh.b}, {lsh.r})")


if __name__ == "__main__":
    main()
