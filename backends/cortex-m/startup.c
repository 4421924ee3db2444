/* Minimal Cortex-M startup for the semihosted firmware that `mnc run`
 * (backends/Run.cpp, which embeds this file), the tests under
 * test/backends/cortex-m and examples/firmware (which takes it from the
 * installed package, MNC_CORTEX_M_STARTUP) link: a vector table with the initial stack and reset
 * handler; the reset handler turns on the FPU (CPACR CP10/CP11 full access,
 * ARMv7-M ARM B3.2.20), copies .data, clears .bss, connects newlib's
 * semihosting streams and runs main. */
#include <stdint.h>
#include <stdlib.h>

extern uint32_t __stack_top, __data_load, __data_start, __data_end,
    __bss_start__, __bss_end__;
extern int main(void);
extern void initialise_monitor_handles(void);

void reset_handler(void) {
  volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88;
  *cpacr |= 0xFu << 20;
  __asm volatile("dsb\n\tisb");
  for (uint32_t *s = &__data_load, *d = &__data_start; d < &__data_end;)
    *d++ = *s++;
  for (uint32_t *d = &__bss_start__; d < &__bss_end__;)
    *d++ = 0;
  initialise_monitor_handles();
  exit(main());
}

/* newlib's exit() runs the fini arrays through these crt hooks. */
void _init(void) {}
void _fini(void) {}

static void hang(void) { exit(100); }

__attribute__((section(".vectors"), used)) static void *const vectors[16] = {
    &__stack_top, reset_handler, hang, hang, hang, hang, hang, 0, 0, 0, 0,
    hang,         hang,          0,    hang, hang};
