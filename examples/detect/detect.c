/* detect: face detection with the Ultra-Light-Fast-Generic-Face-Detector
 * (slim, 320x240) compiled by mnc, pre- and postprocessed with runtime/.
 *
 * Loads a photo (JPEG, PNG, BMP, ... through stb_image), resamples it to the
 * model's 320x240 RGB input normalized as (pixel - 127) / 128, runs the
 * model, decodes its 4420 box regressions against the SSD priors the model
 * was trained with, keeps faces scoring above 0.7 after non-maximum
 * suppression (IoU 0.3), prints them and draws them onto the photo, written
 * as PNG (or BMP when the name ends in .bmp).
 *
 * usage: detect PHOTO OUT.png [--save-input INPUT.npy]
 *
 * Prints "faces: N", then one line per face, best first: x1 y1 x2 y2 in
 * photo pixels and the score. --save-input writes the model's input tensor
 * as float32 .npy, so that another runtime can be run on exactly it. */
#include "mnc_runtime.h"
#include "ultraface.h"

#include <stb_image.h>
#include <stb_image_write.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INPUT_W 320
#define INPUT_H 240
#define NUM_PRIORS (ULTRAFACE_OUTPUT1_BYTES / (4 * sizeof(float)))
#define MAX_FACES 200

/* The model's training configuration (vision/ssd/config/fd_config.py of
 * the detector's repository): priors of min_boxes sizes on feature maps of
 * strides 8, 16, 32 and 64, centre variance 0.1, size variance 0.2, and its
 * demo's thresholds. */
static const float kAnchors8[] = {10, 10, 16, 16, 24, 24};
static const float kAnchors16[] = {32, 32, 48, 48};
static const float kAnchors32[] = {64, 64, 96, 96};
static const float kAnchors64[] = {128, 128, 192, 192, 256, 256};
#define LAYER(stride, anchors)                                                 \
  {                                                                            \
    (INPUT_W + stride - 1) / stride, (INPUT_H + stride - 1) / stride, stride,  \
        stride, anchors, sizeof anchors / sizeof anchors[0] / 2                \
  }
static const mnc_ssd_layer kLayers[] = {
    LAYER(8, kAnchors8), LAYER(16, kAnchors16), LAYER(32, kAnchors32),
    LAYER(64, kAnchors64)};
#define CENTER_VARIANCE 0.1f
#define SIZE_VARIANCE 0.2f
#define SCORE_THRESHOLD 0.7f
#define IOU_THRESHOLD 0.3f

/* Writes a float32 C-order .npy of the given shape. Returns 0 on success. */
static int write_npy(const char *path, const float *data, const int *dims,
                     int rank) {
  char header[128];
  int n = snprintf(header, sizeof header,
                   "{'descr': '<f4', 'fortran_order': False, 'shape': (");
  size_t count = 1;
  int i, ok;
  FILE *f = fopen(path, "wb");
  for (i = 0; i < rank; ++i) {
    n += snprintf(header + n, sizeof header - (size_t)n, "%d, ", dims[i]);
    count *= (size_t)dims[i];
  }
  n += snprintf(header + n, sizeof header - (size_t)n, "), }");
  while ((10 + n + 1) % 64)
    header[n++] = ' ';
  header[n++] = '\n';
  if (!f) {
    fprintf(stderr, "detect: cannot write %s\n", path);
    return 1;
  }
  ok = fwrite("\x93NUMPY\x01\x00", 1, 8, f) == 8 && fputc(n & 0xff, f) != EOF &&
       fputc(n >> 8, f) != EOF &&
       fwrite(header, 1, (size_t)n, f) == (size_t)n &&
       fwrite(data, sizeof *data, count, f) == count;
  ok = fclose(f) == 0 && ok;
  if (!ok)
    fprintf(stderr, "detect: cannot write %s\n", path);
  return !ok;
}

/* Draws the outline of `box` (photo pixels), `thickness` pixels wide and
 * clipped to the photo, in green onto an RGB photo. */
