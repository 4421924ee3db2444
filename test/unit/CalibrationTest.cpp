// Calibration pieces that lit cannot see: the photo preprocessing against
// the torchvision preprocessing the example .npy files were made with
// (examples/data/README.md), and the affine parameters of a range.
#include "compiler/CalibrationData.h"
#include "compiler/TensorIO.h"
#include "ir/Math.h"

#include <gtest/gtest.h>

namespace mnc {
namespace {

const std::string dataDir = MNC_EXAMPLES_DATA_DIR;

// torchvision (Pillow 9.4) made coral_grace_hopper.npy from the 512x600
// BMP: Resize(256), CenterCrop(224), ToTensor, Normalize. The same steps
// here give the same 8-bit pixels (measured: every element within float
// rounding of the normalization).
TEST(CalibrationTest, PhotoMatchesTorchvision) {
  auto want = readTensorFile(dataDir + "/coral_grace_hopper.npy");
  ASSERT_TRUE(bool(want)) << llvm::toString(want.takeError());
  auto got =
      readImage(dataDir + "/coral_grace_hopper.bmp", want->type, Preprocess());
  ASSERT_TRUE(bool(got)) << llvm::toString(got.takeError());
  int64_t off = 0;
  for (int64_t i = 0; i < want->numElements(); ++i)
    off += std::fabs(got->data<float>()[i] - want->data<float>()[i]) > 1e-5f;
  EXPECT_EQ(off, 0);
}

// BGR order and NHWC layout move the same values.
TEST(CalibrationTest, PhotoLayoutAndChannelOrder) {
  TensorType nchw(ElemKind::F32, {1, 3, 224, 224});
  TensorType nhwc(ElemKind::F32, {1, 224, 224, 3});
  Preprocess bgr;
  bgr.bgr = true;
  std::string photo = dataDir + "/coral_grace_hopper.bmp";
  auto a = readImage(photo, nchw, Preprocess());
  auto b = readImage(photo, nhwc, bgr);
  ASSERT_TRUE(a && b) << llvm::toString(a.takeError())
                      << llvm::toString(b.takeError());
  // BGR swaps the pixels, not the normalization: channel 2 of b holds
  // red, normalized with the third mean and std.
  Preprocess p;
  float red = a->data<float>()[0] * p.std[0] + p.mean[0];
  EXPECT_NEAR(b->data<float>()[2], (red - p.mean[2]) / p.std[2], 1e-5);
  EXPECT_NEAR(b->data<float>()[1], a->data<float>()[224 * 224], 1e-5);
}

TEST(CalibrationTest, AffineParams) {
  // [0, 6] onto int8: zero is the minimum, 6 the maximum.
  math::AffineParams p = math::affineParams(0, 6, -128, 127);
  EXPECT_FLOAT_EQ(p.scale, 6.0f / 255);
  EXPECT_EQ(p.zeroPoint, -128);
  EXPECT_EQ(math::quantize<int8_t>(6, p.scale, p.zeroPoint), 127);
  // A range without 0 is widened to hold it.
  p = math::affineParams(1, 2, 0, 255);
  EXPECT_FLOAT_EQ(p.scale, 2.0f / 255);
  EXPECT_EQ(p.zeroPoint, 0);
  // An empty range still gives a valid scale.
  p = math::affineParams(0, 0, -128, 127);
  EXPECT_EQ(p.scale, 1.0f);
}

} // namespace
} // namespace mnc
