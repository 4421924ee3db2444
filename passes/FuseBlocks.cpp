// fuse-blocks: decides which chains of blocks run patch by patch
// (passes/Patches.h), and on how many patches, so that the scratch arena
// fits a RAM budget with the fewest recomputed MACs.
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
/// its halos recompute.
struct Score {
  int64_t peak = 0;
  int64_t extraMacs = 0;
};

/// A schedule of the whole function: its patched segments and its cost.
struct Plan {
  std::vector<PatchSchedule> segments;
  int64_t peak = 0;
  int64_t extraMacs = 0;
};

class Scheduler {
public:
  Scheduler(const Function &f, const PassOptions &opts)
      : f(f), opts(opts), cuts(findCuts(f)), inArena(arenaValues(f)) {
    MemoryPlan plan = planned(f);
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
        if (!best[j] || candidate.extraMacs < best[j]->extraMacs)
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
    return planned(patched).size;
  }

private:
  static Plan extend(const Plan &prefix, std::optional<PatchSchedule> segment,
                     const Score &score) {
    Plan plan = prefix;
    if (segment)
      plan.segments.push_back(*segment);
    plan.peak = std::max(plan.peak, score.peak);
    plan.extraMacs += score.extraMacs;
    return plan;
  }

  bool needsPatches(size_t i, size_t j, int64_t budget) const {
    for (size_t b = i; b < j; ++b)
      if (blockPeak[b] > budget)
        return true;
    return false;
  }

  /// The grid with the fewest MACs for blocks [i, j) that fits `budget`.
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
          (!best || score->extraMacs < best->second.extraMacs))
        best = {s, *score};
    }
    return best;
  }

  /// The arena peak while segment `s` runs patched, and the MACs it adds.
  /// Planned alone, the segment's input and output are not in its arena;
  /// in the function's, when they are arena values, the input is live
  /// until its last slice and the output is written by the last op.
  llvm::Expected<Score> scored(const PatchSchedule &s) {
    auto key = std::make_tuple(s.from.after, s.to.after, s.rows, s.cols);
    if (auto it = cache.find(key); it != cache.end())
      return it->second;
    Function g = segmentFunction(s);
    int64_t macs = macCount(g);
    int last = static_cast<int>(g.ops.size()) - 1;
    if (auto err = runInPatches(
            g, {{{-1, s.from.value}, {last, s.to.value}, s.rows, s.cols}}))
      return err;
    MemoryPlan plan = planned(g);
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
    return cache[key] = {peak, macCount(g) - macs};
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

  /// The arena plan of `g` with the kernels and fusion groups the rest of
  /// the pipeline gives it.
  MemoryPlan planned(const Function &g) const {
    Module m{{g}};
    llvm::cantFail(fuseEpilogues(m));
    llvm::cantFail(selectKernels(m, opts));
    const Function &h = m.functions.front();
    return planMemory(h, workspaceBytes(h), fusionProducers(h));
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

/// The plan for `f`: the cheapest that fits `opts.maxRam` (what
/// fragmentation adds to the arena taken off the budget the blocks are
/// fitted to, when it made the arena exceed it), else the smallest.
llvm::Expected<Plan> choosePlan(Scheduler &scheduler, const PassOptions &opts) {
  if (!opts.maxRam)
    return scheduler.smallest();
  int64_t budget = *opts.maxRam;
  for (int attempt = 0; attempt < 4 && budget > 0; ++attempt) {
    auto plan = scheduler.fit(budget);
    if (!plan)
      return plan.takeError();
    if (!*plan)
      break;
    auto size = scheduler.arenaOf(**plan);
    if (!size)
      return size.takeError();
    if (*size <= *opts.maxRam)
      return std::move(**plan);
    budget -= *size - *opts.maxRam;
  }
  auto least = scheduler.smallest();
  if (!least)
    return least.takeError();
  auto size = scheduler.arenaOf(*least);
  if (!size)
    return size.takeError();
  if (*size <= *opts.maxRam)
    return least;
  return budgetError(*opts.maxRam, *size);
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
