#include "phantom/plan/step_profile.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <tuple>

#include "phantom/core/error.hpp"

namespace phantom::plan {
namespace {

constexpr const char* kIdlePhase = "idle";
constexpr const char* kIdleStage = "-";

std::string where(std::size_t rank, std::size_t stage, const std::string& phase) {
  return "rank " + std::to_string(rank) + " stage " + std::to_string(stage) + " phase '" + phase +
         "'";
}

std::string format_number(double v) {
  std::ostringstream os;
  os.precision(std::numeric_limits<double>::max_digits10);
  os << v;
  return os.str();
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// A phase name or source the CSV can carry back unchanged.
void require_csv_safe(const std::string& text, const std::string& what) {
  if (text.find_first_of(",\"\n\r") != std::string::npos || trim(text) != text)
    throw InvalidArgument("write_step_profile: " + what + " '" + text +
                          "' has a comma, quote, newline or surrounding blank");
}

// The parse of one CSV line; fail() throws "<origin>:<line>: <problem>".
struct Line {
  const std::string& origin;
  std::size_t at;

  [[noreturn]] void fail(const std::string& problem) const {
    throw InvalidArgument(origin + ":" + std::to_string(at) + ": " + problem);
  }

  long long integer(const std::string& field, const std::string& name) const {
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(field.c_str(), &end, 10);
    if (field.empty() || *end != '\0' || errno == ERANGE || v < 0 ||
        v > std::numeric_limits<int>::max())
      fail(name + " '" + field + "' is not a non-negative integer");
    return v;
  }

  double number(const std::string& field, const std::string& name) const {
    char* end = nullptr;
    const double v = std::strtod(field.c_str(), &end);
    if (field.empty() || *end != '\0') fail(name + " '" + field + "' is not a number");
    if (!std::isfinite(v)) fail(name + " '" + field + "' is not finite");
    if (v < 0) fail(name + " " + field + " is negative");
    return v;
  }
};

}  // namespace

double StepProfile::idle_watts() const {
  double sum = 0;
  for (const IdlePower& p : idle) sum += p.watts;
  return sum;
}

void StepProfile::validate() const {
  if (phases.empty()) throw InvalidArgument("step profile: no ranks");
  if (stages() == 0) throw InvalidArgument("step profile: no stages");
  if (idle.size() != ranks())
    throw InvalidArgument("step profile: " + std::to_string(idle.size()) + " idle entries for " +
                          std::to_string(ranks()) + " ranks");
  for (std::size_t r = 0; r < ranks(); ++r) {
    if (phases[r].size() != stages())
      throw InvalidArgument("step profile: rank " + std::to_string(r) + " has " +
                            std::to_string(phases[r].size()) + " stages but rank 0 has " +
                            std::to_string(stages()));
    if (!std::isfinite(idle[r].watts) || idle[r].watts < 0)
      throw InvalidArgument("step profile: rank " + std::to_string(r) + " idle power " +
                            format_number(idle[r].watts) + " W is negative or not finite");
    for (std::size_t s = 0; s < stages(); ++s)
      for (const Phase& ph : phases[r][s]) {
        // Messages are built only on failure: validate runs on every plan query.
        const auto at = [&] { return "step profile: " + where(r, s, ph.name); };
        if (ph.name.empty())
          throw InvalidArgument("step profile: rank " + std::to_string(r) + " stage " +
                                std::to_string(s) + " has a phase with an empty name");
        if (ph.name == kIdlePhase)
          throw InvalidArgument(at() + ": the name is reserved for idle power");
        if (ph.options.empty()) throw InvalidArgument(at() + " has no clock options");
        for (std::size_t i = 0; i < ph.options.size(); ++i) {
          const ClockOption& o = ph.options[i];
          const auto oat = [&] { return at() + " clock " + std::to_string(o.clock_mhz) + " MHz"; };
          if (o.clock_mhz < 0) throw InvalidArgument(oat() + ": negative clock");
          for (std::size_t j = 0; j < i; ++j)  // option lists are short
            if (ph.options[j].clock_mhz == o.clock_mhz)
              throw InvalidArgument(oat() + " appears twice");
          if (!std::isfinite(o.time_s) || o.time_s < 0)
            throw InvalidArgument(oat() + ": time " + format_number(o.time_s) +
                                  " s is negative or not finite");
          if (!std::isfinite(o.energy_j) || o.energy_j < 0)
            throw InvalidArgument(oat() + ": energy " + format_number(o.energy_j) +
                                  " J is negative or not finite");
        }
      }
  }
}

StepProfile parse_step_profile(std::istream& in, const std::string& origin) {
  using Key = std::tuple<std::size_t, std::size_t>;  // (rank, stage)
  struct Collected {
    std::vector<Phase> phases;
    std::map<std::string, std::size_t> index;                 // phase name -> position
    std::map<std::pair<std::string, int>, std::size_t> line;  // (phase, clock) -> line
  };
  std::map<Key, Collected> cells;
  std::map<std::size_t, std::pair<IdlePower, std::size_t>> idle;  // rank -> (power, line)
  std::map<std::size_t, std::size_t> rank_line, stage_line;       // first line naming each

  std::string text;
  std::size_t number = 0;
  bool header = false;
  while (std::getline(in, text)) {
    ++number;
    if (!text.empty() && text.back() == '\r') text.pop_back();  // CRLF files
    if (trim(text).empty() || trim(text)[0] == '#') continue;
    const Line line{origin, number};
    if (!header) {
      if (trim(text) != step_profile_header)
        line.fail(std::string("expected the header '") + step_profile_header + "', got '" + text +
                  "'");
      header = true;
      continue;
    }
    std::vector<std::string> f;
    std::stringstream row(text);
    for (std::string field; std::getline(row, field, ',');) f.push_back(trim(field));
    if (!text.empty() && text.back() == ',') f.emplace_back();
    if (f.size() != 7) line.fail("expected 7 fields, got " + std::to_string(f.size()));

    const auto rank = static_cast<std::size_t>(line.integer(f[0], "rank"));
    const std::string& phase = f[2];
    const auto clock = static_cast<int>(line.integer(f[3], "clock_mhz"));
    const double time = line.number(f[4], "time_s");
    const double energy = line.number(f[5], "energy_j");
    if (phase.empty()) line.fail("empty phase name");
    rank_line.emplace(rank, number);

    if (f[1] == kIdleStage || phase == kIdlePhase) {
      if (f[1] != kIdleStage)
        line.fail("phase 'idle' is the idle-power row; its stage must be '-'");
      if (phase != kIdlePhase) line.fail("stage '-' is only for the idle-power row (phase 'idle')");
      if (time <= 0) line.fail("idle-power row needs time_s > 0");
      const auto [it, fresh] =
          idle.emplace(rank, std::make_pair(IdlePower{energy / time, clock, f[6]}, number));
      if (!fresh)
        line.fail("rank " + std::to_string(rank) + " already has an idle-power row (line " +
                  std::to_string(it->second.second) + ")");
      continue;
    }

    const auto stage = static_cast<std::size_t>(line.integer(f[1], "stage"));
    stage_line.emplace(stage, number);
    Collected& cell = cells[{rank, stage}];
    const auto [pos, fresh_phase] = cell.index.emplace(phase, cell.phases.size());
    if (fresh_phase) cell.phases.push_back({phase, {}});
    const auto [seen, fresh_clock] = cell.line.emplace(std::make_pair(phase, clock), number);
    if (!fresh_clock)
      line.fail(where(rank, stage, phase) + " already has clock " + std::to_string(clock) +
                " MHz (line " + std::to_string(seen->second) + ")");
    cell.phases[pos->second].options.push_back({clock, time, energy, f[6]});
  }
  if (!header)
    throw InvalidArgument(origin + ": no header line '" + step_profile_header + "' (empty file?)");

  // Ranks and stages are numbered 0..n-1 without gaps.
  const auto require_dense = [&](const std::map<std::size_t, std::size_t>& seen,
                                 const std::string& what) {
    std::size_t expect = 0;
    for (const auto& [n, first_line] : seen) {
      if (n != expect)
        throw InvalidArgument(origin + ": " + what + "s must be numbered from 0 without gaps; " +
                              what + " " + std::to_string(expect) + " is missing (" + what + " " +
                              std::to_string(n) + " is on line " + std::to_string(first_line) +
                              ")");
      ++expect;
    }
  };
  if (rank_line.empty()) throw InvalidArgument(origin + ": no rows after the header");
  if (stage_line.empty()) throw InvalidArgument(origin + ": no phase rows, only idle-power rows");
  require_dense(rank_line, "rank");
  require_dense(stage_line, "stage");

  StepProfile p;
  p.phases.assign(rank_line.size(), std::vector<std::vector<Phase>>(stage_line.size()));
  for (auto& [key, cell] : cells)
    p.phases[std::get<0>(key)][std::get<1>(key)] = std::move(cell.phases);
  for (std::size_t r = 0; r < p.ranks(); ++r) {
    const auto it = idle.find(r);
    if (it == idle.end())
      throw InvalidArgument(origin + ": rank " + std::to_string(r) +
                            " has no idle-power row (stage '-', phase 'idle')");
    p.idle.push_back(it->second.first);
  }
  try {
    p.validate();
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(origin + ": " + e.what());
  }
  return p;
}

StepProfile read_step_profile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InvalidArgument("read_step_profile: cannot open '" + path + "'");
  return parse_step_profile(in, path);
}

void write_step_profile(const StepProfile& profile, std::ostream& out) {
  profile.validate();
  out << step_profile_header << '\n';
  for (std::size_t r = 0; r < profile.ranks(); ++r) {
    const IdlePower& idle = profile.idle[r];
    require_csv_safe(idle.source, "source");
    out << r << ',' << kIdleStage << ',' << kIdlePhase << ',' << idle.clock_mhz << ",1,"
        << format_number(idle.watts) << ',' << idle.source << '\n';
    for (std::size_t s = 0; s < profile.stages(); ++s)
      for (const Phase& ph : profile.phases[r][s]) {
        require_csv_safe(ph.name, "phase name");
        for (const ClockOption& o : ph.options) {
          require_csv_safe(o.source, "source");
          out << r << ',' << s << ',' << ph.name << ',' << o.clock_mhz << ','
              << format_number(o.time_s) << ',' << format_number(o.energy_j) << ',' << o.source
              << '\n';
        }
      }
  }
}

void write_step_profile(const StepProfile& profile, const std::string& path) {
  std::ofstream out(path);
  if (!out) throw InvalidArgument("write_step_profile: cannot open '" + path + "' for writing");
  write_step_profile(profile, out);
  out.flush();
  if (!out) throw InvalidArgument("write_step_profile: writing '" + path + "' failed");
}

}  // namespace phantom::plan
