// Header text generation; see HeaderWriter.h. The output depends only on
// the function and the name, so identical inputs give identical bytes.
#include "backends/HeaderWriter.h"

#include "llvm/ADT/StringExtras.h"

#include <fmt/format.h>

namespace mnc {

llvm::Error checkSymbolName(llvm::StringRef name) {
  bool valid =
      !name.empty() && !llvm::isDigit(name.front()) &&
      llvm::all_of(name, [](char c) { return llvm::isAlnum(c) || c == '_'; });
  if (valid)
    return llvm::Error::success();
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "--name '%s' is not a C identifier "
                                 "([A-Za-z_][A-Za-z0-9_]*)",
                                 name.str().c_str());
}

std::string cStringLiteral(llvm::StringRef text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\')
      out += {'\\', char(c)};
    else if (c != '?' && llvm::isPrint(c))
      out += char(c);
    else
      out += fmt::format("\\{:03o}", c);
  }
  return out + "\"";
}

/// Comment-safe text: a name must not end the comment it appears in.
static std::string commentSafe(llvm::StringRef s) {
  std::string out = s.str();
  for (size_t at; (at = out.find("*/")) != std::string::npos;)
    out.replace(at, 2, "* /");
  return out;
}

static void writeTensor(std::string &out, const std::string &prefix,
                        const TensorType &t, llvm::StringRef name) {
  std::vector<std::string> dims;
  for (int64_t d : t.shape)
    dims.push_back(std::to_string(d));
  out += fmt::format("/* {} \"{}\": {} */\n", prefix, commentSafe(name),
                     toString(t));
  out += fmt::format("#define {}_BYTES {}u\n", prefix, t.byteSize());
  out += fmt::format("#define {}_NAME {}\n", prefix, cStringLiteral(name));
  out +=
      fmt::format("#define {}_DTYPE \"{}\"\n", prefix, elemName(t.elem).str());
  out += fmt::format("#define {}_ELEMENT_SIZE {}u\n", prefix, elemSize(t.elem));
  out += fmt::format("#define {}_RANK {}\n", prefix, t.rank());
  out += fmt::format("#define {}_SHAPE {{{}}}\n", prefix,
                     t.rank() ? llvm::join(dims, ", ") : "1");
  if (t.quant && t.quant->isPerTensor()) {
    out += fmt::format("#define {}_SCALE {}f\n", prefix,
                       formatFloat(t.quant->scales[0]));
    out += fmt::format("#define {}_ZERO_POINT {}\n", prefix,
                       t.quant->zeroPoints[0]);
  }
}

/// The C type of one element of kind `kind` (quantized tensors: their raw
/// integers).
static llvm::StringRef cElemType(ElemKind kind) {
  switch (kind) {
  case ElemKind::F32:
    return "float";
  case ElemKind::I64:
    return "int64_t";
  case ElemKind::I32:
    return "int32_t";
  case ElemKind::I8:
    return "int8_t";
  case ElemKind::U8:
    return "uint8_t";
  }
  llvm_unreachable("unknown element kind");
}

/// NAME_run_typed: NAME_run with one typed pointer per input and output in
/// place of the two pointer arrays.
static std::string typedWrapper(const Function &f, llvm::StringRef name) {
  std::vector<std::string> params, ins, outs;
  for (size_t i = 0; i < f.args.size(); ++i) {
    params.push_back(fmt::format("const {} *input{}",
                                 cElemType(f.type(f.args[i]).elem).str(), i));
    ins.push_back(fmt::format("input{}", i));
  }
  for (size_t i = 0; i < f.results.size(); ++i) {
    params.push_back(fmt::format(
        "{} *output{}", cElemType(f.type(f.results[i]).elem).str(), i));
    outs.push_back(fmt::format("output{}", i));
  }
  params.push_back("void *scratch");
  // C forbids empty initializer lists and zero-length arrays.
  auto array = [](const char *decl, llvm::ArrayRef<std::string> items) {
    return items.empty() ? fmt::format("  {}[1] = {{0}};\n", decl)
                         : fmt::format("  {}[{}] = {{{}}};\n", decl,
                                       items.size(), llvm::join(items, ", "));
  };
  return fmt::format(
      "/* {0}_run with one typed pointer per tensor, in the order above. */\n"
      "static inline int {0}_run_typed({1}) {{\n{2}{3}"
      "  return {0}_run(inputs, outputs, scratch);\n}}\n\n",
      name.str(), llvm::join(params, ", "),
      array("const void *const inputs", ins),
      array("void *const outputs", outs));
}

