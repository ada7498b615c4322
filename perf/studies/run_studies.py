#!/usr/bin/python3
"""Phantom's studies (issue 9): runs phantom-train and phantom-cost, writes one
CSV and one PNG per study under docs/results/ and regenerates docs/results.md.

    bash scripts/install-deps.sh --studies        # python3-matplotlib, python3-sklearn
    cmake --build build -j2 --target phantom-train phantom-cost phantom-plan
    /usr/bin/python3 perf/studies/run_studies.py [--build build] [--only NAME,...] [--quick]

Studies: model (cost model vs measurement, p = 1, 2, widths 1024-4096),
strong (width 2048, p = 1, 2, 4), weak (width 1024 p), ghosts (k sweep),
energy (pp vs tp energy per step), loss (a smaller pp model against a larger tp
model to the same loss, with held-out loss), digits (the same on scikit-learn's
handwritten digits: held-out loss and accuracy), compression (tp and megatron with compressed messages
beside pp), projection (8..256 H100 / MI250X GCDs from the cost model),
projection_dp (64..1024 GPUs as D replicas x 8 model-parallel GPUs), planner
(phantom-plan's predicted savings on 8..256 H100s). docs/results/discussion.md
(hand-written) heads docs/results.md; docs/results/backends.md,
data_parallel.md, checkpoint_write.md and speed.md (hand-written) close it.
Measured rows say where they ran; projected rows say which profile. Runs with
more ranks than cores are marked oversubscribed: their times are not speeds.
"""
import argparse
import atexit
import csv
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "docs", "results")
CORES = os.cpu_count() or 1

# The SPEC's speed-target network; studies vary width, ranks, k.
BASE = {"model.input_dim": 64, "model.depth": 4, "model.output_dim": 16, "model.ghost": 16,
        "model.activation": "relu", "train.batch": 256, "train.optimizer": "adam",
        "train.learning_rate": 1e-3, "data.samples": 16384, "train.log_every": 1000}


def mpi_env():
    env = dict(os.environ)
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1")
    return env


def sets(settings):
    args = []
    for k, v in settings.items():  # TOML values: strings quoted, booleans lower case
        args += ["--set", f"{k}={json.dumps(v) if isinstance(v, (str, bool)) else v}"]
    return args


class Runner:
    def __init__(self, build, quick):
        self.train = os.path.join(build, "apps", "phantom-train")
        self.cost = os.path.join(build, "apps", "phantom-cost")
        for exe in (self.train, self.cost):
            if not os.access(exe, os.X_OK):
                sys.exit(f"run_studies: {exe} not found; build it first:\n"
                         f"  cmake --build {build} -j2 --target phantom-train phantom-cost")
        self.quick = quick
        self.tmp = tempfile.mkdtemp(prefix="phantom-studies-")
        atexit.register(shutil.rmtree, self.tmp, True)
        self.profiles = {}

    def profile(self, ranks):
        """The this-cpu profile calibrated with `ranks` ranks busy (cached)."""
        ranks = min(ranks, CORES)
        if ranks not in self.profiles:
            path = os.path.join(OUT, f"this-cpu-{ranks}ranks.toml")
            subprocess.run(["mpiexec", "-n", str(ranks), self.cost, "--calibrate", path],
                           check=True, env=mpi_env(), stdout=subprocess.DEVNULL)
            self.profiles[ranks] = path
        return self.profiles[ranks]

    def train_run(self, ranks, settings, steps, metrics=False):
        """Runs phantom-train; returns its JSON summary (+ per-step losses)."""
        s = dict(BASE)
        s.update(settings)
        s["train.steps"] = self.steps(steps)
        summary = os.path.join(self.tmp, "summary.json")
        s["output.summary"] = summary
        if metrics:
            s["output.metrics"] = os.path.join(self.tmp, "metrics.csv")
            s["train.log_every"] = 1
            if os.path.exists(s["output.metrics"]):
                os.remove(s["output.metrics"])
        cmd = ["mpiexec", "-n", str(ranks), self.train] + sets(s)
        print("  $", " ".join(cmd[:4]), " ".join(a for a in sets(settings) if a != "--set"),
              flush=True)
        subprocess.run(cmd, check=True, env=mpi_env(), stdout=subprocess.DEVNULL)
        with open(summary) as f:
            out = json.load(f)
        if metrics:
            with open(s["output.metrics"]) as f:
                rows = list(csv.DictReader(f))
            out["losses"] = [float(r["loss"]) for r in rows]
            out["times"] = [float(r["step_time_s"]) for r in rows]
            out["validation"] = [(int(r["step"]), float(r["validation_loss"])) for r in rows
                                 if r.get("validation_loss")]
        return out

    def steps(self, steps):
        return steps if not self.quick else max(3, steps // 10)

    def infer(self, ranks, settings, checkpoint, predictions):
        """phantom-train --infer: its JSON summary; the outputs go to `predictions`."""
        s = dict(BASE)
        s.update(settings)
        s["output.summary"] = os.path.join(self.tmp, "infer.json")
        s["output.predictions"] = predictions
        cmd = ["mpiexec", "-n", str(ranks), self.train, "--infer", checkpoint] + sets(s)
        print("  $", " ".join(cmd[:6]), flush=True)
        subprocess.run(cmd, check=True, env=mpi_env(), stdout=subprocess.DEVNULL)
        with open(s["output.summary"]) as f:
            return json.load(f)

    def predict(self, ranks, settings, profile, strategies=None, extra=()):
        s = dict(BASE)
        s.update(settings)
        path = os.path.join(self.tmp, "cost.csv")
        cmd = [self.cost, "--ranks", ",".join(str(r) for r in ranks), "--profile", profile,
               "--csv", path] + sets(s) + list(extra)
        if strategies:
            cmd += ["--strategies", ",".join(strategies)]
        subprocess.run(cmd, check=True, env=mpi_env(), stdout=subprocess.DEVNULL)
        with open(path) as f:
            return list(csv.DictReader(f))


    def plan(self, settings, profile, extra=()):
        """phantom-plan's CSV rows (modelled) for BASE + settings on `profile`."""
        exe = os.path.join(os.path.dirname(self.cost), "phantom-plan")
        path = os.path.join(self.tmp, "plan.csv")
        subprocess.run([exe, "--profile", profile, "--csv", path] + sets({**BASE, **settings})
                       + list(extra), check=True, stdout=subprocess.DEVNULL)
        with open(path) as f:
            return list(csv.DictReader(f))


def where():
    cpu = platform.processor() or "cpu"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()}: {cpu}, {CORES} cores, {datetime.date.today()}"


