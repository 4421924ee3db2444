// runCompiled: the test harness. It writes the object, header, inputs and a
// generated C driver to a temporary directory, links them with `cc` (or a
// cross toolchain plus emulator: AArch64 Linux under qemu-aarch64, Cortex-M
// firmware under qemu-system-arm) and runs the program, which surrounds
// every buffer it hands to the model with guard bytes and fails if any of
// them changed; on Linux the buffers also sit between inaccessible pages,
// so that reads outside them fault (the object is not instrumented, so
// AddressSanitizer in the driver would not see them).
#include "backends/Compile.h"
#include "backends/HeaderWriter.h"
#include "ir/Errors.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <fmt/format.h>

#include <cstring>

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

/// The driver's exit code when NAME_run returns NAME_ERR_INDEX: the input
/// data's fault, not the harness's.
constexpr int kIndexErrorExit = 8;

/// The driver reads the inputs from and writes the outputs to `paths`
/// (inputs first), compiled in because firmware has no command line. It
/// fills outputs and scratch with a pattern, surrounds every buffer with
/// guard bytes and passes a null pointer for an empty one; exit 3 if a
/// guard or an input byte changed. On Linux each buffer also ends against
/// an inaccessible page (the scratch arena within its 64-byte alignment)
/// and starts a page after another, so that reads past either end fault
/// too: the handler names the buffer and exits 6. Through newlib's
/// semihosting, firmware opens the same host files. Buffers are aligned by
/// hand there: newlib has no posix_memalign behind its aligned_alloc.
/// With `profileRuns`, the driver then runs NAME_run_profiled that many
/// times and writes each run's ticks (uint64 ns per step) to
/// `profilePath`.
std::string driverSource(const Function &f, llvm::StringRef name,
                         llvm::ArrayRef<std::string> paths,
                         unsigned profileRuns, llvm::StringRef profilePath) {
  std::string s =
      fmt::format(R"(#if defined(__linux__)
#define _DEFAULT_SOURCE
#endif
#include "model.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define GUARD 64
/* A buffer handed to the model: `tail` pattern bytes follow it (GUARD
   before it); on Linux [lo, hi) spans it and its inaccessible pages. */
struct buffer {{
  const char *what;
  int i;
  unsigned char *p;
  size_t n, tail;
  uintptr_t lo, hi;
}};
static struct buffer buffers[{1}];
static int numBuffers;
#if defined(__linux__)
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>
static void onFault(int sig, siginfo_t *info, void *context) {{
  uintptr_t a = (uintptr_t)info->si_addr;
  char line[200];
  int n = snprintf(line, sizeof line, "the model accessed address %#lx, "
                   "outside its buffers\n", (unsigned long)a);
  (void)sig, (void)context;
  for (int k = 0; k < numBuffers; ++k) {{
    const struct buffer *b = &buffers[k];
    if (a >= b->lo && a < b->hi)
      n = snprintf(line, sizeof line, "the model accessed byte %ld of %s %d "
                   "(%lu bytes): a guard page\n", (long)(a - (uintptr_t)b->p),
                   b->what, b->i, (unsigned long)b->n);
  }}
  if (write(2, line, (size_t)n) < 0) _exit(6);
  _exit(6);
}}
static void watchFaults(void) {{
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = onFault;
  action.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &action, NULL);
  sigaction(SIGBUS, &action, NULL);
}}
static unsigned char *reserve(struct buffer *b, size_t align) {{
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t body = (b->n + align - 1) / align * align;
  size_t len = (GUARD + body + page - 1) / page * page;
  unsigned char *base = (unsigned char *)mmap(
      NULL, len + 2 * page, PROT_READ | PROT_WRITE,
      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED || mprotect(base, page, PROT_NONE) != 0 ||
      mprotect(base + page + len, page, PROT_NONE) != 0)
    exit(2);
  memset(base + page, 0xA5, len);
  b->tail = body - b->n;
  b->lo = (uintptr_t)base;
  b->hi = (uintptr_t)(base + len + 2 * page);
  return base + page + len - body;
}}
#else
static void watchFaults(void) {{}}
static unsigned char *reserve(struct buffer *b, size_t align) {{
  unsigned char *p = (unsigned char *)malloc(b->n + 2 * GUARD + 63);
  (void)align;
  if (!p) exit(2);
  p += (64 - (uintptr_t)p % 64) % 64;
  memset(p, 0xA5, b->n + 2 * GUARD);
  b->tail = GUARD;
  return p + GUARD;
}}
#endif
static unsigned char *guarded(const char *what, int i, size_t n,
                              size_t align) {{
  struct buffer *b = &buffers[numBuffers++];
  b->what = what;
  b->i = i;
  b->n = n;
  b->p = reserve(b, align);
  return b->p;
}}
static int intact(const struct buffer *b) {{
  for (size_t k = 0; k < GUARD; ++k)
    if (b->p[-1 - (long)k] != 0xA5 || (k < b->tail && b->p[b->n + k] != 0xA5)) {{
      fprintf(stderr, "a guard byte of %s %d changed\n", b->what, b->i);
      return 0;
    }}
  return 1;
}}
static int unchanged(int i, const unsigned char *p, const unsigned char *copy,
                     size_t n) {{
  if (memcmp(p, copy, n) == 0) return 1;
  fprintf(stderr, "input %d changed\n", i);
  return 0;
}}
static void *orNull(unsigned char *p, size_t n) {{ return n ? p : NULL; }}
static void load(const char *path, unsigned char *p, size_t n) {{
  FILE *f = fopen(path, "rb");
  if (!f || fread(p, 1, n, f) != n) exit(4);
  fclose(f);
}}
static void save(const char *path, const unsigned char *p, size_t n) {{
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) exit(5);
}}
#if defined(__linux__)
#include <time.h>
static uint64_t nanoseconds(void *ctx) {{
  struct timespec t;
  (void)ctx;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}}