/// The parallel-for hook type, defined once whichever of this header and
/// runtime/mnc_runtime.h (which defines the same type under the same
/// guard) comes first.
static const char *const kParallelForType =
    "/* The parallel-for hook (runtime/mnc_runtime.h defines the same type):\n"
    " * parallel_for(ctx, task, arg, n) runs task(arg, i) for every i in\n"
    " * [0, n), possibly on several threads, and returns when all have run;\n"
    " * num_threads is how many threads it runs them on. */\n"
    "#ifndef MNC_PARALLEL_FOR_DEFINED\n"
    "#define MNC_PARALLEL_FOR_DEFINED\n"
    "typedef struct {\n"
    "  void (*parallel_for)(void *ctx, void (*task)(void *arg, size_t i),\n"
    "                       void *arg, size_t n);\n"
    "  void *ctx;\n"
    "  size_t num_threads;\n"
    "} mnc_parallel_for;\n"
    "#endif\n\n";

/// NAME_run_parallel, its scratch formula and the hook type it takes.
static std::string parallelEntry(const MemoryPlan &plan, llvm::StringRef name,
                                 int64_t taskWorkspace) {
  std::string upper = name.upper();
  std::string out = kParallelForType;
  out += fmt::format(
      "/* Scratch bytes {0}_run_parallel uses with a pool of n threads: each\n"
      " * task of a split layer but the first takes {1}_TASK_WORKSPACE_SIZE\n"
      " * bytes after {1}_SCRATCH_SIZE rounded up to {1}_SCRATCH_ALIGN. */\n"
      "#define {1}_TASK_WORKSPACE_SIZE {2}u\n",
      name.str(), upper, taskWorkspace);
  if (taskWorkspace == 0)
    out += fmt::format(
        "#define {0}_SCRATCH_SIZE_PARALLEL(n) {0}_SCRATCH_SIZE\n", upper);
  else
    out += fmt::format(
        "#define {0}_SCRATCH_SIZE_PARALLEL(n) \\\n"
        "  ((n) > 1 ? {1}u + ((n) - 1) * {0}_TASK_WORKSPACE_SIZE \\\n"
        "           : {0}_SCRATCH_SIZE)\n",
        upper, llvm::alignTo(plan.size, kScratchAlign));
  out += fmt::format(
      "\n/* Runs the model once as {0}_run does, the large layers split into\n"
      " * tasks that pool->parallel_for runs, at most pool->num_threads of\n"
      " * them per layer. The outputs are the bytes {0}_run writes. With a\n"
      " * null pool or fewer than two threads it is {0}_run. scratch:\n"
      " * {1}_SCRATCH_SIZE_PARALLEL(pool->num_threads) bytes aligned to\n"
      " * {1}_SCRATCH_ALIGN. parallel_for is called from the calling thread,\n"
      " * one layer at a time, and the object calls nothing else. */\n"
      "int {0}_run_parallel(const void *const inputs[],\n"
      "                     void *const outputs[], void *scratch,\n"
      "                     const mnc_parallel_for *pool);\n\n",
      name.str(), upper);
  return out;
}

std::string profileStepName(const Function &f, size_t op) {
  const Op &o = f.ops[op];
  std::string kernel;
  if (auto it = o.attrs.find("ukernel"); it != o.attrs.end())
    kernel = " " + o.getString("ukernel").str();
  return fmt::format("#{} {}{} {}", op, mnemonic(o.kind).str(), kernel,
                     toString(f.type(o.results[0])));
}

/// NAME_run_profiled, its steps and the profiler type it takes.
static std::string profiledEntry(const Function &f, llvm::StringRef name,
                                 llvm::ArrayRef<size_t> steps) {
  std::string upper = name.upper();
  std::string out = fmt::format(
      "/* Profiling build (mnc compile --profile). {0}_run_profiled runs the\n"
      " * model as {0}_run does and times each of its {1}_PROFILE_STEPS\n"
      " * kernel calls: profiler->clock(profiler->ctx) is read before and\n"
      " * after each, and profiler->ticks[k] (an array of\n"
      " * {1}_PROFILE_STEPS counters) grows by the ticks step k took, in\n"
      " * whatever unit the clock counts. {1}_PROFILE_STEP_NAMES names the\n"
      " * steps (\"#op mnemonic kernel output-type\"), {1}_PROFILE_STEP_MACS\n"
      " * gives their multiply-accumulates. */\n"
      "#ifndef MNC_PROFILER_DEFINED\n"
      "#define MNC_PROFILER_DEFINED\n"
      "typedef struct {{\n"
      "  uint64_t (*clock)(void *ctx);\n"
      "  void *ctx;\n"
      "  uint64_t *ticks;\n"
      "}} mnc_profiler;\n"
      "#endif\n\n"
      "#define {1}_PROFILE_STEPS {2}\n",
      name.str(), upper, steps.size());
  out += fmt::format("#define {}_PROFILE_STEP_NAMES {{", upper);
  for (auto [k, op] : llvm::enumerate(steps))
    out += fmt::format("{}\\\n  {}", k ? "," : "",
                       cStringLiteral(profileStepName(f, op)));
  out += fmt::format("}}\n#define {}_PROFILE_STEP_MACS {{", upper);
  for (auto [k, op] : llvm::enumerate(steps))
    out += fmt::format("{}{}ull", k ? (k % 6 ? ", " : ",\\\n  ") : "",
                       opMacs(f, f.ops[op]));
  out += fmt::format(
      "}}\n"
      "int {0}_run_profiled(const void *const inputs[],\n"
      "                     void *const outputs[], void *scratch,\n"
      "                     const mnc_profiler *profiler);\n\n",
      name.str());
  return out;
}

