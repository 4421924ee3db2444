/* The pthread pool: each call of parallel_for starts a new generation that
 * the workers wait for on `start`; each runs its range and the last to
 * finish signals `done`. */
#include "mnc_pthread.h"

/* Thread t of `threads` runs [floor(n t / threads), floor(n (t + 1) /
 * threads)), computed without overflowing n t. */
static size_t rangeStart(size_t n, size_t t, size_t threads) {
  return n / threads * t + n % threads * t / threads;
}

static void runRange(void (*task)(void *, size_t), void *arg, size_t n,
                     size_t t, size_t threads) {
  size_t i, end = rangeStart(n, t + 1, threads);
  for (i = rangeStart(n, t, threads); i < end; ++i)
    task(arg, i);
}

static void *workerMain(void *p) {
  mnc_pthread_pool *pool = (mnc_pthread_pool *)p;
  unsigned long seen = 0; /* the generation init starts at */
  size_t id;
  pthread_mutex_lock(&pool->lock);
  id = ++pool->next_id;
  for (;;) {
    void (*task)(void *, size_t);
    void *arg;
    size_t n;
    while (pool->generation == seen && !pool->stop)
      pthread_cond_wait(&pool->start, &pool->lock);
    if (pool->stop)
      break;
    seen = pool->generation;
    task = pool->task, arg = pool->arg, n = pool->n;
    pthread_mutex_unlock(&pool->lock);
    runRange(task, arg, n, id, pool->num_workers + 1);
    pthread_mutex_lock(&pool->lock);
    if (--pool->running == 0)
      pthread_cond_signal(&pool->done);
  }
  pthread_mutex_unlock(&pool->lock);
  return NULL;
}

static void stopWorkers(mnc_pthread_pool *pool, size_t started) {
  size_t t;
  pthread_mutex_lock(&pool->lock);
  pool->stop = 1;
  pthread_cond_broadcast(&pool->start);
  pthread_mutex_unlock(&pool->lock);
  for (t = 0; t < started; ++t)
    pthread_join(pool->threads[t], NULL);
  pthread_cond_destroy(&pool->done);
  pthread_cond_destroy(&pool->start);
  pthread_mutex_destroy(&pool->call_lock);
  pthread_mutex_destroy(&pool->lock);
}

int mnc_pthread_pool_init(mnc_pthread_pool *pool, size_t num_threads) {
  size_t t;
  if (!pool || num_threads == 0 || num_threads > MNC_PTHREAD_POOL_MAX + 1)
    return MNC_ERR_ARGUMENT;
  pool->num_workers = num_threads - 1;
  pool->generation = 0;
  pool->running = 0;
  pool->next_id = 0;
  pool->stop = 0;
  pool->task = NULL;
  pool->arg = NULL;
  pool->n = 0;
  pthread_mutex_init(&pool->lock, NULL);
  pthread_mutex_init(&pool->call_lock, NULL);
  pthread_cond_init(&pool->start, NULL);
  pthread_cond_init(&pool->done, NULL);
  for (t = 0; t < pool->num_workers; ++t)
    if (pthread_create(&pool->threads[t], NULL, workerMain, pool) != 0) {
      stopWorkers(pool, t);
      return MNC_ERR_CAPACITY;
    }
  return MNC_OK;
}

void mnc_pthread_pool_destroy(mnc_pthread_pool *pool) {
  if (pool)
    stopWorkers(pool, pool->num_workers);
}

static void poolFor(void *ctx, void (*task)(void *arg, size_t i), void *arg,
                    size_t n) {
  mnc_pthread_pool *pool = (mnc_pthread_pool *)ctx;
  pthread_mutex_lock(&pool->call_lock);
  pthread_mutex_lock(&pool->lock);
  pool->task = task, pool->arg = arg, pool->n = n;
  pool->running = pool->num_workers;
  ++pool->generation;
  pthread_cond_broadcast(&pool->start);
  pthread_mutex_unlock(&pool->lock);
  runRange(task, arg, n, 0, pool->num_workers + 1);
  pthread_mutex_lock(&pool->lock);
  while (pool->running > 0)
    pthread_cond_wait(&pool->done, &pool->lock);
  pthread_mutex_unlock(&pool->lock);
  pthread_mutex_unlock(&pool->call_lock);
}

mnc_parallel_for mnc_pthread_parallel_for(mnc_pthread_pool *pool) {
  mnc_parallel_for hook;
  hook.parallel_for = poolFor;
  hook.ctx = pool;
  hook.num_threads = pool->num_workers + 1;
  return hook;
}
