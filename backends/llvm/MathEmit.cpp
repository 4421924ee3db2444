// Inline f32 math, see MathEmit.h. Every function works on scalars and on
// vectors of f32 alike, using only IR the vectorizer understands.
#include "backends/llvm/MathEmit.h"

#include <cmath>

namespace mnc {

static llvm::Value *fconst(llvm::IRBuilder<> &, llvm::Value *like, double v) {
  return llvm::ConstantFP::get(like->getType(), v);
}

static llvm::Value *iconst(llvm::IRBuilder<> &, llvm::Type *intTy, int64_t v) {
  return llvm::ConstantInt::get(intTy, v);
}

static llvm::Type *intTypeFor(llvm::IRBuilder<> &b, llvm::Value *x) {
  llvm::Type *i32 = b.getInt32Ty();
  if (auto *vt = llvm::dyn_cast<llvm::VectorType>(x->getType()))
    return llvm::VectorType::get(i32, vt->getElementCount());
  return i32;
}

/// Horner evaluation of coefficients, highest degree first.
static llvm::Value *horner(llvm::IRBuilder<> &b, llvm::Value *x,
                           llvm::ArrayRef<double> coeffs) {
  llvm::Value *p = fconst(b, x, coeffs.front());
  for (double c : coeffs.drop_front())
    p = b.CreateFAdd(b.CreateFMul(p, x), fconst(b, x, c));
  return p;
}

llvm::Value *emitMax(llvm::IRBuilder<> &b, llvm::Value *x, llvm::Value *y) {
  return b.CreateSelect(b.CreateFCmpOGT(x, y), x, y);
}

llvm::Value *emitMin(llvm::IRBuilder<> &b, llvm::Value *x, llvm::Value *y) {
  return b.CreateSelect(b.CreateFCmpOLT(x, y), x, y);
}

llvm::Value *emitClamp(llvm::IRBuilder<> &b, llvm::Value *x, float lo,
                       float hi) {
  return emitMin(b, emitMax(b, x, fconst(b, x, lo)), fconst(b, x, hi));
}

llvm::Value *emitRoundEven(llvm::IRBuilder<> &b, llvm::Value *x) {
  // Adding and subtracting 2^23 rounds to an integer in the current (round
  // to nearest even) mode; floats at or above 2^23 are integers already.
  llvm::Value *ax = b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
  llvm::Value *magic = fconst(b, x, 8388608.0);
  llvm::Value *r = b.CreateFSub(b.CreateFAdd(ax, magic), magic);
  r = b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, r, x);
  return b.CreateSelect(b.CreateFCmpOLT(ax, magic), r, x);
}

llvm::Value *emitFloor(llvm::IRBuilder<> &b, llvm::Value *x) {
  llvm::Value *t =
      b.CreateSIToFP(b.CreateFPToSI(x, intTypeFor(b, x)), x->getType());
  return b.CreateSelect(b.CreateFCmpOGT(t, x),
                        b.CreateFSub(t, fconst(b, x, 1.0)), t);
}

llvm::Value *emitExp(llvm::IRBuilder<> &b, llvm::Value *x) {
  // exp(x) = 2^n * exp(r), n = round(x / ln2), |r| <= ln2/2. The clamp
  // keeps 2^n a normal float (n in [-126, 127]).
  llvm::Type *intTy = intTypeFor(b, x);
  x = emitClamp(b, x, -87.0f, 88.0f);
  llvm::Value *n = emitRoundEven(b, b.CreateFMul(x, fconst(b, x, M_LOG2E)));
  llvm::Value *r = b.CreateFSub(x, b.CreateFMul(n, fconst(b, x, 0.693359375)));
  r = b.CreateFAdd(r, b.CreateFMul(n, fconst(b, x, 2.12194440e-4)));
  llvm::Value *p = horner(b, r,
                          {1.9875691500E-4, 1.3981999507E-3, 8.3334519073E-3,
                           4.1665795894E-2, 1.6666665459E-1, 5.0000001201E-1});
  llvm::Value *r2 = b.CreateFMul(r, r);
  llvm::Value *er =
      b.CreateFAdd(b.CreateFAdd(b.CreateFMul(p, r2), r), fconst(b, x, 1.0));
  llvm::Value *bits = b.CreateShl(
      b.CreateAdd(b.CreateFPToSI(n, intTy), iconst(b, intTy, 127)), 23);
  return b.CreateFMul(er, b.CreateBitCast(bits, x->getType()));
}

