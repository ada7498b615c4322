#!/usr/bin/env bash
# The README's main command: installs missing packages, builds, and runs the
# quick-start deck (inputs/quickstart.toml, embedded in phantom-train) with
# phantom parallelism and with tensor parallelism on 2 ranks, then compares them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=${PHANTOM_JOBS:-2}
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$jobs" --target phantom-train
source scripts/mpi-env.sh
for strategy in pp tp; do
  echo "=== phantom-train, model.strategy = $strategy, 2 ranks"
  mpiexec "${PHANTOM_MPIEXEC_FLAGS[@]}" -n 2 build/apps/phantom-train \
    --set model.strategy=$strategy --set output.summary=build/quickstart-$strategy.json
  echo
done
/usr/bin/python3 - <<'PY'
import json
pp, tp = (json.load(open(f"build/quickstart-{s}.json")) for s in ("pp", "tp"))
print("=== pp vs tp (per rank and step)")
for key, label in [("step_time_median_s", "step time (s)"), ("bytes_per_step", "bytes moved"),
                   ("flops_per_step", "GEMM FLOPs"), ("parameters", "parameters (global)"),
                   ("final_loss", "final loss"),
                   ("energy_per_step_j", f"energy/step (J, {pp['energy_source']})")]:
    print(f"  {label:22s} pp {pp[key]:12.4g}   tp {tp[key]:12.4g}   pp/tp {pp[key] / tp[key]:.3f}")
PY
