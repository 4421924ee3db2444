// The LLVM backend against the ONNX node tests and the reference
// interpreter: each case is compiled for the host, linked with a generated
// driver (which also checks guard bytes around every buffer) and run.
#include "InterpreterTestUtil.h"

#include "backends/Compile.h"
#include "backends/MemoryPlan.h"
#include "backends/Target.h"
#include "backends/llvm/Lowering.h"
#include "ir/Interpreter.h"
#include "passes/Passes.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <gtest/gtest.h>

#include <random>

using namespace mnc;
using namespace mnc::test;

namespace {

using Ints = std::vector<int64_t>;

/// Builds a one-function module with an argument per input.
Module buildModule(llvm::ArrayRef<Tensor> inputs, const BuildFn &build) {
  Module m;
  m.functions.emplace_back();
  Builder b(m.functions.back());
  llvm::SmallVector<ValueId, 4> args;
  for (size_t i = 0; i < inputs.size(); ++i)
    args.push_back(b.addArg(inputs[i].type, "x" + std::to_string(i)));
  auto results = build(b, args);
  EXPECT_TRUE(bool(results)) << llvm::toString(results.takeError());
  if (results)
    for (size_t i = 0; i < results->size(); ++i)
      b.addResult((*results)[i], "y" + std::to_string(i));
  return m;
}

/// `m` after the schedule passes of the pipeline, which write what the
/// backend executes, for `target`.
llvm::Expected<Module> schedule(const Module &m, const TargetSpec &target) {
  Module scheduled = m;
  auto kernels = kernelTarget(target);
  if (!kernels)
    return kernels.takeError();
  PassOptions passOpts;
  passOpts.target = *kernels;
  for (llvm::StringRef flag :
       {"fuse-epilogues", "select-kernels", "plan-memory"})
    if (auto err = lookupPass(flag)->run(scheduled, passOpts))
      return err;
  return scheduled;
}

/// Schedules, compiles and runs `m`.
llvm::Expected<std::vector<Tensor>>
runScheduled(const Module &m, llvm::ArrayRef<Tensor> inputs,
             const CompileOptions &opts = {}) {
  auto scheduled = schedule(m, opts.target);
  if (!scheduled)
    return scheduled.takeError();
  return runCompiled(*scheduled, inputs, opts);
}

::testing::AssertionResult compiledLike(const Module &m,
                                        llvm::ArrayRef<Tensor> inputs,
                                        llvm::ArrayRef<Tensor> expected,
                                        const CompileOptions &opts = {}) {
  auto outputs = runScheduled(m, inputs, opts);
  if (!outputs)
    return ::testing::AssertionFailure() << llvm::toString(outputs.takeError());
  if (outputs->size() != expected.size())
    return ::testing::AssertionFailure() << "result count differs";
  for (size_t i = 0; i < expected.size(); ++i)
    if (auto r = tensorsMatch((*outputs)[i], expected[i]); !r)
      return r << " (result " << i << ")";
  return ::testing::AssertionSuccess();
}

/// Compiled outputs against the interpreter's on the same module.
::testing::AssertionResult
compiledLikeInterpreter(llvm::ArrayRef<Tensor> inputs, const BuildFn &build) {
  Module m = buildModule(inputs, build);
  auto expected = interpret(m.functions.front(), inputs);
  if (!expected)
    return ::testing::AssertionFailure()
           << llvm::toString(expected.takeError());
  return compiledLike(m, inputs, *expected);
}

/// As compiledLikeInterpreter, for the host CPU and for the x86-64 vector
/// widths below it (SSE2 with 16 registers of 4 lanes, AVX2 with 8), whose
/// register tiles and tails differ.
::testing::AssertionResult
compiledLikeInterpreterOnEveryWidth(llvm::ArrayRef<Tensor> inputs,
                                    const BuildFn &build) {
  Module m = buildModule(inputs, build);
  auto expected = interpret(m.functions.front(), inputs);
  if (!expected)
    return ::testing::AssertionFailure()
           << llvm::toString(expected.takeError());
  std::vector<std::string> cpus = {""};
  if (llvm::Triple(llvm::sys::getDefaultTargetTriple()).getArch() ==
      llvm::Triple::x86_64)
    cpus.insert(cpus.end(), {"x86-64", "x86-64-v3"});
  for (const std::string &cpu : cpus) {
    CompileOptions opts;
    opts.target.cpu = cpu;
    if (auto r = compiledLike(m, inputs, *expected, opts); !r)
      return r << " (CPU '" << cpu << "')";
  }
  return ::testing::AssertionSuccess();
}

Tensor randomTensor(TensorType type, std::mt19937 &rng, float lo = -1,
                    float hi = 1) {
  Tensor t(type);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.numElements(); ++i) {
    float v = dist(rng);
    switch (type.elem) {
    case ElemKind::F32:
      t.data<float>()[i] = v;
      break;
    case ElemKind::I8:
      t.data<int8_t>()[i] = static_cast<int8_t>(v * 127);
      break;
    case ElemKind::U8:
      t.data<uint8_t>()[i] = static_cast<uint8_t>((v + 1) * 127);
      break;
    case ElemKind::I32:
      t.data<int32_t>()[i] = static_cast<int32_t>(v * 1000);
      break;
    case ElemKind::I64:
      t.data<int64_t>()[i] = static_cast<int64_t>(v * 1000);
      break;
    }
  }
  return t;
}

struct NodeCase {
  std::string test;
  OpKind kind;
  Attrs attrs;
  unsigned numOperands = 1;
};