#endif
int main(void) {{
  const void *inputs[{0}_NUM_INPUTS + 1];
  void *outputs[{0}_NUM_OUTPUTS + 1];
  unsigned char *scratch =
      guarded("scratch", 0, {0}_SCRATCH_SIZE, {0}_SCRATCH_ALIGN);
  int ok = 1, rc;
  watchFaults();
)",
                  name.upper(), 1 + f.args.size() + f.results.size());
  // Inputs and outputs end exactly at their page: element alignment is all
  // the generated code needs of them.
  for (size_t i = 0; i < f.args.size(); ++i)
    s += fmt::format("  unsigned char *in{1} = guarded(\"input\", {1}, "
                     "{0}_INPUT{1}_BYTES, 1);\n"
                     "  unsigned char *copy{1} = (unsigned char *)malloc("
                     "{0}_INPUT{1}_BYTES + 1);\n"
                     "  if (!copy{1}) exit(2);\n"
                     "  load({2}, in{1}, {0}_INPUT{1}_BYTES);\n"
                     "  memcpy(copy{1}, in{1}, {0}_INPUT{1}_BYTES);\n"
                     "  inputs[{1}] = orNull(in{1}, {0}_INPUT{1}_BYTES);\n",
                     name.upper(), i, cStringLiteral(paths[i]));
  for (size_t i = 0; i < f.results.size(); ++i)
    s += fmt::format("  unsigned char *out{1} = guarded(\"output\", {1}, "
                     "{0}_OUTPUT{1}_BYTES, 1);\n"
                     "  outputs[{1}] = orNull(out{1}, {0}_OUTPUT{1}_BYTES);\n",
                     name.upper(), i);
  s += fmt::format(
      "  rc = {0}_run(inputs, outputs, orNull(scratch, {1}_SCRATCH_SIZE));\n"
      "  if (rc == {1}_ERR_INDEX) return {2};\n"
      "  if (rc != {1}_OK) return 7;\n"
      "  for (int k = 0; k < numBuffers; ++k) ok &= intact(&buffers[k]);\n",
      name.str(), name.upper(), kIndexErrorExit);
  for (size_t i = 0; i < f.args.size(); ++i)
    s += fmt::format("  ok &= unchanged({1}, in{1}, copy{1}, "
                     "{0}_INPUT{1}_BYTES);\n",
                     name.upper(), i);
  if (profileRuns)
    s += fmt::format(
        "  {{\n"
        "    static uint64_t ticks[{1}_PROFILE_STEPS];\n"
        "    mnc_profiler profiler = {{nanoseconds, NULL, ticks}};\n"
        "    FILE *f = fopen({2}, \"wb\");\n"
        "    if (!f) exit(5);\n"
        "    for (int r = 0; r < {3}; ++r) {{\n"
        "      memset(ticks, 0, sizeof ticks);\n"
        "      rc = {0}_run_profiled(inputs, outputs,\n"
        "                            orNull(scratch, {1}_SCRATCH_SIZE),\n"
        "                            &profiler);\n"
        "      if (rc != {1}_OK) return 7;\n"
        "      if (fwrite(ticks, sizeof ticks, 1, f) != 1) exit(5);\n"
        "    }}\n"
        "    if (fclose(f) != 0) exit(5);\n"
        "  }}\n",
        name.str(), name.upper(), cStringLiteral(profilePath), profileRuns);
  for (size_t i = 0; i < f.results.size(); ++i)
    s += fmt::format("  save({2}, out{1}, {0}_OUTPUT{1}_BYTES);\n",
                     name.upper(), i, cStringLiteral(paths[f.args.size() + i]));
  s += "  return ok ? 0 : 3;\n}\n";
  return s;
}

