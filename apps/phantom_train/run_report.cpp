// JSON writing for run_report.hpp, kept apart from every Kokkos header so a
// CUDA build compiles it with the host compiler alone (toml++ does not get
// through nvcc: marzer/tomlplusplus#213).
#include "run_report.hpp"

#include <toml++/toml.h>

#include <sstream>

namespace phantom_train {

std::string RunReport::summary_json() const {
  toml::table deck = toml::parse(phantom::to_toml(deck_));
  toml::table t{{"deck", std::move(deck)},
                {"ranks", ranks_},
                {"parameters", std::int64_t(parameters_)},
                {"bytes_per_step", bytes_per_step_},
                {"flops_per_step", flops_per_step_},
                {"step_time_median_s", median_seconds()},
                {"steps_run", std::int64_t(records_.size())},
                {"final_loss", final_loss()},
                {"energy_j", energy_joules()},
                {"energy_per_step_j", energy_per_step()},
                {"energy_source", energy_source_},
                {"energy_measured", energy_measured_},
                {"energy_zones", energy_zones_},
                {"energy_meter_selection", energy_selection_}};
  if (validated_) t.insert("final_validation_loss", validation_loss_);
  if (deck_.parallel.data > 1)
    t.insert("data_parallel",
             toml::table{{"replicas", deck_.parallel.data},
                         {"calls_per_step", median(&StepRecord::data_parallel_calls)},
                         {"bytes_per_step", median(&StepRecord::data_parallel_bytes)},
                         {"issue_s_median", median(&StepRecord::data_parallel_issue_seconds)},
                         {"wait_s_median", median(&StepRecord::data_parallel_wait_seconds)}});
  if (!plan_.profile.empty())
    t.insert("plan", toml::table{{"profile", plan_.profile},
                                 {"step_s", plan_.step_s},
                                 {"energy_per_step_j", plan_.energy_j},
                                 {"baseline_step_s", plan_.baseline_step_s},
                                 {"baseline_energy_per_step_j", plan_.baseline_energy_j},
                                 {"saving_per_step_j", plan_.saving_j},
                                 {"source", "model"}});
  std::ostringstream os;
  os << toml::json_formatter{t} << '\n';
  return os.str();
}

std::string inference_summary_json(const InferenceSummary& s) {
  toml::table t{{"checkpoint", s.checkpoint},
                {"step", std::int64_t(s.step)},
                {"ranks", s.ranks},
                {"samples", std::int64_t(s.samples)},
                {"loss", s.loss},
                {"seconds", s.seconds},
                {"samples_per_second", s.samples_per_second}};
  std::ostringstream os;
  os << toml::json_formatter{t} << '\n';
  return os.str();
}

}  // namespace phantom_train