std::ostream &operator<<(std::ostream &os, const NodeCase &c) {
  return os << c.test;
}

Attrs conv(Ints strides, Ints pads, int64_t group = 1) {
  return {{"strides", strides},
          {"pads", pads},
          {"dilations", Ints{1, 1}},
          {"group", group}};
}
Attrs maxPool(Ints kernel, Ints strides, Ints pads, int64_t ceil = 0,
              Ints dilations = {1, 1}) {
  return {{"kernel", kernel},
          {"strides", strides},
          {"pads", pads},
          {"ceil_mode", ceil},
          {"dilations", dilations}};
}
Attrs avgPool(Ints kernel, Ints strides, Ints pads, int64_t ceil,
              int64_t includePad) {
  return {{"kernel", kernel},
          {"strides", strides},
          {"pads", pads},
          {"ceil_mode", ceil},
          {"count_include_pad", includePad}};
}
Attrs reduce(Ints axes, int64_t keepdims) {
  return {{"axes", axes}, {"keepdims", keepdims}};
}
Attrs axis(int64_t a) { return {{"axis", a}}; }

// A cross-section of the ONNX node tests for the ops MobileNet-family
// models use, with attributes translated as the importer does.
std::vector<NodeCase> nodeCases() {
  std::vector<NodeCase> cases = {
      {"test_basic_conv_with_padding", OpKind::Conv2d,
       conv({1, 1}, {1, 1, 1, 1}), 2},
      {"test_basic_conv_without_padding", OpKind::Conv2d,
       conv({1, 1}, {0, 0, 0, 0}), 2},
      {"test_conv_with_strides_padding", OpKind::Conv2d,
       conv({2, 2}, {1, 1, 1, 1}), 2},
      {"test_conv_with_strides_and_asymmetric_padding", OpKind::Conv2d,
       conv({2, 2}, {1, 0, 1, 0}), 2},
      {"test_maxpool_2d_pads", OpKind::MaxPool,
       maxPool({3, 3}, {1, 1}, {2, 2, 2, 2})},
      {"test_maxpool_2d_ceil", OpKind::MaxPool,
       maxPool({3, 3}, {2, 2}, {0, 0, 0, 0}, 1)},
      {"test_maxpool_2d_dilations", OpKind::MaxPool,
       maxPool({2, 2}, {1, 1}, {0, 0, 0, 0}, 0, {2, 2})},
      {"test_maxpool_2d_uint8", OpKind::MaxPool,
       maxPool({5, 5}, {1, 1}, {2, 2, 2, 2})},
      {"test_averagepool_2d_pads", OpKind::AvgPool,
       avgPool({3, 3}, {1, 1}, {2, 2, 2, 2}, 0, 0)},
      {"test_averagepool_2d_pads_count_include_pad", OpKind::AvgPool,
       avgPool({3, 3}, {1, 1}, {2, 2, 2, 2}, 0, 1)},
      {"test_averagepool_2d_ceil", OpKind::AvgPool,
       avgPool({3, 3}, {2, 2}, {0, 0, 0, 0}, 1, 0)},
      {"test_globalaveragepool", OpKind::ReduceMean, reduce({2, 3}, 1)},
      {"test_globalmaxpool", OpKind::ReduceMax, reduce({2, 3}, 1)},
      {"test_reduce_sum_do_not_keepdims_random", OpKind::ReduceSum,
       reduce({1}, 0)},
      {"test_softmax_axis_1", OpKind::Softmax, axis(1)},
      {"test_softmax_axis_2", OpKind::Softmax, axis(2)},
      {"test_softmax_large_number", OpKind::Softmax, axis(1)},
      {"test_logsoftmax_axis_0", OpKind::LogSoftmax, axis(0)},
      {"test_hardswish", OpKind::HardSwish, {}},
      {"test_hardsigmoid",
       OpKind::HardSigmoid,
       {{"alpha", 0.5f}, {"beta", 0.6f}}},
      {"test_leakyrelu", OpKind::LeakyRelu, {{"alpha", 0.1f}}},
      {"test_prelu_broadcast", OpKind::PRelu, {}, 2},
      {"test_clip", OpKind::Clip, {{"min", -1.0f}, {"max", 1.0f}}},
      {"test_relu", OpKind::Relu, {}},
      {"test_sigmoid", OpKind::Sigmoid, {}},
      {"test_tanh", OpKind::Tanh, {}},
      {"test_exp", OpKind::Exp, {}},
      {"test_log", OpKind::Log, {}},
      {"test_sqrt", OpKind::Sqrt, {}},
      {"test_neg", OpKind::Neg, {}},
      {"test_abs", OpKind::Abs, {}},
      {"test_add_bcast", OpKind::Add, {}, 2},
      {"test_sub_bcast", OpKind::Sub, {}, 2},
      {"test_mul_bcast", OpKind::Mul, {}, 2},
      {"test_div_bcast", OpKind::Div, {}, 2},
      {"test_max_int32", OpKind::Max, {}, 2},
      {"test_min_int64", OpKind::Min, {}, 2},
      {"test_matmul_2d", OpKind::MatMul, {}, 2},
      {"test_matmul_4d", OpKind::MatMul, {}, 2},
      {"test_reflect_pad",
       OpKind::Pad,
       {{"mode", std::string("reflect")},
        {"pads", Ints{0, 0, 1, 1, 0, 0, 1, 1}},
        {"value", 0.0f}}},
      {"test_constant_pad",
       OpKind::Pad,
       {{"mode", std::string("constant")},
        {"pads", Ints{0, 0, 1, 3, 0, 0, 2, 4}},
        {"value", 1.2f}}},
      {"test_slice_neg_steps",
       OpKind::Slice,
       {{"starts", Ints{19, 9, 4}},
        {"ends", Ints{0, 0, 1}},
        {"steps", Ints{-1, -3, -2}}}},
      {"test_gather_negative_indices", OpKind::Gather, axis(0), 2},
      {"test_gather_2d_indices", OpKind::Gather, axis(1), 2},
      {"test_split_variable_parts_2d",
       OpKind::Split,
       {{"axis", int64_t(1)}, {"sizes", Ints{2, 4}}}},
      {"test_concat_3d_axis_1", OpKind::Concat, axis(1), 2},
      {"test_transpose_all_permutations_4",
       OpKind::Transpose,
       {{"perm", Ints{2, 0, 1}}}},
      {"test_argmax_keepdims_example_select_last_index",
       OpKind::ArgMax,
       {{"axis", int64_t(1)},
        {"keepdims", int64_t(1)},
        {"select_last_index", int64_t(1)}}},
  };
  for (auto &[test, attrs] : resizeNodeTests())
    cases.push_back({test, OpKind::Resize, attrs});
  return cases;
}

