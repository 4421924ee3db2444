/* SysTick as a 64-bit tick counter (systick.h): the counter counts down 24
 * bits from RELOAD, and its interrupt counts the reloads. */
#include "systick.h"

#include <string.h>

/* SysTick, ICSR and VTOR registers (ARMv7-M ARM B3.3.2, B3.2.4, B3.2.5). */
#define SYST_CSR (*(volatile uint32_t *)0xE000E010)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018)
#define ICSR (*(volatile uint32_t *)0xE000ED04)
#define VTOR (*(volatile uintptr_t *)0xE000ED08)
#define RELOAD 0xFFFFFFu

static volatile uint32_t reloads;
static void systick(void) { ++reloads; }

/* The startup code's 16 system entries with SysTick's (15) replaced, in RAM
 * (VTOR needs 128-byte alignment for up to 32 entries). */
static void (*vectors[16])(void) __attribute__((aligned(128)));

void systick_start(void) {
  memcpy(vectors, (const void *)VTOR, sizeof vectors);
  vectors[15] = systick;
  VTOR = (uintptr_t)vectors;
  __asm volatile("dsb\n\tisb");
  SYST_RVR = RELOAD;
  SYST_CVR = 0;
  SYST_CSR = 7;         /* processor clock, interrupt on reload, enabled */
  while (SYST_CVR == 0) /* until the first load from SYST_RVR */
    ;
}

/* A reload whose interrupt is still pending counts too; the value is read
 * again so that none can fall between the reads. */
uint64_t systick_ticks(void) {
  uint32_t before, value, pending;
  do {
    before = reloads;
    value = SYST_CVR;
    pending = ICSR >> 26 & 1; /* PENDSTSET */
  } while (before != reloads || SYST_CVR > value);
  return (uint64_t)(before + pending) * (RELOAD + 1) + (RELOAD - value);
}
