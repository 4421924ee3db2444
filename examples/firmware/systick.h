/* Processor clock ticks counted with the Cortex-M SysTick timer (ARMv7-M
 * and ARMv8-M), for timing code on a core without a cycle counter, or
 * under qemu-system-arm, which has none: there, with -icount shift=0 every
 * instruction takes 1 ns of virtual time, so ticks times the clock period
 * in ns is the instruction count (mps2 boards: 25 MHz, 40 ns). */
#ifndef SYSTICK_H
#define SYSTICK_H

#include <stdint.h>

/** Starts SysTick on the processor clock, with its interrupt counting the
 * reloads of its 24-bit counter. Points VTOR at a copy of the current
 * vector table in RAM with the SysTick entry replaced. */
void systick_start(void);

/** Ticks since systick_start. */
uint64_t systick_ticks(void);

#endif