class BackendNodeTest : public ::testing::TestWithParam<NodeCase> {};

TEST_P(BackendNodeTest, MatchesExpectedOutputs) {
  const NodeCase &c = GetParam();
  auto data = loadNodeTest(c.test);
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  data->inputs.resize(c.numOperands);
  Module m =
      buildModule(data->inputs, [&](Builder &b, llvm::ArrayRef<ValueId> args) {
        return b.createMulti(c.kind, args, c.attrs);
      });
  EXPECT_TRUE(compiledLike(m, data->inputs, data->outputs));
}

INSTANTIATE_TEST_SUITE_P(Onnx, BackendNodeTest,
                         ::testing::ValuesIn(nodeCases()),
                         [](const ::testing::TestParamInfo<NodeCase> &info) {
                           return info.param.test.substr(5);
                         });

llvm::Expected<llvm::SmallVector<ValueId, 1>>
single(llvm::Expected<ValueId> v) {
  if (!v)
    return v.takeError();
  return llvm::SmallVector<ValueId, 1>{*v};
}

// A MobileNet-shaped block: conv 3x3/2, relu6, depthwise 3x3, pointwise
// 1x1, residual-free head of global pool, matmul and softmax.
TEST(Backend, TinyMobileNetMatchesInterpreter) {
  std::mt19937 rng(7);
  Tensor x = randomTensor(TensorType(ElemKind::F32, {1, 3, 16, 16}), rng);
  EXPECT_TRUE(compiledLikeInterpreter({x}, [&](Builder &b,
                                               llvm::ArrayRef<ValueId> args) {
    auto w0 =
        b.constant(randomTensor(TensorType(ElemKind::F32, {8, 3, 3, 3}), rng));
    auto b0 = b.constant(randomTensor(TensorType(ElemKind::F32, {8}), rng));
    auto c0 =
        b.create(OpKind::Conv2d, {args[0], w0, b0}, conv({2, 2}, {1, 1, 1, 1}));
    auto r0 = b.create(OpKind::Clip, {*c0}, {{"min", 0.0f}, {"max", 6.0f}});
    auto w1 =
        b.constant(randomTensor(TensorType(ElemKind::F32, {8, 1, 3, 3}), rng));
    auto c1 =
        b.create(OpKind::Conv2d, {*r0, w1}, conv({1, 1}, {1, 1, 1, 1}, 8));
    auto w2 =
        b.constant(randomTensor(TensorType(ElemKind::F32, {16, 8, 1, 1}), rng));
    auto c2 = b.create(OpKind::Conv2d, {*c1, w2}, conv({1, 1}, {0, 0, 0, 0}));
    auto hs = b.create(OpKind::HardSwish, {*c2});
    auto pool = b.create(OpKind::ReduceMean, {*hs}, reduce({2, 3}, 0));
    auto fc =
        b.constant(randomTensor(TensorType(ElemKind::F32, {16, 10}), rng));
    auto logits = b.create(OpKind::MatMul, {*pool, fc});
    return single(b.create(OpKind::Softmax, {*logits}, axis(1)));
  }));
}

// Pointwise convs whose channel and pixel counts leave a tail for every
// register tile and vector width, with fused relu, residual add and clip
// epilogues (the last one writing a function result), and a conv result
// with two users that must not be fused.
TEST(Backend, PointwiseConvTilesAndEpilogues) {
  std::mt19937 rng(5);
  Tensor x = randomTensor(TensorType(ElemKind::F32, {2, 13, 7, 9}), rng);
  EXPECT_TRUE(compiledLikeInterpreterOnEveryWidth(
      {x},
      [&](Builder &b, llvm::ArrayRef<ValueId> args)
          -> llvm::Expected<llvm::SmallVector<ValueId, 1>> {
        auto w0 = b.constant(
            randomTensor(TensorType(ElemKind::F32, {19, 13, 1, 1}), rng));
        auto b0 =
            b.constant(randomTensor(TensorType(ElemKind::F32, {19}), rng));
        auto c0 = b.create(OpKind::Conv2d, {args[0], w0, b0},
                           conv({1, 1}, {0, 0, 0, 0}));
        auto r0 = b.create(OpKind::Relu, {*c0});
        auto w1 = b.constant(
            randomTensor(TensorType(ElemKind::F32, {13, 19, 1, 1}), rng));
        auto c1 =
            b.create(OpKind::Conv2d, {*r0, w1}, conv({1, 1}, {0, 0, 0, 0}));
        auto sum = b.create(OpKind::Add, {args[0], *c1});
        auto w2 = b.constant(
            randomTensor(TensorType(ElemKind::F32, {6, 13, 1, 1}), rng));
        auto c2 =
            b.create(OpKind::Conv2d, {*sum, w2}, conv({1, 1}, {0, 0, 0, 0}));
        auto clipped =
            b.create(OpKind::Clip, {*c2}, {{"min", -0.5f}, {"max", 0.5f}});
        auto twice = b.create(OpKind::Relu, {*c2});
        if (!clipped || !twice)
          return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                         "cannot build the graph");
        return llvm::SmallVector<ValueId, 1>{*clipped, *twice, *sum};
      }));
}

