// An f32 LLVM value with the operators and primitives ir/Math.h expects, so
// that the elementwise formulas there are instantiated for code generation
// instead of being written a second time. Constants (`T(0)` in a formula)
// need an LLVMContext: they are created through the builder installed by
// the innermost live IRValueScope on this thread.
#pragma once

#include "backends/llvm/MathEmit.h"

#include "llvm/IR/IRBuilder.h"

namespace mnc::codegen {

/// Installs `b` as the builder IRValue operations emit into, and `type`
/// (f32 or a vector of f32; null: f32) as the type of formula constants, so
/// that a formula can be evaluated on whole vectors.
class IRValueScope {
public:
  explicit IRValueScope(llvm::IRBuilder<> &b, llvm::Type *type = nullptr);
  ~IRValueScope();
  static llvm::IRBuilder<> &builder();
  static llvm::Type *valueType();

private:
  llvm::IRBuilder<> *previous;
  llvm::Type *previousType;
};

/// A boolean (i1) produced by comparing IRValues.
struct IRCond {
  llvm::Value *v;
};

/// An f32 value (scalar or vector) being computed by generated code.
struct IRValue {
  llvm::Value *v;
  IRValue(llvm::Value *v) : v(v) {}
  IRValue(double c) : v(llvm::ConstantFP::get(IRValueScope::valueType(), c)) {}
  /// Integer literals in formulas, e.g. `T(0)`; without this overload 0
  /// would also match the pointer constructor.
  IRValue(int c) : IRValue(static_cast<double>(c)) {}
  operator llvm::Value *() const { return v; }
};

inline llvm::IRBuilder<> &irb() { return IRValueScope::builder(); }

inline IRValue operator+(IRValue a, IRValue b) {
  return irb().CreateFAdd(a, b);
}
inline IRValue operator-(IRValue a, IRValue b) {
  return irb().CreateFSub(a, b);
}
inline IRValue operator*(IRValue a, IRValue b) {
  return irb().CreateFMul(a, b);
}
inline IRValue operator/(IRValue a, IRValue b) {
  return irb().CreateFDiv(a, b);
}
inline IRValue operator-(IRValue a) { return irb().CreateFNeg(a); }
inline IRCond operator<(IRValue a, IRValue b) {
  return {irb().CreateFCmpOLT(a, b)};
}
inline IRCond operator>(IRValue a, IRValue b) {
  return {irb().CreateFCmpOGT(a, b)};
}
inline IRCond operator<=(IRValue a, IRValue b) {
  return {irb().CreateFCmpOLE(a, b)};
}
inline IRCond operator>=(IRValue a, IRValue b) {
  return {irb().CreateFCmpOGE(a, b)};
}

inline IRValue select(IRCond c, IRValue a, IRValue b) {
  return irb().CreateSelect(c.v, a, b);
}
// Same NaN behaviour as the scalar primitives in ir/Math.h.
inline IRValue maxOf(IRValue a, IRValue b) { return select(a < b, b, a); }
inline IRValue minOf(IRValue a, IRValue b) { return select(b < a, b, a); }
inline IRValue exp(IRValue x) { return emitExp(irb(), x); }
inline IRValue log(IRValue x) { return emitLog(irb(), x); }
inline IRValue tanh(IRValue x) { return emitTanh(irb(), x); }
inline IRValue sqrt(IRValue x) {
  return irb().CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x);
}
inline IRValue abs(IRValue x) {
  return irb().CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
}

} // namespace mnc::codegen
