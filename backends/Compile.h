// The backend entry points: a verified mnc Module in, machine code (or
// LLVM IR) plus the C header out; and a host runner that compiles, links
// and executes a module for tests and `mnc run`.
#pragma once

#include "backends/MemoryPlan.h"
#include "backends/Target.h"
#include "ir/IR.h"

#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace mnc {

struct CompileOptions {
  TargetSpec target;
  /// Prefix of the C symbols and header macros (NAME_run, NAME_...).
  std::string name = "model";
  /// Also emit NAME_run_profiled, which times every kernel call with the
  /// caller's clock (the header lists the steps).
  bool profile = false;
};

/// What compileModule produces besides the header; Nothing stops after
/// lowering (for `mnc inspect`).
enum class EmitKind { Object, Assembly, LLVMIR, Nothing };

struct CompileResult {
  std::string code;   ///< Object bytes, assembly text or LLVM IR text.
  std::string header; ///< The C header (ABI v1).
  MemoryPlan plan;    ///< The scratch arena; plan.size is NAME_SCRATCH_SIZE.
  /// Bytes of constant data (weights as packed for the kernels) the
  /// lowering puts in the object's read-only data.
  int64_t weightBytes = 0;
  /// A profiling build's steps: the op of each kernel call, in order.
  std::vector<size_t> profileSteps;
};

/// The function a module compiles to: "main", or its only function.
llvm::Expected<const Function *> entryFunction(const Module &m);

/// Compiles the function "main" of `m` (or its only function).
llvm::Expected<CompileResult> compileModule(const Module &m,
                                            const CompileOptions &opts,
                                            EmitKind emit = EmitKind::Object);

/// An error unless runCompiled can run code for `target`: the host,
/// aarch64-linux-gnu through a cross C compiler and qemu-aarch64, or a
/// Cortex-M triple whose --mcpu (cortex-m4, -m7, -m55) has a qemu board.
llvm::Error checkRunTarget(const TargetSpec &target);

/// Compiles `m` for `opts.target`, links it with a generated C driver using
/// the C compiler on PATH (`cc`; `aarch64-linux-gnu-gcc -static` whose
/// program runs under `qemu-aarch64`; or `arm-none-eabi-gcc` linking
/// semihosted firmware that runs under `qemu-system-arm`), runs it on
/// `inputs` and returns the outputs. The driver also checks that nothing
/// outside the scratch arena and the outputs was written (guard bytes
/// around both) and, on Linux, that nothing just outside any buffer was
/// read (inaccessible pages around each; a fault is an InternalError
/// naming the buffer).
///
/// With `profile` (host targets only), after that checked run the program
/// runs the model `profile->runs` more times through NAME_run_profiled
/// with a monotonic nanosecond clock, and `profile` gets the steps and
/// their times.
struct RunProfile {
  unsigned runs = 0;
  std::vector<size_t> steps;              ///< The op of each kernel call.
  std::vector<std::vector<uint64_t>> ns;  ///< Per run, per step.
};
llvm::Expected<std::vector<Tensor>>
runCompiled(const Module &m, llvm::ArrayRef<Tensor> inputs,
            const CompileOptions &opts = {}, RunProfile *profile = nullptr);

/// A module compiled for this machine (as runCompiled does by default) and
/// linked into this process: NAME_run called directly, for one model run on
/// many inputs (calibration). Unlike runCompiled, nothing guards the
/// buffers.
class HostModel {
public:
  static llvm::Expected<std::unique_ptr<HostModel>> load(const Module &m);
  ~HostModel();
  /// Runs the model on `inputs` (one per argument, of its type).
  llvm::Expected<std::vector<Tensor>> run(llvm::ArrayRef<Tensor> inputs);

private:
  struct Impl;
  explicit HostModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace mnc
