// fuse-blocks: decides which chains of blocks run patch by patch
// (passes/Patches.h), and on how many patches, so that the scratch arena
// fits a RAM budget with the least extra work: the MACs the kernels
// execute beyond layer by layer, recomputed halos and the vector lanes a
// narrower patch leaves idle (backends/Kernels.h executedMacs).
//
// Each block between two cuts has its layer-by-layer peak from one plan
// of the function. A candidate segment (a chain of blocks on a grid) is
// scored by planning it alone, as a function from its input to its output,
// with the kernels and epilogue groups the rest of the pipeline will give
// it: while a segment runs, the arena holds only its own values and its
// input, the one tensor live at its first cut. A dynamic program over the
// blocks then picks the cheapest cover by unpatched blocks and patched
// segments whose peaks fit the budget. Without a budget, hosts run layer
// by layer (the fastest schedule) and microcontrollers get the smallest
// arena found.
#include "passes/Passes.h"
#include "passes/Patches.h"

#include "backends/Kernels.h"
#include "backends/MemoryPlan.h"
#include "ir/Errors.h"

#include <fmt/format.h>

#include <limits>
#include <map>
#include <optional>
#include <tuple>

namespace mnc {
namespace {

/// Patch grids tried, as (rows, cols): bands of full-width rows and
/// near-square grids.
constexpr std::pair<int64_t, int64_t> kGrids[] = {
    {2, 1}, {3, 1}, {4, 1}, {6, 1}, {8, 1}, {12, 1}, {16, 1}, {2, 2},
    {3, 2}, {3, 3}, {4, 3}, {4, 4}, {5, 4}, {5, 5}, {6, 5}, {6, 6}};
/// Longest chain of blocks one segment spans.
constexpr size_t kMaxSpan = 8;

/// A patched segment's cost: the arena bytes live at its peak and the MACs
/// its kernels execute beyond layer by layer.
struct Score {
  int64_t peak = 0;
  int64_t extraWork = 0;
};

/// A schedule of the whole function: its patched segments and its cost.
struct Plan {
  std::vector<PatchSchedule> segments;
  int64_t peak = 0;
  int64_t extraWork = 0;
};

class Scheduler {
public:
  Scheduler(const Function &f, const PassOptions &opts)
      : f(f), opts(opts), cuts(findCuts(f)), inArena(arenaValues(f)) {
    MemoryPlan plan = planned(selected(f));
    auto peakOver = [&](int from, int to) {
      int64_t peak = 0;
      for (int i = from; i < to; ++i)
        peak = std::max(peak, plan.liveBytes[i]);
      return peak;
    };
    // What lies outside all blocks, before the first cut and after the
    // last, is a floor no schedule lowers.
    int n = static_cast<int>(f.ops.size());
    int first = cuts.empty() ? n : cuts.front().after + 1;
    int last = cuts.empty() ? n : cuts.back().after + 1;
    floor = std::max(peakOver(0, first), peakOver(last, n));
    for (size_t b = 0; b + 1 < cuts.size(); ++b) {
      blockPeak.push_back(peakOver(cuts[b].after + 1, cuts[b + 1].after + 1));
      tileable.push_back(isTileable(f, cuts[b], cuts[b + 1]));
    }
  }

  /// The cheapest plan whose blocks and segments peak at most at `budget`,
  /// if any.
  llvm::Expected<std::optional<Plan>> fit(int64_t budget) {
    if (floor > budget)
      return std::nullopt;
    size_t n = blockPeak.size();
    // best[j]: the cheapest cover of blocks [0, j).
    std::vector<std::optional<Plan>> best(n + 1);
    best[0] = Plan{{}, floor, 0};
    for (size_t j = 1; j <= n; ++j) {
      if (best[j - 1] && blockPeak[j - 1] <= budget)
        best[j] = extend(*best[j - 1], std::nullopt, {blockPeak[j - 1], 0});
      for (size_t i = j; i-- > 0 && j - i <= kMaxSpan && tileable[i];) {
        if (!best[i] || !needsPatches(i, j, budget))
          continue;
        auto choice = cheapestGrid(i, j, budget);
        if (!choice)
          return choice.takeError();
        if (!*choice)
          continue;
        Plan candidate = extend(*best[i], (*choice)->first, (*choice)->second);
        if (!best[j] || candidate.extraWork < best[j]->extraWork)
          best[j] = std::move(candidate);
      }
    }
    return best[n];
  }