def write_csv(name, rows):
    path = os.path.join(OUT, name + ".csv")
    with open(path + ".tmp", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    os.replace(path + ".tmp", path)
    return path


def plot(name, draw):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    draw(ax)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(OUT, name + ".png"), dpi=110)
    plt.close(fig)


def table(rows, columns):
    head = "| " + " | ".join(c for c, _ in columns) + " |\n|" + "---|" * len(columns) + "\n"
    body = ""
    for r in rows:
        body += "| " + " | ".join(fmt(r) for _, fmt in columns) + " |\n"
    return head + body


def ms(x):
    return f"{1e3 * float(x):.1f}"


def mj(x):
    return f"{1e3 * float(x):.1f}"


# --- studies --------------------------------------------------------------------
# Each returns a markdown section; rows are also written as CSV and drawn as PNG.

MEASURED_CACHE = {}


def measured(run, ranks, strategy, width, steps, ghost=16):
    key = (ranks, strategy, width, ghost)
    if key not in MEASURED_CACHE:
        MEASURED_CACHE[key] = run.train_run(
            ranks, {"model.strategy": strategy, "model.width": width, "model.ghost": ghost}, steps)
    return MEASURED_CACHE[key]


STEPS = {1024: 30, 2048: 15, 4096: 8}


def study_model(run):
    rows = []
    for width in (1024, 2048, 4096):
        for ranks, strategies in ((1, ["dense"]), (2, ["pp", "tp", "megatron"])):
            profile = run.profile(ranks)
            for strategy in strategies:
                m = measured(run, ranks, strategy, width, STEPS[width])
                p = run.predict([ranks], {"model.width": width}, profile, [strategy])[0]
                rows.append({"width": width, "ranks": ranks, "strategy": strategy,
                             "measured_step_s": m["step_time_median_s"],
                             "predicted_step_s": float(p["step_s"]),
                             "predicted_gemm_s": float(p["gemm_s"]),
                             "predicted_memory_s": float(p["memory_s"]),
                             "predicted_comm_s": float(p["comm_s"]),
                             "error": float(p["step_s"]) / m["step_time_median_s"] - 1,
                             "flops_equal": float(p["flops_per_step"]) == m["flops_per_step"],
                             "bytes_equal": float(p["bytes_per_step"]) == m["bytes_per_step"]})
    write_csv("model_vs_measured", rows)

    def draw(ax):
        xs = range(len(rows))
        ax.bar([x - 0.2 for x in xs], [1e3 * r["measured_step_s"] for r in rows], 0.4,
               label="measured")
        ax.bar([x + 0.2 for x in xs], [1e3 * r["predicted_step_s"] for r in rows], 0.4,
               label="cost model (calibrated this-cpu)")
        ax.set_xticks(list(xs))
        ax.set_xticklabels([f"{r['strategy']}\nn={r['width']}\np={r['ranks']}" for r in rows],
                           fontsize=6)
        ax.set_yscale("log")
        ax.set_ylabel("step time (ms)")
        ax.set_title("Cost model against measurement")
    plot("model_vs_measured", draw)
    worst = max(abs(r["error"]) for r in rows)
    return ("## Cost model against measurement\n\n"
            f"Measured on {where()}; predicted with the profile `phantom-cost --calibrate` "
            "measured with the same rank count (docs/results/this-cpu-*ranks.toml). Batch 256, "
            "depth 4, input 64, output 16, k = 16, Adam, float. "
            f"Largest error: {100 * worst:.1f}% (target: within 25%). FLOPs and bytes per step "
            "of phantom-cost equal phantom-train's in every row: "
            f"{all(r['flops_equal'] and r['bytes_equal'] for r in rows)}.\n\n"
            + table(rows, [("width", lambda r: str(r["width"])), ("p", lambda r: str(r["ranks"])),
                           ("strategy", lambda r: r["strategy"]),
                           ("measured ms", lambda r: ms(r["measured_step_s"])),
                           ("predicted ms", lambda r: ms(r["predicted_step_s"])),
                           ("of which GEMM / memory / comm ms",
                            lambda r: f"{ms(r['predicted_gemm_s'])} / {ms(r['predicted_memory_s'])}"
                                      f" / {ms(r['predicted_comm_s'])}"),
                           ("error", lambda r: f"{100 * r['error']:+.1f}%")])
            + "\n![cost model vs measured](results/model_vs_measured.png)\n")


def scaling_rows(run, name, points):
    rows = []
    for ranks, width in points:
        profile = run.profile(ranks)
        for strategy in (["dense"] if ranks == 1 else ["pp", "tp"]):
            m = measured(run, ranks, strategy, width, STEPS[width])
            p = run.predict([ranks], {"model.width": width}, profile, [strategy])[0]
            rows.append({"study": name, "ranks": ranks, "width": width, "strategy": strategy,
                         "measured_step_s": m["step_time_median_s"],
                         "predicted_step_s": float(p["step_s"]),
                         "bytes_per_step": m["bytes_per_step"],
                         "flops_per_step": m["flops_per_step"],
                         "energy_per_step_j": m["energy_per_step_j"],
                         "energy_source": m["energy_source"],
                         "oversubscribed": ranks > CORES})
    return rows


