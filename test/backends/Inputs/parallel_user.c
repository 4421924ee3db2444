/* Includes a generated header (model "net") and runtime/mnc_runtime.h in
 * the order -DRUNTIME_FIRST or -DHEADER_FIRST says: the parallel-for hook
 * type both define is defined once, and NAME_run_parallel takes it. */
#ifdef RUNTIME_FIRST
#include "mnc_runtime.h"
#include "net.h"
#else
#include "net.h"
#include "mnc_runtime.h"
#endif

typedef int (*ParallelEntry)(const void *const *, void *const *, void *,
                             const mnc_parallel_for *);

int usesParallelEntry(const void *const inputs[], void *const outputs[],
                      void *scratch);

int usesParallelEntry(const void *const inputs[], void *const outputs[],
                      void *scratch) {
  ParallelEntry entry = net_run_parallel;
  mnc_parallel_for pool;
  pool.parallel_for = mnc_serial_for;
  pool.ctx = NULL;
  pool.num_threads = 1;
  if (NET_SCRATCH_SIZE_PARALLEL(pool.num_threads) != NET_SCRATCH_SIZE)
    return -1;
  return entry(inputs, outputs, scratch, &pool);
}
