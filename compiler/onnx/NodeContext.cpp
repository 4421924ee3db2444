// Input, attribute and builder helpers for op import functions.
#include "compiler/onnx/NodeContext.h"

#include "ir/Interpreter.h"

namespace mnc::onnximport {

llvm::Expected<int64_t> normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return invalid("axis {} is out of range for rank {}", axis, rank);
  return axis < 0 ? axis + rank : axis;
}

llvm::Expected<ValueId> NodeContext::input(unsigned i) const {
  if (!hasInput(i))
    return invalid("input {} is required", i);
  if (auto it = replaced.find(i); it != replaced.end())
    return it->second;
  // The importer binds every input name before calling the op importer.
  return g.values.lookup(node.input(i));
}

const Bound *NodeContext::boundOf(unsigned i) const {
  return consult(g.bounds, i);
}

const RuntimeInts *NodeContext::runtimeIntsOf(unsigned i) const {
  return consult(g.runtimeInts, i);
}

bool NodeContext::isDataDependent(unsigned i) const {
  if (!hasInput(i))
    return false;
  ValueId v = g.values.lookup(node.input(i));
  return g.bounds.count(v) || g.runtimeInts.count(v);
}

std::optional<unsigned> NodeContext::unhandledInput() const {
  for (unsigned i = 0; i < numInputs(); ++i)
    if (isDataDependent(i) && (i >= consulted.size() || !consulted[i]))
      return i;
  return std::nullopt;
}

const Tensor *NodeContext::constant(ValueId v) const {
  auto it = g.constants.find(v);
  return it == g.constants.end() ? nullptr : it->second.get();
}

llvm::Expected<const Tensor *> NodeContext::constInput(unsigned i) const {
  auto v = input(i);
  if (!v)
    return v.takeError();
  if (const Tensor *t = constant(*v))
    return t;
  if (llvm::is_contained(g.f.args, *v))
    return unsupported("input {} ('{}') must be a constant; it is a graph "
                       "input, which --bind {}=FILE.npy freezes",
                       i, node.input(i), node.input(i));
  return unsupported("input {} ('{}') must be a constant", i, node.input(i));
}

llvm::Expected<std::vector<int64_t>> NodeContext::constInts(unsigned i) const {
  auto t = constInput(i);
  if (!t)
    return t.takeError();
  if (!isIntegerKind((*t)->type.elem))
    return invalid("input {} ('{}') must be integers", i, node.input(i));
  std::vector<int64_t> values((*t)->numElements());
  for (size_t k = 0; k < values.size(); ++k)
    values[k] = (*t)->getAsInt(k);
  return values;
}

llvm::Expected<std::vector<float>> NodeContext::constFloats(unsigned i) const {
  auto t = constInput(i);
  if (!t)
    return t.takeError();
  std::vector<float> values((*t)->numElements());
  for (size_t k = 0; k < values.size(); ++k)
    values[k] = static_cast<float>((*t)->getAsDouble(k));
  return values;
}

llvm::Error NodeContext::requireFloat(unsigned i) const {
  auto v = input(i);
  if (!v)
    return v.takeError();
  const TensorType &t = typeOf(*v);
  if (t.elem != ElemKind::F32 || t.isQuantized())
    return unsupported("input {} has type {}; only f32 is supported", i,
                       toString(t));
  return llvm::Error::success();
}

