// The accuracy report of post-training quantization, as Markdown for people
// and JSON for scripts.
#include "compiler/Calibrate.h"

#include "llvm/Support/JSON.h"

#include <fmt/format.h>

#include <algorithm>

namespace mnc {
namespace {

/// How many of the lowest-SQNR quantized layers the report flags.
constexpr size_t numWorst = 3;

std::vector<int> worstLayers(const QuantReport &r) {
  std::vector<const QuantReport::Layer *> quantized;
  for (const QuantReport::Layer &l : r.layers)
    if (l.quantized)
      quantized.push_back(&l);
  std::stable_sort(quantized.begin(), quantized.end(),
                   [](auto *a, auto *b) { return a->sqnrDb < b->sqnrDb; });
  std::vector<int> worst;
  for (size_t i = 0; i < std::min(numWorst, quantized.size()); ++i)
    worst.push_back(quantized[i]->number);
  return worst;
}

std::string db(double x) {
  return std::isinf(x) ? std::string("inf") : fmt::format("{:.2f}", x);
}

/// A number JSON can carry: an exact match (infinite SQNR) becomes null.
llvm::json::Value jsonDb(double x) {
  return std::isfinite(x) ? llvm::json::Value(x) : llvm::json::Value(nullptr);
}

void writeMarkdown(const QuantReport &r, llvm::raw_ostream &os) {
  std::vector<int> worst = worstLayers(r);
  os << "# Quantization report\n\n"
     << fmt::format("{} calibration input{}, measured in {:.1f} s. SQNR = 10 "
                    "log10(sum x^2 / sum (x - x_int8)^2) over all inputs, x "
                    "the fp32 value.\n\n",
                    r.samples, r.samples == 1 ? "" : "s", r.seconds)
     << "| output | SQNR (dB) | argmax agreement |\n|---|---|---|\n";
  for (const QuantReport::Output &o : r.outputs)
    os << fmt::format("| {} | {} | {:.2f} % of {} |\n", o.name, db(o.sqnrDb),
                      100 * o.argmaxAgreement, o.positions);
  os << "\n| layer | computed by | type | precision | SQNR (dB) | |\n"
     << "|---|---|---|---|---|---|\n";
  for (const QuantReport::Layer &l : r.layers)
    os << fmt::format("| {} | {} | `{}` | {} | {} | {} |\n", l.number, l.label,
                      l.type, l.quantized ? "int8" : "f32", db(l.sqnrDb),
                      llvm::is_contained(worst, l.number) ? "**worst**" : "");
}

void writeJson(const QuantReport &r, llvm::raw_ostream &os) {
  llvm::json::Array layers, outputs, worst;
  for (const QuantReport::Layer &l : r.layers)
    layers.push_back(llvm::json::Object{{"layer", l.number},
                                        {"computed_by", l.label},
                                        {"type", l.type},
                                        {"quantized", l.quantized},
                                        {"sqnr_db", jsonDb(l.sqnrDb)}});
  for (const QuantReport::Output &o : r.outputs)
    outputs.push_back(
        llvm::json::Object{{"name", o.name},
                           {"sqnr_db", jsonDb(o.sqnrDb)},
                           {"argmax_agreement", o.argmaxAgreement},
                           {"positions", o.positions}});
  for (int n : worstLayers(r))
    worst.push_back(n);
  os << llvm::formatv("{0:2}", llvm::json::Value(llvm::json::Object{
                                   {"samples", r.samples},
                                   {"seconds", r.seconds},
                                   {"outputs", std::move(outputs)},
                                   {"layers", std::move(layers)},
                                   {"worst_layers", std::move(worst)}}))
     << "\n";
}

} // namespace

void writeReport(const QuantReport &r, bool json, llvm::raw_ostream &os) {
  if (json)
    writeJson(r, os);
  else
    writeMarkdown(r, os);
}

} // namespace mnc
