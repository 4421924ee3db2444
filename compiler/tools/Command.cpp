// Subcommand registry, exit codes and model loading for `mnc`.
#include "compiler/tools/Command.h"
#include "compiler/Calibrate.h"
#include "compiler/CalibrationData.h"
#include "compiler/TensorIO.h"
#include "compiler/onnx/Importer.h"
#include "ir/Errors.h"
#include "ir/Parser.h"
#include "ir/Verifier.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"

#include <vector>

namespace mnc::tool {
namespace cl = llvm::cl;

cl::OptionCategory &inputOptions() {
  static cl::OptionCategory category("Input options");
  return category;
}
cl::OptionCategory &targetOptions() {
  static cl::OptionCategory category("Target options");
  return category;
}
cl::OptionCategory &outputOptions() {
  static cl::OptionCategory category("Output options");
  return category;
}

static cl::list<std::string>
    inputShapes("input-shape",
                cl::desc("Pin the shape of a graph input, e.g. "
                         "input=1x3x224x224 (repeatable)"),
                cl::value_desc("NAME=DIMS"), cl::sub(cl::SubCommand::getAll()),
                cl::cat(inputOptions()));

static cl::list<std::string>
    bindings("bind",
             cl::desc("Freeze a graph input to the tensor in FILE (.npy or "
                      ".pb), e.g. the shape or scales of a Reshape or "
                      "Resize; it is no longer an input (repeatable)"),
             cl::value_desc("NAME=FILE"), cl::sub(cl::SubCommand::getAll()),
             cl::cat(inputOptions()));

cl::OptionCategory &quantizeOptions() {
  static cl::OptionCategory category("Quantization options (fp32 models)");
  return category;
}

namespace {
cl::SubCommand &all() { return cl::SubCommand::getAll(); }

cl::opt<std::string> quantizeTo(
    "quantize",
    cl::desc("Quantize an fp32 model after import (needs --calibration): "
             "weights int8 per output channel, biases i32, activations int8 "
             "or uint8 per tensor"),
    cl::value_desc("int8|uint8"), cl::sub(all()), cl::cat(quantizeOptions()));
cl::list<std::string> calibrationPaths(
    "calibration",
    cl::desc("Calibration inputs: .npy/.pb tensors of the input's type, or "
             "photos (.png, .jpg, .bmp) preprocessed as below; folders stand "
             "for their files (comma-separated, repeatable)"),
    cl::value_desc("PATH"), cl::CommaSeparated, cl::sub(all()),
    cl::cat(quantizeOptions()));
cl::opt<std::string> calibrationMethod(
    "calibration-method",
    cl::desc("How an activation's range is chosen: minmax (the observed "
             "range), percentile=P (the P-th and (100-P)-th percentiles; "
             "default percentile=99.99, the best measured on MobileNetV2) or "
             "mse (the clip of the range with the least squared "
             "quantization error)"),
    cl::value_desc("METHOD"), cl::init("percentile=99.99"), cl::sub(all()),
    cl::cat(quantizeOptions()));
cl::opt<std::string> reportPath(
    "report",
    cl::desc("Write the accuracy of the quantized model against fp32 over "
             "the calibration inputs: SQNR per layer (the worst flagged), "
             "SQNR and argmax agreement per output; .json for JSON, else "
             "Markdown"),
    cl::value_desc("FILE.md|FILE.json"), cl::sub(all()),
    cl::cat(quantizeOptions()));
cl::list<int> keepFloat(
    "keep-float",
    cl::desc("Leave these layers (numbers of the --report table) in f32"),
    cl::value_desc("N,..."), cl::CommaSeparated, cl::sub(all()),
    cl::cat(quantizeOptions()));
cl::opt<double>
    minSqnr("min-sqnr",
            cl::desc("Leave in f32 every layer whose SQNR over the calibration "
                     "inputs is below DB"),
            cl::value_desc("DB"), cl::init(std::nan("")), cl::sub(all()),
            cl::cat(quantizeOptions()));
cl::list<std::string> preprocessFlag(
    "preprocess",
    cl::desc("How calibration photos become input tensors: imagenet "
             "(default; shorter side resized to crop / 0.875, centre crop to "
             "the input's HxW, pixel / 255, mean 0.485:0.456:0.406, std "
             "0.229:0.224:0.225, RGB, NCHW unless the input is [1,H,W,3]) or "
             "unit (pixel / 255 only), then any of resize=N, mean=R:G:B, "
             "std=R:G:B, bgr, nchw, nhwc"),
    cl::value_desc("SPEC,..."), cl::CommaSeparated, cl::sub(all()),
    cl::cat(quantizeOptions()));
cl::opt<std::string> maxRam(
    "max-ram",
    cl::desc(
        "Fit the scratch arena into BYTES (suffix K or M: KiB, MiB, e.g. "
        "1.5M) by running chains of blocks patch by patch, with the fewest "
        "extra MACs executed; an error when it cannot. Default: layer by "
        "layer on hosts; the smallest arena on Cortex-M"),
    cl::value_desc("BYTES"), cl::sub(all()), cl::cat(targetOptions()));

/// --max-ram's value in bytes, if given: a whole number of bytes, or a
/// number of KiB or MiB (suffix K or M) that may have a fraction, rounded
/// down to a whole byte.
llvm::Expected<std::optional<int64_t>> ramBudget() {
  if (maxRam.empty())
    return std::nullopt;
  llvm::StringRef text = maxRam;
  double unit = text.consume_back("K")   ? 1024
                : text.consume_back("M") ? 1024 * 1024
                                         : 1;
  // Digits, and a decimal point only before a suffix: no exponents, hex
  // or inf, which getAsDouble would take.
  auto numeral = [&](char c) {
    return llvm::isDigit(c) || (unit > 1 && c == '.');
  };
  double value;
  // Budgets beyond 2^53 bytes are not RAM sizes (and not exact doubles).
  if (!llvm::all_of(text, numeral) || text.getAsDouble(value) ||
      !(value * unit >= 1) || value * unit > 0x1p53)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "--max-ram=%s is not a positive byte count (e.g. 40960, 40K or 1.5M)",
        maxRam.c_str());
  return static_cast<int64_t>(value * unit);
}
} // namespace