const onnx::AttributeProto *NodeContext::attr(llvm::StringRef name) const {
  for (const auto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

void NodeContext::recordAttrError(llvm::StringRef name,
                                  llvm::StringRef want) const {
  if (attrProblem.empty())
    attrProblem =
        fmt::format("attribute '{}' must be {}", name.str(), want.str());
}

llvm::Error NodeContext::takeAttrError() const {
  if (attrProblem.empty())
    return llvm::Error::success();
  return invalid("{}", attrProblem);
}

int64_t NodeContext::getInt(llvm::StringRef name, int64_t def) const {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return def;
  if (a->type() != onnx::AttributeProto::INT)
    recordAttrError(name, "an int");
  return a->i();
}

float NodeContext::getFloat(llvm::StringRef name, float def) const {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return def;
  if (a->type() != onnx::AttributeProto::FLOAT)
    recordAttrError(name, "a float");
  return a->f();
}

std::string NodeContext::getString(llvm::StringRef name,
                                   llvm::StringRef def) const {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return def.str();
  if (a->type() != onnx::AttributeProto::STRING)
    recordAttrError(name, "a string");
  return a->s();
}

std::vector<int64_t> NodeContext::getInts(llvm::StringRef name,
                                          std::vector<int64_t> def) const {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return def;
  if (a->type() != onnx::AttributeProto::INTS)
    recordAttrError(name, "a list of ints");
  return {a->ints().begin(), a->ints().end()};
}

std::vector<float> NodeContext::getFloats(llvm::StringRef name,
                                          std::vector<float> def) const {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return def;
  if (a->type() != onnx::AttributeProto::FLOATS)
    recordAttrError(name, "a list of floats");
  return {a->floats().begin(), a->floats().end()};
}

const onnx::TensorProto *NodeContext::getTensor(llvm::StringRef name) const {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return nullptr;
  if (a->type() != onnx::AttributeProto::TENSOR) {
    recordAttrError(name, "a tensor");
    return nullptr;
  }
  return &a->t();
}

ValueId NodeContext::constant(Tensor value) {
  Builder b(g.f);
  ValueId v = b.constant(std::move(value));
  g.constants[v] =
      std::get<std::shared_ptr<const Tensor>>(g.f.ops.back().attrs["value"]);
  return v;
}

ValueId NodeContext::scalar(float value) {
  return constant(makeTensor(ElemKind::F32, {}, {value}));
}

llvm::Expected<ValueId> NodeContext::reshape(ValueId v,
                                             llvm::ArrayRef<int64_t> shape) {
  if (llvm::ArrayRef<int64_t>(typeOf(v).shape) == shape)
    return v;
  return create(OpKind::Reshape, {v},
                {{"shape", std::vector<int64_t>(shape.begin(), shape.end())}});
}

llvm::Error NodeContext::fold(size_t opIndex) {
  const Op &op = g.f.ops[opIndex];
  // Folded constants become weights, so they count against the same cap
  // (ConstantOfShape can ask for gigabytes in a few bytes of model).
  uint64_t bytes = 0;
  for (ValueId r : op.results)
    bytes += typeOf(r).byteSize();
  if (auto err = g.reader->reserve(bytes, "folded constant"))
    return err;
  llvm::SmallVector<const Tensor *, 4> operands;
  for (ValueId v : op.operands)
    operands.push_back(constant(v));
  auto results = evaluateOp(g.f, op, operands);
  if (!results)
    return results.takeError();
  // The results keep their value ids; only their definitions change.
  llvm::SmallVector<ValueId, 1> ids = op.results;
  g.f.ops.erase(g.f.ops.begin() + opIndex);
  for (size_t i = 0; i < ids.size(); ++i) {
    auto value = std::make_shared<const Tensor>(std::move((*results)[i]));
    g.f.ops.push_back(Op{OpKind::Constant, {}, {ids[i]}, {{"value", value}}});
    g.constants[ids[i]] = value;
  }
  return llvm::Error::success();
}

llvm::Expected<llvm::SmallVector<ValueId, 1>>
NodeContext::createMulti(OpKind kind, llvm::ArrayRef<ValueId> operands,
                         Attrs attrs) {
  Builder b(g.f);
  auto results = b.createMulti(kind, operands, std::move(attrs));
  if (!results)
    return results.takeError();
  for (ValueId r : *results)
    if (auto err = checkShape(typeOf(r).shape, g.limits, "result"))
      return err;
  bool foldable =
      kind != OpKind::Quantize && kind != OpKind::Dequantize &&
      kind != OpKind::Requantize && !operands.empty() &&
      llvm::all_of(operands, [&](ValueId v) { return constant(v) != nullptr; });
  // Ops over the folding budget stay in the graph, computed at run time.
  if (foldable && g.foldBudget.take(g.f, g.f.ops.back()))
    if (auto err = fold(g.f.ops.size() - 1))
      return err;
  return results;
}

llvm::Expected<ValueId> NodeContext::create(OpKind kind,
                                            llvm::ArrayRef<ValueId> operands,
                                            Attrs attrs,
                                            std::optional<TensorType> type) {
  if (type) {
    Builder b(g.f);
    auto v = b.create(kind, operands, std::move(attrs), std::move(type));
    if (!v)
      return v.takeError();
    return *v;
  }
  auto results = createMulti(kind, operands, std::move(attrs));
  if (!results)
    return results.takeError();
  return results->front();
}

void NodeContext::setOutput(unsigned i, ValueId v) {
  if (wantsOutput(i))
    g.values[node.output(i)] = v;
}

} // namespace mnc::onnximport