std::string writeHeader(const Function &f, const MemoryPlan &plan,
                        llvm::StringRef name, int64_t taskWorkspace,
                        const std::vector<size_t> *profileSteps) {
  std::string upper = name.upper();
  std::string out;
  out += fmt::format(
      "/* Interface of the mnc-generated object for model \"{0}\" (ABI v1).\n"
      " *\n"
      " * Call {0}_run(inputs, outputs, scratch) with one pointer per input\n"
      " * and output tensor (dense row-major data of the sizes below) and a\n"
      " * scratch buffer of {1}_SCRATCH_SIZE bytes aligned to\n"
      " * {1}_SCRATCH_ALIGN. The object writes only the outputs and the\n"
      " * scratch buffer and has no global state, so calls on distinct\n"
      " * scratch buffers may run concurrently. {0}_run_parallel splits\n"
      " * the work across the caller's threads. Quantized tensors hold\n"
      " * q with real = SCALE * (q - ZERO_POINT). */\n"
      "#ifndef {1}_MNC_H\n#define {1}_MNC_H\n\n"
      "#include <stddef.h>\n#include <stdint.h>\n\n"
      "#ifdef __cplusplus\nextern \"C\" {{\n#endif\n\n",
      name.str(), upper);
  out += fmt::format("#define {}_ABI_VERSION 1\n", upper);
  out += fmt::format("#define {}_NUM_INPUTS {}\n", upper, f.args.size());
  out += fmt::format("#define {}_NUM_OUTPUTS {}\n", upper, f.results.size());
  out += fmt::format("/* Exact peak of the scratch arena, in bytes. */\n"
                     "#define {}_SCRATCH_SIZE {}u\n",
                     upper, plan.size);
  out += fmt::format("#define {}_SCRATCH_ALIGN {}u\n", upper, kScratchAlign);
  out += fmt::format("/* Multiply-accumulates per run. */\n"
                     "#define {}_MACS {}ull\n\n",
                     upper, macCount(f));
  for (size_t i = 0; i < f.args.size(); ++i)
    writeTensor(out, fmt::format("{}_INPUT{}", upper, i), f.type(f.args[i]),
                f.argNames[i]);
  std::vector<int> counts = countResults(f);
  for (size_t i = 0; i < f.results.size(); ++i) {
    std::string prefix = fmt::format("{}_OUTPUT{}", upper, i);
    writeTensor(out, prefix, f.type(f.results[i]), f.resultNames[i]);
    if (counts[i] < 0)
      continue;
    out += fmt::format(
        "/* The length of {0} along dim 0 depends on the data: at most\n"
        " * {0}_MAX entries; output {1} (int32) holds how many are valid,\n"
        " * the entries after them are unspecified. */\n"
        "#define {0}_MAX {2}u\n#define {0}_COUNT_OUTPUT {1}\n",
        prefix, counts[i], f.type(f.results[i]).shape[0]);
  }
  out +=
      fmt::format("\n/* What {0}_run returns. {1}_ERR_INDEX: an index input\n"
                  " * holds a value outside [-extent, extent) of the axis it\n"
                  " * indexes; nothing was read outside the inputs and the\n"
                  " * outputs are unspecified. */\n"
                  "#define {1}_OK {2}\n#define {1}_ERR_INDEX {3}\n",
                  name.str(), upper, int(RunOk), int(RunIndexError));
  out += fmt::format(
      "\n/* Runs the model once. Returns {}_OK on success. Reads inputs,\n"
      " * writes outputs, uses only scratch. */\n"
      "int {}_run(const void *const inputs[], void *const outputs[],\n"
      "           void *scratch);\n\n",
      upper, name.str());
  out += typedWrapper(f, name);
  out += parallelEntry(plan, name, taskWorkspace);
  if (profileSteps)
    out += profiledEntry(f, name, *profileSteps);
  out += "#ifdef __cplusplus\n}\n#endif\n\n#endif\n";
  return out;
}

} // namespace mnc