def scaling_section(title, name, rows, explain):
    write_csv(name, rows)

    def draw(ax):
        for strategy in ("pp", "tp"):
            sel = [r for r in rows if r["strategy"] in (strategy, "dense")]
            ax.plot([r["ranks"] for r in sel], [1e3 * r["measured_step_s"] for r in sel], "o-",
                    label=f"{strategy} measured")
            ax.plot([r["ranks"] for r in sel], [1e3 * r["predicted_step_s"] for r in sel], "x--",
                    label=f"{strategy} cost model")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("ranks (p = 1 is the dense network)")
        ax.set_ylabel("step time (ms)")
        ax.set_title(title)
    plot(name, draw)
    return (f"## {title}\n\n{explain} Measured on {where()}. Rows marked * ran more ranks than "
            "the machine has cores: their times measure time-sharing, not speed; the cost model's "
            "rows for them assume one core per rank.\n\n"
            + table(rows, [("p", lambda r: str(r["ranks"]) + ("*" if r["oversubscribed"] else "")),
                           ("width", lambda r: str(r["width"])),
                           ("strategy", lambda r: r["strategy"]),
                           ("measured ms", lambda r: ms(r["measured_step_s"])),
                           ("predicted ms", lambda r: ms(r["predicted_step_s"])),
                           ("bytes/rank", lambda r: f"{r['bytes_per_step']:.4g}"),
                           ("GFLOP/rank", lambda r: f"{r['flops_per_step'] / 1e9:.3f}"),
                           ("J/step (model)", lambda r: mj(r["energy_per_step_j"]) + " mJ")])
            + f"\n![{name}](results/{name}.png)\n")


def study_strong(run):
    rows = scaling_rows(run, "strong", [(1, 2048), (2, 2048), (4, 2048)])
    return scaling_section("Strong scaling (width 2048)", "strong_scaling", rows,
                           "Fixed width 2048, p = 1, 2, 4.")


def study_weak(run):
    rows = scaling_rows(run, "weak", [(1, 1024), (2, 2048), (4, 4096)])
    return scaling_section("Weak scaling (width 1024 p)", "weak_scaling", rows,
                           "Width proportional to p: 1024, 2048, 4096.")


def smooth(xs, w=20):
    """The running mean of the last w values."""
    return [sum(xs[max(0, i - w + 1):i + 1]) / len(xs[max(0, i - w + 1):i + 1])
            for i in range(len(xs))]


def smoothed_final(losses, window=20):
    tail = losses[-window:]
    return sum(tail) / len(tail)


def study_ghosts(run):
    rows = []
    profile = run.profile(2)
    for k in (4, 8, 16, 32, 64):
        m = run.train_run(2, {"model.strategy": "pp", "model.width": 2048, "model.ghost": k}, 150,
                          metrics=True)
        p = run.predict([2], {"model.width": 2048, "model.ghost": k}, profile, ["pp"])[0]
        rows.append({"ghost": k, "measured_step_s": m["step_time_median_s"],
                     "predicted_step_s": float(p["step_s"]), "bytes_per_step": m["bytes_per_step"],
                     "parameters": m["parameters"], "loss_last20": smoothed_final(m["losses"])})
    m = run.train_run(2, {"model.strategy": "tp", "model.width": 2048}, 150, metrics=True)
    tp = {"ghost": "tp", "measured_step_s": m["step_time_median_s"], "predicted_step_s": float(
        run.predict([2], {"model.width": 2048}, profile, ["tp"])[0]["step_s"]),
        "bytes_per_step": m["bytes_per_step"], "parameters": m["parameters"],
        "loss_last20": smoothed_final(m["losses"])}
    write_csv("ghost_sweep", rows + [tp])

    def draw(ax):
        ks = [r["ghost"] for r in rows]
        ax.plot(ks, [1e3 * r["measured_step_s"] for r in rows], "o-", label="pp step (ms)")
        ax.axhline(1e3 * tp["measured_step_s"], color="C1", ls="--", label="tp step (ms)")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("ghost neurons per rank k")
        ax.set_ylabel("step time (ms)")
        ax2 = ax.twinx()
        ax2.plot(ks, [r["loss_last20"] for r in rows], "s-", color="C2", label="pp loss")
        ax2.axhline(tp["loss_last20"], color="C3", ls=":", label="tp loss")
        ax2.set_ylabel("loss, mean of the last 20 of 150 steps")
        ax2.legend(fontsize=8, loc="center right")
        ax.set_title("Ghost sweep, width 2048, p = 2")
    plot("ghost_sweep", draw)
    return ("## Ghost sweep (k)\n\n"
            f"Width 2048, p = 2, 150 steps each; loss is the mean of the last 20 steps. Measured on "
            f"{where()}.\n\n"
            + table(rows + [tp], [("k", lambda r: str(r["ghost"])),
                                  ("measured ms", lambda r: ms(r["measured_step_s"])),
                                  ("predicted ms", lambda r: ms(r["predicted_step_s"])),
                                  ("bytes/rank", lambda r: f"{r['bytes_per_step']:.4g}"),
                                  ("parameters", lambda r: f"{r['parameters']:.4g}"),
                                  ("loss", lambda r: f"{r['loss_last20']:.4g}")])
            + "\n![ghost sweep](results/ghost_sweep.png)\n")


def study_energy(run):
    rows = []
    for width in (1024, 2048, 4096):
        pp = measured(run, 2, "pp", width, STEPS[width])
        tp = measured(run, 2, "tp", width, STEPS[width])
        rows.append({"width": width, "ranks": 2, "pp_j": pp["energy_per_step_j"],
                     "tp_j": tp["energy_per_step_j"], "ratio": pp["energy_per_step_j"] /
                     tp["energy_per_step_j"], "energy_source": pp["energy_source"]})
    write_csv("energy_pp_vs_tp", rows)

    def draw(ax):
        ax.plot([r["width"] for r in rows], [r["ratio"] for r in rows], "o-",
                label="pp / tp energy per step (this machine, model)")
        ax.axhline(0.5, color="gray", ls="--", label="paper: about 0.5")
        ax.set_xscale("log", base=2)
        ax.set_ylim(0, 1.1)
        ax.set_xlabel("width")
        ax.set_ylabel("energy ratio")
        ax.set_title("PP against TP: energy per training step, p = 2")
    plot("energy_pp_vs_tp", draw)
    return ("## Energy per step, pp against tp\n\n"
            f"p = 2 on {where()}. Energy source: `{rows[0]['energy_source']}` — this machine has "
            "no RAPL and no GPU, so phantom-train's meter is the model of docs/energy.md applied "
            "to the measured step.\n\n"
            + table(rows, [("width", lambda r: str(r["width"])),
                           ("pp mJ/step", lambda r: mj(r["pp_j"])),
                           ("tp mJ/step", lambda r: mj(r["tp_j"])),
                           ("pp/tp", lambda r: f"{r['ratio']:.3f}")])
            + "\n![energy](results/energy_pp_vs_tp.png)\n")


