// The memory timeline `mnc inspect --plot` draws: arena bytes live at each
// step of an inference, for one or more schedules of the same model, as an
// SVG line chart. Steps are placed by the MACs done before them, so
// schedules with different op counts share the horizontal axis.
#pragma once

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mnc::tool {

/// One schedule's timeline: per step, the MACs done before it and the
/// arena bytes live while it runs.
struct MemoryTimeline {
  std::string label;
  std::vector<int64_t> macsBefore, liveBytes;
  int64_t totalMacs = 0;
  int64_t arenaBytes = 0; ///< The arena size, drawn as a dashed line.
};

/// The SVG text of the chart titled `title`.
std::string memoryPlotSvg(llvm::StringRef title,
                          llvm::ArrayRef<MemoryTimeline> timelines);

/// Writes the chart to `path`, which must end in .svg.
llvm::Error writeMemoryPlot(llvm::StringRef path, llvm::StringRef title,
                            llvm::ArrayRef<MemoryTimeline> timelines);

} // namespace mnc::tool
