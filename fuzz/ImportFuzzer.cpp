// libFuzzer entry point for the ONNX importer: every input is written to a
// model file and imported; a model that imports is verified again and, when
// it is small, run through the reference interpreter. Any crash, sanitizer
// report, timeout or oversized allocation is a bug, as is an imported module
// that fails verification (the importer promises verified modules).
//
// Build with -DMNC_FUZZ=ON -DCMAKE_C_COMPILER=clang-19
// -DCMAKE_CXX_COMPILER=clang++-19; run as
//   mnc-import-fuzzer NEW_CORPUS_DIR fuzz/corpus -rss_limit_mb=2048
// (scripts/test-sanitizers.sh does both; fuzz/make_corpus.py wrote the
// seeds).
#include "compiler/onnx/Importer.h"
#include "ir/Interpreter.h"
#include "ir/Verifier.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

/// Models with more elements than this over all values are imported but
/// not interpreted, so each input runs in milliseconds (the interpreter's
/// work is bounded by the values it computes times their fan-in).
constexpr int64_t maxInterpretedElements = 4096;

/// The model file, in a folder of its own so that external data locations
/// in fuzzed models resolve to nothing outside it.
const std::string &modelPath() {
  static const std::string path = [] {
    llvm::SmallString<128> dir;
    if (llvm::sys::fs::createUniqueDirectory("mnc-import-fuzz", dir)) {
      llvm::errs() << "cannot create a temporary folder\n";
      std::abort();
    }
    llvm::sys::path::append(dir, "model.onnx");
    return std::string(dir);
  }();
  return path;
}

bool writeModel(const uint8_t *data, size_t size) {
  std::error_code ec;
  llvm::raw_fd_ostream os(modelPath(), ec);
  if (ec)
    return false;
  os.write(reinterpret_cast<const char *>(data), size);
  os.close();
  return !os.has_error();
}

/// Inputs with a fixed, varied pattern (zeros hide too much).
std::vector<mnc::Tensor> makeInputs(const mnc::Function &f) {
  std::vector<mnc::Tensor> inputs;
  for (mnc::ValueId arg : f.args) {
    mnc::Tensor t(f.type(arg));
    for (size_t i = 0; i < t.bytes.size(); ++i)
      t.bytes[i] = static_cast<uint8_t>(i * 37 + 11);
    if (t.type.elem == mnc::ElemKind::F32)
      for (int64_t i = 0; i < t.numElements(); ++i)
        t.data<float>()[i] = static_cast<float>(i % 7) - 3.0f;
    inputs.push_back(std::move(t));
  }
  return inputs;
}

int64_t totalElements(const mnc::Function &f) {
  int64_t total = 0;
  for (const mnc::TensorType &t : f.valueTypes)
    total += t.numElements();
  return total;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  // Registered after the path exists, so it runs before the path's
  // destructor.
  modelPath();
  std::atexit([] {
    llvm::sys::fs::remove_directories(
        llvm::sys::path::parent_path(modelPath()));
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!writeModel(data, size))
    return 0;
  auto m = mnc::importOnnxFile(modelPath());
  if (!m) {
    std::string message = llvm::toString(m.takeError());
    if (llvm::StringRef(message).contains("does not verify")) {
      llvm::errs() << message << '\n';
      std::abort();
    }
    return 0;
  }
  if (auto err = mnc::verifyModule(*m)) {
    llvm::errs() << llvm::toString(std::move(err)) << '\n';
    std::abort();
  }
  const mnc::Function *f = m->lookup("main");
  if (!f || totalElements(*f) > maxInterpretedElements)
    return 0;
  auto outputs = mnc::interpret(*f, makeInputs(*f));
  if (!outputs)
    llvm::consumeError(outputs.takeError());
  return 0;
}
