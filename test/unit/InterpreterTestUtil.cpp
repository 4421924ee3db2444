// Reading ONNX node test data and comparing interpreter results with it.
#include "InterpreterTestUtil.h"
#include "ir/Interpreter.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace mnc::test {
namespace {

llvm::Error error(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::optional<ElemKind> elemOf(int dataType) {
  switch (dataType) {
  case onnx::TensorProto::FLOAT:
    return ElemKind::F32;
  case onnx::TensorProto::UINT8:
    return ElemKind::U8;
  case onnx::TensorProto::INT8:
    return ElemKind::I8;
  case onnx::TensorProto::INT32:
    return ElemKind::I32;
  case onnx::TensorProto::INT64:
    return ElemKind::I64;
  default:
    return std::nullopt;
  }
}

/// Copies the typed repeated field of `proto` (used when raw_data is
/// absent) into `t`.
void copyTypedData(const onnx::TensorProto &proto, Tensor &t) {
  int64_t n = t.numElements();
  for (int64_t i = 0; i < n; ++i) {
    switch (t.type.elem) {
    case ElemKind::F32:
      t.data<float>()[i] = proto.float_data(i);
      break;
    case ElemKind::I64:
      t.data<int64_t>()[i] = proto.int64_data(i);
      break;
    case ElemKind::I32:
      t.data<int32_t>()[i] = proto.int32_data(i);
      break;
    case ElemKind::I8:
      t.data<int8_t>()[i] = static_cast<int8_t>(proto.int32_data(i));
      break;
    case ElemKind::U8:
      t.data<uint8_t>()[i] = static_cast<uint8_t>(proto.int32_data(i));
      break;
    }
  }
}

bool fileExists(const std::string &path) { return std::ifstream(path).good(); }

} // namespace

llvm::Expected<Tensor> readTensorProto(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  onnx::TensorProto proto;
  if (!in || !proto.ParseFromIstream(&in))
    return error("cannot read TensorProto " + path);
  auto elem = elemOf(proto.data_type());
  if (!elem)
    return error(path + ": unsupported data type");
  llvm::SmallVector<int64_t, 4> shape(proto.dims().begin(), proto.dims().end());
  Tensor t{TensorType(*elem, shape)};
  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != t.bytes.size())
      return error(path + ": raw_data size does not match its dims");
    // std::copy, unlike memcpy, is defined for empty tensors (null data).
    std::copy(proto.raw_data().begin(), proto.raw_data().end(),
              t.bytes.begin());
  } else {
    copyTypedData(proto, t);
  }
  return t;
}

llvm::Expected<NodeTestData> loadNodeTest(const std::string &name) {
  return loadTestDir("/usr/share/libonnx-testdata/data/node/" + name);
}

llvm::Expected<NodeTestData> loadTestDir(const std::string &caseDir) {
  std::string dir = caseDir + "/test_data_set_0/";
  NodeTestData data;
  for (auto [prefix, list] : {std::pair{"input_", &data.inputs},
                              std::pair{"output_", &data.outputs}}) {
    for (int i = 0;; ++i) {
      std::string path = dir + prefix + std::to_string(i) + ".pb";
      if (!fileExists(path))
        break;
      auto t = readTensorProto(path);
      if (!t)
        return t.takeError();
      list->push_back(std::move(*t));
    }
  }
  if (data.outputs.empty())
    return error("no test data in " + dir);
  return data;
}