// Direct convs: depthwise with stride 1 and 2, symmetric and
// bottom/right-only padding, 3x3 and 5x5 filters, widths that are not a
// multiple of any vector width, with and without bias and a fused clip;
// and a dense 2x2 conv.
TEST(Backend, DirectConvStridesAndPadding) {
  std::mt19937 rng(9);
  Tensor x = randomTensor(TensorType(ElemKind::F32, {2, 5, 11, 10}), rng);
  EXPECT_TRUE(compiledLikeInterpreterOnEveryWidth(
      {x},
      [&](Builder &b, llvm::ArrayRef<ValueId> args)
          -> llvm::Expected<llvm::SmallVector<ValueId, 1>> {
        auto filter = [&](int64_t k) {
          return b.constant(
              randomTensor(TensorType(ElemKind::F32, {5, 1, k, k}), rng));
        };
        auto bias =
            b.constant(randomTensor(TensorType(ElemKind::F32, {5}), rng));
        auto s1 = b.create(OpKind::Conv2d, {args[0], filter(3), bias},
                           conv({1, 1}, {1, 1, 1, 1}, 5));
        auto relu6 =
            b.create(OpKind::Clip, {*s1}, {{"min", 0.0f}, {"max", 6.0f}});
        auto s2 = b.create(OpKind::Conv2d, {*relu6, filter(3)},
                           conv({2, 2}, {1, 1, 1, 1}, 5));
        auto s2tf = b.create(OpKind::Conv2d, {args[0], filter(3), bias},
                             conv({2, 2}, {0, 0, 1, 1}, 5));
        auto k5 = b.create(OpKind::Conv2d, {args[0], filter(5)},
                           conv({1, 1}, {2, 2, 2, 2}, 5));
        // A dense conv on the same path: 11 output channels leave a tail
        // for every channel block.
        auto dense = b.create(
            OpKind::Conv2d,
            {args[0], b.constant(randomTensor(
                          TensorType(ElemKind::F32, {11, 5, 2, 2}), rng))},
            conv({2, 2}, {0, 0, 1, 1}));
        if (!s2 || !s2tf || !k5 || !dense)
          return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                         "cannot build the graph");
        return llvm::SmallVector<ValueId, 1>{*s2, *s2tf, *k5, *dense};
      }));
}

/// Builds `x * hard_sigmoid(x)`, the hard_swish of opset-13 exports.
llvm::Expected<ValueId> hardSwishOf(Builder &b, ValueId x) {
  auto hs = b.create(OpKind::HardSigmoid, {x},
                     {{"alpha", 1.0f / 6.0f}, {"beta", 0.5f}});
  if (!hs)
    return hs.takeError();
  return b.create(OpKind::Mul, {x, *hs});
}

// Epilogue chains on each conv kernel (pointwise, direct, and the generic
// loop nest for a dilated conv): hard_swish as x * hard_sigmoid(x), an add
// of an earlier value followed by relu, a scalar constant factor before a
// sigmoid; and a hard_sigmoid whose result is also returned, which keeps
// the conv from fusing the mul after it.
TEST(Backend, ConvEpilogueChains) {
  std::mt19937 rng(13);
  Tensor x = randomTensor(TensorType(ElemKind::F32, {2, 6, 9, 11}), rng, -4, 4);
  EXPECT_TRUE(compiledLikeInterpreterOnEveryWidth(
      {x},
      [&](Builder &b, llvm::ArrayRef<ValueId> args)
          -> llvm::Expected<llvm::SmallVector<ValueId, 1>> {
        auto weights = [&](Ints shape) {
          return b.constant(
              randomTensor(TensorType(ElemKind::F32, shape), rng));
        };
        auto pw = b.create(OpKind::Conv2d, {args[0], weights({6, 6, 1, 1})},
                           conv({1, 1}, {0, 0, 0, 0}));
        auto pwSwish = hardSwishOf(b, *pw);
        auto dw = b.create(OpKind::Conv2d,
                           {*pwSwish, weights({6, 1, 3, 3}), weights({6})},
                           conv({1, 1}, {1, 1, 1, 1}, 6));
        auto dwSwish = hardSwishOf(b, *dw);
        auto pw2 = b.create(OpKind::Conv2d, {*dwSwish, weights({6, 6, 1, 1})},
                            conv({1, 1}, {0, 0, 0, 0}));
        auto sum = b.create(OpKind::Add, {*pwSwish, *pw2});
        auto relu = b.create(OpKind::Relu, {*sum});
        Attrs dilated = conv({1, 1}, {2, 2, 2, 2});
        dilated["dilations"] = Ints{2, 2};
        auto generic =
            b.create(OpKind::Conv2d, {*relu, weights({4, 6, 3, 3})}, dilated);
        Tensor half(TensorType(ElemKind::F32, {}));
        half.data<float>()[0] = 0.5f;
        auto scaled = b.create(OpKind::Mul, {b.constant(half), *generic});
        auto sigmoid = b.create(OpKind::Sigmoid, {*scaled});
        auto pw3 = b.create(OpKind::Conv2d, {*relu, weights({5, 6, 1, 1})},
                            conv({1, 1}, {0, 0, 0, 0}));
        auto gate = b.create(OpKind::HardSigmoid, {*pw3},
                             {{"alpha", 0.2f}, {"beta", 0.5f}});
        auto gated = b.create(OpKind::Mul, {*pw3, *gate});
        if (!sigmoid || !gated)
          return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                         "cannot build the graph");
        return llvm::SmallVector<ValueId, 1>{*sigmoid, *gated, *gate};
      }));
}

