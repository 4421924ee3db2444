/* The serial parallel-for: what a single-threaded application passes. */
#include "mnc_runtime.h"

void mnc_serial_for(void *ctx, void (*task)(void *arg, size_t i), void *arg,
                    size_t n) {
  size_t i;
  (void)ctx;
  for (i = 0; i < n; ++i)
    task(arg, i);
}