/// Runs `program`; `indexError`, if given, is the message (a user error)
/// for the driver's exit kIndexErrorExit.
llvm::Error runProgram(llvm::StringRef program,
                       llvm::ArrayRef<std::string> args, llvm::StringRef log,
                       llvm::StringRef what, llvm::StringRef indexError = "") {
  std::vector<llvm::StringRef> argv{program};
  for (const std::string &a : args)
    argv.push_back(a);
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, log, log};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(program, argv, std::nullopt, redirects, 0,
                                     0, &message);
  if (rc == 0)
    return llvm::Error::success();
  if (rc == kIndexErrorExit && !indexError.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(), indexError);
  auto text = llvm::MemoryBuffer::getFile(log);
  return fail(fmt::format("{} failed (exit {}){}{}", what.str(), rc,
                          message.empty() ? "" : ": " + message,
                          text ? "\n" + (*text)->getBuffer().str() : ""));
}

/// A contiguous RAM region of a board.
struct Region {
  uint64_t origin, size;
};

/// A board qemu-system-arm emulates with one Cortex-M CPU. Code goes to the
/// 512 KiB at 0x0 that all of them have; `regions` are the RAMs beyond it
/// that weights and data may use (memory maps: firmware.ld's comment).
struct Board {
  llvm::StringRef cpu;
  llvm::StringRef arch; ///< The triple's architecture, e.g. thumbv7em.
  llvm::StringRef machine;
  llvm::StringRef fpu; ///< arm-none-eabi-gcc's -mfpu (empty: the CPU's).
  std::vector<Region> regions;
};

const Board boards[] = {
    {"cortex-m4",
     "thumbv7em",
     "mps2-an386",
     "fpv4-sp-d16",
     {{0x80000, 0x380000}, {0x20000000, 4 << 20}, {0x21000000, 16 << 20}}},
    {"cortex-m7",
     "thumbv7em",
     "mps2-an500",
     "fpv5-d16",
     {{0x80000, 0x380000}, {0x20000000, 4 << 20}, {0x60000000, 16 << 20}}},
    {"cortex-m55",
     "thumbv8.1m.main",
     "mps3-an547",
     "",
     {{0x60000000, 256 << 20}, {0x70000000, 256 << 20}}},
};

/// The startup code and linker script in backends/cortex-m/, embedded at
/// build time so that an installed mnc can link firmware.
struct EmbeddedFile {
  const char *name;
  const char *text;
};
const EmbeddedFile firmwareFiles[] = {
#include "backends/CortexMFirmware.inc"
};

