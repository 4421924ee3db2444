// HostModel: a module compiled for this machine and linked into this
// process by LLVM's ORC JIT linker, so that one model runs on many inputs
// (calibration) without a driver program or files. The object has no
// undefined symbols, so it links on its own.
#include "backends/Compile.h"
#include "backends/HeaderWriter.h"
#include "ir/Errors.h"

#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/Support/MemAlloc.h"
#include "llvm/Support/MemoryBuffer.h"

#include <fmt/format.h>

namespace mnc {

/// NAME_run of the header (ABI v1).
using RunFn = int (*)(const void *const inputs[], void *const outputs[],
                      void *scratch);

struct HostModel::Impl {
  std::unique_ptr<llvm::orc::LLJIT> jit;
  RunFn run = nullptr;
  std::vector<TensorType> inputs, outputs;
  int64_t scratchSize = 0;
  void *scratch = nullptr;

  ~Impl() {
    if (scratch)
      llvm::deallocate_buffer(scratch, scratchSize, kScratchAlign);
  }
};

HostModel::HostModel(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
HostModel::~HostModel() = default;

llvm::Expected<std::unique_ptr<HostModel>> HostModel::load(const Module &m) {
  auto entry = entryFunction(m);
  if (!entry)
    return entry.takeError();
  CompileOptions opts;
  auto compiled = compileModule(m, opts);
  if (!compiled)
    return compiled.takeError();
  auto jit = llvm::orc::LLJITBuilder().create();
  if (!jit)
    return jit.takeError();
  if (auto err = (*jit)->addObjectFile(
          llvm::MemoryBuffer::getMemBufferCopy(compiled->code, "model.o")))
    return err;
  auto run = (*jit)->lookup(opts.name + "_run");
  if (!run)
    return run.takeError();
  auto impl = std::make_unique<Impl>();
  impl->jit = std::move(*jit);
  impl->run = run->toPtr<RunFn>();
  for (ValueId v : (*entry)->args)
    impl->inputs.push_back((*entry)->type(v));
  for (ValueId v : (*entry)->results)
    impl->outputs.push_back((*entry)->type(v));
  impl->scratchSize = std::max<int64_t>(compiled->plan.size, 1);
  impl->scratch = llvm::allocate_buffer(impl->scratchSize, kScratchAlign);
  return std::unique_ptr<HostModel>(new HostModel(std::move(impl)));
}

llvm::Expected<std::vector<Tensor>>
HostModel::run(llvm::ArrayRef<Tensor> inputs) {
  if (inputs.size() != impl->inputs.size())
    return llvm::make_error<InternalError>(fmt::format(
        "expected {} inputs, got {}", impl->inputs.size(), inputs.size()));
  std::vector<const void *> in;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].type.byteSize() != impl->inputs[i].byteSize())
      return llvm::make_error<InternalError>(
          fmt::format("input {} has type {}, expected {}", i,
                      toString(inputs[i].type), toString(impl->inputs[i])));
    in.push_back(inputs[i].bytes.data());
  }
  std::vector<Tensor> outputs;
  std::vector<void *> out;
  for (const TensorType &t : impl->outputs)
    outputs.emplace_back(t);
  for (Tensor &t : outputs)
    out.push_back(t.bytes.data());
  if (int status = impl->run(in.data(), out.data(), impl->scratch);
      status != RunOk)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        fmt::format("the compiled model returned {}: an index input holds a "
                    "value outside the axis it indexes",
                    status));
  return outputs;
}

} // namespace mnc