def first_reaching(losses, target, window=20):
    """The first step whose window mean (computed as smoothed_final does, so a
    run reaches its own final mean) is at or below target."""
    for i in range(window - 1, len(losses)):
        if smoothed_final(losses[:i + 1], window) <= target:
            return i + 1
    return None


# Held-out data for the loss studies: a tenth of the teacher's samples.
HELD_OUT = {"data.validation_fraction": 0.1, "train.validate_every": 20}


def study_loss(run):
    """A smaller pp model (width 1024, p = 2) against a larger tp model (width
    2048) to the loss the tp model reaches, with a tenth of the samples held
    out. tp equals the dense network at any p, so its losses are measured at
    p = 2 and its cost projected at p = 4."""
    tp_steps, pp_steps = 240, 480
    tp = run.train_run(2, {"model.strategy": "tp", "model.width": 2048, **HELD_OUT}, tp_steps,
                       metrics=True)
    pp = run.train_run(2, {"model.strategy": "pp", "model.width": 1024, **HELD_OUT}, pp_steps,
                       metrics=True)
    target = smoothed_final(tp["losses"])
    tp_reach = first_reaching(tp["losses"], target)
    pp_reach = first_reaching(pp["losses"], target)
    rows = []
    for label, run_out, reach, width, strategy, ranks in (
            ("pp, width 1024", pp, pp_reach, 1024, "pp", 2),
            ("tp, width 2048", tp, tp_reach, 2048, "tp", 4)):
        held = dict(run_out["validation"])
        at_reach = max((s for s in held if reach and s <= reach), default=None)
        row = {"model": label, "strategy": strategy, "width": width,
               "parameters": run_out["parameters"], "steps_to_target": reach or "",
               "measured_s_to_target_at_p2": sum(run_out["times"][:reach]) if reach else "",
               "steps_run": len(run_out["losses"]),
               "final_train_loss": smoothed_final(run_out["losses"]),
               "final_held_out_loss": run_out["final_validation_loss"],
               "held_out_loss_at_target": held[at_reach] if at_reach else ""}
        for profile in ("h100-sxm", "mi250x-gcd"):
            p = run.predict([ranks], {"model.width": width}, profile, [strategy])[0]
            row[f"{profile}_ranks"] = ranks
            row[f"{profile}_s_to_target"] = float(p["step_s"]) * reach if reach else ""
            row[f"{profile}_j_to_target"] = float(p["energy_j"]) * reach if reach else ""
        rows.append(row)
    write_csv("loss_equivalence", rows)

    def draw(ax):
        for out, label, color in ((pp, "pp, width 1024 (p = 2)", "C0"),
                                  (tp, "tp, width 2048", "C1")):
            ax.plot(smooth(out["losses"]), color=color, label=label + ", training")
            ax.plot(*zip(*out["validation"]), color=color, ls=":", marker=".",
                    label=label + ", held out")
        ax.axhline(target, color="gray", ls="--", label="target: tp's final training loss")
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("loss (training: mean of 20 steps)")
        ax.set_title("Loss equivalence on the teacher problem")
    plot("loss_equivalence", draw)
    fmt = lambda v, f: f(v) if v != "" else "not reached"
    return ("## Loss equivalence: a smaller pp model against a larger tp model\n\n"
            f"Teacher problem, batch 256, Adam 1e-3, a tenth of the {BASE['data.samples']} "
            "samples held out (`data.validation_fraction = 0.1`, the held-out loss every 20 "
            "steps). Target: the tp model's training loss over its last 20 "
            f"of {tp_steps} steps, {target:.4g}; a model reaches it when its 20-step mean first "
            f"drops to it. Losses and times measured at p = 2 on {where()}; tp computes the "
            "dense network's values at any p, so its steps to target hold at p = 4 too. Time and "
            "energy to target on GPUs are projected: steps x the cost model's step on the "
            "profile, pp on 2 GPUs, tp on 4.\n\n"
            + table(rows, [("model", lambda r: r["model"]),
                           ("parameters", lambda r: f"{r['parameters']:.4g}"),
                           ("steps to target", lambda r: str(r["steps_to_target"] or "not reached")),
                           ("held-out loss there", lambda r: fmt(r["held_out_loss_at_target"],
                                                                 lambda v: f"{v:.4g}")),
                           ("training / held-out loss at the end",
                            lambda r: f"{r['final_train_loss']:.4g} / "
                            f"{r['final_held_out_loss']:.4g} (step {r['steps_run']})"),
                           ("measured s (p = 2)", lambda r: fmt(r["measured_s_to_target_at_p2"],
                                                                lambda v: f"{v:.2f}")),
                           ("H100 ranks, ms, J (projected)",
                            lambda r: f"{r['h100-sxm_ranks']}, " + fmt(
                                r["h100-sxm_s_to_target"], lambda v: f"{1e3 * v:.2f}") + ", " + fmt(
                                r["h100-sxm_j_to_target"], lambda v: f"{v:.3g}")),
                           ("MI250X GCDs, ms, J (projected)",
                            lambda r: f"{r['mi250x-gcd_ranks']}, " + fmt(
                                r["mi250x-gcd_s_to_target"], lambda v: f"{1e3 * v:.2f}") + ", " +
                            fmt(r["mi250x-gcd_j_to_target"], lambda v: f"{v:.3g}"))])
            + "\n![loss equivalence](results/loss_equivalence.png)\n")


DIGITS_TEST = 360  # held-out images of the 1797


