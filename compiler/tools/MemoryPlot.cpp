// SVG line chart of memory timelines; see MemoryPlot.h.
#include "compiler/tools/MemoryPlot.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/ToolOutputFile.h"

#include <fmt/format.h>

#include <algorithm>

namespace mnc::tool {
namespace {

constexpr double kWidth = 720, kHeight = 400;
constexpr double kLeft = 80, kRight = 20, kTop = 40, kBottom = 50;
constexpr const char *kColors[] = {"#888888", "#1f77b4", "#d62728",
                                   "#2ca02c"};

/// A round step for `ticks` axis labels up to `max`.
int64_t tickStep(int64_t max, int ticks) {
  int64_t step = 1;
  while (step * ticks < max)
    step *= step % 3 == 1 ? 2 : 5; // 1, 2, 10, 20, 100, ...
  return step;
}

std::string bytesLabel(int64_t bytes) {
  if (bytes >= 1 << 20)
    return fmt::format("{:.1f} MiB", bytes / double(1 << 20));
  if (bytes >= 1 << 10)
    return fmt::format("{:.0f} KiB", bytes / double(1 << 10));
  return fmt::format("{} B", bytes);
}

} // namespace

std::string memoryPlotSvg(llvm::StringRef title,
                          llvm::ArrayRef<MemoryTimeline> timelines) {
  int64_t maxBytes = 1;
  for (const MemoryTimeline &t : timelines) {
    maxBytes = std::max(maxBytes, t.arenaBytes);
    for (int64_t b : t.liveBytes)
      maxBytes = std::max(maxBytes, b);
  }
  double plotW = kWidth - kLeft - kRight, plotH = kHeight - kTop - kBottom;
  auto x = [&](const MemoryTimeline &t, int64_t macs) {
    return kLeft + plotW * (t.totalMacs ? double(macs) / t.totalMacs : 0.0);
  };
  auto y = [&](int64_t bytes) {
    return kTop + plotH * (1.0 - double(bytes) / maxBytes);
  };
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{}\" y=\"24\" font-size=\"15\">{}</text>\n",
      kWidth, kHeight, kLeft, title.str());
  int64_t step = tickStep(maxBytes, 5);
  for (int64_t b = 0; b <= maxBytes; b += step)
    svg += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" "
        "stroke=\"#eeeeee\"/><text x=\"{3}\" y=\"{4:.1f}\" "
        "text-anchor=\"end\">{5}</text>\n",
        kLeft, kWidth - kRight, y(b), kLeft - 6, y(b) + 4, bytesLabel(b));
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">"
                     "progress of the inference (share of its MACs "
                     "done)</text>\n",
                     kLeft + plotW / 2, kHeight - 12);
  for (size_t k = 0; k < timelines.size(); ++k) {
    const MemoryTimeline &t = timelines[k];
    const char *color = kColors[k % std::size(kColors)];
    std::string points;
    for (size_t i = 0; i < t.liveBytes.size(); ++i) {
      int64_t end = i + 1 < t.macsBefore.size() ? t.macsBefore[i + 1]
                                                : t.totalMacs;
      points += fmt::format("{:.1f},{:.1f} {:.1f},{:.1f} ",
                            x(t, t.macsBefore[i]), y(t.liveBytes[i]),
                            x(t, end), y(t.liveBytes[i]));
    }
    svg += fmt::format("<polyline fill=\"none\" stroke=\"{}\" "
                       "stroke-width=\"1.5\" points=\"{}\"/>\n",
                       color, points);
    svg += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" "
        "stroke=\"{3}\" stroke-dasharray=\"4 3\"/>\n",
        kLeft, kWidth - kRight, y(t.arenaBytes), color);
    svg += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"{}\">{}: arena {} "
                       "bytes</text>\n",
                       kLeft + 10, kTop + 16 + 16 * k, color, t.label,
                       t.arenaBytes);
  }
  svg += "</svg>\n";
  return svg;
}

llvm::Error writeMemoryPlot(llvm::StringRef path, llvm::StringRef title,
                            llvm::ArrayRef<MemoryTimeline> timelines) {
  if (!path.ends_with(".svg"))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "--plot=%s: the plot is an SVG file; name "
                                   "it FILE.svg",
                                   path.str().c_str());
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return llvm::createStringError(ec, "--plot=%s: %s", path.str().c_str(),
                                   ec.message().c_str());
  out.os() << memoryPlotSvg(title, timelines);
  out.keep();
  return llvm::Error::success();
}

} // namespace mnc::tool
