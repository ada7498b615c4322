// What phantom-train prints and writes on rank 0: a progress line every
// train.log_every steps (step, loss, step time, bytes, ETA), the metrics CSV
// (flushed row by row, so a failed run keeps what it measured), the summary
// table, and the JSON summary (written to a temporary name and renamed, so it
// is never half-written). The JSON is written with toml++ in run_report.cpp,
// a translation unit without Kokkos that CUDA builds compile host-only
// (toml++ does not get through nvcc).
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "phantom/io/atomic_file.hpp"
#include "phantom/io/deck.hpp"
#include "phantom/run/planned_clocks.hpp"
#include "phantom/run/step_stats.hpp"

namespace phantom_train {

// One step as the session reports it (phantom/run/session.hpp).
using StepRecord = phantom::run::StepStats;

inline std::string format_loss(double loss) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4e", loss);
  return buf;
}

inline std::string human_bytes(double b) {
  char buf[32];
  if (b >= 1e9)
    std::snprintf(buf, sizeof buf, "%.2f GB", b / 1e9);
  else if (b >= 1e6)
    std::snprintf(buf, sizeof buf, "%.2f MB", b / 1e6);
  else if (b >= 1e3)
    std::snprintf(buf, sizeof buf, "%.2f kB", b / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.0f B", b);
  return buf;
}

// Writes text to path through path.tmp and a rename (nothing left on failure).
inline void write_atomically(const std::string& path, const std::string& text) {
  phantom::write_atomically(path, [&](std::ostream& out) { out << text; });
}

// The JSON summary of phantom-train --infer.
struct InferenceSummary {
  std::string checkpoint;
  std::size_t step = 0;
  int ranks = 1;
  std::size_t samples = 0;
  double loss = 0, seconds = 0, samples_per_second = 0;
};
std::string inference_summary_json(const InferenceSummary& s);

class RunReport {
 public:
  RunReport(const phantom::Deck& deck, int ranks, std::size_t parameters, double bytes_per_step,
            double flops_per_step)
      : deck_(deck),
        ranks_(ranks),
        parameters_(parameters),
        bytes_per_step_(bytes_per_step),
        flops_per_step_(flops_per_step),
        energy_source_(deck.energy.meter) {}

  // The meter behind energy_joules ("model", "rapl", "nvml", "amd-smi"), what
  // it meters, and, for energy.meter = auto, why the others were passed over.
  void set_energy_source(std::string name, bool measured, std::string zones,
                         std::string selection) {
    energy_source_ = std::move(name);
    energy_measured_ = measured;
    energy_zones_ = std::move(zones);
    energy_selection_ = std::move(selection);
  }
  // A modelled clock plan for this run (plan.profile), for the summary.
  using PlannedClocks = phantom::run::PlannedClocks;
  void set_plan(const PlannedClocks& plan) { plan_ = plan; }
  void set_region_report(std::string report) { region_report_ = std::move(report); }
  // What the clock controller did (plan.apply), rank 0's GPU.
  void set_clock_report(std::string report) { clock_report_ = std::move(report); }

  // A restarted run appends to an existing metrics file (the rows of the steps
  // before the restart stay); a fresh run starts it anew.
  void open_metrics(bool root, bool restarted) {
    if (!root || deck_.output.metrics.empty()) return;
    const bool append = restarted && std::filesystem::exists(deck_.output.metrics);
    metrics_.open(deck_.output.metrics, append ? std::ios::app : std::ios::trunc);
    if (!metrics_) throw phantom::Error("cannot write output.metrics = " + deck_.output.metrics);
    if (!append)
      metrics_ << "step,loss,step_time_s,compute_s,comm_issue_s,comm_wait_s,bytes,energy_j,"
                  "energy_source,learning_rate,validation_loss\n";
  }

  void print_header(std::size_t first_step) const {
    const auto& m = deck_.model;
    std::printf(
        "phantom-train: %s, %d rank%s, %lld -> %lld x %lld -> %lld, %s%s, %s, batch %lld, "
        "%zu parameters\n",
        m.strategy.c_str(), ranks_, ranks_ == 1 ? "" : "s", (long long)m.input_dim,
        (long long)m.width, (long long)m.depth, (long long)m.output_dim, m.activation.c_str(),
        m.strategy == "pp" ? (", k = " + std::to_string(m.ghost)).c_str() : "",
        deck_.train.precision.c_str(), (long long)deck_.train.batch, parameters_);
    if (deck_.parallel.data > 1)
      std::printf("data parallel: %lld replicas of %lld model-parallel ranks, %lld samples each\n",
                  (long long)deck_.parallel.data, (long long)(ranks_ / deck_.parallel.data),
                  (long long)(deck_.train.batch / deck_.parallel.data));
    const auto& z = deck_.compression;
    if (z.method != "none")
      std::printf(
          "compression: %s, %s messages of hidden layers %lld and on (docs/compression.md)\n",
          z.method.c_str(), z.messages.c_str(), (long long)z.first_layer);
    if (first_step > 0)
      std::printf("restarted from %s at step %zu\n", deck_.checkpoint.restart.c_str(), first_step);
    std::fflush(stdout);
  }

  void record(StepRecord r, bool log, bool root, std::size_t last_step) {
    records_.push_back(r);
    if (r.validated) {
      validation_loss_ = r.validation_loss;
      validated_ = true;
    }
    if (!root || !log) return;
    const double mean = mean_seconds();
    const double eta = mean * double(last_step - r.step - 1);
    std::printf(
        "step %6zu/%zu  loss %.4e  step %7.2f ms (compute %.2f, comm %.2f, wait %.2f)  "
        "%s  ETA %.1f s%s\n",
        r.step + 1, last_step, r.loss, 1e3 * r.seconds, 1e3 * r.compute_seconds(),
        1e3 * r.issue_seconds, 1e3 * r.wait_seconds, human_bytes(r.bytes).c_str(), eta,
        r.validated ? ("  val " + format_loss(r.validation_loss)).c_str() : "");
    std::fflush(stdout);
    if (metrics_.is_open()) {
      metrics_ << r.step << ',' << r.loss << ',' << r.seconds << ',' << r.compute_seconds() << ','
               << r.issue_seconds << ',' << r.wait_seconds << ',' << r.bytes << ','
               << r.energy_joules << ',' << energy_source_ << ',' << r.learning_rate << ',';
      if (r.validated) metrics_ << r.validation_loss;
      metrics_ << '\n';
      metrics_.flush();
      if (!metrics_)  // one rank writes it: main() aborts the job, none waits
        throw phantom::Error("output.metrics = \"" + deck_.output.metrics +
                             "\": write failed (" + std::strerror(errno) + ")");
    }
  }

  double median_seconds() const { return median(&StepRecord::seconds); }
  // The median over this run's steps of one statistic.
  template <class T>
  double median(T StepRecord::*field) const {
    if (records_.empty()) return 0;
    std::vector<double> t;
    for (const auto& r : records_) t.push_back(double(r.*field));
    std::sort(t.begin(), t.end());
    const std::size_t n = t.size();
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
  }
  double final_loss() const { return records_.empty() ? 0 : records_.back().loss; }
  // The last validation loss of this run (validated() false: none computed).
  bool validated() const { return validated_; }
  double validation_loss() const { return validation_loss_; }
  std::size_t steps_run() const { return records_.size(); }

  void finish() {
    std::printf("\nsummary\n");
    std::printf("  %-26s %s, %d rank%s\n", "strategy", deck_.model.strategy.c_str(), ranks_,
                ranks_ == 1 ? "" : "s");
    std::printf("  %-26s %zu\n", "parameters (global)", parameters_);
    std::printf("  %-26s %zu (to step %lld)\n", "steps this run", records_.size(),
                (long long)deck_.train.steps);
    std::printf("  %-26s %.6e\n", "final loss", final_loss());
    if (validated_) std::printf("  %-26s %.6e\n", "validation loss (last)", validation_loss_);
    std::printf("  %-26s %.3f ms\n", "step time (median)", 1e3 * median_seconds());
    std::printf("  %-26s %s\n", "bytes per step (per rank)", human_bytes(bytes_per_step_).c_str());
    if (deck_.parallel.data > 1)
      std::printf("  %-26s %.0f calls, %s, issue %.3f ms, wait %.3f ms per step (median)\n",
                  "data-parallel all-reduce", median(&StepRecord::data_parallel_calls),
                  human_bytes(median(&StepRecord::data_parallel_bytes)).c_str(),
                  1e3 * median(&StepRecord::data_parallel_issue_seconds),
                  1e3 * median(&StepRecord::data_parallel_wait_seconds));
    std::printf("  %-26s %.3f GFLOP\n", "GEMM FLOPs per step/rank", flops_per_step_ / 1e9);
    std::printf("  %-26s %.4g J per step (median), %.4g J in all (%s: %s; docs/energy.md)\n",
                "energy", energy_per_step(), energy_joules(),
                energy_measured_ ? "measured" : "modelled", energy_source_.c_str());
    if (!plan_.profile.empty())
      std::printf(
          "  %-26s %s: %.4g J per step at %.3f ms, %.4g J at the top clock (%.3f ms); "
          "saving %.4g J (%.2f%%, modelled)\n",
          "planned clocks", plan_.profile.c_str(), plan_.energy_j, 1e3 * plan_.step_s,
          plan_.baseline_energy_j, 1e3 * plan_.baseline_step_s, plan_.saving_j,
          plan_.baseline_energy_j > 0 ? 100 * plan_.saving_j / plan_.baseline_energy_j : 0.0);
    if (!region_report_.empty()) std::printf("  rank 0's %s", region_report_.c_str());
    if (!clock_report_.empty()) std::printf("  clock plan on rank 0: %s", clock_report_.c_str());
    std::fflush(stdout);
    if (!deck_.output.summary.empty()) write_atomically(deck_.output.summary, summary_json());
  }

  // The JSON summary (output.summary).
  std::string summary_json() const;

  // Over this run's steps; per step the median over steps.
  double energy_joules() const {
    double e = 0;
    for (const auto& r : records_) e += r.energy_joules;
    return e;
  }
  double energy_per_step() const {
    if (records_.empty()) return 0;
    std::vector<double> e;
    for (const auto& r : records_) e.push_back(r.energy_joules);
    std::sort(e.begin(), e.end());
    const std::size_t n = e.size();
    return n % 2 ? e[n / 2] : 0.5 * (e[n / 2 - 1] + e[n / 2]);
  }

 private:
  double mean_seconds() const {
    double s = 0;
    for (const auto& r : records_) s += r.seconds;
    return records_.empty() ? 0 : s / records_.size();
  }

  phantom::Deck deck_;
  int ranks_;
  std::size_t parameters_;
  double bytes_per_step_, flops_per_step_;
  std::string energy_source_, energy_zones_, energy_selection_;
  bool energy_measured_ = false;
  PlannedClocks plan_;
  std::string region_report_, clock_report_;
  std::vector<StepRecord> records_;
  std::ofstream metrics_;
  bool validated_ = false;
  double validation_loss_ = 0;
};

}  // namespace phantom_train
