// The code generation target: an LLVM triple, CPU and feature string,
// validated against LLVM's target registry so that a typo is reported with
// the valid spellings instead of silently producing generic code.
#pragma once

#include "backends/Kernels.h"

#include "llvm/Support/Error.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>

namespace mnc {

/// What the user asked for; empty fields mean "host" (triple) or "generic
/// for the triple" (cpu, features), except that an empty triple and CPU
/// mean "native": the host CPU with every feature it reports (CPU "native"
/// is valid for the host triple only).
struct TargetSpec {
  std::string triple;
  std::string cpu;
  std::string features; ///< "+a,-b" as in clang's -mattr.
};

/// Initializes the LLVM targets mnc supports (idempotent).
void initializeTargets();

/// Resolves `spec` to a TargetMachine for object emission. Unknown triples,
/// CPUs and features are errors that list the valid values.
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const TargetSpec &spec);

/// The ISAs of backends/Isa.def that `tm` has, and its vector registers as
/// LLVM's cost model reports them: what select-kernels chooses kernels by.
KernelTarget kernelTargetOf(const llvm::TargetMachine &tm);
/// kernelTargetOf the target `spec` resolves to.
llvm::Expected<KernelTarget> kernelTarget(const TargetSpec &spec);

} // namespace mnc