// Which ops the epilogue planner fuses: the whole hard_swish chain and a
// residual add whose other addend is an earlier group's result, but no part
// of a chain whose middle value is also used elsewhere.
TEST(Backend, EpiloguePlanFusesWholeChainsOnly) {
  Module m = buildModule(
      {Tensor(TensorType(ElemKind::F32, {1, 4, 3, 3}))},
      [&](Builder &b, llvm::ArrayRef<ValueId> args)
          -> llvm::Expected<llvm::SmallVector<ValueId, 1>> {
        auto w = b.constant(Tensor(TensorType(ElemKind::F32, {4, 4, 1, 1})));
        auto c0 = b.create(OpKind::Conv2d, {args[0], w},
                           conv({1, 1}, {0, 0, 0, 0})); // op 1
        auto s0 = hardSwishOf(b, *c0);                  // ops 2, 3
        auto c1 = b.create(OpKind::Conv2d, {*s0, w},
                           conv({1, 1}, {0, 0, 0, 0})); // op 4
        auto sum = b.create(OpKind::Add, {*c1, *s0});   // op 5
        auto c2 = b.create(OpKind::Conv2d, {*sum, w},
                           conv({1, 1}, {0, 0, 0, 0})); // op 6
        auto gate = b.create(OpKind::HardSigmoid, {*c2},
                             {{"alpha", 0.2f}, {"beta", 0.5f}}); // op 7
        auto gated = b.create(OpKind::Mul, {*c2, *gate});        // op 8
        auto neg = b.create(OpKind::Neg, {*gate});               // op 9
        if (!gated || !neg)
          return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                         "cannot build the graph");
        return llvm::SmallVector<ValueId, 1>{*gated, *neg};
      });
  ASSERT_FALSE(bool(fuseEpilogues(m)));
  const Function &f = m.functions.front();
  ASSERT_EQ(f.ops.size(), 10u);
  EXPECT_EQ(fusionProducers(f),
            (std::vector<int>{-1, -1, 1, 1, -1, 4, -1, -1, -1, -1}));
}

// Squeeze-excite: global pool (a vectorized sum over 35 pixels, leaving a
// tail for every vector width), 1x1 convs on a 1x1 image (panel GEMMs with
// relu and hard_sigmoid epilogues; 2 images and 37 and 150 channels leave
// row and column tails) and the per-channel scale broadcast over the image;
// then a classifier matmul by a constant with batch dims, and a sum over
// all but the first axis.
TEST(Backend, SqueezeExciteAndClassifier) {
  std::mt19937 rng(17);
  Tensor x = randomTensor(TensorType(ElemKind::F32, {2, 150, 5, 7}), rng);
  EXPECT_TRUE(compiledLikeInterpreterOnEveryWidth(
      {x},
      [&](Builder &b, llvm::ArrayRef<ValueId> args)
          -> llvm::Expected<llvm::SmallVector<ValueId, 1>> {
        auto weights = [&](Ints shape) {
          return b.constant(
              randomTensor(TensorType(ElemKind::F32, shape), rng));
        };
        auto pool = b.create(OpKind::ReduceMean, {args[0]}, reduce({2, 3}, 1));
        auto squeeze = b.create(
            OpKind::Conv2d, {*pool, weights({37, 150, 1, 1}), weights({37})},
            conv({1, 1}, {0, 0, 0, 0}));
        auto relu = b.create(OpKind::Relu, {*squeeze});
        auto excite = b.create(
            OpKind::Conv2d, {*relu, weights({150, 37, 1, 1}), weights({150})},
            conv({1, 1}, {0, 0, 0, 0}));
        auto gate = b.create(OpKind::HardSigmoid, {*excite},
                             {{"alpha", 1.0f / 6.0f}, {"beta", 0.5f}});
        auto scaled = b.create(OpKind::Mul, {*gate, args[0]});
        auto rows = b.create(OpKind::Reshape, {*scaled},
                             {{"shape", Ints{2, 3, 175, 10}}});
        auto fc = b.create(OpKind::MatMul, {*rows, weights({10, 19})});
        auto total =
            b.create(OpKind::ReduceSum, {*scaled}, reduce({1, 2, 3}, 0));
        if (!fc || !total)
          return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                         "cannot build the graph");
        return llvm::SmallVector<ValueId, 1>{*fc, *scaled, *total};
      }));
}

TensorType quantType(ElemKind kind, llvm::ArrayRef<int64_t> shape, float scale,
                     int32_t zero) {
  return TensorType(kind, shape, QuantParams{{scale}, {zero}, std::nullopt});
}