  /// The plan with the smallest peak found: budgets lowered until none
  /// fits.
  llvm::Expected<Plan> smallest() {
    Plan plan;
    for (int64_t budget = std::numeric_limits<int64_t>::max();;
         budget = plan.peak - 1) {
      auto lower = fit(budget);
      if (!lower)
        return lower.takeError();
      if (!*lower)
        return plan;
      plan = std::move(**lower);
    }
  }

  /// The exact arena size of the function with `plan` applied.
  llvm::Expected<int64_t> arenaOf(const Plan &plan) const {
    Function patched = f;
    if (auto err = runInPatches(patched, plan.segments))
      return err;
    return planned(selected(patched)).size;
  }

private:
  static Plan extend(const Plan &prefix, std::optional<PatchSchedule> segment,
                     const Score &score) {
    Plan plan = prefix;
    if (segment)
      plan.segments.push_back(*segment);
    plan.peak = std::max(plan.peak, score.peak);
    plan.extraWork += score.extraWork;
    return plan;
  }

  bool needsPatches(size_t i, size_t j, int64_t budget) const {
    for (size_t b = i; b < j; ++b)
      if (blockPeak[b] > budget)
        return true;
    return false;
  }

  /// The grid with the least extra work for blocks [i, j) that fits `budget`.
  llvm::Expected<std::optional<std::pair<PatchSchedule, Score>>>
  cheapestGrid(size_t i, size_t j, int64_t budget) {
    const TensorType &out = f.type(cuts[j].value);
    std::optional<std::pair<PatchSchedule, Score>> best;
    for (auto [rows, cols] : kGrids) {
      if (rows > out.shape[2] || cols > out.shape[3])
        continue;
      PatchSchedule s{cuts[i], cuts[j], rows, cols};
      auto score = scored(s);
      if (!score)
        return score.takeError();
      if (score->peak <= budget &&
          (!best || score->extraWork < best->second.extraWork))
        best = {s, *score};
    }
    return best;
  }

  /// The arena peak while segment `s` runs patched, and the work it adds.
  /// Planned alone, the segment's input and output are not in its arena;
  /// in the function's, when they are arena values, the input is live
  /// until its last slice and the output is written by the last op.
  llvm::Expected<Score> scored(const PatchSchedule &s) {
    auto key = std::make_tuple(s.from.after, s.to.after, s.rows, s.cols);
    if (auto it = cache.find(key); it != cache.end())
      return it->second;
    Function g = segmentFunction(s);
    int64_t before = work(selected(g));
    int last = static_cast<int>(g.ops.size()) - 1;
    if (auto err = runInPatches(
            g, {{{-1, s.from.value}, {last, s.to.value}, s.rows, s.cols}}))
      return err;
    Function h = selected(g);
    MemoryPlan plan = planned(h);
    size_t lastRead = 0;
    for (size_t k = 0; k < g.ops.size(); ++k)
      if (llvm::is_contained(g.ops[k].operands, s.from.value))
        lastRead = k;
    auto bytes = [&](ValueId v) {
      return inArena[v] ? f.type(v).byteSize() : 0;
    };
    int64_t peak = 0;
    for (size_t k = 0; k < g.ops.size(); ++k)
      peak = std::max(peak, plan.liveBytes[k] +
                                (k <= lastRead ? bytes(s.from.value) : 0) +
                                (k + 1 == g.ops.size() ? bytes(s.to.value) : 0));
    return cache[key] = {peak, work(h) - before};
  }

  /// The ops of segment `s` as a function of its input, the constants it
  /// uses first.
  Function segmentFunction(const PatchSchedule &s) const {
    Function g;
    g.valueTypes = f.valueTypes;
    g.args = {s.from.value};
    g.argNames = {"input"};
    g.results = {s.to.value};
    g.resultNames = {"output"};
    std::vector<int> defs = f.definingOps();
    std::vector<bool> taken(f.ops.size(), false);
    for (int i = s.from.after + 1; i <= s.to.after; ++i)
      for (ValueId v : f.ops[i].operands) {
        int d = defs[v];
        if (d >= 0 && d <= s.from.after && !taken[d] &&
            f.ops[d].kind == OpKind::Constant) {
          taken[d] = true;
          g.ops.push_back(f.ops[d]);
        }
      }
    g.ops.insert(g.ops.end(), f.ops.begin() + s.from.after + 1,
                 f.ops.begin() + s.to.after + 1);
    return g;
  }

