/* The pthread pool: each call of parallel_for starts a new generation,
 * which the workers wait for; each runs its range and the last to finish
 * brings `running` to 0. Generated code calls parallel_for once per split
 * layer, tens of microseconds apart, so waiting only on condition
 * variables would put a sleep and a wake-up (several microseconds each)
 * around every layer: both sides first spin on the counters for up to
 * kSpinNs, then sleep on `start` and `done`. After its first kPauseSpins
 * spins (pause instructions: a hand-off of 0.3 us, where yielding ones
 * take 2.7 us) a spin yields the processor (sched_yield), so that on a
 * machine with more runnable threads than cores a spinning thread does
 * not hold up the one it waits for: with one of two cores busy with
 * another process, MobileNetV2 int8 on two threads took 6.0 ms waiting on
 * condition variables alone, 2.6 ms yielding, 3.6 ms on one thread, and an
 * empty parallel_for 115 us pausing for 2048 spins. The counters are read and written with the GCC/Clang
 * __atomic builtins; the mutex orders the sleeps with the wake-ups. */
#define _POSIX_C_SOURCE 199309L
#include "mnc_pthread.h"

#include <sched.h>
#include <time.h>

/* How long a waiting thread spins before it sleeps: longer than the
 * layers left serial between two split ones take (tens of microseconds in
 * MobileNetV2), short enough that an idle pool soon stops taking CPU
 * time. */
static const long kSpinNs = 200000;
/* Spins that only pause before spins yield: a microsecond or two. */
static const unsigned kPauseSpins = 128;

static long nowNs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void cpuRelax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* One spin of a wait that started with *deadline and *spins at 0: says
 * whether the wait may go on spinning (for kSpinNs; the clock is read
 * every 16 spins). The first kPauseSpins spins only pause the CPU (a
 * yield costs about a microsecond, which the next layer would wait for);
 * the later ones yield it. */
static int keepSpinning(long *deadline, unsigned *spins) {
  long now;
  if (++*spins < kPauseSpins) {
    cpuRelax();
    return 1;
  }
  sched_yield();
  if (*spins % 16 != 0)
    return 1;
  now = nowNs();
  if (*deadline == 0)
    *deadline = now + kSpinNs;
  return now < *deadline;
}

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
  pthread_mutex_unlock(&pool->lock);
  for (;;) {
    long deadline = 0;
    unsigned spins = 0;
    while (__atomic_load_n(&pool->generation, __ATOMIC_ACQUIRE) == seen &&
           !__atomic_load_n(&pool->stop, __ATOMIC_ACQUIRE) &&
           keepSpinning(&deadline, &spins))
      ;
    pthread_mutex_lock(&pool->lock);
    while (__atomic_load_n(&pool->generation, __ATOMIC_ACQUIRE) == seen &&
           !pool->stop)
      pthread_cond_wait(&pool->start, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
    if (__atomic_load_n(&pool->stop, __ATOMIC_ACQUIRE))
      break;
    seen = __atomic_load_n(&pool->generation, __ATOMIC_ACQUIRE);
    runRange(pool->task, pool->arg, pool->n, id, pool->num_workers + 1);
    if (__atomic_sub_fetch(&pool->running, 1, __ATOMIC_ACQ_REL) == 0) {
      pthread_mutex_lock(&pool->lock);
      pthread_cond_signal(&pool->done);
      pthread_mutex_unlock(&pool->lock);
    }
  }
  return NULL;
}

static void stopWorkers(mnc_pthread_pool *pool, size_t started) {
  size_t t;
  pthread_mutex_lock(&pool->lock);
  __atomic_store_n(&pool->stop, 1, __ATOMIC_RELEASE);
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
  long deadline = 0;
  unsigned spins = 0;
  pthread_mutex_lock(&pool->call_lock);
  /* Workers read these after they see the new generation. */
  pool->task = task, pool->arg = arg, pool->n = n;
  __atomic_store_n(&pool->running, pool->num_workers, __ATOMIC_RELAXED);
  pthread_mutex_lock(&pool->lock);
  __atomic_add_fetch(&pool->generation, 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&pool->start);
  pthread_mutex_unlock(&pool->lock);
  runRange(task, arg, n, 0, pool->num_workers + 1);
  while (__atomic_load_n(&pool->running, __ATOMIC_ACQUIRE) != 0 &&
         keepSpinning(&deadline, &spins))
    ;
  pthread_mutex_lock(&pool->lock);
  while (__atomic_load_n(&pool->running, __ATOMIC_ACQUIRE) > 0)
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
