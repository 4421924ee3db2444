/* Test driver for runtime/: runs one helper on .npy inputs and writes its
 * result as .npy, so that test/runtime/Inputs/check.py can compare it with
 * numpy, torch and torchvision. Built for the host by CMake and for
 * AArch64 by the cross tests.
 *
 *   driver preprocess IMAGE.npy OUT.npy KEY=VALUE...
 *   driver dequantize X.npy SCALE ZERO_POINT OUT.npy
 *   driver topk X.npy K OUT.npy
 *   driver priors WIDTH HEIGHT OFFSET CLIP OUT.npy LAYER...
 *          (LAYER: fw,fh,step_x,step_y,w0,h0,w1,h1,...)
 *   driver decode LOCATIONS.npy PRIORS.npy CENTER_VAR SIZE_VAR OUT.npy
 *   driver nms BOXES.npy SCORES.npy SCORE_T IOU_T MAX FIRST OUT.npy
 *   driver pthread THREADS N      (THREADS 0: mnc_serial_for)
 *
 * nms writes float32 [count, 7]: x1, y1, x2, y2, score, label, index.
 *
 * As Cortex-M firmware (backends/cortex-m's startup code, newlib
 * semihosting) the command line comes from the semihosting host (qemu's
 * -semihosting-config arg=...) and files are the host's; the pthread pool
 * needs an operating system, so there only the serial hook is checked. */
#include "mnc_runtime.h"
#if defined(__linux__)
#include "mnc_pthread.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIMS 4

typedef struct {
  mnc_dtype dtype;
  size_t rank, dims[MAX_DIMS], count;
  void *data;
} Array;

static void fail(const char *what, const char *detail) {
  fprintf(stderr, "driver: %s %s\n", what, detail);
  exit(1);
}

static size_t elementSize(mnc_dtype t) { return t == MNC_F32 ? 4 : 1; }