TargetFlags::TargetFlags(cl::SubCommand &sub, const char *tripleHelp)
    : triple("target", cl::desc(tripleHelp), cl::value_desc("TRIPLE"),
             cl::sub(sub), cl::cat(targetOptions())),
      cpu("mcpu",
          cl::desc("Target CPU, e.g. x86-64-v3, cortex-a76, cortex-m7; "
                   "'native' is the host CPU with all its features "
                   "(default: native for the host, generic otherwise)"),
          cl::value_desc("CPU"), cl::sub(sub), cl::cat(targetOptions())),
      features("mattr",
               cl::desc("Target features added to or removed from the CPU's, "
                        "e.g. +avx2,-fma or +dotprod"),
               cl::value_desc("+a,-b"), cl::sub(sub),
               cl::cat(targetOptions())) {}

namespace {
struct Entry {
  cl::SubCommand *sub;
  int (*run)();
};
std::vector<Entry> &registry() {
  static std::vector<Entry> entries;
  return entries;
}
} // namespace

Registration::Registration(cl::SubCommand &sub, int (*run)()) {
  registry().push_back({&sub, run});
}

void hideLLVMOptions() {
  llvm::SmallVector<const cl::OptionCategory *, 4> ours = {
      &inputOptions(), &quantizeOptions(), &targetOptions(), &outputOptions()};
  cl::HideUnrelatedOptions(ours);
  for (const Entry &e : registry())
    cl::HideUnrelatedOptions(ours, *e.sub);
}

int (*selectedCommand())() {
  for (const Entry &e : registry())
    if (*e.sub)
      return e.run;
  return nullptr;
}

int reportError(llvm::Error err) {
  int code = err.isA<UnsupportedError>()     ? Unsupported
             : err.isA<mnc::InternalError>() ? InternalError
                                             : InputError;
  std::string text = llvm::toString(std::move(err));
  llvm::SmallVector<llvm::StringRef, 8> lines;
  llvm::StringRef(text).split(lines, '\n', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef line : lines) {
    // Parser and verifier messages carry their own "error:" marker.
    if (line.contains("error: "))
      llvm::errs() << line << '\n';
    else
      llvm::WithColor::error(llvm::errs(), "mnc") << line << '\n';
  }
  return code;
}

static llvm::Expected<ImportOptions> importOptions() {
  ImportOptions opts;
  for (llvm::StringRef flag : inputShapes) {
    auto [name, dims] = flag.rsplit('=');
    std::vector<int64_t> shape;
    llvm::SmallVector<llvm::StringRef, 4> parts;
    dims.split(parts, 'x');
    bool ok = !name.empty() && !dims.empty();
    for (llvm::StringRef p : parts) {
      int64_t d;
      ok = ok && !p.getAsInteger(10, d) && d >= 0;
      shape.push_back(d);
    }
    if (!ok)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "--input-shape '%s' is not NAME=DIMS (e.g. input=1x3x224x224)",
          flag.str().c_str());
    opts.inputShapes.emplace_back(name.str(), std::move(shape));
  }
  for (llvm::StringRef flag : bindings) {
    auto [name, path] = flag.split('=');
    if (name.empty() || path.empty())
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "--bind '%s' is not NAME=FILE",
                                     flag.str().c_str());
    auto t = readTensorFile(path);
    if (!t)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "--bind %s: %s", name.str().c_str(),
                                     toString(t.takeError()).c_str());
    opts.bindings.emplace_back(name.str(), std::move(*t));
  }
  return opts;
}

static llvm::Error badPreprocess(llvm::StringRef item) {
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      "--preprocess '%s' is not imagenet, unit, resize=N, mean=R:G:B, "
      "std=R:G:B, bgr, nchw or nhwc",
      item.str().c_str());
}

