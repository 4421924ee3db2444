// Scalar f32 math emitted inline as plain arithmetic, so that generated
// objects never call libm (exp, log, tanh, rounding) and the loop vectorizer
// can widen every loop that uses them. Polynomials are the Cephes single
// precision ones (relative error about 1e-7 on the reduced range).
#pragma once

#include "llvm/IR/IRBuilder.h"

namespace mnc {

llvm::Value *emitExp(llvm::IRBuilder<> &b, llvm::Value *x);
llvm::Value *emitLog(llvm::IRBuilder<> &b, llvm::Value *x);
llvm::Value *emitTanh(llvm::IRBuilder<> &b, llvm::Value *x);
llvm::Value *emitSigmoid(llvm::IRBuilder<> &b, llvm::Value *x);
/// Round half to even; exact for every float.
llvm::Value *emitRoundEven(llvm::IRBuilder<> &b, llvm::Value *x);
/// Largest integer <= x, as f32; for |x| < 2^31.
llvm::Value *emitFloor(llvm::IRBuilder<> &b, llvm::Value *x);
/// Ordered max/min by compare and select: llvm.maxnum would become a libm
/// call on targets without a native instruction.
llvm::Value *emitMax(llvm::IRBuilder<> &b, llvm::Value *x, llvm::Value *y);
llvm::Value *emitMin(llvm::IRBuilder<> &b, llvm::Value *x, llvm::Value *y);
llvm::Value *emitClamp(llvm::IRBuilder<> &b, llvm::Value *x, float lo,
                       float hi);

} // namespace mnc