def write_digits(directory):
    """sklearn's handwritten digits (8 x 8 images, 10 classes) as two HDF5 data
    sets, /X pixels / 16 and /Y one-hot: a seeded 360-image held-out file and
    the rest to train on. Returns the paths and the held-out labels."""
    try:
        import h5py
        import numpy as np
        from sklearn.datasets import load_digits
    except ImportError:
        sys.exit("run_studies: the digits study needs python3-sklearn and python3-h5py: "
                 "bash scripts/install-deps.sh --studies")
    digits = load_digits()
    x, labels = digits.data / 16.0, digits.target
    order = np.random.default_rng(0).permutation(len(x))
    held, train = order[:DIGITS_TEST], order[DIGITS_TEST:]
    paths = {}
    for name, rows in (("train", train), ("held_out", held)):
        paths[name] = os.path.join(directory, f"digits_{name}.h5")
        with h5py.File(paths[name], "w") as f:
            f["X"] = x[rows]
            f["Y"] = np.eye(10)[labels[rows]]
    return paths, labels[held]


def study_digits(run):
    """A smaller pp model against a larger tp model on real data: held-out loss
    and accuracy on the handwritten digits."""
    import h5py
    import numpy as np
    paths, held_labels = write_digits(run.tmp)
    steps = 600
    common = {"model.input_dim": 64, "model.output_dim": 10, "model.depth": 2,
              "train.loss": "cross_entropy", "train.batch": 64, "data.source": "hdf5",
              "data.path": paths["train"], "data.validation_path": paths["held_out"],
              "data.shuffle": True, "train.validate_every": 25}
    rows, curves = [], {}
    for label, strategy, width in (("pp, width 256", "pp", 256), ("tp, width 512", "tp", 512)):
        prefix = os.path.join(run.tmp, f"digits-{strategy}")
        settings = dict(common, **{"model.strategy": strategy, "model.width": width,
                                   "checkpoint.path": prefix})
        out = run.train_run(2, settings, steps, metrics=True)
        checkpoint = f"{prefix}.step{run.steps(steps):08d}.h5"
        predictions = os.path.join(run.tmp, f"digits-{strategy}-predictions.h5")
        infer = run.infer(2, dict(settings, **{"data.path": paths["held_out"],
                                               "data.validation_path": ""}),
                          checkpoint, predictions)
        with h5py.File(predictions) as f:
            predicted = np.argmax(f["Y"][...], axis=1)
        accuracy = float(np.mean(predicted == held_labels))
        curves[label] = out
        rows.append({"model": label, "strategy": strategy, "width": width,
                     "parameters": out["parameters"], "steps": len(out["losses"]),
                     "final_train_loss": smoothed_final(out["losses"]),
                     "held_out_loss": infer["loss"], "held_out_accuracy": accuracy,
                     "measured_s": sum(out["times"])})
    write_csv("digits", rows)

    def draw(ax):
        for (label, out), color in zip(curves.items(), ("C0", "C1")):
            ax.plot(smooth(out["losses"]), color=color, label=label + ", training")
            ax.plot(*zip(*out["validation"]), color=color, ls=":", marker=".",
                    label=label + ", held out")
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("cross-entropy (training: mean of 20 steps)")
        ax.set_title("Handwritten digits, p = 2")
    plot("digits", draw)
    return ("## Held-out accuracy on real data: handwritten digits\n\n"
            f"scikit-learn's digits (1797 images of 8 x 8 pixels, 10 classes; "
            f"{DIGITS_TEST} held out by a seeded permutation, the rest trained on), written to "
            "HDF5 by the study driver. Depth 2, cross-entropy, batch 64 shuffled, Adam 1e-3, "
            f"{run.steps(steps)} steps, p = 2 on {where()}. Held-out loss and accuracy from "
            "`phantom-train --infer` on the held-out file (`output.predictions`, the class with "
            "the largest logit).\n\n"
            + table(rows, [("model", lambda r: r["model"]),
                           ("parameters", lambda r: f"{r['parameters']:.4g}"),
                           ("steps", lambda r: str(r["steps"])),
                           ("training loss (last 20)", lambda r: f"{r['final_train_loss']:.4g}"),
                           ("held-out loss", lambda r: f"{r['held_out_loss']:.4g}"),
                           ("held-out accuracy", lambda r: f"{100 * r['held_out_accuracy']:.1f}%"),
                           ("measured s", lambda r: f"{r['measured_s']:.2f}")])
            + "\n![digits](results/digits.png)\n")


COMPRESSORS = [("tp", "none"), ("tp", "int8"), ("tp", "int4"), ("tp", "fp16"), ("tp", "topk"),
               ("megatron", "none"), ("megatron", "int8"), ("megatron", "ae")]


