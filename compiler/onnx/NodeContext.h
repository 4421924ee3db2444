// What an op import function sees while importing one ONNX node: its
// inputs as IR values (with their constant values when known), its
// attributes with per-op defaults, and a builder that folds ops whose
// operands are all constant through the reference interpreter.
#pragma once

#include "compiler/onnx/Importer.h"
#include "compiler/onnx/ModelReader.h"
#include "ir/Interpreter.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

namespace mnc::onnximport {

/// A value whose length depends on the data: held at its static capacity,
/// of which the first `count` (an i32[] value) entries along `axis` are
/// valid (see the static-bound ops in ir/Ops.def).
struct Bound {
  int64_t axis;
  ValueId count;
};

/// An integer tensor (a shape value) with elements known only at run time:
/// per element the i32[] value computing it, or none where it is constant.
/// The tensor's own (constant) value holds each element's upper bound.
using RuntimeInts = llvm::SmallVector<std::optional<ValueId>, 4>;

/// The state of one graph being imported.
struct GraphState {
  Function f;
  llvm::StringMap<ValueId> values;
  llvm::DenseMap<ValueId, std::shared_ptr<const Tensor>> constants;
  Limits limits;
  /// Reads Constant node tensors (which may use external data too).
  TensorReader *reader = nullptr;
  /// What folding constants may still spend (see NodeContext::createMulti).
  FoldBudget foldBudget;
  llvm::DenseMap<ValueId, Bound> bounds;
  llvm::DenseMap<ValueId, RuntimeInts> runtimeInts;
  /// The count of the first concat_valid of each list of operand counts:
  /// later ones of the same list share it, so that their results are seen
  /// to have the same length.
  std::map<std::vector<ValueId>, ValueId> concatCounts;
};

class NodeContext {
public:
  NodeContext(GraphState &g, const onnx::NodeProto &node, int64_t opset)
      : node(node), g(g), opsetVersion(opset) {}

  const onnx::NodeProto &node;
  int64_t opset() const { return opsetVersion; }

  // Inputs. Optional ONNX inputs are absent or named "".
  bool hasInput(unsigned i) const {
    return static_cast<int>(i) < node.input_size() && !node.input(i).empty();
  }
  unsigned numInputs() const { return node.input_size(); }
  /// The IR value of input `i`; an error if the input is absent.
  llvm::Expected<ValueId> input(unsigned i) const;
  const TensorType &typeOf(ValueId v) const { return g.f.type(v); }

  // Data-dependent lengths. An import rule that reads these for an input
  // handles that input's data-dependent length; the importer reports a node
  // whose rule did not read them for every such input.
  /// The bound of input `i`, or null if its length is static.
  const Bound *boundOf(unsigned i) const;
  /// The run-time elements of integer input `i`, or null if it has none.
  const RuntimeInts *runtimeIntsOf(unsigned i) const;
  /// Whether input `i` has a data-dependent length or run-time elements.
  bool isDataDependent(unsigned i) const;
  /// The first data-dependent input no rule read, if any.
  std::optional<unsigned> unhandledInput() const;
  void setBound(ValueId v, Bound b) { g.bounds[v] = b; }
  /// Records the run-time elements of `v` (none if all are constant).
  void setRuntimeInts(ValueId v, RuntimeInts ints) {
    if (llvm::any_of(ints, [](const auto &e) { return e.has_value(); }))
      g.runtimeInts[v] = std::move(ints);
  }
  /// Makes the import rule see `v` as input `i` (e.g. a bounded input with
  /// its invalid entries filled).
  void replaceInput(unsigned i, ValueId v) { replaced[i] = v; }
  GraphState &state() { return g; }
  /// The constant value of `v`, or null if it is computed at run time.
  const Tensor *constant(ValueId v) const;
  /// The value of input `i`, which must be constant (else unsupported).
  llvm::Expected<const Tensor *> constInput(unsigned i) const;
  /// Input `i` as integers (any integer element kind), must be constant.
  llvm::Expected<std::vector<int64_t>> constInts(unsigned i) const;
  /// Input `i` as floats, must be constant.
  llvm::Expected<std::vector<float>> constFloats(unsigned i) const;
  /// Fails as unsupported unless input `i` is f32.
  llvm::Error requireFloat(unsigned i) const;