  /// `g` with the kernels and epilogue groups the rest of the pipeline
  /// gives it.
  Function selected(const Function &g) const {
    Module m{{g}};
    llvm::cantFail(fuseEpilogues(m));
    llvm::cantFail(selectKernels(m, opts));
    return std::move(m.functions.front());
  }

  static MemoryPlan planned(const Function &h) {
    return planMemory(h, workspaceBytes(h), fusionProducers(h));
  }

  /// The MACs the kernels selected in `h` execute.
  static int64_t work(const Function &h) {
    int64_t total = 0;
    for (const Op &op : h.ops) {
      auto it = op.attrs.find("ukernel");
      auto choice = it == op.attrs.end()
                        ? std::nullopt
                        : parseKernelName(op.getString("ukernel"));
      total += choice ? executedMacs(*choice, h, op) : opMacs(h, op);
    }
    return total;
  }

  const Function &f;
  const PassOptions &opts;
  std::vector<Cut> cuts;
  std::vector<bool> inArena;
  std::vector<int64_t> blockPeak;
  std::vector<bool> tileable;
  int64_t floor = 0;
  std::map<std::tuple<int, int, int64_t, int64_t>, Score> cache;
};

llvm::Error budgetError(int64_t budget, int64_t smallest) {
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      fmt::format("--max-ram={}: the model needs at least {} bytes of "
                  "scratch, the smallest arena mnc can schedule",
                  budget, smallest));
}

/// The plan for `f`: without a budget the smallest; with one, the
/// cheapest found whose exact arena fits it. Fragmentation can make the
/// arena exceed the peak the blocks were fitted to, so when the plan
/// fitted to the budget does not fit, lower peaks are tried: the budget
/// less the excess, then a bisection between the smallest plan's peak and
/// the budget; the fitting plan with the least extra work wins.
llvm::Expected<Plan> choosePlan(Scheduler &scheduler, const PassOptions &opts) {
  if (!opts.maxRam)
    return scheduler.smallest();
  int64_t budget = *opts.maxRam;
  std::optional<Plan> best;
  // Fits the blocks to `peak`; returns the arena's excess over the budget
  // (0 when it fits, and the plan is then considered), or nullopt when no
  // plan reaches that peak.
  auto probe = [&](int64_t peak) -> llvm::Expected<std::optional<int64_t>> {
    auto plan = scheduler.fit(peak);
    if (!plan)
      return plan.takeError();
    if (!*plan)
      return std::nullopt;
    auto size = scheduler.arenaOf(**plan);
    if (!size)
      return size.takeError();
    if (*size > budget)
      return *size - budget;
    if (!best || (*plan)->extraWork < best->extraWork)
      best = std::move(**plan);
    return 0;
  };
  int64_t lo = 0, peak = budget;
  for (int attempt = 0; attempt < 3 && !best; ++attempt) {
    auto excess = probe(peak);
    if (!excess)
      return excess.takeError();
    if (!*excess)
      break;
    if (**excess == 0 && attempt == 0)
      return std::move(*best);
    if (**excess == 0)
      lo = peak;
    peak -= **excess;
  }
  if (!best) {
    auto least = scheduler.smallest();
    if (!least)
      return least.takeError();
    auto size = scheduler.arenaOf(*least);
    if (!size)
      return size.takeError();
    if (*size > budget)
      return budgetError(budget, *size);
    lo = least->peak;
    best = std::move(*least);
  }
  // To within 1/64 of the budget: each step plans candidate segments anew.
  for (int64_t hi = budget - 1; hi - lo > budget / 64;) {
    int64_t mid = lo + (hi - lo + 1) / 2;
    auto excess = probe(mid);
    if (!excess)
      return excess.takeError();
    if (*excess && **excess == 0)
      lo = mid;
    else
      hi = mid - 1;
  }
  return std::move(*best);
}

} // namespace

llvm::Error fuseBlocks(Module &m, const PassOptions &opts) {
  if (!opts.maxRam && !opts.target.microcontroller)
    return llvm::Error::success();
  for (Function &f : m.functions) {
    Scheduler scheduler(f, opts);
    auto plan = choosePlan(scheduler, opts);
    if (!plan)
      return plan.takeError();
    if (auto err = runInPatches(f, plan->segments))
      return err;
  }
  return llvm::Error::success();
}

} // namespace mnc