/// How to link and start a program for one target: `linker` is a C compiler
/// driver, `emulator` (if set) runs the program on a foreign host, given
/// after `emulatorFlags`. Firmware for a `board` is linked with the
/// embedded startup code and linker script.
struct Toolchain {
  std::string linker;
  std::vector<std::string> linkFlags;
  std::string emulator;
  std::vector<std::string> emulatorFlags;
  const Board *board = nullptr;
};

bool isHost(const TargetSpec &target) {
  if (target.triple.empty())
    return true;
  llvm::Triple want(llvm::Triple::normalize(target.triple));
  llvm::Triple host(llvm::sys::getDefaultTargetTriple());
  return want.getArch() == host.getArch() && want.getOS() == host.getOS();
}

/// Bare-metal firmware with newlib's semihosting (file I/O and the exit
/// status go to the host) for the board of `target.cpu`.
llvm::Expected<Toolchain> firmwareToolchain(const llvm::Triple &triple,
                                            const TargetSpec &target) {
  std::vector<llvm::StringRef> cpus, machines;
  for (const Board &board : boards) {
    if (board.arch != triple.getArchName())
      continue;
    if (board.cpu != target.cpu) {
      cpus.push_back(board.cpu);
      machines.push_back(board.machine);
      continue;
    }
    Toolchain t{"arm-none-eabi-gcc",
                {"-mcpu=" + board.cpu.str(), "-mthumb", "-mfloat-abi=hard",
                 "--specs=rdimon.specs", "-nostartfiles"},
                "qemu-system-arm",
                {"-M", board.machine.str(), "-display", "none", "-monitor",
                 "none", "-serial", "null", "-semihosting-config",
                 "enable=on,target=native", "-kernel"},
                &board};
    if (!board.fpu.empty())
      t.linkFlags.push_back("-mfpu=" + board.fpu.str());
    return t;
  }
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      fmt::format("running code compiled for '{}' needs --mcpu {} "
                  "(qemu-system-arm boards {}){}",
                  target.triple, fmt::join(cpus, " or "),
                  fmt::join(machines, ", "),
                  target.cpu.empty() ? "" : ", not '" + target.cpu + "'"));
}

/// Static linking keeps the emulator from needing a target sysroot.
llvm::Expected<Toolchain> toolchainFor(const TargetSpec &target) {
  if (isHost(target))
    return Toolchain{"cc", {}, "", {}, nullptr};
  llvm::Triple want(llvm::Triple::normalize(target.triple));
  if (want.getArch() == llvm::Triple::aarch64 && want.isOSLinux())
    return Toolchain{
        "aarch64-linux-gnu-gcc", {"-static"}, "qemu-aarch64", {}, nullptr};
  if (want.isThumb() && want.getOS() == llvm::Triple::UnknownOS &&
      want.getEnvironment() == llvm::Triple::EABIHF &&
      llvm::any_of(
          boards, [&](const Board &b) { return b.arch == want.getArchName(); }))
    return firmwareToolchain(want, target);
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      fmt::format("cannot run code compiled for '{}': running supports the "
                  "host ({}), aarch64-linux-gnu (via aarch64-linux-gnu-gcc "
                  "-static and qemu-aarch64), and thumbv7em-none-eabihf and "
                  "thumbv8.1m.main-none-eabihf (Cortex-M firmware via "
                  "arm-none-eabi-gcc and qemu-system-arm); use `mnc compile` "
                  "for other targets",
                  target.triple, llvm::sys::getDefaultTargetTriple()));
}

llvm::Expected<std::string> findTool(llvm::StringRef name,
                                     llvm::StringRef purpose) {
  auto path = llvm::sys::findProgramByName(name);
  if (!path)
    return fail(
        fmt::format("no '{}' on PATH to {}", name.str(), purpose.str()));
  return *path;
}