::testing::AssertionResult tensorsMatch(const Tensor &actual,
                                        const Tensor &expected) {
  if (actual.type.elem != expected.type.elem ||
      actual.type.shape != expected.type.shape)
    return ::testing::AssertionFailure()
           << "type " << toString(actual.type) << ", expected "
           << toString(expected.type);
  for (int64_t i = 0, n = expected.numElements(); i < n; ++i) {
    double a = actual.getAsDouble(i), e = expected.getAsDouble(i);
    bool ok = expected.type.elem == ElemKind::F32
                  ? std::abs(a - e) <= 1e-5 + 1e-5 * std::abs(e) ||
                        (std::isnan(a) && std::isnan(e))
                  : actual.getAsInt(i) == expected.getAsInt(i);
    if (!ok)
      return ::testing::AssertionFailure()
             << "element " << i << " is " << a << ", expected " << e;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult runsLike(llvm::ArrayRef<Tensor> inputs,
                                    const BuildFn &build,
                                    llvm::ArrayRef<Tensor> expected) {
  Function f;
  Builder b(f);
  llvm::SmallVector<ValueId, 4> args;
  for (size_t i = 0; i < inputs.size(); ++i)
    args.push_back(b.addArg(inputs[i].type, "in" + std::to_string(i)));
  auto results = build(b, args);
  if (!results)
    return ::testing::AssertionFailure()
           << "building: " << llvm::toString(results.takeError());
  for (ValueId r : *results)
    b.addResult(r, "out");
  auto actual = interpret(f, inputs);
  if (!actual)
    return ::testing::AssertionFailure()
           << "interpreting: " << llvm::toString(actual.takeError());
  if (actual->size() != expected.size())
    return ::testing::AssertionFailure()
           << actual->size() << " results, expected " << expected.size();
  for (size_t i = 0; i < expected.size(); ++i)
    if (auto match = tensorsMatch((*actual)[i], expected[i]); !match)
      return match << " (result " << i << ")";
  return ::testing::AssertionSuccess();
}

namespace {

using Ints = std::vector<int64_t>;

Attrs resizeAttrs(Ints sizes, std::vector<float> scales, std::string mode,
                  std::string coord = "half_pixel",
                  std::string nearest = "round_prefer_floor") {
  return {{"sizes", sizes},
          {"scales", scales},
          {"mode", mode},
          {"coordinate_transformation_mode", coord},
          {"nearest_mode", nearest}};
}

/// Scales of a resize given by output sizes: out / in per dim.
std::vector<float> ratios(Ints out, Ints in) {
  std::vector<float> scales;
  for (size_t i = 0; i < out.size(); ++i)
    scales.push_back(static_cast<float>(out[i]) / static_cast<float>(in[i]));
  return scales;
}

} // namespace

std::vector<std::pair<std::string, Attrs>> resizeNodeTests() {
  return {
      {"test_resize_upsample_scales_nearest",
       resizeAttrs({1, 1, 4, 6}, {1, 1, 2, 3}, "nearest")},
      {"test_resize_downsample_scales_nearest",
       resizeAttrs({1, 1, 1, 2}, {1, 1, 0.6f, 0.6f}, "nearest")},
      {"test_resize_upsample_sizes_nearest",
       resizeAttrs({1, 1, 7, 8}, ratios({1, 1, 7, 8}, {1, 1, 2, 2}),
                   "nearest")},
      {"test_resize_downsample_sizes_nearest",
       resizeAttrs({1, 1, 1, 3}, ratios({1, 1, 1, 3}, {1, 1, 2, 4}),
                   "nearest")},
      {"test_resize_upsample_sizes_nearest_ceil_half_pixel",
       resizeAttrs({1, 1, 8, 8}, ratios({1, 1, 8, 8}, {1, 1, 4, 4}), "nearest",
                   "half_pixel", "ceil")},
      {"test_resize_upsample_sizes_nearest_floor_align_corners",
       resizeAttrs({1, 1, 8, 8}, ratios({1, 1, 8, 8}, {1, 1, 4, 4}), "nearest",
                   "align_corners", "floor")},
      {"test_resize_upsample_sizes_nearest_round_prefer_ceil_asymmetric",
       resizeAttrs({1, 1, 8, 8}, ratios({1, 1, 8, 8}, {1, 1, 4, 4}), "nearest",
                   "asymmetric", "round_prefer_ceil")},
      {"test_resize_downsample_sizes_nearest_tf_half_pixel_for_nn",
       resizeAttrs({1, 1, 3, 2}, ratios({1, 1, 3, 2}, {1, 1, 4, 4}), "nearest",
                   "tf_half_pixel_for_nearest")},
      {"test_resize_upsample_scales_linear",
       resizeAttrs({1, 1, 4, 4}, {1, 1, 2, 2}, "linear")},
      {"test_resize_downsample_scales_linear",
       resizeAttrs({1, 1, 1, 2}, {1, 1, 0.6f, 0.6f}, "linear")},
      {"test_resize_upsample_scales_linear_align_corners",
       resizeAttrs({1, 1, 4, 4}, {1, 1, 2, 2}, "linear", "align_corners")},
      {"test_resize_downsample_scales_linear_align_corners",
       resizeAttrs({1, 1, 1, 2}, {1, 1, 0.6f, 0.6f}, "linear",
                   "align_corners")},
      {"test_resize_downsample_sizes_linear_pytorch_half_pixel",
       resizeAttrs({1, 1, 3, 1}, ratios({1, 1, 3, 1}, {1, 1, 4, 4}), "linear",
                   "pytorch_half_pixel")},
  };
}

Tensor withQuant(Tensor t, float scale, int32_t zeroPoint) {
  t.type.quant = QuantParams{{scale}, {zeroPoint}, std::nullopt};
  return t;
}

} // namespace mnc::test