// int8 path: quantize, per-channel quantized conv (dense and depthwise),
// max pool, requantize, quantized matmul, dequantize.
TEST(Backend, QuantizedChainMatchesInterpreter) {
  std::mt19937 rng(11);
  Tensor x = randomTensor(TensorType(ElemKind::F32, {1, 4, 9, 9}), rng);
  EXPECT_TRUE(compiledLikeInterpreter({x}, [&](Builder &b,
                                               llvm::ArrayRef<ValueId> args) {
    auto q = b.create(OpKind::Quantize, {args[0]}, {},
                      quantType(ElemKind::U8, {1, 4, 9, 9}, 0.01f, 128));
    Tensor w = randomTensor(TensorType(ElemKind::I8, {6, 4, 3, 3}), rng);
    w.type.quant = QuantParams{
        {0.01f, 0.02f, 0.015f, 0.01f, 0.03f, 0.02f}, {0, 0, 0, 0, 0, 0}, 0};
    Tensor bias = randomTensor(TensorType(ElemKind::I32, {6}), rng);
    auto c = b.create(OpKind::Conv2d, {*q, b.constant(w), b.constant(bias)},
                      conv({1, 1}, {1, 1, 1, 1}),
                      quantType(ElemKind::U8, {1, 6, 9, 9}, 0.05f, 120));
    Tensor dw = randomTensor(TensorType(ElemKind::I8, {6, 1, 3, 3}), rng);
    dw.type.quant = QuantParams{{0.02f}, {3}, std::nullopt};
    auto d = b.create(OpKind::Conv2d, {*c, b.constant(dw)},
                      conv({2, 2}, {1, 1, 1, 1}, 6),
                      quantType(ElemKind::U8, {1, 6, 5, 5}, 0.04f, 100));
    auto p =
        b.create(OpKind::MaxPool, {*d}, maxPool({2, 2}, {1, 1}, {0, 0, 0, 0}));
    auto r = b.create(OpKind::Requantize, {*p}, {},
                      quantType(ElemKind::I8, {1, 6, 4, 4}, 0.05f, -3));
    auto flat = b.create(OpKind::Reshape, {*r}, {{"shape", Ints{1, 96}}});
    Tensor fc = randomTensor(TensorType(ElemKind::I8, {96, 5}), rng);
    fc.type.quant = QuantParams{{0.01f}, {0}, std::nullopt};
    auto mm = b.create(OpKind::MatMul, {*flat, b.constant(fc)}, {},
                       quantType(ElemKind::I8, {1, 5}, 0.1f, 2));
    return single(b.create(OpKind::Dequantize, {*mm}));
  }));
}

// Quantized add and mul (broadcasting, one mul operand f32) and a table
// lookup, over element counts that leave a tail for every vector width:
// bit-exact.
TEST(Backend, QuantizedElementwiseMatchesInterpreter) {
  std::mt19937 rng(13);
  Tensor x = randomTensor(TensorType(ElemKind::F32, {1, 5, 7, 3}), rng);
  Tensor g = randomTensor(TensorType(ElemKind::F32, {1, 5, 1, 1}), rng);
  EXPECT_TRUE(compiledLikeInterpreterOnEveryWidth(
      {x, g}, [&](Builder &b, llvm::ArrayRef<ValueId> args) {
        auto qx = b.create(OpKind::Quantize, {args[0]}, {},
                           quantType(ElemKind::I8, {1, 5, 7, 3}, 0.02f, -3));
        auto qg = b.create(OpKind::Quantize, {args[1]}, {},
                           quantType(ElemKind::U8, {1, 5, 1, 1}, 0.01f, 128));
        auto sum = b.create(OpKind::Add, {*qx, *qg}, {},
                            quantType(ElemKind::I8, {1, 5, 7, 3}, 0.03f, 1));
        auto product =
            b.create(OpKind::Mul, {*sum, args[1]}, {},
                     quantType(ElemKind::U8, {1, 5, 7, 3}, 0.01f, 100));
        Tensor table = randomTensor(TensorType(ElemKind::I8, {256}), rng);
        table.type.quant = QuantParams{{0.05f}, {2}, std::nullopt};
        auto looked = b.create(OpKind::Lookup, {*product, b.constant(table)});
        return single(b.create(OpKind::Dequantize, {*looked}));
      }));
}

// HostModel links the object into this process: it computes the driver
// program's bytes, run after run, and rejects a wrong input count.
TEST(Backend, HostModelRunsLikeTheDriver) {
  std::mt19937 rng(17);
  Tensor x = randomTensor(TensorType(ElemKind::F32, {1, 3, 8, 8}), rng);
  Module m = buildModule({x}, [&](Builder &b, llvm::ArrayRef<ValueId> args) {
    auto w =
        b.constant(randomTensor(TensorType(ElemKind::F32, {4, 3, 3, 3}), rng));
    auto c = b.create(OpKind::Conv2d, {args[0], w}, conv({2, 2}, {1, 1, 1, 1}));
    return single(b.create(OpKind::Relu, {*c}));
  });
  auto scheduled = schedule(m, TargetSpec{});
  ASSERT_TRUE(bool(scheduled)) << llvm::toString(scheduled.takeError());
  auto expected = runCompiled(*scheduled, {x});
  ASSERT_TRUE(bool(expected)) << llvm::toString(expected.takeError());
  auto model = HostModel::load(*scheduled);
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  for (int run = 0; run < 2; ++run) {
    auto outputs = (*model)->run({x});
    ASSERT_TRUE(bool(outputs)) << llvm::toString(outputs.takeError());
    ASSERT_EQ(outputs->size(), 1u);
    EXPECT_EQ((*outputs)[0], (*expected)[0]);
  }
  auto none = (*model)->run({});
  ASSERT_FALSE(bool(none));
  EXPECT_EQ(llvm::toString(none.takeError()), "expected 1 inputs, got 0");
}

