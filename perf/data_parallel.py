#!/usr/bin/env python3
"""Data parallelism on this machine: 2 replicas of 1 rank against 1 model on 2 ranks.

The quick-start network (phantom-train's default deck, pp), one run after the
other so the ratios come from one state of the machine, each --repeat times
back to back (the medians are quoted):
  P = 2        the model split over 2 ranks (pp), the whole batch
  D = 2 x P=1  2 replicas of the whole model, half the batch each, gradients
               all-reduced in buckets of 4 MiB (parallel.bucket_mb = 4)
               started during the backward pass
  D = 2, one   the same with one bucket (parallel.bucket_mb = 1e6, and the
               default 25 MiB on this 17 MB model): its all-reduce can only
               start after the whole backward pass
The fraction of the data-parallel all-reduce that the bucketed overlap hides is
(step with one bucket - step with buckets) / (the all-reduce's issue + wait
time with one bucket).

  /usr/bin/python3 perf/data_parallel.py [build] [--steps 40] [--repeat 3]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def train(build, ranks, settings, tmp, steps):
    summary = os.path.join(tmp, "summary.json")
    cmd = ["mpiexec", "-n", str(ranks), "--oversubscribe",
           os.path.join(build, "apps", "phantom-train"), "--set", f"train.steps={steps}",
           "--set", f"output.summary={summary}", "--set", "train.log_every=1000"]
    for k, v in settings.items():
        cmd += ["--set", f"{k}={v}"]
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"data_parallel: {' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")
    with open(summary) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build", nargs="?", default="build")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    runs = {"P = 2": {"parallel.data": 1},
            "D = 2 x P = 1, buckets": {"parallel.data": 2, "parallel.bucket_mb": 4},
            "D = 2 x P = 1, one bucket (the default here)": {"parallel.data": 2,
                                                             "parallel.bucket_mb": 1e6}}
    out = {name: [] for name in runs}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for name, settings in runs.items():
                out[name].append(train(args.build, 2, settings, tmp, args.steps))
    med = lambda name, f: statistics.median(f(s) for s in out[name])
    print(f"quick-start network, 2 ranks, {args.steps} steps, median of {args.repeat} runs")
    print("| run | step ms | bytes/rank/step | DP calls | DP issue ms | DP wait ms |")
    print("|---|---|---|---|---|---|")
    for name in runs:
        dp = lambda s, k: s.get("data_parallel", {}).get(k, 0)
        print(f"| {name} | {1e3 * med(name, lambda s: s['step_time_median_s']):.1f} | "
              f"{med(name, lambda s: s['bytes_per_step']):.4g} | "
              f"{med(name, lambda s: dp(s, 'calls_per_step')):.0f} | "
              f"{1e3 * med(name, lambda s: dp(s, 'issue_s_median')):.1f} | "
              f"{1e3 * med(name, lambda s: dp(s, 'wait_s_median')):.1f} |")
    step = lambda name: med(name, lambda s: s["step_time_median_s"])
    one = "D = 2 x P = 1, one bucket (the default here)"
    ar = med(one, lambda s: s["data_parallel"]["issue_s_median"] + s["data_parallel"]["wait_s_median"])
    hidden = (step(one) - step("D = 2 x P = 1, buckets")) / ar
    print(f"ratio (D = 2 x P = 1, one bucket) / (P = 2) step time: {step(one) / step('P = 2'):.3f}")
    print(f"all-reduce hidden by the bucketed overlap: {100 * hidden:.0f}% of {1e3 * ar:.1f} ms")


if __name__ == "__main__":
    main()
