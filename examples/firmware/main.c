/* Bare-metal ImageNet classification on a Cortex-M7 with an mnc-compiled
 * MobileNetV2: preprocesses the photo the firmware carries (data.h) with
 * runtime/'s mnc_preprocess into the model's input, runs the model once on
 * its scratch arena, and prints the five most probable classes with their
 * labels and softmax probabilities, and the SysTick ticks the inference
 * took, through newlib's semihosted printf. Exits 0 (qemu's exit status)
 * when all went well. */
#include "data.h"
#include "mnc_runtime.h"
#include "model.h"
#include "systick.h"

#include <math.h>
#include <stdio.h>

#define NUM_CLASSES (MODEL_OUTPUT0_BYTES / sizeof(float))
#define TOP_K 5

_Static_assert(MODEL_NUM_INPUTS == 1 && MODEL_NUM_OUTPUTS == 1,
               "one input, one output");
_Static_assert(MODEL_INPUT0_ELEMENT_SIZE == 4 && MODEL_INPUT0_RANK == 4 &&
                   MODEL_OUTPUT0_ELEMENT_SIZE == 4,
               "a float NCHW image in, float scores out");

/* The model's scratch arena in SRAM: firmware.ld places .bss.arena there
 * and fails the link when it does not fit. */
static unsigned char arena[MODEL_SCRATCH_SIZE]
    __attribute__((section(".bss.arena"), aligned(MODEL_SCRATCH_ALIGN)));
static float input[MODEL_INPUT0_BYTES / sizeof(float)];
static float scores[NUM_CLASSES];

/* torchvision's ImageNet preprocessing (examples/data/README.md): the
 * centre crop of the photo scaled to 8/7 of the input (224 of 256), RGB in
 * [0, 1], normalized per channel. */
static int preprocess(void) {
  static const size_t shape[] = MODEL_INPUT0_SHAPE;
  const mnc_image image = {image_bgr, image_width, image_height, image_stride,
                           MNC_BGR};
  const mnc_input_format format = {.width = shape[3],
                                   .height = shape[2],
                                   .format = MNC_RGB,
                                   .layout = MNC_NCHW,
                                   .dtype = MNC_F32,
                                   .pixel_scale = 1.0f / 255,
                                   .mean = {0.485f, 0.456f, 0.406f},
                                   .std = {0.229f, 0.224f, 0.225f}};
  const mnc_rect region = mnc_center_crop_region(
      image_width, image_height, shape[2] * 8 / 7, shape[3], shape[2]);
  return mnc_preprocess(&image, region, &format, input);
}

int main(void) {
  size_t best[TOP_K];
  float max, sum = 0;
  uint64_t ticks;
  int status;
  if (num_labels != NUM_CLASSES) {
    printf("%u labels for %u classes\n", (unsigned)num_labels,
           (unsigned)NUM_CLASSES);
    return 1;
  }
  if ((status = preprocess()) != MNC_OK) {
    printf("mnc_preprocess returned %d\n", status);
    return 1;
  }
  systick_start();
  ticks = systick_ticks();
  status = model_run_typed(input, scores, arena);
  ticks = systick_ticks() - ticks;
  if (status != MODEL_OK) {
    printf("model_run returned %d\n", status);
    return 1;
  }
  if ((status = mnc_topk(scores, MNC_F32, NUM_CLASSES, TOP_K, best)) !=
      MNC_OK) {
    printf("mnc_topk returned %d\n", status);
    return 1;
  }
  /* Softmax, shifted by the largest score for range. */
  max = scores[best[0]];
  for (size_t i = 0; i < NUM_CLASSES; ++i)
    sum += expf(scores[i] - max);
  for (size_t k = 0; k < TOP_K; ++k)
    printf("%u %4u %s %.4f\n", (unsigned)(k + 1), (unsigned)best[k],
           labels[best[k]], expf(scores[best[k]] - max) / sum);
  printf("inference: %lu SysTick ticks\n", (unsigned long)ticks);
  return 0;
}
