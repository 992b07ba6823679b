#!/usr/bin/env python3
"""Regenerates `../ifbench/emoji_code_points.tsv`: the code points that `emoji.is_emoji` accepts
on their own (the one-character keys of `emoji.EMOJI_DATA`), as inclusive hex ranges, for
IFBench's `format:emoji` checker, which asks `emoji.is_emoji` about single characters.

Reference environment: the `emoji` package from PyPI (`pip install emoji==2.16.0`).

Usage: make_emoji_table.py OUT_TSV
"""
import sys

import emoji


def main():
    code_points = sorted(ord(key) for key in emoji.EMOJI_DATA if len(key) == 1)
    ranges = []
    for c in code_points:
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    with open(sys.argv[1], "w") as f:
        f.write(f"# emoji {emoji.__version__}: single code points of EMOJI_DATA, inclusive ranges\n")
        for start, end in ranges:
            f.write(f"{start:X}\t{end:X}\n")


if __name__ == "__main__":
    main()