def study_compression(run):
    """tp and megatron with compressed messages beside pp (docs/compression.md):
    bytes, measured step, modelled energy and the loss reached, p = 2."""
    width, steps = 1024, 200
    rows = []
    profile = run.profile(2)
    cases = [("pp", "none")] + COMPRESSORS
    for strategy, method in cases:
        z = {"compression.method": method}
        if method == "ae":
            z.update({"compression.messages": "forward", "compression.ae_dim": 64})
        if method == "topk":
            z.update({"compression.topk_fraction": 0.1, "compression.error_feedback": True})
        settings = {"model.strategy": strategy, "model.width": width, **z}
        m = run.train_run(2, settings, steps, metrics=True)
        p = run.predict([2], settings, profile)[0]
        h100 = run.predict([8], {**settings, **PROJECTION}, "h100-sxm")[0]
        rows.append({"strategy": strategy, "compression": method,
                     "label": strategy if method == "none" else f"{strategy}+{method}",
                     "bytes_per_step": m["bytes_per_step"],
                     "measured_step_s": m["step_time_median_s"],
                     "predicted_step_s": float(p["step_s"]),
                     "energy_per_step_j": m["energy_per_step_j"],
                     "energy_source": m["energy_source"],
                     "loss_last20": smoothed_final(m["losses"]),
                     "h100_8_step_s": float(h100["step_s"]), "h100_8_energy_j": float(h100["energy_j"]),
                     "h100_8_bytes": float(h100["bytes_per_step"])})
    write_csv("compression", rows)

    def draw(ax):
        xs = range(len(rows))
        ax.bar(xs, [r["bytes_per_step"] for r in rows], color="C0", label="bytes per step and rank")
        ax.set_yscale("log")
        ax.set_xticks(list(xs))
        ax.set_xticklabels([r["label"] for r in rows], rotation=40, ha="right", fontsize=7)
        ax.set_ylabel("bytes per step and rank")
        ax2 = ax.twinx()
        ax2.plot(xs, [r["loss_last20"] for r in rows], "o", color="C3", label="loss (last 20 steps)")
        ax2.set_ylabel("loss")
        ax2.legend(fontsize=8, loc="upper right")
        ax.set_title(f"Compressed tp / megatron beside pp, width {width}, p = 2")
    plot("compression", draw)
    return ("## Compressed tensor parallelism beside pp\n\n"
            f"Width {width}, depth 4, batch 256, {steps} steps, p = 2, measured on {where()} "
            "(energy: the model, docs/energy.md); TopK keeps 10% with error feedback, the "
            "autoencoder has e = 64. The H100 columns project the same network at width "
            f"{PROJECTION['model.width']}, batch {PROJECTION['train.batch']} on 8 GPUs with the cost "
            "model, which counts compressed bytes but not the compressors' own work.\n\n"
            + table(rows, [("run", lambda r: r["label"]),
                           ("bytes/rank", lambda r: f"{r['bytes_per_step']:.4g}"),
                           ("measured ms", lambda r: ms(r["measured_step_s"])),
                           ("predicted ms", lambda r: ms(r["predicted_step_s"])),
                           ("mJ/step (model)", lambda r: mj(r["energy_per_step_j"])),
                           ("loss", lambda r: f"{r['loss_last20']:.4g}"),
                           ("H100 x8 ms, J, bytes (projected)",
                            lambda r: f"{ms(r['h100_8_step_s'])}, {r['h100_8_energy_j']:.3g}, "
                                      f"{r['h100_8_bytes']:.3g}")])
            + "\n![compression](results/compression.png)\n")


PROJECTION = {"model.width": 32768, "train.batch": 1024}
PROJECTION_RANKS = [8, 16, 32, 64, 128, 256]


def study_projection(run):
    rows = []
    for profile in ("h100-sxm", "mi250x-gcd"):
        pred = run.predict(PROJECTION_RANKS, PROJECTION, profile, ["pp", "tp", "megatron"])
        by = {(r["strategy"], int(r["ranks"])): r for r in pred}
        for ranks in PROJECTION_RANKS:
            pp, tp, mg = by[("pp", ranks)], by[("tp", ranks)], by[("megatron", ranks)]
            rows.append({"profile": profile, "ranks": ranks,
                         "pp_step_s": float(pp["step_s"]), "tp_step_s": float(tp["step_s"]),
                         "megatron_step_s": float(mg["step_s"]),
                         "pp_j": float(pp["energy_j"]), "tp_j": float(tp["energy_j"]),
                         "megatron_j": float(mg["energy_j"]),
                         "pp_tp_energy": float(pp["energy_j"]) / float(tp["energy_j"]),
                         "pp_bytes": float(pp["bytes_per_step"]),
                         "tp_bytes": float(tp["bytes_per_step"]),
                         "tp_fits": pp["fits_memory"] == "1" and tp["fits_memory"] == "1"})
    write_csv("projection", rows)

    def draw(ax):
        for profile in ("h100-sxm", "mi250x-gcd"):
            sel = [r for r in rows if r["profile"] == profile]
            ax.plot([r["ranks"] for r in sel], [r["pp_tp_energy"] for r in sel], "o-",
                    label=f"pp / tp energy per step, {profile} (model)")
        ax.axhline(0.5, color="gray", ls="--", label="paper: about 0.5")
        ax.set_xscale("log", base=2)
        ax.set_ylim(0, 1.1)
        ax.set_xlabel("GPUs (GCDs)")
        ax.set_ylabel("energy ratio")
        ax.set_title(f"Projected: width {PROJECTION['model.width']}, batch "
                     f"{PROJECTION['train.batch']}, k = 16")
    plot("projection", draw)
    return ("## Projection to 8..256 GPUs\n\n"
            f"Cost model only (no measurement): width {PROJECTION['model.width']}, depth 4, batch "
            f"{PROJECTION['train.batch']}, k = 16, float, Adam, on the built-in profiles "
            "`h100-sxm` and `mi250x-gcd` (docs/cost-model.md lists their figures and sources; "
            "8 GPUs per node, the inter-node link beyond). Energy is modelled: busy power while "
            "computing, idle power while communicating, no overlap.\n\n"
            + table(rows, [("profile", lambda r: r["profile"]), ("p", lambda r: str(r["ranks"])),
                           ("pp ms", lambda r: ms(r["pp_step_s"])),
                           ("tp ms", lambda r: ms(r["tp_step_s"])),
                           ("megatron ms", lambda r: ms(r["megatron_step_s"])),
                           ("pp J", lambda r: f"{r['pp_j']:.3g}"),
                           ("tp J", lambda r: f"{r['tp_j']:.3g}"),
                           ("pp/tp energy", lambda r: f"{r['pp_tp_energy']:.3f}"),
                           ("pp / tp bytes", lambda r: f"{r['pp_bytes']:.3g} / {r['tp_bytes']:.3g}")])
            + "\n![projection](results/projection.png)\n")


# Data x model parallelism: one model-parallel group per 8-GPU node, D of them.
GRID_GPUS = [64, 128, 256, 512, 1024]
GRID_P = 8
GRID_BATCH_PER_REPLICA = 1024


