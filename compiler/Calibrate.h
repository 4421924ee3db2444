// Post-training quantization of an fp32 module: activation statistics from
// running the model on calibration inputs, the quantize -> dequantize pairs
// they place in the model (which the quantize and fold-qdq passes turn into
// integer ops), and the accuracy report of the result.
#pragma once

#include "ir/IR.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <string>
#include <vector>

namespace mnc {

/// How an activation's range is chosen from what calibration observed.
enum class RangeMethod {
  /// The smallest and largest value seen.
  MinMax,
  /// The `percentile`-th and (100 - `percentile`)-th percentiles.
  Percentile,
  /// The clip of the observed range that minimizes the expected squared
  /// quantization error (clipping plus rounding) over the histogram.
  Mse,
};

struct QuantizeOptions {
  /// Element kind of the activations (i8 or u8); weights are always i8.
  ElemKind activations = ElemKind::I8;
  RangeMethod method = RangeMethod::Percentile;
  float percentile = 99.99f;
  /// Layers (numbers of the report) left in f32.
  std::vector<int> keepFloat;
  /// Layers whose SQNR falls below this (dB) are left in f32 too, after a
  /// first quantization measured them; NaN: none.
  double minSqnr = std::nan("");
};

/// One activation that is quantized: a value of the fp32 function, its
/// number in the report, and what computes it.
struct QuantLayer {
  ValueId value;
  std::string label;
};

/// Accuracy of a quantized module against the fp32 one over the
/// calibration inputs.
struct QuantReport {
  struct Layer {
    int number;
    std::string label;
    std::string type;
    bool quantized;
    double sqnrDb;
  };
  std::vector<Layer> layers;
  struct Output {
    std::string name;
    double sqnrDb;
    /// Fraction of argmax positions over axis 1 (class, or class per
    /// pixel) where the quantized output agrees with the fp32 one.
    double argmaxAgreement;
    int64_t positions;
  };
  std::vector<Output> outputs;
  int samples = 0;
  double seconds = 0;
};

/// Parses a --calibration-method value: minmax, percentile=P or mse.
llvm::Error parseRangeMethod(llvm::StringRef text, QuantizeOptions &opts);

/// The activations of `f` that quantization places QDQ pairs on, in order.
std::vector<QuantLayer> quantLayers(const Function &f);

/// Rewrites the function @main of `m` into QDQ form: a quantize ->
/// dequantize pair after each of its quantLayers except those kept f32,
/// with parameters from running it on `samples` (one tensor per argument
/// each). Progress goes to `progress`. With `report`, also measures the
/// result after the quantize and fold-qdq passes against the fp32 module.
llvm::Error calibrate(Module &m, llvm::ArrayRef<std::vector<Tensor>> samples,
                      const QuantizeOptions &opts, llvm::raw_ostream &progress,
                      QuantReport *report = nullptr);

/// Writes `r` as Markdown (a table per layer, the worst flagged) or, with
/// `json`, as one JSON object.
void writeReport(const QuantReport &r, bool json, llvm::raw_ostream &os);

} // namespace mnc
