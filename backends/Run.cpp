// runCompiled: the test harness. It writes the object, header, inputs and a
// generated C driver to a temporary directory, links them with `cc` (or a
// cross toolchain plus emulator for AArch64 Linux) and runs the program,
// which surrounds every buffer it hands to the model with guard bytes and
// fails if any of them changed.
#include "backends/Compile.h"
#include "ir/Errors.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <fmt/format.h>

namespace mnc {
namespace {

/// Everything that can fail here, after compilation, is the harness's or
/// the generated code's fault, not the model's.
llvm::Error fail(const std::string &message) {
  return llvm::make_error<InternalError>(message);
}

llvm::Error writeFile(llvm::StringRef path, llvm::StringRef bytes) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return fail(fmt::format("cannot write {}: {}", path.str(), ec.message()));
  os << bytes;
  return llvm::Error::success();
}

/// The driver: argv = inputs..., outputs...; exit 3 if a guard changed.
std::string driverSource(const Function &f, llvm::StringRef name) {
  std::string s = fmt::format(R"(#include "model.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define GUARD 64
static unsigned char *guarded(size_t n) {{
  size_t total = (n + 2 * GUARD + 63) / 64 * 64;
  unsigned char *p = (unsigned char *)aligned_alloc(64, total);
  if (!p) exit(2);
  memset(p, 0xA5, total);
  return p + GUARD;
}}
static int intact(const unsigned char *p, size_t n) {{
  for (size_t i = 0; i < GUARD; ++i)
    if (p[-1 - (long)i] != 0xA5 || p[n + i] != 0xA5) return 0;
  return 1;
}}
static void load(const char *path, unsigned char *p, size_t n) {{
  FILE *f = fopen(path, "rb");
  if (!f || fread(p, 1, n, f) != n) exit(4);
  fclose(f);
}}
static void save(const char *path, const unsigned char *p, size_t n) {{
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(p, 1, n, f) != n) exit(5);
  fclose(f);
}}
int main(int argc, char **argv) {{
  const void *inputs[{0}_NUM_INPUTS + 1];
  void *outputs[{0}_NUM_OUTPUTS + 1];
  unsigned char *scratch = guarded({0}_SCRATCH_SIZE);
  int ok = 1;
  if (argc != 1 + {0}_NUM_INPUTS + {0}_NUM_OUTPUTS) return 6;
)",
                              name.upper());
  for (size_t i = 0; i < f.args.size(); ++i)
    s += fmt::format("  unsigned char *in{1} = guarded({0}_INPUT{1}_BYTES);\n"
                     "  load(argv[{2}], in{1}, {0}_INPUT{1}_BYTES);\n"
                     "  inputs[{1}] = in{1};\n",
                     name.upper(), i, 1 + i);
  for (size_t i = 0; i < f.results.size(); ++i)
    s += fmt::format("  unsigned char *out{1} = guarded({0}_OUTPUT{1}_BYTES);\n"
                     "  outputs[{1}] = out{1};\n",
                     name.upper(), i);
  s += fmt::format("  if ({}_run(inputs, outputs, scratch) != 0) return 7;\n"
                   "  ok &= intact(scratch, {}_SCRATCH_SIZE);\n",
                   name.str(), name.upper());
  for (size_t i = 0; i < f.args.size(); ++i)
    s += fmt::format("  ok &= intact(in{1}, {0}_INPUT{1}_BYTES);\n",
                     name.upper(), i);
  for (size_t i = 0; i < f.results.size(); ++i)
    s += fmt::format("  ok &= intact(out{1}, {0}_OUTPUT{1}_BYTES);\n"
                     "  save(argv[{2}], out{1}, {0}_OUTPUT{1}_BYTES);\n",
                     name.upper(), i, 1 + f.args.size() + i);
  s += "  return ok ? 0 : 3;\n}\n";
  return s;
}

llvm::Error runProgram(llvm::StringRef program,
                       llvm::ArrayRef<std::string> args, llvm::StringRef log,
                       llvm::StringRef what) {
  std::vector<llvm::StringRef> argv{program};
  for (const std::string &a : args)
    argv.push_back(a);
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, log, log};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(program, argv, std::nullopt, redirects, 0,
                                     0, &message);
  if (rc == 0)
    return llvm::Error::success();
  auto text = llvm::MemoryBuffer::getFile(log);
  return fail(fmt::format("{} failed (exit {}){}{}", what.str(), rc,
                          message.empty() ? "" : ": " + message,
                          text ? "\n" + (*text)->getBuffer().str() : ""));
}

/// How to link and start a program for one target: `linker` is a C compiler
/// driver, `emulator` (if set) runs the program on a foreign host.
struct Toolchain {
  std::string linker;
  std::vector<std::string> linkFlags;
  std::string emulator;
};

bool isHost(const TargetSpec &target) {
  if (target.triple.empty())
    return true;
  llvm::Triple want(llvm::Triple::normalize(target.triple));
  llvm::Triple host(llvm::sys::getDefaultTargetTriple());
  return want.getArch() == host.getArch() && want.getOS() == host.getOS();
}

