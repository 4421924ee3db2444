// Op table lookups, attribute access and the function/module containers.
#include "ir/IR.h"

#include <fmt/format.h>

#include <cassert>
#include <cstring>
#include <string_view>

namespace mnc {

static constexpr bool isElementwiseRule(std::string_view rule) {
  return rule == "Unary" || rule == "Binary" || rule == "Clip" ||
         rule == "PRelu";
}

static const OpInfo opInfos[] = {
#define MNC_OP(Name, mnemonic, minOperands, maxOperands, numResults, Rule)     \
  {OpKind::Name, mnemonic,   minOperands,                                      \
   maxOperands,  numResults, isElementwiseRule(#Rule)},
#include "ir/Ops.def"
};

const OpInfo &opInfo(OpKind kind) {
  return opInfos[static_cast<unsigned>(kind)];
}

llvm::StringRef mnemonic(OpKind kind) { return opInfo(kind).mnemonic; }

std::optional<OpKind> parseMnemonic(llvm::StringRef text) {
  for (const OpInfo &info : opInfos)
    if (info.mnemonic == text)
      return info.kind;
  return std::nullopt;
}

namespace {
struct AttrRow {
  OpKind op;
  AttrInfo info;
};
const AttrRow attrRows[] = {
#define MNC_ATTR(Name, attr, Kind) {OpKind::Name, {attr, AttrKind::Kind}},
#include "ir/Ops.def"
};
} // namespace

llvm::ArrayRef<AttrInfo> attrSchema(OpKind kind) {
  // Rows of one op are contiguous in the table; build the views once.
  static const auto schemas = [] {
    std::vector<std::vector<AttrInfo>> result(numOpKinds());
    for (const AttrRow &row : attrRows)
      result[static_cast<unsigned>(row.op)].push_back(row.info);
    return result;
  }();
  return schemas[static_cast<unsigned>(kind)];
}

llvm::ArrayRef<AttrInfo> scheduleAttrs() {
  static const AttrInfo rows[] = {
#define MNC_SCHEDULE_ATTR(attr, Kind) {attr, AttrKind::Kind},
#include "ir/Ops.def"
  };
  return rows;
}

std::optional<AttrKind> attrKindOf(OpKind kind, llvm::StringRef name) {
  for (llvm::ArrayRef<AttrInfo> table : {attrSchema(kind), scheduleAttrs()})
    for (const AttrInfo &info : table)
      if (info.name == name)
        return info.kind;
  return std::nullopt;
}

llvm::StringRef attrKindName(AttrKind kind) {
  static constexpr const char *names[] = {"int",  "float",  "string",
                                          "ints", "floats", "tensor"};
  return names[static_cast<unsigned>(kind)];
}

AttrKind attrKind(const Attr &attr) {
  return static_cast<AttrKind>(attr.index());
}

double Tensor::getAsDouble(int64_t i) const {
  switch (type.elem) {
  case ElemKind::F32:
    return data<float>()[i];
  case ElemKind::I64:
    return static_cast<double>(data<int64_t>()[i]);
  case ElemKind::I32:
    return data<int32_t>()[i];
  case ElemKind::I8:
    return data<int8_t>()[i];
  case ElemKind::U8:
    return data<uint8_t>()[i];
  }
  return 0;
}

int64_t Tensor::getAsInt(int64_t i) const {
  if (type.elem == ElemKind::I64)
    return data<int64_t>()[i];
  return static_cast<int64_t>(getAsDouble(i));
}

Tensor makeTensor(ElemKind elem, llvm::ArrayRef<int64_t> shape,
                  llvm::ArrayRef<double> values) {
  Tensor t(TensorType(elem, shape));
  assert(static_cast<int64_t>(values.size()) == t.numElements());
  for (size_t i = 0; i < values.size(); ++i) {
    switch (elem) {
    case ElemKind::F32:
      t.data<float>()[i] = static_cast<float>(values[i]);
      break;
    case ElemKind::I64:
      t.data<int64_t>()[i] = static_cast<int64_t>(values[i]);
      break;
    case ElemKind::I32:
      t.data<int32_t>()[i] = static_cast<int32_t>(values[i]);
      break;
    case ElemKind::I8:
      t.data<int8_t>()[i] = static_cast<int8_t>(values[i]);
      break;
    case ElemKind::U8:
      t.data<uint8_t>()[i] = static_cast<uint8_t>(values[i]);
      break;
    }
  }
  return t;
}

template <typename T>
static const T &attrAs(const Op &op, llvm::StringRef name) {
  auto it = op.attrs.find(name);
  assert(it != op.attrs.end() && "verified op lacks a required attribute");
  return std::get<T>(it->second);
}

int64_t Op::getInt(llvm::StringRef name) const {
  return attrAs<int64_t>(*this, name);
}
float Op::getFloat(llvm::StringRef name) const {
  return attrAs<float>(*this, name);
}
llvm::StringRef Op::getString(llvm::StringRef name) const {
  return attrAs<std::string>(*this, name);
}
llvm::ArrayRef<int64_t> Op::getInts(llvm::StringRef name) const {
  return attrAs<std::vector<int64_t>>(*this, name);
}
llvm::ArrayRef<float> Op::getFloats(llvm::StringRef name) const {
  return attrAs<std::vector<float>>(*this, name);
}
const Tensor &Op::getTensor(llvm::StringRef name) const {
  return *attrAs<std::shared_ptr<const Tensor>>(*this, name);
}

std::vector<int> Function::definingOps() const {
  std::vector<int> def(valueTypes.size(), -1);
  for (size_t i = 0; i < ops.size(); ++i)
    for (ValueId r : ops[i].results)
      def[r] = static_cast<int>(i);
  return def;
}

const Tensor *Function::constantValue(ValueId v) const {
  for (const Op &op : ops)
    if (op.kind == OpKind::Constant && op.results[0] == v)
      return &op.getTensor("value");
  return nullptr;
}

void Function::compact() {
  std::vector<bool> live(valueTypes.size(), false);
  for (ValueId v : results)
    live[v] = true;
  std::vector<bool> keep(ops.size(), false);
  for (size_t i = ops.size(); i-- > 0;) {
    for (ValueId r : ops[i].results)
      keep[i] = keep[i] || live[r];
    if (keep[i])
      for (ValueId o : ops[i].operands)
        live[o] = true;
  }
  // Renumber: arguments first, then op results in order.
  std::vector<ValueId> remap(valueTypes.size(), ~0u);
  std::vector<TensorType> types;
  auto assign = [&](ValueId v) {
    remap[v] = static_cast<ValueId>(types.size());
    types.push_back(valueTypes[v]);
  };
  for (ValueId a : args)
    assign(a);
  std::vector<Op> kept;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (!keep[i])
      continue;
    for (ValueId r : ops[i].results)
      assign(r);
    kept.push_back(std::move(ops[i]));
  }
  for (Op &op : kept) {
    for (ValueId &o : op.operands)
      o = remap[o];
    for (ValueId &r : op.results)
      r = remap[r];
  }
  for (ValueId &a : args)
    a = remap[a];
  for (ValueId &r : results)
    r = remap[r];
  ops = std::move(kept);
  valueTypes = std::move(types);
}

Function *Module::lookup(llvm::StringRef name) {
  for (Function &f : functions)
    if (f.name == name)
      return &f;
  return nullptr;
}

ValueId Builder::addArg(TensorType type, std::string name) {
  ValueId v = f.newValue(std::move(type));
  f.args.push_back(v);
  f.argNames.push_back(std::move(name));
  return v;
}

void Builder::addResult(ValueId v, std::string name) {
  f.results.push_back(v);
  f.resultNames.push_back(std::move(name));
}

ValueId Builder::constant(Tensor value) {
  TensorType type = value.type;
  Op op{OpKind::Constant, {}, {}, {}};
  op.attrs["value"] = std::make_shared<const Tensor>(std::move(value));
  ValueId v = f.newValue(std::move(type));
  op.results.push_back(v);
  f.ops.push_back(std::move(op));
  return v;
}

llvm::Expected<llvm::SmallVector<ValueId, 1>>
Builder::createMulti(OpKind kind, llvm::ArrayRef<ValueId> operands, Attrs attrs,
                     llvm::ArrayRef<TensorType> declared) {
  Op op{kind, {operands.begin(), operands.end()}, {}, std::move(attrs)};
  auto types = inferResultTypes(f, op, declared);
  if (!types)
    return types.takeError();
  for (TensorType &t : *types)
    op.results.push_back(f.newValue(std::move(t)));
  llvm::SmallVector<ValueId, 1> results = op.results;
  f.ops.push_back(std::move(op));
  return results;
}

llvm::Expected<ValueId> Builder::create(OpKind kind,
                                        llvm::ArrayRef<ValueId> operands,
                                        Attrs attrs,
                                        std::optional<TensorType> resultType) {
  llvm::SmallVector<TensorType, 1> declared;
  if (resultType)
    declared.push_back(std::move(*resultType));
  auto results = createMulti(kind, operands, std::move(attrs), declared);
  if (!results)
    return results.takeError();
  assert(results->size() == 1 && "create() is for single-result ops");
  return results->front();
}

std::string countResultName(llvm::StringRef name) {
  return name.str() + ".count";
}

std::vector<int> countResults(const Function &f) {
  std::vector<int> counts(f.results.size(), -1);
  for (size_t i = 0; i < f.results.size(); ++i)
    for (size_t j = 0; j < f.results.size(); ++j)
      if (j != i && f.resultNames[j] == countResultName(f.resultNames[i]) &&
          f.type(f.results[j]) == TensorType(ElemKind::I32, {1}) &&
          f.type(f.results[i]).rank() > 0)
        counts[i] = j;
  return counts;
}

int64_t opMacs(const Function &f, const Op &op) {
  int64_t outputs = f.type(op.results[0]).numElements();
  switch (op.kind) {
  case OpKind::Conv2d: {
    const TensorType &w = f.type(op.operands[1]);
    return outputs * w.shape[1] * w.shape[2] * w.shape[3];
  }
  case OpKind::MatMul:
    return outputs * f.type(op.operands[0]).shape.back();
  default:
    return 0;
  }
}

int64_t macCount(const Function &f) {
  int64_t total = 0;
  for (const Op &op : f.ops)
    total += opMacs(f, op);
  return total;
}

} // namespace mnc