/// The bytes the firmware's heap and stack need: every buffer the driver
/// allocates with its guards, plus 256 KiB for the stack, newlib's buffers
/// and .data/.bss (generous: MobileNets use a few KiB of stack).
uint64_t firmwareDataBytes(const Function &f, int64_t scratchSize) {
  auto guarded = [](int64_t n) { return uint64_t(n) + 3 * 64; };
  uint64_t bytes = guarded(scratchSize) + (256 << 10);
  for (ValueId v : f.args) // and the copy that checks it stays unchanged
    bytes += 2 * guarded(f.type(v).byteSize());
  for (ValueId v : f.results)
    bytes += guarded(f.type(v).byteSize());
  return bytes;
}

/// --defsym flags placing the weights (at most `objectBytes`: the object
/// holds them, plus 64 KiB of the driver's and newlib's read-only data) and
/// the data into two distinct regions of the board: the first pair that
/// holds both, the board listing its regions smallest first.
llvm::Expected<std::vector<std::string>>
firmwareLayout(const Board &board, uint64_t objectBytes, uint64_t dataBytes) {
  uint64_t weightBytes = objectBytes + (64 << 10);
  for (const Region &weights : board.regions)
    for (const Region &data : board.regions)
      if (&weights != &data && weights.size >= weightBytes &&
          data.size >= dataBytes)
        return std::vector<std::string>{fmt::format(
            "-Wl,--defsym=WEIGHTS={:#x},--defsym=WEIGHTS_SIZE={:#x},"
            "--defsym=DATA={:#x},--defsym=DATA_SIZE={:#x}",
            weights.origin, weights.size, data.origin, data.size)};
  std::vector<std::string> regions;
  for (const Region &r : board.regions)
    regions.push_back(fmt::format("{} KiB at {:#x}", r.size >> 10, r.origin));
  return llvm::make_error<UnsupportedError>(fmt::format(
      "the model needs about {} bytes of read-only data and {} bytes of RAM "
      "in two separate RAM regions of {} ({})",
      weightBytes, dataBytes, board.machine.str(), fmt::join(regions, ", ")));
}

/// Writes the embedded startup code and linker script to `dir` and returns
/// the link arguments that use them and place the model's memory.
llvm::Expected<std::vector<std::string>>
firmwareArgs(const Board &board, const Function &f,
             const CompileResult &compiled, llvm::StringRef dir) {
  auto args = firmwareLayout(board, compiled.code.size(),
                             firmwareDataBytes(f, compiled.plan.size));
  if (!args)
    return args.takeError();
  for (const EmbeddedFile &file : firmwareFiles) {
    llvm::SmallString<128> path(dir);
    llvm::sys::path::append(path, file.name);
    if (auto err = writeFile(path, file.text))
      return err;
    args->push_back(llvm::StringRef(file.name).ends_with(".ld")
                        ? "-T" + std::string(path)
                        : std::string(path));
  }
  return args;
}

/// The outputs the driver wrote to `files`, checked against `f`'s types.
llvm::Expected<std::vector<Tensor>>
readOutputs(const Function &f, llvm::ArrayRef<std::string> files) {
  std::vector<Tensor> outputs;
  for (size_t i = 0; i < f.results.size(); ++i) {
    auto buffer = llvm::MemoryBuffer::getFile(files[i]);
    if (!buffer)
      return fail("cannot read output " + std::to_string(i));
    llvm::StringRef bytes = (*buffer)->getBuffer();
    const TensorType &type = f.type(f.results[i]);
    if (int64_t(bytes.size()) != type.byteSize())
      return fail(fmt::format("output {} has {} bytes, its type {} needs {}", i,
                              bytes.size(), toString(type), type.byteSize()));
    outputs.emplace_back(type,
                         std::vector<uint8_t>(bytes.begin(), bytes.end()));
  }
  return outputs;
}

} // namespace

llvm::Error checkRunTarget(const TargetSpec &target) {
  if (auto toolchain = toolchainFor(target); !toolchain)
    return toolchain.takeError();
  auto machine = createTargetMachine(target);
  return machine ? llvm::Error::success() : machine.takeError();
}

