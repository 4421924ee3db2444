// Verifier checks that no IR text can reach (the parser rejects such input
// earlier): values used before their definition, defined twice or out of
// range, name lists of the wrong length, broken tensor attributes. The
// messages a parsed module can trigger are covered by
// test/ir/verifier-errors.mnir.
#include "ir/Verifier.h"

#include <gtest/gtest.h>

using namespace mnc;

namespace {

TensorType f32(llvm::ArrayRef<int64_t> shape) {
  return TensorType(ElemKind::F32, shape);
}

/// @main(%x: f32[4]) { %0 = relu %x; %1 = neg %0; return %1 }
Function reluNeg() {
  Function f;
  Builder b(f);
  ValueId x = b.addArg(f32({4}), "x");
  ValueId r = llvm::cantFail(b.create(OpKind::Relu, {x}));
  b.addResult(llvm::cantFail(b.create(OpKind::Neg, {r})), "y");
  return f;
}

std::string verifyMessage(const Function &f) {
  Module m;
  m.functions.push_back(f);
  return llvm::toString(verifyModule(m));
}

TEST(Verifier, AcceptsBuiltFunction) {
  EXPECT_EQ(verifyMessage(reluNeg()), "");
}

TEST(Verifier, NameCounts) {
  Function f = reluNeg();
  f.argNames.push_back("extra");
  EXPECT_EQ(verifyMessage(f), "error: @main: 2 argument names for 1 arguments");
  f = reluNeg();
  f.resultNames.clear();
  EXPECT_EQ(verifyMessage(f), "error: @main: 0 result names for 1 results");
}

TEST(Verifier, OperandUsedBeforeDefinition) {
  Function f = reluNeg();
  std::swap(f.ops[0], f.ops[1]);
  EXPECT_EQ(verifyMessage(f), "error: @main: op 0 (neg): operand 0 (value 1) "
                              "is not defined before its use");
}

TEST(Verifier, ValueDefinedTwice) {
  Function f = reluNeg();
  f.ops[1].results[0] = f.ops[0].results[0];
  EXPECT_EQ(verifyMessage(f),
            "error: @main: op 1 (neg) result 0 redefines value 1");
  f = reluNeg();
  f.args.push_back(f.args[0]);
  f.argNames.push_back("again");
  EXPECT_EQ(verifyMessage(f), "error: @main: argument 1 redefines value 0");
}

TEST(Verifier, ValueOutOfRange) {
  Function f = reluNeg();
  f.args[0] = 7;
  EXPECT_EQ(verifyMessage(f), "error: @main: argument 0 is value 7, but the "
                              "function has 3 values");
  f = reluNeg();
  f.ops[1].results[0] = 9;
  EXPECT_EQ(verifyMessage(f), "error: @main: op 1 (neg) result 0 is value 9, "
                              "but the function has 3 values");
}

TEST(Verifier, ResultNotDefined) {
  Function f = reluNeg();
  f.results[0] = f.newValue(f32({4}));
  EXPECT_EQ(verifyMessage(f),
            "error: @main: result 0 (value 3) is not defined");
}

TEST(Verifier, OpResultCount) {
  Function f = reluNeg();
  f.ops[1].results.clear();
  f.results[0] = f.ops[0].results[0];
  EXPECT_EQ(verifyMessage(f), "error: @main: op 1 (neg): has no results");
}

TEST(Verifier, VerifyOpAloneChecksResultRange) {
  Function f = reluNeg();
  f.ops[0].results[0] = 42;
  EXPECT_EQ(llvm::toString(verifyOp(f, 0)),
            "error: @main: op 0 (relu): result value 42 is not a value of the "
            "function");
  f = reluNeg();
  f.ops[0].operands[0] = 42;
  EXPECT_EQ(llvm::toString(verifyOp(f, 0)),
            "error: @main: op 0 (relu): operand %42 is not a value of the "
            "function");
}

TEST(Verifier, TensorAttributes) {
  Function f;
  Builder b(f);
  b.addResult(b.constant(makeTensor(ElemKind::F32, {2}, {1, 2})), "c");
  Function broken = f;
  broken.ops[0].attrs["value"] = std::shared_ptr<const Tensor>();
  EXPECT_EQ(verifyMessage(broken),
            "error: @main: op 0 (constant): attribute 'value' holds no tensor");
  broken = f;
  broken.ops[0].attrs["value"] =
      std::make_shared<const Tensor>(f32({2}), std::vector<uint8_t>(3));
  EXPECT_EQ(verifyMessage(broken), "error: @main: op 0 (constant): attribute "
                                   "'value' holds 3 bytes, f32[2] needs 8");
}

TEST(Verifier, QuantParamsThatTextCannotSpell) {
  Function f;
  Builder b(f);
  QuantParams q{{0.5f, 0.25f}, {0}, std::nullopt};
  ValueId x = b.addArg(TensorType(ElemKind::I8, {2}, q), "x");
  Op op{OpKind::Dequantize, {x}, {f.newValue(f32({2}))}, {}};
  f.ops.push_back(op);
  EXPECT_EQ(llvm::toString(verifyOp(f, 0)),
            "error: @main: op 0 (dequantize): quantization needs as many "
            "scales as zero points");
}

TEST(Verifier, QuantizeNeedsDeclaredType) {
  Function f;
  Builder b(f);
  ValueId x = b.addArg(f32({2}), "x");
  Op op{OpKind::Quantize, {x}, {}, {}};
  EXPECT_EQ(llvm::toString(inferResultTypes(f, op).takeError()),
            "quantize: result 0 must have a declared type");
}

TEST(Verifier, DuplicateFunctionNames) {
  Module m;
  m.functions = {reluNeg(), reluNeg()};
  EXPECT_EQ(llvm::toString(verifyModule(m)),
            "error: @main: function is defined twice");
}

} // namespace
