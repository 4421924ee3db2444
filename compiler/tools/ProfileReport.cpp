#include "compiler/tools/ProfileReport.h"

#include "backends/HeaderWriter.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace mnc::tool {
namespace {

bool isSpatialConv(const Function &f, const Op &op) {
  const auto &shape = f.type(op.results[0]).shape;
  return op.kind == OpKind::Conv2d && shape[2] * shape[3] > 1;
}

/// The median of `ns` (upper median for an even count).
uint64_t median(std::vector<uint64_t> ns) {
  std::nth_element(ns.begin(), ns.begin() + ns.size() / 2, ns.end());
  return ns[ns.size() / 2];
}

std::string millis(uint64_t ns) { return fmt::format("{:.3f} ms", ns / 1e6); }

/// Multiply-accumulates per second in G, or "-" for a step without MACs.
std::string rate(int64_t macs, uint64_t ns) {
  return macs && ns ? fmt::format("{:.1f}", double(macs) / double(ns)) : "-";
}

} // namespace

llvm::StringRef layerKind(const Function &f, size_t op) {
  size_t firstConv = f.ops.size(), lastSpatial = 0;
  for (size_t i = 0; i < f.ops.size(); ++i)
    if (isSpatialConv(f, f.ops[i])) {
      firstConv = std::min(firstConv, i);
      lastSpatial = i;
    }
  const Op &o = f.ops[op];
  if (op > lastSpatial && firstConv < f.ops.size())
    return "tail";
  if (o.kind != OpKind::Conv2d)
    return "other";
  if (op == firstConv)
    return "stem";
  if (o.getInt("group") > 1)
    return "depthwise";
  if (!isSpatialConv(f, o))
    return "squeeze-excite";
  const auto &w = f.type(o.operands[1]).shape;
  if (w[2] * w[3] != 1)
    return "conv";
  return w[0] > w[1] ? "expand" : "project";
}

std::string profileReport(const Function &f, const RunProfile &profile) {
  size_t steps = profile.steps.size();
  std::vector<uint64_t> medians(steps), totals;
  for (size_t k = 0; k < steps; ++k) {
    std::vector<uint64_t> ns;
    for (const auto &run : profile.ns)
      ns.push_back(run[k]);
    medians[k] = median(ns);
  }
  for (const auto &run : profile.ns) {
    uint64_t total = 0;
    for (uint64_t ns : run)
      total += ns;
    totals.push_back(total);
  }
  uint64_t sum = 0;
  for (uint64_t ns : medians)
    sum += ns;
  std::string out = fmt::format(
      "profile: {} runs, median {} per run; per kernel call, the median of "
      "its runs:\n{:>5} {:<72} {:>12} {:>10} {:>6} {:>7}\n",
      profile.runs, millis(median(totals)), "step", "op", "MACs", "us", "%",
      "GMAC/s");
  struct Kind {
    uint64_t ns = 0;
    int64_t macs = 0;
    int calls = 0;
  };
  std::map<std::string, Kind> kinds;
  for (size_t k = 0; k < steps; ++k) {
    size_t op = profile.steps[k];
    int64_t macs = opMacs(f, f.ops[op]);
    out += fmt::format("{:>5} {:<72} {:>12} {:>10.1f} {:>6.1f} {:>7}\n", k,
                       profileStepName(f, op), macs, medians[k] / 1e3,
                       sum ? 100.0 * medians[k] / sum : 0.0,
                       rate(macs, medians[k]));
    Kind &kind = kinds[layerKind(f, op).str()];
    kind.ns += medians[k];
    kind.macs += macs;
    ++kind.calls;
  }
  out += fmt::format("by layer kind (sums of the medians, {}):\n", millis(sum));
  for (const auto &[name, kind] : kinds)
    out += fmt::format("  {:<15} {:>10.1f} us {:>6.1f}% {:>5} calls {:>12} "
                       "MACs {:>7} GMAC/s\n",
                       name, kind.ns / 1e3, sum ? 100.0 * kind.ns / sum : 0.0,
                       kind.calls, kind.macs, rate(kind.macs, kind.ns));
  return out;
}

} // namespace mnc::tool