/// Parses "R:G:B" (or one value for all channels) into `to`.
static bool parseChannels(llvm::StringRef text, std::array<float, 3> &to,
                          bool nonZero) {
  llvm::SmallVector<llvm::StringRef, 3> parts;
  text.split(parts, ':');
  if (parts.size() != 1 && parts.size() != 3)
    return false;
  for (size_t c = 0; c < 3; ++c) {
    double v;
    if (parts[parts.size() == 1 ? 0 : c].getAsDouble(v) || (nonZero && !v))
      return false;
    to[c] = static_cast<float>(v);
  }
  return true;
}

static llvm::Expected<Preprocess> preprocessOptions() {
  Preprocess p;
  for (llvm::StringRef item : preprocessFlag) {
    auto [key, value] = item.split('=');
    bool ok = true;
    if (item == "imagenet")
      p = Preprocess();
    else if (item == "unit")
      p.mean = {0, 0, 0}, p.std = {1, 1, 1};
    else if (item == "bgr")
      p.bgr = true;
    else if (item == "nchw" || item == "nhwc")
      p.nhwc = item == "nhwc";
    else if (key == "resize")
      ok = !value.getAsInteger(10, p.resize) && p.resize > 0;
    else if (key == "mean")
      ok = parseChannels(value, p.mean, false);
    else if (key == "std")
      ok = parseChannels(value, p.std, true);
    else
      ok = false;
    if (!ok)
      return badPreprocess(item);
  }
  return p;
}

/// Quantizes @main of `m` as the quantization flags say, if they do.
static llvm::Error quantizeModel(Module &m) {
  if (quantizeTo.empty()) {
    if (!calibrationPaths.empty() || !reportPath.empty())
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "--calibration and --report need --quantize int8|uint8");
    return llvm::Error::success();
  }
  if (calibrationPaths.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "--quantize needs --calibration PATH");
  if (quantizeTo != "int8" && quantizeTo != "uint8")
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "--quantize '%s' is not int8 or uint8",
                                   quantizeTo.c_str());
  QuantizeOptions opts;
  opts.activations = quantizeTo == "uint8" ? ElemKind::U8 : ElemKind::I8;
  if (auto err = parseRangeMethod(calibrationMethod, opts))
    return err;
  opts.keepFloat.assign(keepFloat.begin(), keepFloat.end());
  opts.minSqnr = minSqnr;
  Function *f = m.lookup("main");
  if (!f || f->args.size() != 1)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "--quantize needs a model with one input");
  auto p = preprocessOptions();
  if (!p)
    return p.takeError();
  auto inputs = readCalibrationSet(calibrationPaths, f->type(f->args[0]), *p);
  if (!inputs)
    return inputs.takeError();
  std::vector<std::vector<Tensor>> samples;
  for (Tensor &t : *inputs)
    samples.push_back({std::move(t)});
  QuantReport report;
  if (auto err = calibrate(m, samples, opts, llvm::errs(),
                           reportPath.empty() ? nullptr : &report))
    return err;
  if (reportPath.empty())
    return llvm::Error::success();
  std::error_code ec;
  llvm::raw_fd_ostream os(reportPath, ec);
  if (ec)
    return llvm::createStringError(ec, "cannot write '%s': %s",
                                   reportPath.c_str(), ec.message().c_str());
  writeReport(report, llvm::StringRef(reportPath).ends_with(".json"), os);
  return llvm::Error::success();
}

static llvm::Expected<Module> loadUnquantized(llvm::StringRef path) {
  if (!path.ends_with(".mnir")) {
    auto opts = importOptions();
    if (!opts)
      return opts.takeError();
    return importOnnxFile(path, *opts);
  }
  if (!inputShapes.empty() || !bindings.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "--input-shape and --bind apply to ONNX "
                                   "models, not IR files");
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return llvm::createStringError(buffer.getError(), "cannot read '%s': %s",
                                   path.str().c_str(),
                                   buffer.getError().message().c_str());
  auto m = parseModule((*buffer)->getBuffer(), path);
  if (!m)
    return m.takeError();
  if (auto err = verifyModule(*m))
    return err;
  return m;
}

llvm::Expected<Module> loadModel(llvm::StringRef path) {
  auto m = loadUnquantized(path);
  if (!m)
    return m.takeError();
  if (auto err = quantizeModel(*m))
    return err;
  return m;
}

llvm::Expected<Module> loadPipelined(llvm::StringRef path,
                                     const PipelineOptions &opts) {
  auto m = loadModel(path);
  if (!m)
    return m.takeError();
  PipelineOptions pipeline = opts;
  pipeline.quantizeWeights = !quantizeTo.empty();
  auto budget = ramBudget();
  if (!budget)
    return budget.takeError();
  if (!pipeline.maxRam)
    pipeline.maxRam = *budget;
  if (auto err = runPipeline(*m, pipeline))
    return err;
  return m;
}

llvm::Expected<Module> loadScheduled(llvm::StringRef path,
                                     const TargetSpec &spec,
                                     PipelineOptions opts) {
  auto kernels = kernelTarget(spec);
  if (!kernels)
    return kernels.takeError();
  opts.target = *kernels;
  return loadPipelined(path, opts);
}

} // namespace mnc::tool