/// Reads the driver's profile file into `profile`.
llvm::Error readProfile(llvm::StringRef path, RunProfile &profile) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return fail("cannot read the profile the driver wrote");
  llvm::StringRef bytes = (*buffer)->getBuffer();
  size_t steps = profile.steps.size();
  if (bytes.size() != profile.runs * steps * sizeof(uint64_t))
    return fail(fmt::format("the profile has {} bytes, expected {} runs of "
                            "{} steps",
                            bytes.size(), profile.runs, steps));
  profile.ns.assign(profile.runs, std::vector<uint64_t>(steps));
  for (unsigned r = 0; r < profile.runs; ++r)
    std::memcpy(profile.ns[r].data(),
                bytes.data() + r * steps * sizeof(uint64_t),
                steps * sizeof(uint64_t));
  return llvm::Error::success();
}

llvm::Expected<std::vector<Tensor>> runCompiled(const Module &m,
                                                llvm::ArrayRef<Tensor> inputs,
                                                const CompileOptions &options,
                                                RunProfile *profile) {
  auto toolchain = toolchainFor(options.target);
  if (!toolchain)
    return toolchain.takeError();
  if (profile && !isHost(options.target))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "--profile times compiled code on this machine only; for another "
        "target, build with `mnc compile --profile` and call "
        "NAME_run_profiled with a clock of that target");
  CompileOptions opts = options;
  opts.profile = profile != nullptr;
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
  std::vector<std::string> files;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].type.byteSize() != f.type(f.args[i]).byteSize())
      return fail(fmt::format("input {} has type {}, expected {}", i,
                              toString(inputs[i].type),
                              toString(f.type(f.args[i]))));
    files.push_back(path(fmt::format("in{}.bin", i)));
    llvm::StringRef bytes(
        reinterpret_cast<const char *>(inputs[i].bytes.data()),
        inputs[i].bytes.size());
    if (auto err = writeFile(files.back(), bytes))
      return err;
  }
  for (size_t i = 0; i < f.results.size(); ++i)
    files.push_back(path(fmt::format("out{}.bin", i)));
  if (auto err = writeFile(path("model.o"), compiled->code))
    return err;
  if (auto err = writeFile(path("model.h"), compiled->header))
    return err;
  unsigned runs = profile ? profile->runs : 0;
  if (auto err = writeFile(path("main.c"), driverSource(f, opts.name, files,
                                                        runs, path("profile"))))
    return err;
  std::vector<std::string> linkArgs = toolchain->linkFlags;
  if (const Board *board = toolchain->board) {
    auto firmware = firmwareArgs(*board, f, *compiled, dir);
    if (!firmware)
      return firmware.takeError();
    linkArgs.insert(linkArgs.end(), firmware->begin(), firmware->end());
  }
  auto linker = findTool(toolchain->linker, "link the generated object");
  if (!linker)
    return linker.takeError();
  linkArgs.insert(linkArgs.end(), {"-std=c11", "-O1", path("main.c"),
                                   path("model.o"), "-o", path("prog")});
  if (auto err = runProgram(*linker, linkArgs, path("cc.log"),
                            "linking the test driver"))
    return err;
  std::string program = path("prog");
  std::vector<std::string> runArgs;
  if (!toolchain->emulator.empty()) {
    auto emulator = findTool(toolchain->emulator, "run the linked program");
    if (!emulator)
      return emulator.takeError();
    runArgs = toolchain->emulatorFlags;
    runArgs.push_back(program);
    program = *emulator;
  }
  std::string indexError = fmt::format(
      "{}_run returned {}_ERR_INDEX: an index input holds a value outside "
      "the axis it indexes",
      opts.name, llvm::StringRef(opts.name).upper());
  if (auto err = runProgram(program, runArgs, path("run.log"),
                            "running the compiled model", indexError))
    return err;
  if (profile) {
    profile->steps = compiled->profileSteps;
    if (auto err = readProfile(path("profile"), *profile))
      return err;
  }
  return readOutputs(f, llvm::ArrayRef(files).drop_front(inputs.size()));
}

} // namespace mnc