llvm::Value *emitLog(llvm::IRBuilder<> &b, llvm::Value *x) {
  // x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log x = log1p(m - 1) + e ln2.
  llvm::Type *intTy = intTypeFor(b, x);
  llvm::Value *bits = b.CreateBitCast(x, intTy);
  llvm::Value *e =
      b.CreateSub(b.CreateAnd(b.CreateLShr(bits, 23), iconst(b, intTy, 0xff)),
                  iconst(b, intTy, 126));
  llvm::Value *m = b.CreateBitCast(
      b.CreateOr(b.CreateAnd(bits, iconst(b, intTy, 0x807fffff)),
                 iconst(b, intTy, 0x3f000000)),
      x->getType());
  llvm::Value *small = b.CreateFCmpOLT(m, fconst(b, x, M_SQRT1_2));
  e = b.CreateSub(e, b.CreateZExt(small, intTy));
  m = b.CreateSelect(small, b.CreateFAdd(m, m), m);
  m = b.CreateFSub(m, fconst(b, x, 1.0));
  llvm::Value *ef = b.CreateSIToFP(e, x->getType());
  llvm::Value *z = b.CreateFMul(m, m);
  llvm::Value *y = horner(b, m,
                          {7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1,
                           -1.2420140846E-1, 1.4249322787E-1, -1.6668057665E-1,
                           2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1});
  y = b.CreateFMul(b.CreateFMul(y, m), z);
  y = b.CreateFAdd(y, b.CreateFMul(ef, fconst(b, x, -2.12194440e-4)));
  y = b.CreateFSub(y, b.CreateFMul(z, fconst(b, x, 0.5)));
  llvm::Value *result = b.CreateFAdd(
      b.CreateFAdd(m, y), b.CreateFMul(ef, fconst(b, x, 0.693359375)));
  // log(0) = -inf, log(negative or nan) = nan, log(inf) = inf.
  llvm::Value *inf = fconst(b, x, INFINITY);
  result = b.CreateSelect(b.CreateFCmpOEQ(x, inf), inf, result);
  result = b.CreateSelect(b.CreateFCmpOEQ(x, fconst(b, x, 0.0)),
                          fconst(b, x, -INFINITY), result);
  return b.CreateSelect(b.CreateFCmpUGE(x, fconst(b, x, 0.0)), result,
                        fconst(b, x, NAN));
}

llvm::Value *emitSigmoid(llvm::IRBuilder<> &b, llvm::Value *x) {
  llvm::Value *one = fconst(b, x, 1.0);
  return b.CreateFDiv(one, b.CreateFAdd(one, emitExp(b, b.CreateFNeg(x))));
}

llvm::Value *emitTanh(llvm::IRBuilder<> &b, llvm::Value *x) {
  // Odd polynomial near 0 (where 1 - 2/(e^2x + 1) cancels), the exp form
  // elsewhere.
  llvm::Value *one = fconst(b, x, 1.0);
  llvm::Value *z = b.CreateFMul(x, x);
  llvm::Value *p =
      horner(b, z,
             {-5.70498872745E-3, 2.06390887954E-2, -5.37397155531E-2,
              1.33314422036E-1, -3.33332819422E-1});
  llvm::Value *near = b.CreateFAdd(b.CreateFMul(b.CreateFMul(p, z), x), x);
  llvm::Value *e2x = emitExp(b, b.CreateFAdd(x, x));
  llvm::Value *far = b.CreateFSub(
      one, b.CreateFDiv(fconst(b, x, 2.0), b.CreateFAdd(e2x, one)));
  llvm::Value *ax = b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
  return b.CreateSelect(b.CreateFCmpOLT(ax, fconst(b, x, 0.625)), near, far);
}

} // namespace mnc