def study_projection_dp(run):
    """pp against tp at 64..1024 GPUs as D x P (P = 8 GPUs of a node, D
    replicas across nodes, 1024 samples per replica): energy per step and per
    sample from the cost model, the data-parallel all-reduce included; and
    the planner's saving with one GPU 10% slower (a straggling replica)."""
    rows = []
    for profile in ("h100-sxm", "mi250x-gcd"):
        for gpus in GRID_GPUS:
            D = gpus // GRID_P
            settings = dict(PROJECTION, **{"parallel.data": D,
                                           "train.batch": GRID_BATCH_PER_REPLICA * D})
            pred = run.predict([GRID_P], settings, profile, ["pp", "tp"])
            by = {r["strategy"]: r for r in pred}
            pp, tp = by["pp"], by["tp"]
            samples = GRID_BATCH_PER_REPLICA * D
            # One GPU of replica 0 10% slower: replica 0 straggles, the planner
            # slows its other GPUs and the other replicas to its step.
            planned = {r["strategy"]: r for r in run.plan(
                settings, profile, ["--ranks", str(GRID_P), "--strategies", "pp,tp",
                                    "--slow-rank", "1.1", "--quantum", "0"])}
            saving = {k: float(planned[k]["plan_a_saving_j"]) / float(planned[k]["energy_j"])
                      for k in ("pp", "tp")}
            rows.append({"profile": profile, "gpus": gpus, "D": D, "P": GRID_P,
                         "pp_step_s": float(pp["step_s"]), "tp_step_s": float(tp["step_s"]),
                         "pp_dp_s": float(pp["data_parallel_s"]),
                         "tp_dp_s": float(tp["data_parallel_s"]),
                         "pp_j": float(pp["energy_j"]), "tp_j": float(tp["energy_j"]),
                         "pp_j_per_sample": float(pp["energy_j"]) / samples,
                         "tp_j_per_sample": float(tp["energy_j"]) / samples,
                         "pp_tp_energy": float(pp["energy_j"]) / float(tp["energy_j"]),
                         "pp_slow_j": float(planned["pp"]["energy_j"]),
                         "tp_slow_j": float(planned["tp"]["energy_j"]),
                         "pp_planned_saving": saving["pp"], "tp_planned_saving": saving["tp"],
                         "pp_tp_planned_energy": float(planned["pp"]["plan_a_energy_j"]) /
                         float(planned["tp"]["plan_a_energy_j"])})
    write_csv("projection_dp", rows)

    def draw(ax):
        for profile in ("h100-sxm", "mi250x-gcd"):
            sel = [r for r in rows if r["profile"] == profile]
            ax.plot([r["gpus"] for r in sel], [r["pp_tp_energy"] for r in sel], "o-",
                    label=f"pp / tp energy per step, {profile} (model)")
            ax.plot([r["gpus"] for r in sel], [r["pp_tp_planned_energy"] for r in sel], "s--",
                    label=f"the same, one GPU 10% slower, planned clocks, {profile}")
        ax.axhline(0.5, color="gray", ls="--", label="paper: about 0.5")
        ax.set_xscale("log", base=2)
        ax.set_ylim(0, 1.1)
        ax.set_xlabel(f"GPUs (GCDs) = D x {GRID_P}")
        ax.set_ylabel("energy ratio")
        ax.set_title(f"Projected D x P: width {PROJECTION['model.width']}, "
                     f"{GRID_BATCH_PER_REPLICA} samples per replica")
    plot("projection_dp", draw)
    return (f"## Projection to 64..1024 GPUs as D x P\n\n"
            f"Cost model only: the projection's network (width {PROJECTION['model.width']}, "
            f"depth 4, k = 16, float, Adam) as D replicas of a P = {GRID_P} model-parallel "
            f"group (one node), {GRID_BATCH_PER_REPLICA} samples per replica (global batch "
            f"{GRID_BATCH_PER_REPLICA} D). Each rank all-reduces its gradients over the D "
            "replicas on the inter-node link (docs/cost-model.md), modelled without overlap; "
            "energy is modelled over all D x P GPUs. Planned (exactly): `phantom-plan --set "
            f"parallel.data=D --ranks {GRID_P} --slow-rank 1.1 --quantum 0` (one GPU of replica 0 computes "
            "10% slower; replica 0 straggles and plan (a) slows its other GPUs and the other "
            "D - 1 replicas to its step instead of idling at the gradient all-reduce; "
            "docs/phantom-plan.md, \"Data parallelism\"): the saving against every GPU at "
            "the top clock with that slow GPU, and pp against tp at the planned clocks.\n\n"
            + table(rows, [("profile", lambda r: r["profile"]),
                           ("GPUs = D x P", lambda r: f"{r['gpus']} = {r['D']} x {r['P']}"),
                           ("pp ms (DP)", lambda r: f"{ms(r['pp_step_s'])} ({ms(r['pp_dp_s'])})"),
                           ("tp ms (DP)", lambda r: f"{ms(r['tp_step_s'])} ({ms(r['tp_dp_s'])})"),
                           ("pp J/step", lambda r: f"{r['pp_j']:.4g}"),
                           ("tp J/step", lambda r: f"{r['tp_j']:.4g}"),
                           ("pp / tp mJ per sample",
                            lambda r: f"{1e3 * r['pp_j_per_sample']:.3g} / "
                                      f"{1e3 * r['tp_j_per_sample']:.3g}"),
                           ("pp/tp energy", lambda r: f"{r['pp_tp_energy']:.3f}"),
                           ("planned saving pp / tp (slow GPU)",
                            lambda r: f"{100 * r['pp_planned_saving']:.1f}% / "
                                      f"{100 * r['tp_planned_saving']:.1f}%"),
                           ("pp/tp energy, planned",
                            lambda r: f"{r['pp_tp_planned_energy']:.3f}")])
            + "\n![projection D x P](results/projection_dp.png)\n")