static void draw_box(unsigned char *rgb, int width, int height,
                     const float box[4], int thickness) {
  int x1 = (int)box[0], y1 = (int)box[1], x2 = (int)box[2], y2 = (int)box[3];
  int x, y;
  for (y = y1; y <= y2; ++y)
    for (x = x1; x <= x2; ++x) {
      int edge = x < x1 + thickness || x > x2 - thickness ||
                 y < y1 + thickness || y > y2 - thickness;
      if (edge && x >= 0 && y >= 0 && x < width && y < height) {
        unsigned char *p = rgb + 3 * ((size_t)y * (size_t)width + (size_t)x);
        p[0] = 0, p[1] = 255, p[2] = 0;
      }
    }
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

int main(int argc, char **argv) {
  static float input[ULTRAFACE_INPUT0_BYTES / sizeof(float)];
  static float scores[ULTRAFACE_OUTPUT0_BYTES / sizeof(float)];
  static float boxes[ULTRAFACE_OUTPUT1_BYTES / sizeof(float)];
  static float priors[NUM_PRIORS * 4];
  static size_t work[NUM_PRIORS];
  static mnc_detection faces[MAX_FACES];
  const int input_dims[] = {1, 3, INPUT_H, INPUT_W};
  const void *inputs[1];
  void *outputs[2];
  const char *save_input = NULL;
  mnc_image image;
  mnc_input_format format;
  mnc_nms_options nms;
  unsigned char *rgb;
  void *scratch;
  size_t count, i;
  int width, height, channels, written;
  if (argc == 5 && strcmp(argv[3], "--save-input") == 0)
    save_input = argv[4];
  else if (argc != 3) {
    fprintf(stderr, "usage: %s PHOTO OUT.png [--save-input INPUT.npy]\n",
            argv[0]);
    return 1;
  }
  rgb = stbi_load(argv[1], &width, &height, &channels, 3);
  if (!rgb) {
    fprintf(stderr, "detect: cannot read %s: %s\n", argv[1],
            stbi_failure_reason());
    return 1;
  }

  image.data = rgb;
  image.width = (size_t)width;
  image.height = (size_t)height;
  image.stride = 3 * (size_t)width;
  image.format = MNC_RGB;
  memset(&format, 0, sizeof format);
  format.width = INPUT_W;
  format.height = INPUT_H;
  format.format = MNC_RGB;
  format.layout = MNC_NCHW;
  format.dtype = MNC_F32;
  format.pixel_scale = 1;
  for (i = 0; i < 3; ++i)
    format.mean[i] = 127, format.std[i] = 128;
  if (mnc_preprocess(&image, mnc_full_region(&image), &format, input) !=
      MNC_OK) {
    fprintf(stderr, "detect: cannot preprocess %s\n", argv[1]);
    return 1;
  }
  if (save_input && write_npy(save_input, input, input_dims, 4))
    return 1;

  /* aligned_alloc needs a size that is a multiple of the alignment. */
  scratch =
      aligned_alloc(ULTRAFACE_SCRATCH_ALIGN,
                    (ULTRAFACE_SCRATCH_SIZE + ULTRAFACE_SCRATCH_ALIGN) /
                        ULTRAFACE_SCRATCH_ALIGN * ULTRAFACE_SCRATCH_ALIGN);
  inputs[0] = input;
  outputs[0] = scores;
  outputs[1] = boxes;
  if (!scratch || ultraface_run(inputs, outputs, scratch) != ULTRAFACE_OK) {
    fprintf(stderr, "detect: ultraface_run failed\n");
    return 1;
  }
  free(scratch);

  nms.score_threshold = SCORE_THRESHOLD;
  nms.iou_threshold = IOU_THRESHOLD;
  nms.max_detections = MAX_FACES;
  nms.first_class = 1; /* class 0 is the background */
  if (mnc_ssd_priors(kLayers, sizeof kLayers / sizeof kLayers[0], INPUT_W,
                     INPUT_H, 0.5f, 1, priors, NUM_PRIORS) != MNC_OK ||
      mnc_ssd_decode(boxes, priors, NUM_PRIORS, CENTER_VARIANCE, SIZE_VARIANCE,
                     boxes) != MNC_OK ||
      mnc_nms(boxes, scores, NUM_PRIORS, 2, &nms, work, faces, &count) !=
          MNC_OK) {
    fprintf(stderr, "detect: postprocessing failed\n");
    return 1;
  }

  printf("faces: %zu\n", count);
  for (i = 0; i < count; ++i) {
    float *b = faces[i].box;
    b[0] *= (float)width, b[2] *= (float)width;
    b[1] *= (float)height, b[3] *= (float)height;
    printf("%.2f %.2f %.2f %.2f %.5f\n", b[0], b[1], b[2], b[3],
           faces[i].score);
    draw_box(rgb, width, height, b, width / 300 + 1);
  }
  written = ends_with(argv[2], ".bmp")
                ? stbi_write_bmp(argv[2], width, height, 3, rgb)
                : stbi_write_png(argv[2], width, height, 3, rgb, 3 * width);
  stbi_image_free(rgb);
  if (!written) {
    fprintf(stderr, "detect: cannot write %s\n", argv[2]);
    return 1;
  }
  return 0;
}
