// The IR verifier: see ir/Verifier.h.
#include "ir/Verifier.h"

#include "llvm/ADT/StringSet.h"

#include <fmt/format.h>

namespace mnc {
namespace {

template <typename... Args>
llvm::Error functionError(const Function &f, fmt::format_string<Args...> format,
                          Args &&...args) {
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(), "error: @%s: %s", f.name.c_str(),
      fmt::format(format, std::forward<Args>(args)...).c_str());
}

template <typename... Args>
llvm::Error opError(const Function &f, size_t index,
                    fmt::format_string<Args...> format, Args &&...args) {
  return functionError(f, "op {} ({}): {}", index,
                       mnemonic(f.ops[index].kind).str(),
                       fmt::format(format, std::forward<Args>(args)...));
}

llvm::Error checkTensorAttrs(const Function &f, size_t index) {
  for (const auto &[name, attr] : f.ops[index].attrs) {
    if (attrKind(attr) != AttrKind::Tensor)
      continue;
    const auto &t = std::get<std::shared_ptr<const Tensor>>(attr);
    if (!t)
      return opError(f, index, "attribute '{}' holds no tensor", name);
    if (t->bytes.size() != static_cast<size_t>(t->type.byteSize()))
      return opError(f, index, "attribute '{}' holds {} bytes, {} needs {}",
                     name, t->bytes.size(), toString(t->type),
                     t->type.byteSize());
  }
  return llvm::Error::success();
}

/// Tracks which values are defined so far while walking a function.
class Definitions {
public:
  explicit Definitions(const Function &f)
      : f(f), defined(f.valueTypes.size()) {}

  /// Defines `v`; `what` names it in messages ("argument 2").
  llvm::Error define(ValueId v, llvm::StringRef what) {
    if (v >= defined.size())
      return functionError(f, "{} is value {}, but the function has {} values",
                           what.str(), v, defined.size());
    if (defined[v])
      return functionError(f, "{} redefines value {}", what.str(), v);
    defined[v] = true;
    return llvm::Error::success();
  }
  bool isDefined(ValueId v) const { return v < defined.size() && defined[v]; }

private:
  const Function &f;
  std::vector<bool> defined;
};

llvm::Error checkNames(const Function &f) {
  if (f.argNames.size() != f.args.size())
    return functionError(f, "{} argument names for {} arguments",
                         f.argNames.size(), f.args.size());
  if (f.resultNames.size() != f.results.size())
    return functionError(f, "{} result names for {} results",
                         f.resultNames.size(), f.results.size());
  return llvm::Error::success();
}

} // namespace

llvm::Error checkGatherIndices(const Tensor &indices, int64_t axis,
                               int64_t extent) {
  for (int64_t k = 0, n = indices.numElements(); k < n; ++k) {
    int64_t i = indices.getAsInt(k);
    if (i < -extent || i >= extent)
      return llvm::createStringError(fmt::format(
          "constant index {} (entry {}) is out of range for axis {} of "
          "extent {}",
          i, k, axis, extent));
  }
  return llvm::Error::success();
}

llvm::Error verifyOp(const Function &f, size_t index) {
  const Op &op = f.ops[index];
  const OpInfo &info = opInfo(op.kind);
  if (op.results.empty())
    return opError(f, index, "has no results");
  if (info.numResults >= 0 &&
      op.results.size() != static_cast<size_t>(info.numResults))
    return opError(f, index, "has {} results, expects {}", op.results.size(),
                   info.numResults);
  llvm::SmallVector<TensorType, 1> declared;
  for (ValueId r : op.results) {
    if (r >= f.valueTypes.size())
      return opError(f, index, "result value {} is not a value of the function",
                     r);
    declared.push_back(f.type(r));
  }
  if (auto err = checkTensorAttrs(f, index))
    return err;
  auto types = inferResultTypes(f, op, declared);
  if (types)
    return llvm::Error::success();
  // Inference messages start with the mnemonic, which opError already says.
  std::string message = llvm::toString(types.takeError());
  llvm::StringRef problem(message);
  problem.consume_front((info.mnemonic + ": ").str());
  return opError(f, index, "{}", problem.str());
}

llvm::Error verifyFunction(const Function &f) {
  if (auto err = checkNames(f))
    return err;
  Definitions defs(f);
  // The literal of each value a constant op defines, for ops whose
  // contract covers operand values.
  std::vector<const Tensor *> constants(f.valueTypes.size(), nullptr);
  for (size_t i = 0; i < f.args.size(); ++i)
    if (auto err = defs.define(f.args[i], fmt::format("argument {}", i)))
      return err;
  for (size_t i = 0; i < f.ops.size(); ++i) {
    const Op &op = f.ops[i];
    for (size_t k = 0; k < op.operands.size(); ++k)
      if (!defs.isDefined(op.operands[k]))
        return opError(f, i,
                       "operand {} (value {}) is not defined before "
                       "its use",
                       k, op.operands[k]);
    for (size_t k = 0; k < op.results.size(); ++k)
      if (auto err = defs.define(op.results[k],
                                 fmt::format("op {} ({}) result {}", i,
                                             mnemonic(op.kind).str(), k)))
        return err;
    if (auto err = verifyOp(f, i))
      return err;
    if (op.kind == OpKind::Constant)
      constants[op.results[0]] = &op.getTensor("value");
    if (op.kind == OpKind::Gather && constants[op.operands[1]]) {
      int64_t axis = op.getInt("axis");
      if (auto err = checkGatherIndices(*constants[op.operands[1]], axis,
                                        f.type(op.operands[0]).shape[axis]))
        return opError(f, i, "{}", llvm::toString(std::move(err)));
    }
  }
  for (size_t i = 0; i < f.results.size(); ++i)
    if (!defs.isDefined(f.results[i]))
      return functionError(f, "result {} (value {}) is not defined", i,
                           f.results[i]);
  return llvm::Error::success();
}

llvm::Error verifyModule(const Module &m) {
  llvm::StringSet<> names;
  for (const Function &f : m.functions) {
    if (!names.insert(f.name).second)
      return functionError(f, "function is defined twice");
    if (auto err = verifyFunction(f))
      return err;
  }
  return llvm::Error::success();
}

} // namespace mnc