/// Static linking keeps the emulator from needing a target sysroot.
llvm::Expected<Toolchain> toolchainFor(const TargetSpec &target) {
  if (isHost(target))
    return Toolchain{"cc", {}, ""};
  llvm::Triple want(llvm::Triple::normalize(target.triple));
  if (want.getArch() == llvm::Triple::aarch64 && want.isOSLinux())
    return Toolchain{"aarch64-linux-gnu-gcc", {"-static"}, "qemu-aarch64"};
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      fmt::format("cannot run code compiled for '{}': running supports the "
                  "host ({}) and aarch64-linux-gnu (via aarch64-linux-gnu-gcc "
                  "-static and qemu-aarch64); use `mnc compile` for other "
                  "targets",
                  target.triple, llvm::sys::getDefaultTargetTriple()));
}

llvm::Expected<std::string> findTool(llvm::StringRef name,
                                     llvm::StringRef purpose) {
  auto path = llvm::sys::findProgramByName(name);
  if (!path)
    return fail(fmt::format("no '{}' on PATH to {}", name.str(), purpose.str()));
  return *path;
}

} // namespace

llvm::Error checkRunTarget(const TargetSpec &target) {
  if (auto toolchain = toolchainFor(target); !toolchain)
    return toolchain.takeError();
  auto machine = createTargetMachine(target);
  return machine ? llvm::Error::success() : machine.takeError();
}

llvm::Expected<std::vector<Tensor>> runCompiled(const Module &m,
                                                llvm::ArrayRef<Tensor> inputs,
                                                const CompileOptions &opts) {
  auto toolchain = toolchainFor(opts.target);
  if (!toolchain)
    return toolchain.takeError();
  auto compiled = compileModule(m, opts);
  if (!compiled)
    return compiled.takeError();
  auto entry = entryFunction(m);
  if (!entry)
    return entry.takeError();
  const Function &f = **entry;
  if (inputs.size() != f.args.size())
    return fail(fmt::format("expected {} inputs, got {}", f.args.size(),
                            inputs.size()));
  llvm::SmallString<128> dir;
  if (auto ec = llvm::sys::fs::createUniqueDirectory("mnc-run", dir))
    return fail("cannot create a temporary directory: " + ec.message());
  auto path = [&](llvm::StringRef file) {
    llvm::SmallString<128> p(dir);
    llvm::sys::path::append(p, file);
    return std::string(p);
  };
  auto cleanup =
      llvm::make_scope_exit([&] { llvm::sys::fs::remove_directories(dir); });
  std::vector<std::string> args;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].type.byteSize() != f.type(f.args[i]).byteSize())
      return fail(fmt::format("input {} has type {}, expected {}", i,
                              toString(inputs[i].type),
                              toString(f.type(f.args[i]))));
    args.push_back(path(fmt::format("in{}.bin", i)));
    llvm::StringRef bytes(
        reinterpret_cast<const char *>(inputs[i].bytes.data()),
        inputs[i].bytes.size());
    if (auto err = writeFile(args.back(), bytes))
      return err;
  }
  for (size_t i = 0; i < f.results.size(); ++i)
    args.push_back(path(fmt::format("out{}.bin", i)));
  if (auto err = writeFile(path("model.o"), compiled->code))
    return err;
  if (auto err = writeFile(path("model.h"), compiled->header))
    return err;
  if (auto err = writeFile(path("main.c"), driverSource(f, opts.name)))
    return err;
  auto linker = findTool(toolchain->linker, "link the generated object");
  if (!linker)
    return linker.takeError();
  std::vector<std::string> linkArgs = toolchain->linkFlags;
  linkArgs.insert(linkArgs.end(), {"-std=c11", "-O1", path("main.c"),
                                   path("model.o"), "-o", path("prog")});
  if (auto err =
          runProgram(*linker, linkArgs, path("cc.log"), "linking the test driver"))
    return err;
  std::string program = path("prog");
  std::vector<std::string> runArgs = args;
  if (!toolchain->emulator.empty()) {
    auto emulator = findTool(toolchain->emulator, "run the linked program");
    if (!emulator)
      return emulator.takeError();
    runArgs.insert(runArgs.begin(), program);
    program = *emulator;
  }
  if (auto err = runProgram(program, runArgs, path("run.log"),
                            "running the compiled model"))
    return err;
  std::vector<Tensor> outputs;
  for (size_t i = 0; i < f.results.size(); ++i) {
    auto buffer = llvm::MemoryBuffer::getFile(args[inputs.size() + i]);
    if (!buffer)
      return fail("cannot read output " + std::to_string(i));
    llvm::StringRef bytes = (*buffer)->getBuffer();
    if (int64_t(bytes.size()) != f.type(f.results[i]).byteSize())
      return fail(fmt::format("output {} has {} bytes, its type {} needs {}",
                              i, bytes.size(), toString(f.type(f.results[i])),
                              f.type(f.results[i]).byteSize()));
    outputs.emplace_back(f.type(f.results[i]),
                         std::vector<uint8_t>(bytes.begin(), bytes.end()));
  }
  return outputs;
}

} // namespace mnc
