// Target resolution: triple -> llvm::Target, CPU and feature validation via
// MCSubtargetInfo, and the TargetMachine options generated code relies on.
#include "backends/Target.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Analysis/TargetTransformInfo.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <fmt/format.h>

#include <mutex>

namespace mnc {

void initializeTargets() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
  });
}

static llvm::Error makeError(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static std::string registeredTargets() {
  std::vector<std::string> names;
  for (const llvm::Target &t : llvm::TargetRegistry::targets())
    names.push_back(t.getName());
  llvm::sort(names);
  return llvm::join(names, ", ");
}

static llvm::Error checkCpu(const llvm::MCSubtargetInfo &sti,
                            const TargetSpec &spec, llvm::StringRef triple) {
  if (spec.cpu.empty() || sti.isCPUStringValid(spec.cpu))
    return llvm::Error::success();
  std::vector<std::string> names;
  for (const llvm::SubtargetSubTypeKV &kv : sti.getAllProcessorDescriptions())
    names.push_back(kv.Key);
  return makeError(fmt::format("unknown CPU '{}' for target '{}'; valid "
                               "CPUs: {}",
                               spec.cpu, triple.str(),
                               llvm::join(names, ", ")));
}

static llvm::Error checkFeatures(const llvm::MCSubtargetInfo &sti,
                                 const TargetSpec &spec,
                                 llvm::StringRef triple) {
  llvm::SmallVector<llvm::StringRef, 8> parts;
  llvm::StringRef(spec.features).split(parts, ',', -1, false);
  for (llvm::StringRef part : parts) {
    part = part.trim();
    if (!part.consume_front("+") && !part.consume_front("-"))
      return makeError(fmt::format(
          "feature '{}' must start with '+' or '-' (e.g. +avx2,-fma)",
          part.str()));
    if (llvm::any_of(
            sti.getAllProcessorFeatures(),
            [&](const llvm::SubtargetFeatureKV &kv) { return part == kv.Key; }))
      continue;
    std::vector<std::string> names;
    for (const llvm::SubtargetFeatureKV &kv : sti.getAllProcessorFeatures())
      names.push_back(kv.Key);
    return makeError(fmt::format("unknown feature '{}' for target '{}'; valid "
                                 "features: {}",
                                 part.str(), triple.str(),
                                 llvm::join(names, ", ")));
  }
  return llvm::Error::success();
}

/// "+a,-b,..." for every feature the host CPU reports, then `extra` (so
/// explicit -mattr entries win).
static std::string hostFeatures(llvm::StringRef extra) {
  std::vector<std::string> parts;
  for (const auto &feature : llvm::sys::getHostCPUFeatures())
    parts.push_back((feature.second ? "+" : "-") + feature.first().str());
  llvm::sort(parts);
  if (!extra.empty())
    parts.push_back(extra.str());
  return llvm::join(parts, ",");
}

/// Replaces CPU "native" with the host CPU and its features; "native" is
/// only meaningful when compiling for the host triple.
static llvm::Expected<TargetSpec> resolveNative(TargetSpec spec) {
  // The default for the host is the host itself, with the features it
  // reports rather than those its CPU name implies (a virtual machine may
  // hide some, e.g. AVX-512 on a Zen 4 guest).
  if (spec.cpu.empty() && spec.triple.empty())
    spec.cpu = "native";
  if (spec.cpu != "native")
    return spec;
  std::string host = llvm::sys::getDefaultTargetTriple();
  if (!spec.triple.empty() &&
      llvm::Triple(llvm::Triple::normalize(spec.triple)).getArch() !=
          llvm::Triple(host).getArch())
    return makeError(fmt::format("CPU 'native' needs the host target ({}), "
                                 "not '{}'",
                                 host, spec.triple));
  spec.cpu = llvm::sys::getHostCPUName().str();
  spec.features = hostFeatures(spec.features);
  return spec;
}

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const TargetSpec &requested) {
  initializeTargets();
  auto resolved = resolveNative(requested);
  if (!resolved)
    return resolved.takeError();
  const TargetSpec &spec = *resolved;
  std::string tripleName = spec.triple.empty()
                               ? llvm::sys::getDefaultTargetTriple()
                               : llvm::Triple::normalize(spec.triple);
  llvm::Triple triple(tripleName);
  std::string lookupError;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(tripleName, lookupError);
  if (!target || triple.getArch() == llvm::Triple::UnknownArch)
    return makeError(fmt::format("unknown target triple '{}'; registered "
                                 "targets: {} (e.g. x86_64-linux-gnu, "
                                 "aarch64-linux-gnu, thumbv7em-none-eabihf, "
                                 "thumbv8.1m.main-none-eabihf)",
                                 spec.triple, registeredTargets()));
  const std::string &cpu = spec.cpu;
  std::unique_ptr<llvm::MCSubtargetInfo> sti(
      target->createMCSubtargetInfo(tripleName, "", ""));
  if (auto err = checkCpu(*sti, {spec.triple, cpu, spec.features}, tripleName))
    return err;
  if (auto err = checkFeatures(*sti, spec, tripleName))
    return err;

  llvm::TargetOptions options;
  if (triple.getEnvironment() == llvm::Triple::EABIHF ||
      triple.getEnvironment() == llvm::Triple::GNUEABIHF)
    options.FloatABIType = llvm::FloatABI::Hard;
  // Hosted targets link into position-independent executables by default;
  // bare-metal firmware is linked at fixed addresses.
  auto reloc = triple.getOS() == llvm::Triple::UnknownOS ? llvm::Reloc::Static
                                                         : llvm::Reloc::PIC_;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      tripleName, cpu, spec.features, options, reloc, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  if (!tm)
    return makeError("cannot create a target machine for '" + tripleName + "'");
  return tm;
}

/// Whether `tm`'s architecture and features include `isa`'s.
static bool hasIsa(const llvm::TargetMachine &tm, Isa isa) {
  const llvm::Triple &triple = tm.getTargetTriple();
  if (!isaArch(isa).empty() &&
      llvm::Triple::getArchTypeName(triple.getArch()) != isaArch(isa))
    return false;
  return isaFeatures(isa).empty() ||
         tm.getMCSubtargetInfo()->checkFeatures(isaFeatures(isa));
}

KernelTarget kernelTargetOf(const llvm::TargetMachine &tm) {
  KernelTarget target;
  for (Isa isa : allIsas())
    if (hasIsa(tm, isa))
      target.isas |= 1u << static_cast<unsigned>(isa);
  target.microcontroller = tm.getTargetTriple().isThumb();
  // The cost model answers for a function; any function of the target.
  llvm::LLVMContext ctx;
  llvm::Module probe("probe", ctx);
  auto *fn = llvm::Function::Create(
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), false),
      llvm::Function::ExternalLinkage, "probe", probe);
  llvm::TargetTransformInfo tti = tm.getTargetTransformInfo(*fn);
  unsigned bits =
      tti.getRegisterBitWidth(llvm::TargetTransformInfo::RGK_FixedWidthVector)
          .getFixedValue();
  unsigned registers =
      tti.getNumberOfRegisters(tti.getRegisterClassForType(true));
  // Targets without vector registers block over scalar FP registers.
  if (bits >= 64 && registers > 0) {
    target.lanes = bits / 32;
    target.vectorRegisters = registers;
  }
  return target;
}

llvm::Expected<KernelTarget> kernelTarget(const TargetSpec &spec) {
  auto tm = createTargetMachine(spec);
  if (!tm)
    return tm.takeError();
  return kernelTargetOf(**tm);
}

} // namespace mnc