/// Per-channel quantized conv weights with random scales and zero points.
Tensor quantWeights(ElemKind kind, llvm::ArrayRef<int64_t> shape,
                    std::mt19937 &rng) {
  Tensor w = randomTensor(TensorType(kind, shape), rng);
  QuantParams q{{}, {}, 0};
  std::uniform_real_distribution<float> scale(0.005f, 0.03f);
  std::uniform_int_distribution<int32_t> zero(-5, 5);
  for (int64_t m = 0; m < shape[0]; ++m) {
    q.scales.push_back(scale(rng));
    q.zeroPoints.push_back(kind == ElemKind::U8 ? 128 + zero(rng) : zero(rng));
  }
  w.type.quant = q;
  return w;
}

// Quantized pointwise and direct convs: channel and pixel counts leaving a
// tail for every register tile and vector width, per-channel weights with
// zero points, u8 and i8 activations, with and without bias; depthwise with
// stride 1 and 2, symmetric and bottom/right-only padding, 3x3 and 5x5,
// and a dense 2x2 conv with too many taps for the direct path. Results
// must be bit-exact.
TEST(Backend, QuantizedConvKernelsMatchInterpreter) {
  std::mt19937 rng(13);
  Tensor x = randomTensor(TensorType(ElemKind::F32, {2, 13, 7, 9}), rng);
  EXPECT_TRUE(compiledLikeInterpreterOnEveryWidth(
      {x},
      [&](Builder &b, llvm::ArrayRef<ValueId> args)
          -> llvm::Expected<llvm::SmallVector<ValueId, 1>> {
        auto q = b.create(OpKind::Quantize, {args[0]}, {},
                          quantType(ElemKind::U8, {2, 13, 7, 9}, 0.01f, 131));
        auto bias = [&](int64_t m) {
          return b.constant(randomTensor(TensorType(ElemKind::I32, {m}), rng));
        };
        auto pw0 = b.create(
            OpKind::Conv2d,
            {*q, b.constant(quantWeights(ElemKind::I8, {19, 13, 1, 1}, rng)),
             bias(19)},
            conv({1, 1}, {0, 0, 0, 0}),
            quantType(ElemKind::U8, {2, 19, 7, 9}, 0.02f, 7));
        auto pw1 = b.create(
            OpKind::Conv2d,
            {*pw0, b.constant(quantWeights(ElemKind::U8, {13, 19, 1, 1}, rng))},
            conv({1, 1}, {0, 0, 0, 0}),
            quantType(ElemKind::I8, {2, 13, 7, 9}, 0.03f, -4));
        auto pw2 = b.create(
            OpKind::Conv2d,
            {*pw1, b.constant(quantWeights(ElemKind::I8, {6, 13, 1, 1}, rng)),
             bias(6)},
            conv({1, 1}, {0, 0, 0, 0}),
            quantType(ElemKind::I8, {2, 6, 7, 9}, 0.01f, 3));
        auto depthwise = [&](ValueId in, int64_t k, Ints strides, Ints pads,
                             ElemKind kind, int64_t oh, int64_t ow) {
          int32_t zero = kind == ElemKind::U8 ? 100 : -2;
          return b.create(
              OpKind::Conv2d,
              {in, b.constant(quantWeights(ElemKind::I8, {13, 1, k, k}, rng)),
               bias(13)},
              conv(strides, pads, 13),
              quantType(kind, {2, 13, oh, ow}, 0.02f, zero));
        };
        auto d1 = depthwise(*q, 3, {1, 1}, {1, 1, 1, 1}, ElemKind::U8, 7, 9);
        auto d2 = depthwise(*pw1, 3, {2, 2}, {1, 1, 1, 1}, ElemKind::I8, 4, 5);
        auto d3 = depthwise(*q, 3, {2, 2}, {0, 0, 1, 1}, ElemKind::U8, 3, 4);
        auto d4 = depthwise(*pw1, 5, {1, 1}, {2, 2, 2, 2}, ElemKind::I8, 7, 9);
        auto dense = b.create(
            OpKind::Conv2d,
            {*q, b.constant(quantWeights(ElemKind::I8, {11, 13, 2, 2}, rng))},
            conv({1, 1}, {0, 0, 0, 0}),
            quantType(ElemKind::U8, {2, 11, 6, 8}, 0.05f, 128));
        if (!pw2 || !d1 || !d2 || !d3 || !d4 || !dense)
          return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                         "cannot build the graph");
        return llvm::SmallVector<ValueId, 1>{*pw2, *d1, *d2, *d3, *d4, *dense};
      }));
}

