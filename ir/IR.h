// The mnc IR: a module of functions, each a topologically ordered list of
// ops over SSA values of static tensor types. Values are dense indices into
// their function, so passes can append values and ops cheaply and look up
// types without pointers.
#pragma once

#include "ir/Types.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace mnc {

enum class OpKind : uint16_t {
#define MNC_OP(Name, mnemonic, minOperands, maxOperands, numResults, Rule) Name,
#include "ir/Ops.def"
};

/// Number of op kinds in the table.
constexpr unsigned numOpKinds() {
  return 0
#define MNC_OP(Name, mnemonic, minOperands, maxOperands, numResults, Rule) +1
#include "ir/Ops.def"
      ;
}

/// Static facts about an op kind, from ir/Ops.def.
struct OpInfo {
  OpKind kind;
  llvm::StringRef mnemonic;
  int minOperands;
  int maxOperands; ///< -1: variadic.
  int numResults;  ///< -1: decided per op (split).
  /// Each result element is a function of the operand elements at its
  /// (broadcast) index: the ops of the Unary, Binary, Clip and PRelu rules.
  bool elementwise;
};
const OpInfo &opInfo(OpKind kind);
llvm::StringRef mnemonic(OpKind kind);
std::optional<OpKind> parseMnemonic(llvm::StringRef text);

/// A dense tensor value: a type and its little-endian row-major bytes.
struct Tensor {
  TensorType type;
  std::vector<uint8_t> bytes;

  Tensor() = default;
  /// A zero-filled tensor of `type`.
  explicit Tensor(TensorType type)
      : type(std::move(type)), bytes(this->type.byteSize()) {}
  Tensor(TensorType type, std::vector<uint8_t> bytes)
      : type(std::move(type)), bytes(std::move(bytes)) {}

  template <typename T> T *data() {
    return reinterpret_cast<T *>(bytes.data());
  }
  template <typename T> const T *data() const {
    return reinterpret_cast<const T *>(bytes.data());
  }
  int64_t numElements() const { return type.numElements(); }
  /// Element `i` converted to double, whatever the element kind.
  double getAsDouble(int64_t i) const;
  /// Element `i` converted to int64 (truncating floats).
  int64_t getAsInt(int64_t i) const;
  bool operator==(const Tensor &o) const {
    return type == o.type && bytes == o.bytes;
  }
};

/// Builds an f32/i64/i32 tensor from values, e.g. for constants in tests and
/// the importer.
Tensor makeTensor(ElemKind elem, llvm::ArrayRef<int64_t> shape,
                  llvm::ArrayRef<double> values);

enum class AttrKind : uint8_t { Int, Float, String, Ints, Floats, Tensor };
llvm::StringRef attrKindName(AttrKind kind);

/// An attribute value. Tensors are shared: copying a module does not copy
/// weights.
using Attr = std::variant<int64_t, float, std::string, std::vector<int64_t>,
                          std::vector<float>, std::shared_ptr<const Tensor>>;
AttrKind attrKind(const Attr &attr);
/// Attributes sorted by name, so printing is deterministic.
using Attrs = std::map<std::string, Attr, std::less<>>;

/// The attribute schema of an op kind, from ir/Ops.def.
struct AttrInfo {
  llvm::StringRef name;
  AttrKind kind;
};
llvm::ArrayRef<AttrInfo> attrSchema(OpKind kind);
/// The schedule attributes any op may carry (ir/Ops.def).
llvm::ArrayRef<AttrInfo> scheduleAttrs();
/// The kind of attribute `name` of an op of kind `kind`: from its schema,
/// else a schedule attribute's, else nullopt.
std::optional<AttrKind> attrKindOf(OpKind kind, llvm::StringRef name);

using ValueId = uint32_t;

/// One operation. Results are values defined by this op.
struct Op {
  OpKind kind;
  llvm::SmallVector<ValueId, 3> operands;
  llvm::SmallVector<ValueId, 1> results;
  Attrs attrs;

  int64_t getInt(llvm::StringRef name) const;
  float getFloat(llvm::StringRef name) const;
  llvm::StringRef getString(llvm::StringRef name) const;
  llvm::ArrayRef<int64_t> getInts(llvm::StringRef name) const;
  llvm::ArrayRef<float> getFloats(llvm::StringRef name) const;
  const Tensor &getTensor(llvm::StringRef name) const;
};

/// A function: arguments, ops in topological order, results. Arguments and
/// results carry the user-visible tensor names (the ONNX graph I/O names).
struct Function {
  std::string name = "main";
  std::vector<TensorType> valueTypes; ///< Indexed by ValueId.
  std::vector<ValueId> args;
  std::vector<std::string> argNames;
  std::vector<ValueId> results;
  std::vector<std::string> resultNames;
  std::vector<Op> ops;

  const TensorType &type(ValueId v) const { return valueTypes[v]; }
  ValueId newValue(TensorType type) {
    valueTypes.push_back(std::move(type));
    return static_cast<ValueId>(valueTypes.size() - 1);
  }
  /// Index of the op defining each value, or -1 for arguments and values
  /// no op defines.
  std::vector<int> definingOps() const;
  /// The value of `v` if a constant op defines it, else null.
  const Tensor *constantValue(ValueId v) const;
  /// Drops ops whose results are unused by results and other live ops, and
  /// renumbers values densely in definition order.
  void compact();
};

/// The name of the result holding the valid length along dim 0 of result
/// `name` when that length depends on the data and the result is held at
/// its capacity: "NAME.count", an i32[1].
std::string countResultName(llvm::StringRef name);
/// Per result of `f`, the index of the result holding its count, or -1.
std::vector<int> countResults(const Function &f);

/// Multiply-accumulates of one evaluation of `op` (conv2d and matmul count;
/// other ops count none).
int64_t opMacs(const Function &f, const Op &op);
/// Multiply-accumulates of one evaluation of `f`.
int64_t macCount(const Function &f);

struct Module {
  std::vector<Function> functions;
  Function *lookup(llvm::StringRef name);
};

/// Result types of `op` from its operand types and attributes. Quantized
/// results (quantize, requantize, and quantized conv2d/matmul) cannot be
/// inferred: for those the caller's `declared` types supply QuantParams and
/// the inference checks everything else. Errors name the op and problem.
llvm::Expected<llvm::SmallVector<TensorType, 1>>
inferResultTypes(const Function &f, const Op &op,
                 llvm::ArrayRef<TensorType> declared = {});

/// Appends ops to a function, inferring result types.
class Builder {
public:
  explicit Builder(Function &f) : f(f) {}

  ValueId addArg(TensorType type, std::string name);
  void addResult(ValueId v, std::string name);
  ValueId constant(Tensor value);
  /// Creates a single-result op. `resultType` is needed only where
  /// inferResultTypes cannot infer QuantParams or the kind.
  llvm::Expected<ValueId>
  create(OpKind kind, llvm::ArrayRef<ValueId> operands, Attrs attrs = {},
         std::optional<TensorType> resultType = std::nullopt);
  /// Creates an op with any number of results.
  llvm::Expected<llvm::SmallVector<ValueId, 1>>
  createMulti(OpKind kind, llvm::ArrayRef<ValueId> operands, Attrs attrs,
              llvm::ArrayRef<TensorType> declared = {});

  Function &function() { return f; }

private:
  Function &f;
};

} // namespace mnc