  // Attributes with defaults. A present attribute of the wrong type is
  // recorded and reported after the import function returns.
  const onnx::AttributeProto *attr(llvm::StringRef name) const;
  int64_t getInt(llvm::StringRef name, int64_t def) const;
  float getFloat(llvm::StringRef name, float def) const;
  std::string getString(llvm::StringRef name, llvm::StringRef def) const;
  std::vector<int64_t> getInts(llvm::StringRef name,
                               std::vector<int64_t> def = {}) const;
  std::vector<float> getFloats(llvm::StringRef name,
                               std::vector<float> def = {}) const;
  /// The tensor of attribute `name`, or null if it is absent or not a
  /// tensor (then recorded as a type error).
  const onnx::TensorProto *getTensor(llvm::StringRef name) const;
  /// The first attribute type error, if any.
  llvm::Error takeAttrError() const;

  // Building. Ops whose operands are all constant are evaluated at once
  // (except quantize/dequantize, which keep the int8 meaning of QDQ
  // graphs).
  llvm::Expected<ValueId> create(OpKind kind, llvm::ArrayRef<ValueId> operands,
                                 Attrs attrs = {},
                                 std::optional<TensorType> type = {});
  llvm::Expected<llvm::SmallVector<ValueId, 1>>
  createMulti(OpKind kind, llvm::ArrayRef<ValueId> operands, Attrs attrs);
  ValueId constant(Tensor value);
  /// An f32 constant of shape [] (broadcasts against anything).
  ValueId scalar(float value);
  llvm::Expected<ValueId> reshape(ValueId v, llvm::ArrayRef<int64_t> shape);

  /// Binds output `i` of the node (ignored if the node leaves it unnamed).
  void setOutput(unsigned i, ValueId v);
  bool wantsOutput(unsigned i) const {
    return static_cast<int>(i) < node.output_size() && !node.output(i).empty();
  }
  const Limits &limits() const { return g.limits; }
  TensorReader &reader() { return *g.reader; }

private:
  /// The entry of `map` (bounds, runtimeInts) for input i, marked consulted,
  /// or null.
  template <typename Map>
  const typename Map::mapped_type *consult(const Map &map, unsigned i) const {
    if (!hasInput(i))
      return nullptr;
    auto it = map.find(g.values.lookup(node.input(i)));
    if (it == map.end())
      return nullptr;
    consulted.resize(std::max<size_t>(consulted.size(), i + 1));
    consulted[i] = true;
    return &it->second;
  }
  void recordAttrError(llvm::StringRef name, llvm::StringRef want) const;
  llvm::Error fold(size_t opIndex);

  GraphState &g;
  int64_t opsetVersion;
  mutable std::string attrProblem;
  mutable llvm::SmallVector<bool, 4> consulted;
  llvm::DenseMap<unsigned, ValueId> replaced;
};

/// An UnsupportedError with a formatted message.
template <typename... Args>
llvm::Error unsupported(fmt::format_string<Args...> format, Args &&...args) {
  return llvm::make_error<UnsupportedError>(
      fmt::format(format, std::forward<Args>(args)...));
}

/// A plain error (malformed model) with a formatted message.
template <typename... Args>
llvm::Error invalid(fmt::format_string<Args...> format, Args &&...args) {
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      fmt::format(format, std::forward<Args>(args)...));
}

/// Normalizes a possibly negative axis for `rank`.
llvm::Expected<int64_t> normalizeAxis(int64_t axis, int64_t rank);

} // namespace mnc::onnximport
