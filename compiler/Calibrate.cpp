// Calibration: the fp32 module runs on each calibration input with every
// activation to quantize exposed as a result; the observed ranges become
// per-tensor affine parameters (ir/Math.h), written into the module as
// quantize -> dequantize pairs where ONNX Runtime's static quantizer puts
// them: on the graph inputs and after each conv (after its relu or clip),
// add, mul, pool, concat and activation. The quantize and fold-qdq passes
// then make the convolutions and the classifier integer ops.
//
// The statistics come from the model compiled for this machine with every
// activation as an output, linked into this process (HostModel): a few
// seconds of compilation, then milliseconds per input, where the reference
// interpreter takes 0.3 s per input of MobileNetV2 224.
#include "compiler/Calibrate.h"

#include "backends/Compile.h"
#include "compiler/Pipeline.h"
#include "ir/Math.h"

#include "llvm/ADT/StringExtras.h"

#include <fmt/format.h>

#include <chrono>

namespace mnc {
namespace {

llvm::Error fail(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Ops whose f32 result is an activation worth quantizing: what int8
/// models compute in integers or between integer ops.
bool isActivationOp(OpKind k) {
  switch (k) {
  case OpKind::Conv2d:
  case OpKind::MatMul:
  case OpKind::Add:
  case OpKind::Sub:
  case OpKind::Mul:
  case OpKind::Relu:
  case OpKind::Clip:
  case OpKind::LeakyRelu:
  case OpKind::PRelu:
  case OpKind::Sigmoid:
  case OpKind::Tanh:
  case OpKind::HardSwish:
  case OpKind::HardSigmoid:
  case OpKind::MaxPool:
  case OpKind::AvgPool:
  case OpKind::ReduceMean:
  case OpKind::Concat:
  case OpKind::Resize:
    return true;
  default:
    return false;
  }
}

/// The op that absorbs an activation when it is the value's only user: a
/// relu or clip (the quantized output saturates instead), the bias add of a
/// matmul, a reshape (the quantized tensor is reshaped instead), and the mul
/// of a gate (hard-swish's x * hard_sigmoid(x), the SE block's scaling),
/// whose [0, 1] factor would lose most of its 256 steps on its own.
bool absorbs(const Function &f, const Op &producer, const Op &user) {
  switch (user.kind) {
  case OpKind::Relu:
  case OpKind::Clip:
  case OpKind::Reshape:
    return true;
  case OpKind::Mul:
    return producer.kind == OpKind::HardSigmoid ||
           producer.kind == OpKind::Sigmoid;
  case OpKind::Add:
    return producer.kind == OpKind::MatMul &&
           f.constantValue(user.operands[1]) != nullptr;
  default:
    return false;
  }
}

/// Bins of the histograms of percentile and mse: 8 per step of an 8-bit
/// quantization of the whole observed range.
constexpr int numBins = 2048;

/// What calibration observed of one activation: its range and a histogram
/// over it, in one pass over the inputs.
struct Stats {
  float lo = std::numeric_limits<float>::infinity();
  float hi = -std::numeric_limits<float>::infinity();
  /// Counts over [lo, hi] in numBins bins.
  std::vector<double> histogram;

  void add(llvm::ArrayRef<float> xs) {
    if (xs.empty())
      return;
    float newLo = lo, newHi = hi;
    for (float x : xs)
      newLo = std::min(newLo, x), newHi = std::max(newHi, x);
    if (histogram.empty() || newLo < lo || newHi > hi)
      widen(newLo, newHi);
    double width = (double(hi) - lo) / numBins;
    for (float x : xs)
      histogram[bin(x, lo, width)] += 1;
  }

private:
  static int bin(double x, double lo, double width) {
    return std::clamp(width > 0 ? int((x - lo) / width) : 0, 0, numBins - 1);
  }
  // The counts so far move to the bin of the wider range that holds their
  // bin's centre: an error of at most one bin, as PyTorch's
  // HistogramObserver, instead of a second pass over the inputs.
  void widen(float newLo, float newHi) {
    std::vector<double> h(numBins, 0);
    double width = (double(hi) - lo) / numBins;
    double newWidth = (double(newHi) - newLo) / numBins;
    for (size_t b = 0; b < histogram.size(); ++b)
      h[bin(lo + (b + 0.5) * width, newLo, newWidth)] += histogram[b];
    histogram = std::move(h);
    lo = newLo, hi = newHi;
  }
};

/// `f` with `values` as extra results, so that running it returns
/// them after the function's own results.
Function probe(const Function &f, llvm::ArrayRef<ValueId> values) {
  Function p = f;
  for (ValueId v : values) {
    p.results.push_back(v);
    p.resultNames.push_back(fmt::format("v{}", v));
  }
  return p;
}

/// `f` through the pipeline (quantizing the weights QDQ pairs enclose if
/// `quantizeWeights`) and compiled for this machine.
llvm::Expected<std::unique_ptr<HostModel>>
compileForHost(const Function &f, bool quantizeWeights,
               llvm::raw_ostream &progress) {
  if (progress.is_displayed())
    progress << "\rmnc: compiling the model to calibrate it";
  auto target = kernelTarget(TargetSpec{});
  if (!target)
    return target.takeError();
  Module m;
  m.functions.push_back(f);
  PipelineOptions opts;
  opts.target = *target;
  opts.quantizeWeights = quantizeWeights;
  if (auto err = runPipeline(m, opts))
    return err;
  return HostModel::load(m);
}

/// Runs `models` on each sample and hands their results to `use`,
/// reporting progress as "what i/n".
llvm::Error forEachSample(
    llvm::ArrayRef<HostModel *> models,
    llvm::ArrayRef<std::vector<Tensor>> samples, llvm::StringRef what,
    llvm::raw_ostream &progress,
    llvm::function_ref<void(std::vector<std::vector<Tensor>> &)> use) {
  for (size_t i = 0; i < samples.size(); ++i) {
    if (progress.is_displayed())
      progress << fmt::format("\rmnc: {} {}/{}\033[K", what.str(), i + 1,
                              samples.size());
    std::vector<std::vector<Tensor>> results;
    for (HostModel *model : models) {
      auto r = model->run(samples[i]);
      if (!r)
        return r.takeError();
      results.push_back(std::move(*r));
    }
    use(results);
  }
  if (progress.is_displayed())
    progress << "\r\033[K";
  return llvm::Error::success();
}

llvm::ArrayRef<float> floats(const Tensor &t) {
  return {t.data<float>(), static_cast<size_t>(t.numElements())};
}

/// The fp32 function `f` with each layer's value as a result after its
/// own, compiled for this machine: what calibration observes.
llvm::Expected<std::unique_ptr<HostModel>>
compileProbe(const Function &f, llvm::ArrayRef<QuantLayer> layers,
             llvm::raw_ostream &progress) {
  std::vector<ValueId> values;
  for (const QuantLayer &l : layers)
    values.push_back(l.value);
  return compileForHost(probe(f, values), false, progress);
}

/// Runs `ref` (compileProbe of `f`) on the samples and observes each
/// layer's values.
llvm::Expected<std::vector<Stats>> collectStats(
    const Function &f, HostModel &ref, llvm::ArrayRef<QuantLayer> layers,
    llvm::ArrayRef<std::vector<Tensor>> samples, llvm::raw_ostream &progress) {
  size_t first = f.results.size();
  std::vector<Stats> stats(layers.size());
  auto observe = [&](std::vector<std::vector<Tensor>> &results) {
    for (size_t i = 0; i < layers.size(); ++i)
      stats[i].add(floats(results[0][first + i]));
  };
  if (auto err =
          forEachSample({&ref}, samples, "calibrating", progress, observe))
    return err;
  return stats;
}

std::pair<int32_t, int32_t> quantRange(ElemKind k) {
  return k == ElemKind::U8 ? std::pair(0, 255) : std::pair(-128, 127);
}

/// The percentiles 100 - P and P of the histogram.
std::pair<float, float> percentileRange(const Stats &s, float percentile) {
  double total = 0;
  for (double n : s.histogram)
    total += n;
  double width = (double(s.hi) - s.lo) / numBins;
  double lowCount = total * (100 - percentile) / 100, seen = 0;
  int lo = 0, hi = numBins - 1;
  while (lo < numBins - 1 && seen + s.histogram[lo] <= lowCount)
    seen += s.histogram[lo++];
  seen = 0;
  while (hi > 0 && seen + s.histogram[hi] <= lowCount)
    seen += s.histogram[hi--];
  return {float(s.lo + lo * width), float(s.lo + (hi + 1) * width)};
}

// The expected squared error of quantizing the histogram to [lo, hi]: a
// value outside is clipped to the bound, one inside is off by a uniform
// rounding error of variance step^2 / 12.
double quantizationError(const Stats &s, double lo, double hi, int levels) {
  double width = (double(s.hi) - s.lo) / numBins;
  double step = (hi - lo) / levels, err = 0;
  for (int b = 0; b < numBins; ++b) {
    double c = s.lo + (b + 0.5) * width;
    double d = c < lo ? c - lo : c > hi ? c - hi : 0;
    err += s.histogram[b] * (d * d + step * step / 12);
  }
  return err;
}

/// The scaling of the observed range, from 100 % down to 20 % in 1 %
/// steps, that minimizes quantizationError.
std::pair<float, float> mseRange(const Stats &s, int levels) {
  double lo = std::fmin(s.lo, 0.0f), hi = std::fmax(s.hi, 0.0f);
  double best = quantizationError(s, lo, hi, levels), bestAlpha = 1;
  for (int pct = 99; pct >= 20; --pct) {
    double a = pct / 100.0;
    double err = quantizationError(s, a * lo, a * hi, levels);
    if (err < best)
      best = err, bestAlpha = a;
  }
  return {float(bestAlpha * lo), float(bestAlpha * hi)};
}

/// How much wider than observed the range of a model output is.
constexpr float outputMargin = 2;

/// The parameters of an activation. A model output is never clipped: its
/// extremes are the answer (the winning logit is the largest value of its
/// tensor), and they vary more between inputs than any other value, so it
/// gets outputMargin times its observed range; that costs 6 dB of this one
/// tensor's rounding noise, far below what the layers before it add.
QuantParams chooseParams(const Stats &s, const QuantizeOptions &opts,
                         bool isOutput) {
  auto [qmin, qmax] = quantRange(opts.activations);
  auto [lo, hi] = isOutput ? std::pair(s.lo * outputMargin, s.hi * outputMargin)
                  : opts.method == RangeMethod::Percentile
                      ? percentileRange(s, opts.percentile)
                  : opts.method == RangeMethod::Mse ? mseRange(s, qmax - qmin)
                                                    : std::pair(s.lo, s.hi);
  math::AffineParams p = math::affineParams(lo, hi, qmin, qmax);
  return {{p.scale}, {p.zeroPoint}, std::nullopt};
}

/// `f` with a quantize -> dequantize pair after each quantized layer;
/// `dequantized[i]` receives the dequantize of layer i (its own value if
/// it stays f32).
Function insertQdq(const Function &f, llvm::ArrayRef<QuantLayer> layers,
                   llvm::ArrayRef<std::optional<QuantParams>> params,
                   ElemKind elem, std::vector<ValueId> &dequantized) {
  Function q = f;
  std::vector<ValueId> replace(f.valueTypes.size());
  for (ValueId v = 0; v < replace.size(); ++v)
    replace[v] = v;
  std::vector<int> layerOf(f.valueTypes.size(), -1);
  for (size_t i = 0; i < layers.size(); ++i)
    layerOf[layers[i].value] = static_cast<int>(i);
  dequantized.assign(layers.size(), 0);
  std::vector<Op> ops;
  auto pairAfter = [&](ValueId v) {
    int i = layerOf[v];
    if (i < 0)
      return;
    dequantized[i] = v;
    if (!params[i])
      return;
    TensorType t = q.type(v);
    ValueId qv = q.newValue(TensorType(elem, t.shape, params[i]));
    ValueId dv = q.newValue(t);
    ops.push_back({OpKind::Quantize, {v}, {qv}, {}});
    ops.push_back({OpKind::Dequantize, {qv}, {dv}, {}});
    replace[v] = dequantized[i] = dv;
  };
  for (ValueId a : f.args)
    pairAfter(a);
  for (Op op : f.ops) {
    for (ValueId &o : op.operands)
      o = replace[o];
    ops.push_back(op);
    for (ValueId r : op.results)
      pairAfter(r);
  }
  for (ValueId &r : q.results)
    r = replace[r];
  q.ops = std::move(ops);
  return q;
}

// SQNR = 10 log10(sum x^2 / sum (x - x')^2) in dB.
struct ErrorSum {
  double signal = 0, noise = 0;
  void add(const Tensor &ref, const Tensor &got) {
    llvm::ArrayRef<float> x = floats(ref), y = floats(got);
    for (size_t i = 0; i < x.size(); ++i)
      signal += double(x[i]) * x[i],
          noise += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
  }
  double sqnrDb() const {
    return noise == 0 ? std::numeric_limits<double>::infinity()
                      : 10 * std::log10(signal / noise);
  }
};

/// Positions where the argmax over axis 1 (over all of a rank-1 tensor) of
/// a and b agree, and how many positions there are.
std::pair<int64_t, int64_t> argmaxAgreement(const Tensor &a, const Tensor &b) {
  const auto &shape = a.type.shape;
  bool flat = shape.size() < 2;
  int64_t outer = flat ? 1 : shape[0];
  int64_t channels = flat ? a.numElements() : shape[1];
  int64_t inner = channels ? a.numElements() / (outer * channels) : 0;
  const float *x = a.data<float>(), *y = b.data<float>();
  int64_t same = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float *px = x + o * channels * inner + i;
      const float *py = y + o * channels * inner + i;
      int64_t ax = 0, ay = 0;
      for (int64_t c = 1; c < channels; ++c) {
        ax = px[c * inner] > px[ax * inner] ? c : ax;
        ay = py[c * inner] > py[ay * inner] ? c : ay;
      }
      same += ax == ay;
    }
  return {same, outer * inner};
}

/// Measures QDQ function `q` (after the quantize and fold-qdq passes)
/// against fp32 `f`, run as `ref` (its compileProbe), on the samples.
llvm::Error measure(const Function &f, HostModel &ref, const Function &q,
                    llvm::ArrayRef<QuantLayer> layers,
                    llvm::ArrayRef<std::optional<QuantParams>> params,
                    llvm::ArrayRef<ValueId> dequantized,
                    llvm::ArrayRef<std::vector<Tensor>> samples,
                    llvm::raw_ostream &progress, QuantReport &r) {
  // The integer model, with the dequantized layers as results.
  auto quantized = compileForHost(probe(q, dequantized), true, progress);
  if (!quantized)
    return quantized.takeError();
  size_t n = f.results.size();
  std::vector<ErrorSum> layerErr(layers.size()), outErr(n);
  std::vector<std::pair<int64_t, int64_t>> agree(n);
  auto compare = [&](std::vector<std::vector<Tensor>> &results) {
    const std::vector<Tensor> &a = results[0], &b = results[1];
    for (size_t i = 0; i < layers.size(); ++i)
      layerErr[i].add(a[n + i], b[n + i]);
    for (size_t i = 0; i < n; ++i) {
      if (a[i].type.elem != ElemKind::F32)
        continue;
      outErr[i].add(a[i], b[i]);
      auto [same, total] = argmaxAgreement(a[i], b[i]);
      agree[i].first += same, agree[i].second += total;
    }
  };
  if (auto err = forEachSample({&ref, quantized->get()}, samples, "measuring",
                               progress, compare))
    return err;
  r.layers.clear();
  for (size_t i = 0; i < layers.size(); ++i)
    r.layers.push_back({int(i), layers[i].label,
                        toString(f.type(layers[i].value)),
                        params[i].has_value(), layerErr[i].sqnrDb()});
  r.outputs.clear();
  for (size_t i = 0; i < n; ++i)
    r.outputs.push_back(
        {f.resultNames[i], outErr[i].sqnrDb(),
         agree[i].second ? double(agree[i].first) / agree[i].second : 0,
         agree[i].second});
  r.samples = static_cast<int>(samples.size());
  return llvm::Error::success();
}

} // namespace

llvm::Error parseRangeMethod(llvm::StringRef text, QuantizeOptions &opts) {
  if (text == "minmax" || text == "mse") {
    opts.method = text == "mse" ? RangeMethod::Mse : RangeMethod::MinMax;
    return llvm::Error::success();
  }
  double p;
  if (text.consume_front("percentile=") && !text.getAsDouble(p) && p > 50 &&
      p <= 100) {
    opts.method = RangeMethod::Percentile;
    opts.percentile = static_cast<float>(p);
    return llvm::Error::success();
  }
  return fail(fmt::format("--calibration-method '{}' is not minmax, "
                          "percentile=P (50 < P <= 100) or mse",
                          text.str()));
}

std::vector<QuantLayer> quantLayers(const Function &f) {
  std::vector<int> def = f.definingOps();
  std::vector<int> uses(f.valueTypes.size(), 0), user(f.valueTypes.size(), -1);
  for (size_t i = 0; i < f.ops.size(); ++i)
    for (ValueId v : f.ops[i].operands)
      ++uses[v], user[v] = static_cast<int>(i);
  for (ValueId v : f.results)
    ++uses[v], user[v] = -1;
  auto isF32 = [&](ValueId v) {
    return f.type(v).elem == ElemKind::F32 && !f.type(v).quant;
  };
  // label[v]: what computes v, if v is an activation (quantized or
  // absorbed by its user).
  std::vector<std::string> label(f.valueTypes.size());
  for (size_t i = 0; i < f.args.size(); ++i)
    if (isF32(f.args[i]))
      label[f.args[i]] = "input " + f.argNames[i];
  for (const Op &op : f.ops) {
    if (op.results.size() != 1 || !isF32(op.results[0]))
      continue;
    std::string name = mnemonic(op.kind).str();
    auto absorbed = llvm::find_if(op.operands, [&](ValueId o) {
      return !label[o].empty() && def[o] >= 0 && uses[o] == 1 &&
             absorbs(f, f.ops[def[o]], op);
    });
    if (absorbed != op.operands.end())
      label[op.results[0]] = label[*absorbed] + "+" + name;
    else if (isActivationOp(op.kind))
      label[op.results[0]] = name;
  }
  std::vector<QuantLayer> layers;
  auto add = [&](ValueId v) {
    if (label[v].empty())
      return;
    int u = user[v];
    if (uses[v] == 1 && u >= 0 && def[v] >= 0 &&
        absorbs(f, f.ops[def[v]], f.ops[u]) &&
        !label[f.ops[u].results[0]].empty())
      return;
    layers.push_back({v, label[v]});
  };
  for (ValueId a : f.args)
    add(a);
  for (const Op &op : f.ops)
    for (ValueId r : op.results)
      add(r);
  return layers;
}

llvm::Error calibrate(Module &m, llvm::ArrayRef<std::vector<Tensor>> samples,
                      const QuantizeOptions &opts, llvm::raw_ostream &progress,
                      QuantReport *report) {
  Function *f = m.lookup("main");
  if (!f)
    return fail("the module has no function @main");
  if (samples.empty())
    return fail("--calibration gave no inputs");
  if (llvm::any_of(f->valueTypes,
                   [](const TensorType &t) { return t.isQuantized(); }))
    return fail("--quantize takes an fp32 model; this one is quantized "
                "already");
  auto start = std::chrono::steady_clock::now();
  std::vector<QuantLayer> layers = quantLayers(*f);
  for (int n : opts.keepFloat)
    if (n < 0 || size_t(n) >= layers.size())
      return fail(fmt::format("--keep-float {}: the model has layers 0 to "
                              "{} (see --report)",
                              n, layers.size() - 1));
  auto ref = compileProbe(*f, layers, progress);
  if (!ref)
    return ref.takeError();
  auto stats = collectStats(*f, **ref, layers, samples, progress);
  if (!stats)
    return stats.takeError();
  std::vector<std::optional<QuantParams>> params;
  for (size_t i = 0; i < layers.size(); ++i)
    params.push_back(
        llvm::is_contained(opts.keepFloat, int(i))
            ? std::nullopt
            : std::optional(chooseParams(
                  (*stats)[i], opts,
                  llvm::is_contained(f->results, layers[i].value))));
  std::vector<ValueId> dequantized;
  Function q = insertQdq(*f, layers, params, opts.activations, dequantized);
  if (report || !std::isnan(opts.minSqnr)) {
    QuantReport local;
    QuantReport &r = report ? *report : local;
    if (auto err = measure(*f, **ref, q, layers, params, dequantized, samples,
                           progress, r))
      return err;
    if (!std::isnan(opts.minSqnr)) {
      bool changed = false;
      for (const QuantReport::Layer &l : r.layers)
        if (l.quantized && l.sqnrDb < opts.minSqnr)
          params[l.number].reset(), changed = true;
      if (changed) {
        q = insertQdq(*f, layers, params, opts.activations, dequantized);
        if (auto err = measure(*f, **ref, q, layers, params, dequantized,
                               samples, progress, r))
          return err;
      }
    }
    r.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
  }
  *f = std::move(q);
  size_t kept = llvm::count(params, std::nullopt);
  progress << fmt::format(
      "mnc: calibrated on {} input{} in {:.1f} s: {} activations quantized, "
      "{} kept f32\n",
      samples.size(), samples.size() == 1 ? "" : "s",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count(),
      layers.size() - kept, kept);
  return llvm::Error::success();
}

} // namespace mnc