// The harness's own check: on Linux a read just past an input hits a guard
// page, which the driver reports by buffer (guard bytes alone would only
// have been read back as results). The gather's constant index, one past
// the end, is what the verifier rejects; the builder lets it through.
TEST(Backend, GuardPagesCatchReadsPastAnInput) {
  if (!llvm::Triple(llvm::sys::getDefaultTargetTriple()).isOSLinux())
    GTEST_SKIP() << "guard pages are set up on Linux only";
  Tensor x(TensorType(ElemKind::F32, {3}));
  Module m = buildModule(
      {x},
      [&](Builder &b, llvm::ArrayRef<ValueId> args)
          -> llvm::Expected<llvm::SmallVector<ValueId, 1>> {
        auto y =
            b.create(OpKind::Gather,
                     {args[0], b.constant(makeTensor(ElemKind::I64, {1}, {3}))},
                     {{"axis", int64_t(0)}});
        if (!y)
          return y.takeError();
        return llvm::SmallVector<ValueId, 1>{*y};
      });
  auto outputs = runScheduled(m, {x});
  ASSERT_FALSE(bool(outputs));
  EXPECT_NE(llvm::toString(outputs.takeError())
                .find("the model accessed byte 12 of input 0 (12 bytes): a "
                      "guard page"),
            std::string::npos);
}

TEST(Backend, ResultsThatAreArgumentsOrConstants) {
  std::mt19937 rng(3);
  Tensor x = randomTensor(TensorType(ElemKind::F32, {2, 3}), rng);
  EXPECT_TRUE(compiledLikeInterpreter(
      {x},
      [&](Builder &b, llvm::ArrayRef<ValueId> args)
          -> llvm::Expected<llvm::SmallVector<ValueId, 1>> {
        auto c = b.constant(randomTensor(TensorType(ElemKind::F32, {3}), rng));
        auto y = b.create(OpKind::Add, {args[0], c});
        if (!y)
          return y.takeError();
        return llvm::SmallVector<ValueId, 1>{args[0], c, *y, *y};
      }));
}

TEST(MemoryPlan, OverlappingLiveRangesGetDisjointBytes) {
  Function f;
  Builder b(f);
  auto x = b.addArg(TensorType(ElemKind::F32, {1, 64}), "x");
  auto a = *b.create(OpKind::Relu, {x});
  auto c = *b.create(OpKind::Neg, {a});
  auto d = *b.create(OpKind::Abs, {c});
  auto e = *b.create(OpKind::Add, {a, d});
  b.addResult(*b.create(OpKind::Exp, {e}), "y");
  MemoryPlan plan = planMemory(f, {});
  // a lives until the add, so c and d must avoid it; c dies at d, so e may
  // reuse c's bytes.
  EXPECT_NE(plan.offsets[a], plan.offsets[c]);
  EXPECT_NE(plan.offsets[a], plan.offsets[d]);
  EXPECT_NE(plan.offsets[c], plan.offsets[d]);
  EXPECT_EQ(plan.offsets[e], plan.offsets[c]);
  EXPECT_EQ(plan.offsets[x], -1);
  EXPECT_EQ(plan.size, 3 * 256);
}

TEST(Target, UnknownNamesListValidOnes) {
  auto badTriple = createTargetMachine({"sparc9-unknown-foo", "", ""});
  ASSERT_FALSE(bool(badTriple));
  EXPECT_NE(llvm::toString(badTriple.takeError()).find("x86-64"),
            std::string::npos);
  auto badCpu = createTargetMachine({"aarch64-linux-gnu", "cortex-q9", ""});
  ASSERT_FALSE(bool(badCpu));
  EXPECT_NE(llvm::toString(badCpu.takeError()).find("cortex-a76"),
            std::string::npos);
  auto badFeature =
      createTargetMachine({"thumbv7em-none-eabihf", "cortex-m4", "+warp"});
  ASSERT_FALSE(bool(badFeature));
  EXPECT_NE(llvm::toString(badFeature.takeError()).find("unknown feature"),
            std::string::npos);
  for (auto [triple, cpu] : {std::pair{"x86_64-linux-gnu", "x86-64-v3"},
                             {"x86_64-linux-gnu", "znver4"},
                             {"aarch64-linux-gnu", "cortex-a53"},
                             {"thumbv7em-none-eabihf", "cortex-m7"},
                             {"thumbv8.1m.main-none-eabihf", "cortex-m55"}}) {
    auto tm = createTargetMachine({triple, cpu, ""});
    EXPECT_TRUE(bool(tm)) << triple << " " << cpu << ": "
                          << llvm::toString(tm.takeError());
  }
}

TEST(Target, NativeIsTheHostCpuWithItsFeatures) {
  auto tm = createTargetMachine({"", "native", ""});
  ASSERT_TRUE(bool(tm)) << llvm::toString(tm.takeError());
  EXPECT_EQ((*tm)->getTargetCPU(), llvm::sys::getHostCPUName());
  for (const auto &feature : llvm::sys::getHostCPUFeatures()) {
    std::string flag = (feature.second ? "+" : "-") + feature.first().str();
    EXPECT_NE((*tm)->getTargetFeatureString().find(flag), llvm::StringRef::npos)
        << flag;
  }
  auto explicitFeature = createTargetMachine({"", "native", "-avx2"});
  ASSERT_TRUE(bool(explicitFeature))
      << llvm::toString(explicitFeature.takeError());
  EXPECT_TRUE((*explicitFeature)->getTargetFeatureString().ends_with(",-avx2"));
  llvm::Triple host(llvm::sys::getDefaultTargetTriple());
  const char *foreign = host.getArch() == llvm::Triple::aarch64
                            ? "x86_64-linux-gnu"
                            : "aarch64-linux-gnu";
  auto cross = createTargetMachine({foreign, "native", ""});
  ASSERT_FALSE(bool(cross));
  EXPECT_NE(llvm::toString(cross.takeError()).find("needs the host target"),
            std::string::npos);
}

} // namespace