def study_planner(run):
    """phantom-plan's predicted savings (model) for pp and tp on 8..256 H100s:
    intrinsic (one rank 10% slower: plan (a) slows the others' work off the
    critical path) and extrinsic (the step may take 10% longer: plan (b))."""
    rows = []

    def plan_csv(extra):
        return run.plan(PROJECTION, "h100-sxm", ["--quantum", "0"] + extra)  # exact plans

    for strategy in ("pp", "tp"):
        for ranks in PROJECTION_RANKS:
            common = ["--ranks", str(ranks), "--strategies", strategy]
            slow = plan_csv(common + ["--slow-rank", "1.1"])[0]
            balanced = plan_csv(common)[0]
            bound_ms = 1.1 * 1e3 * float(balanced["step_s"])
            bounded = plan_csv(common + ["--time-bound-ms", repr(bound_ms)])[0]
            rows.append({"strategy": strategy, "ranks": ranks,
                         "step_s": float(balanced["step_s"]),
                         "energy_j": float(balanced["energy_j"]),
                         "slow_rank_baseline_j": float(slow["energy_j"]),
                         "intrinsic_saving_j": float(slow["plan_a_saving_j"]),
                         "intrinsic_saving": float(slow["plan_a_saving_j"]) / float(slow["energy_j"]),
                         "bound_s": bound_ms / 1e3,
                         "extrinsic_saving_j": float(bounded["plan_b_saving_j"]),
                         "extrinsic_saving": float(bounded["plan_b_saving_j"]) / (
                             float(balanced["energy_j"]) + 0.0),
                         "source": "model"})
    write_csv("planner_savings", rows)

    def draw(ax):
        for strategy in ("pp", "tp"):
            sel = [r for r in rows if r["strategy"] == strategy]
            ax.plot([r["ranks"] for r in sel], [100 * r["intrinsic_saving"] for r in sel], "o-",
                    label=f"{strategy}: one rank 10% slower (plan a)")
            ax.plot([r["ranks"] for r in sel], [100 * r["extrinsic_saving"] for r in sel], "s--",
                    label=f"{strategy}: step may take 10% longer (plan b)")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("H100 GPUs")
        ax.set_ylabel("energy saved per step (%, model)")
        ax.set_title("Planned GPU clocks: predicted savings")
    plot("planner_savings", draw)
    return ("## Planner: predicted savings on 8..256 H100 GPUs\n\n"
            f"`phantom-plan` (docs/phantom-plan.md) on the projection's network (width "
            f"{PROJECTION['model.width']}, batch {PROJECTION['train.batch']}, k = 16), `h100-sxm` "
            "profile and its clock model; everything is modelled. Intrinsic: one GPU computes 10% "
            "slower, plan (a) keeps the step time and slows the others' work off the critical "
            "path (saving relative to that step at the top clock). Extrinsic: the step may take 10% "
            "longer than its fastest (a straggler elsewhere), plan (b) (saving over the longer "
            "window, relative to the fastest step's energy).\n\n"
            + table(rows, [("strategy", lambda r: r["strategy"]), ("p", lambda r: str(r["ranks"])),
                           ("step ms", lambda r: ms(r["step_s"])),
                           ("J/step", lambda r: f"{r['energy_j']:.3g}"),
                           ("intrinsic saving", lambda r: f"{r['intrinsic_saving_j']:.3g} J "
                                                          f"({100 * r['intrinsic_saving']:.1f}%)"),
                           ("extrinsic saving", lambda r: f"{r['extrinsic_saving_j']:.3g} J "
                                                          f"({100 * r['extrinsic_saving']:.1f}%)")])
            + "\n![planner savings](results/planner_savings.png)\n")


STUDIES = {"model": study_model, "strong": study_strong, "weak": study_weak,
           "ghosts": study_ghosts, "energy": study_energy, "loss": study_loss,
           "digits": study_digits,
           "compression": study_compression, "projection": study_projection,
           "projection_dp": study_projection_dp,
           "planner": study_planner}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--only", default="", help="comma-separated studies: " + ", ".join(STUDIES))
    ap.add_argument("--quick", action="store_true", help="a tenth of the steps (a smoke test)")
    args = ap.parse_args()
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        sys.exit("run_studies: matplotlib is missing: bash scripts/install-deps.sh --studies "
                 "(and run this with /usr/bin/python3, Debian's)")
    names = [n for n in args.only.split(",") if n] or list(STUDIES)
    unknown = [n for n in names if n not in STUDIES]
    if unknown:
        sys.exit(f"run_studies: unknown study {', '.join(unknown)} (known: {', '.join(STUDIES)})")
    os.makedirs(OUT, exist_ok=True)
    run = Runner(args.build, args.quick)
    sections = {}
    for name in names:
        print(f"== {name}", flush=True)
        sections[name] = STUDIES[name](run)
        with open(os.path.join(OUT, name + ".md"), "w") as f:
            f.write(sections[name])
    assemble()
    print(f"wrote {OUT}/*.csv, *.png, the sections {', '.join(n + '.md' for n in names)} "
          f"and docs/results.md")


INTRO = """# Results

Generated by `perf/studies/run_studies.py` from the section files in
docs/results/ (one per study, with its CSV and PNG beside it); regenerate all
with

    bash scripts/install-deps.sh --studies
    cmake --build build -j2 --target phantom-train phantom-cost phantom-plan
    /usr/bin/python3 perf/studies/run_studies.py            # about 8 minutes here
    /usr/bin/python3 perf/studies/run_studies.py --only ghosts,loss

Measured rows name the machine they ran on; projected rows name the device
profile (docs/cost-model.md). Every energy figure here is modelled (this
machine has no RAPL and no GPU; docs/energy.md).

"""


# Sections written by hand after the studies: backends (OpenMP threads against
# ranks, the GPU check), data parallelism here, checkpoint writes and the
# training step against its roofline, measured with the commands they quote.
HAND_WRITTEN_AFTER = ["backends.md", "data_parallel.md", "checkpoint_write.md", "speed.md"]


def assemble():
    parts = [INTRO]
    discussion = os.path.join(OUT, "discussion.md")
    if os.path.exists(discussion):
        parts.append(open(discussion).read() + "\n")
    for name in STUDIES:
        path = os.path.join(OUT, name + ".md")
        if os.path.exists(path):
            parts.append(open(path).read() + "\n")
    # Hand-written, measured outside this driver (each section names its command).
    for name in HAND_WRITTEN_AFTER:
        path = os.path.join(OUT, name)
        if os.path.exists(path):
            parts.append(open(path).read() + "\n")
    target = os.path.join(ROOT, "docs", "results.md")
    with open(target + ".tmp", "w") as f:
        f.write("".join(parts).rstrip() + "\n")
    os.replace(target + ".tmp", target)


if __name__ == "__main__":
    main()
