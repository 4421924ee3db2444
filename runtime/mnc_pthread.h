/* A POSIX-threads pool behind the mnc_parallel_for hook of mnc_runtime.h.
 * Unlike the rest of runtime/ it needs an operating system (pthreads); it
 * still allocates nothing: the pool lives in caller-owned storage. */
#ifndef MNC_PTHREAD_H
#define MNC_PTHREAD_H

#include "mnc_runtime.h"

#include <pthread.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Workers a pool can hold besides the calling thread. */
#define MNC_PTHREAD_POOL_MAX 64

/** A pool of worker threads. Treat as opaque; one parallel_for runs on it at
 * a time (concurrent calls wait for each other). */
typedef struct {
  pthread_t threads[MNC_PTHREAD_POOL_MAX];
  size_t num_workers;
  pthread_mutex_t lock, call_lock;
  pthread_cond_t start, done;
  unsigned long generation;
  size_t running, next_id;
  int stop;
  void (*task)(void *arg, size_t i);
  void *arg;
  size_t n;
} mnc_pthread_pool;

/** Starts num_threads - 1 workers (the caller of parallel_for is the
 * remaining thread); 1 <= num_threads <= MNC_PTHREAD_POOL_MAX + 1. Returns
 * MNC_OK, MNC_ERR_ARGUMENT, or MNC_ERR_CAPACITY when the system refuses a
 * thread (the workers started are stopped again). */
int mnc_pthread_pool_init(mnc_pthread_pool *pool, size_t num_threads);

/** Stops and joins the workers. No parallel_for may be running. */
void mnc_pthread_pool_destroy(mnc_pthread_pool *pool);

/** The hook that runs a parallel_for on `pool`: [0, n) is split into
 * num_threads contiguous ranges of nearly equal length, one per thread,
 * the caller taking the first; it returns when every task has run. */
mnc_parallel_for mnc_pthread_parallel_for(mnc_pthread_pool *pool);

#ifdef __cplusplus
}
#endif

#endif
