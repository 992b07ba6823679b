#!/usr/bin/env python3
"""Peer for benches/engine.rs: DVC's no-op `dvc repro` (and `dvc status`) on the same DAG.

Usage:
    python3 -m venv /tmp/dvc && /tmp/dvc/bin/pip install dvc
    TULU_BENCH_PROJECT_DIR=/tmp/tulu-bench cargo bench --bench engine   # writes the projects
    PATH=/tmp/dvc/bin:$PATH python3 benches/peers/dvc_noop.py /tmp/tulu-bench/200 /tmp/dvc-200

The DVC project gets one stage per node of the tulu recipe, with the same dependencies: a stage
per `load` (depending on the same data file), per `sample`/`filter`/`mix`/`concat` (depending on
the outputs of the stages it reads), two per `common.trim` call (as the def makes two nodes), and
one for the final export. Each stage's command is a cheap shell pipeline (`cat … | head`), since
a no-op rerun never runs commands: what is measured is how long DVC takes to decide that nothing
changed. Timings are wall-clock over repeated runs, after one run that executes every stage.
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import time

LET = re.compile(r"^let (\w+) = (.*)$")
NAME = re.compile(r"\b(src\d+|n\d+)\b")


def stages_of(recipe_text):
    """(stage name, [dependency paths], output path) for every node of the generated recipe."""
    stages = []
    out_of = {}
    for line in recipe_text.splitlines():
        m = LET.match(line)
        if not m:
            continue
        name, expr = m.groups()
        if expr.startswith("load("):
            data = re.search(r'load\("([^"]+)"', expr).group(1)
            deps = [data]
        else:
            deps = [out_of[n] for n in NAME.findall(expr) if n in out_of and n != name]
        if expr.startswith("common.trim("):
            kept = f"out/{name}.kept.jsonl"
            stages.append((f"{name}_kept", deps, kept))
            deps = [kept]
        if expr.startswith("export("):
            out = "out/final.jsonl"
        else:
            out = f"out/{name}.jsonl"
        stages.append((name, deps, out))
        out_of[name] = out
    return stages


def dvc_yaml(stages):
    lines = ["stages:"]
    for name, deps, out in stages:
        inputs = " ".join(deps)
        lines.append(f"  {name}:")
        lines.append(f"    cmd: cat {inputs} | head -n 40 > {out}")
        lines.append("    deps:")
        lines.extend(f"      - {d}" for d in deps)
        lines.append("    outs:")
        lines.append(f"      - {out}")
    return "\n".join(lines) + "\n"


def timed(cmd, cwd, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def main():
    tulu_project, dvc_project = sys.argv[1], sys.argv[2]
    runs = int(os.environ.get("RUNS", "5"))
    with open(os.path.join(tulu_project, "recipe.tulu")) as f:
        stages = stages_of(f.read())
    shutil.rmtree(dvc_project, ignore_errors=True)
    os.makedirs(os.path.join(dvc_project, "out"))
    shutil.copytree(os.path.join(tulu_project, "data"), os.path.join(dvc_project, "data"))
    with open(os.path.join(dvc_project, "dvc.yaml"), "w") as f:
        f.write(dvc_yaml(stages))
    subprocess.run(["git", "init", "-q"], cwd=dvc_project, check=True)
    subprocess.run(["dvc", "init", "-q"], cwd=dvc_project, check=True)
    subprocess.run(["dvc", "config", "core.analytics", "false"], cwd=dvc_project, check=True)
    start = time.perf_counter()
    subprocess.run(["dvc", "repro", "-q"], cwd=dvc_project, check=True)
    first = time.perf_counter() - start
    print(f"{len(stages)} stages; first `dvc repro` (runs every stage): {first:.1f} s")
    for cmd in (["dvc", "repro", "-q"], ["dvc", "status", "-q"]):
        times = timed(cmd, dvc_project, runs)
        print(
            f"no-op `{' '.join(cmd[:2])}`: median {statistics.median(times):.2f} s, "
            f"min {min(times):.2f} s over {runs} runs"
        )


if __name__ == "__main__":
    main()