/* A little-endian .npy of version 1 with dtype <f4, |i1 or |u1, C order. */
static Array readNpy(const char *path) {
  Array a;
  FILE *f = fopen(path, "rb");
  unsigned char pre[10];
  char header[1024];
  const char *shape;
  size_t len;
  memset(&a, 0, sizeof a);
  if (!f || fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY\x01", 7))
    fail("not a version 1 .npy:", path);
  len = (size_t)pre[8] | (size_t)pre[9] << 8;
  if (len >= sizeof header || fread(header, 1, len, f) != len)
    fail("bad .npy header:", path);
  header[len] = '\0';
  if (strstr(header, "'<f4'"))
    a.dtype = MNC_F32;
  else if (strstr(header, "'|i1'"))
    a.dtype = MNC_I8;
  else if (strstr(header, "'|u1'"))
    a.dtype = MNC_U8;
  else
    fail("dtype is not f4, i1 or u1:", path);
  if (!strstr(header, "'fortran_order': False") ||
      !(shape = strstr(header, "'shape': (")))
    fail("not a C-order .npy:", path);
  shape += strlen("'shape': (");
  a.count = 1;
  while (*shape != ')') {
    char *end;
    size_t d = strtoul(shape, &end, 10);
    if (end == shape || a.rank == MAX_DIMS)
      fail("bad shape in", path);
    a.dims[a.rank++] = d;
    a.count *= d;
    shape = end;
    while (*shape == ',' || *shape == ' ')
      ++shape;
  }
  a.data = malloc(a.count * elementSize(a.dtype) + 1);
  if (!a.data || fread(a.data, elementSize(a.dtype), a.count, f) != a.count)
    fail("short .npy:", path);
  fclose(f);
  return a;
}

static void writeNpy(const char *path, mnc_dtype dtype, const size_t *dims,
                     size_t rank, const void *data) {
  static const char *descr[] = {"<f4", "|i1", "|u1"};
  char header[256], shape[128] = "";
  size_t i, count = 1, len;
  FILE *f = fopen(path, "wb");
  for (i = 0; i < rank; ++i) {
    size_t n = strlen(shape);
    snprintf(shape + n, sizeof shape - n, "%lu,%s", (unsigned long)dims[i],
             rank > 1 && i + 1 < rank ? " " : "");
    count *= dims[i];
  }
  len = (size_t)snprintf(header, sizeof header,
                         "{'descr': '%s', 'fortran_order': False, "
                         "'shape': (%s), }",
                         descr[dtype], shape);
  while ((10 + len + 1) % 64)
    header[len++] = ' ';
  header[len++] = '\n';
  if (!f)
    fail("cannot write", path);
  fwrite("\x93NUMPY\x01\x00", 1, 8, f);
  fputc((int)(len & 0xff), f);
  fputc((int)(len >> 8), f);
  fwrite(header, 1, len, f);
  fwrite(data, elementSize(dtype), count, f);
  fclose(f);
}

static void check(int status, const char *what) {
  if (status != MNC_OK) {
    fprintf(stderr, "driver: %s returned %d\n", what, status);
    exit(2);
  }
}

static float number(const char *s) { return strtof(s, NULL); }

/* Reads n comma-separated floats (strtof: decimal or C99 hexadecimal). */
static void numbers(const char *s, float *out, int n) {
  int i;
  for (i = 0; i < n; ++i) {
    char *end;
    out[i] = strtof(s, &end);
    if (end == s || (i + 1 < n && *end != ','))
      fail("expected numbers, not", s);
    s = end + 1;
  }
}

static mnc_pixel_format pixelFormat(const char *s) {
  return !strcmp(s, "gray") ? MNC_GRAY : !strcmp(s, "bgr") ? MNC_BGR : MNC_RGB;
}

static int preprocess(int argc, char **argv) {
  Array img = readNpy(argv[2]);
  mnc_image image;
  mnc_input_format f;
  mnc_rect region;
  size_t resize = 0, dims[4], channels;
  int i, crop = 0;
  void *out;
  memset(&f, 0, sizeof f);
  f.pixel_scale = 1;
  f.std[0] = f.std[1] = f.std[2] = 1;
  f.quant_scale = 1;
  image.data = (const uint8_t *)img.data;
  image.height = img.dims[0];
  image.width = img.dims[1];
  image.format = img.rank == 3 && img.dims[2] == 3 ? MNC_RGB : MNC_GRAY;
  image.stride = image.width * (image.format == MNC_GRAY ? 1 : 3);
  region = mnc_full_region(&image);
  for (i = 4; i < argc; ++i) {
    char *key = argv[i], *value = strchr(key, '=');
    if (!value)
      fail("expected KEY=VALUE, not", key);
    *value++ = '\0';
    if (!strcmp(key, "in"))
      image.format = pixelFormat(value);
    else if (!strcmp(key, "out"))
      f.format = pixelFormat(value);
    else if (!strcmp(key, "size"))
      f.width = strtoul(value, &value, 10),
      f.height = strtoul(value + 1, NULL, 10);
    else if (!strcmp(key, "layout"))
      f.layout = !strcmp(value, "nhwc") ? MNC_NHWC : MNC_NCHW;
    else if (!strcmp(key, "dtype"))
      f.dtype = !strcmp(value, "i8")   ? MNC_I8
                : !strcmp(value, "u8") ? MNC_U8
                                       : MNC_F32;
    else if (!strcmp(key, "pixel_scale"))
      f.pixel_scale = number(value);
    else if (!strcmp(key, "mean"))
      numbers(value, f.mean, 3);
    else if (!strcmp(key, "std"))
      numbers(value, f.std, 3);
    else if (!strcmp(key, "quant"))
      f.quant_scale = strtof(value, &value),
      f.zero_point = (int32_t)strtol(value + 1, NULL, 10);
    else if (!strcmp(key, "resize"))
      resize = strtoul(value, NULL, 10), crop = 1;
    else if (!strcmp(key, "region")) {
      float r[4]; /* x, y, width, height */
      numbers(value, r, 4);
      region.x = r[0], region.y = r[1], region.width = r[2],
      region.height = r[3];
    } else
      fail("unknown key", key);
  }
  if (crop)
    region = mnc_center_crop_region(image.width, image.height, resize, f.width,
                                    f.height);
  channels = f.format == MNC_GRAY ? 1 : 3;
  out = malloc(f.width * f.height * channels * elementSize(f.dtype));
  check(mnc_preprocess(&image, region, &f, out), "mnc_preprocess");
  if (f.layout == MNC_NHWC)
    dims[0] = f.height, dims[1] = f.width, dims[2] = channels;
  else
    dims[0] = channels, dims[1] = f.height, dims[2] = f.width;
  writeNpy(argv[3], f.dtype, dims, 3, out);
  return 0;
}

static int dequantize(char **argv) {
  Array x = readNpy(argv[2]);
  float *out = (float *)malloc(x.count * sizeof *out + 1);
  check(mnc_dequantize(x.data, x.dtype, x.count, number(argv[3]),
                       (int32_t)strtol(argv[4], NULL, 10), out),
        "mnc_dequantize");
  writeNpy(argv[5], MNC_F32, x.dims, x.rank, out);
  return 0;
}

static int topk(char **argv) {
  Array x = readNpy(argv[2]);
  size_t k = strtoul(argv[3], NULL, 10), i;
  size_t *indices = (size_t *)malloc(k * sizeof *indices);
  float *out = (float *)malloc(k * sizeof *out);
  check(mnc_topk(x.data, x.dtype, x.count, k, indices), "mnc_topk");
  for (i = 0; i < k; ++i)
    out[i] = (float)indices[i];
  writeNpy(argv[4], MNC_F32, &k, 1, out);
  return 0;
}

static int priors(int argc, char **argv) {
  size_t num_layers = (size_t)argc - 7, l, dims[2];
  mnc_ssd_layer *layers =
      (mnc_ssd_layer *)calloc(num_layers + 1, sizeof *layers);
  float *out;
  for (l = 0; l < num_layers; ++l) {
    float *v = (float *)calloc(strlen(argv[7 + l]), sizeof *v);
    char *s = argv[7 + l], *end;
    size_t n = 0;
    for (; *s; s = *end ? end + 1 : end) {
      v[n++] = strtof(s, &end);
      if (end == s)
        fail("bad layer", argv[7 + l]);
    }
    layers[l].feature_width = (size_t)v[0];
    layers[l].feature_height = (size_t)v[1];
    layers[l].step_x = v[2];
    layers[l].step_y = v[3];
    layers[l].anchor_sizes = v + 4;
    layers[l].num_anchors = (n - 4) / 2;
  }
  dims[0] = mnc_ssd_num_priors(layers, num_layers);
  dims[1] = 4;
  out = (float *)malloc(dims[0] * 4 * sizeof *out + 1);
  check(mnc_ssd_priors(layers, num_layers, number(argv[2]), number(argv[3]),
                       number(argv[4]), atoi(argv[5]), out, dims[0]),
        "mnc_ssd_priors");
  writeNpy(argv[6], MNC_F32, dims, 2, out);
  return 0;
}

static int decode(char **argv) {
  Array loc = readNpy(argv[2]), pri = readNpy(argv[3]);
  size_t dims[2];
  float *out = (float *)malloc(loc.count * sizeof *out);
  dims[0] = loc.count / 4;
  dims[1] = 4;
  if (pri.count != loc.count)
    fail("priors and locations differ in size:", argv[3]);
  check(mnc_ssd_decode((const float *)loc.data, (const float *)pri.data,
                       dims[0], number(argv[4]), number(argv[5]), out),
        "mnc_ssd_decode");
  writeNpy(argv[6], MNC_F32, dims, 2, out);
  return 0;
}

static int nms(char **argv) {
  Array boxes = readNpy(argv[2]), scores = readNpy(argv[3]);
  mnc_nms_options options;
  size_t n = boxes.count / 4, count, i, dims[2];
  size_t *work = (size_t *)malloc(n * sizeof *work + 1);
  mnc_detection *out;
  float *rows;
  options.score_threshold = number(argv[4]);
  options.iou_threshold = number(argv[5]);
  options.max_detections = strtoul(argv[6], NULL, 10);
  options.first_class = strtoul(argv[7], NULL, 10);
  out = (mnc_detection *)malloc(options.max_detections * sizeof *out);
  check(mnc_nms((const float *)boxes.data, (const float *)scores.data, n,
                scores.count / n, &options, work, out, &count),
        "mnc_nms");
  rows = (float *)malloc(count * 7 * sizeof *rows + 1);
  for (i = 0; i < count; ++i) {
    memcpy(rows + 7 * i, out[i].box, 4 * sizeof(float));
    rows[7 * i + 4] = out[i].score;
    rows[7 * i + 5] = (float)out[i].label;
    rows[7 * i + 6] = (float)out[i].index;
  }
  dims[0] = count;
  dims[1] = 7;
  writeNpy(argv[8], MNC_F32, dims, 2, rows);
  return 0;
}

/* Each task adds its index + 1 to its own slot; a slot touched by two
 * threads or twice, or not at all, shows. */
static void countTask(void *arg, size_t i) { ((size_t *)arg)[i] += i + 1; }

static int pthreadPool(char **argv) {
  size_t threads = strtoul(argv[2], NULL, 10), n = strtoul(argv[3], NULL, 10);
  size_t *slots = (size_t *)calloc(n + 1, sizeof *slots), i, round, bad = 0;
#if defined(__linux__)
  mnc_pthread_pool pool;
#endif
  mnc_parallel_for hook;
  hook.parallel_for = mnc_serial_for;
  hook.ctx = NULL;
  hook.num_threads = 1;
#if defined(__linux__)
  if (threads > 0) {
    check(mnc_pthread_pool_init(&pool, threads), "mnc_pthread_pool_init");
    hook = mnc_pthread_parallel_for(&pool);
  }
#else
  if (threads > 0)
    fail("no threads without an operating system:", argv[2]);
#endif
  bad += hook.num_threads != (threads > 0 ? threads : 1);
  for (round = 1; round <= 100; ++round) {
    hook.parallel_for(hook.ctx, countTask, slots, n);
    for (i = 0; i < n; ++i)
      bad += slots[i] != round * (i + 1);
  }
#if defined(__linux__)
  if (threads > 0)
    mnc_pthread_pool_destroy(&pool);
#endif
  /* newlib's printf may lack %zu. */
  printf("pthread pool: %lu threads, %lu tasks x 100 calls: %lu wrong\n",
         (unsigned long)threads, (unsigned long)n, (unsigned long)bad);
  return bad != 0;
}

static int run(int argc, char **argv) {
  const char *op = argc > 1 ? argv[1] : "";
  if (!strcmp(op, "preprocess") && argc >= 4)
    return preprocess(argc, argv);
  if (!strcmp(op, "dequantize") && argc == 6)
    return dequantize(argv);
  if (!strcmp(op, "topk") && argc == 5)
    return topk(argv);
  if (!strcmp(op, "priors") && argc >= 8)
    return priors(argc, argv);
  if (!strcmp(op, "decode") && argc == 7)
    return decode(argv);
  if (!strcmp(op, "nms") && argc == 9)
    return nms(argv);
  if (!strcmp(op, "pthread") && argc == 4)
    return pthreadPool(argv);
  fprintf(stderr, "usage: see the comment at the top of driver.c\n");
  return 1;
}

#if defined(__arm__) && !defined(__linux__)
/* SYS_GET_CMDLINE (semihosting operation 0x15): the host's command line,
 * arguments separated by spaces (the tests pass none with spaces). */
static char *semihostingCommandLine(void) {
  static char line[4096];
  struct {
    char *buffer;
    int length;
  } block = {line, sizeof line - 1};
  register int op __asm__("r0") = 0x15;
  register void *arg __asm__("r1") = &block;
  __asm__ volatile("bkpt 0xab" : "+r"(op) : "r"(arg) : "memory");
  if (op != 0)
    fail("no semihosting command line", "");
  line[block.length] = '\0';
  return line;
}

int main(void) {
  static char *argv[64];
  int argc = 0;
  char *p = semihostingCommandLine();
  while (*p && argc < 63) {
    argv[argc++] = p;
    while (*p && *p != ' ')
      ++p;
    while (*p == ' ')
      *p++ = '\0';
  }
  argv[argc] = NULL;
  return run(argc, argv);
}
#else
int main(int argc, char **argv) { return run(argc, argv); }
#endif
