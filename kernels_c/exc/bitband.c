/* bitband: the Cortex-M3/M4 SRAM bit-band alias (0x22000000 -> 0x20000000).
 * Sets and clears single bits of a word in SRAM through word, halfword and
 * byte accesses to its alias, reads bits back through the alias, and prints
 * the word after each step: the output is the same on QEMU (mps2-an386). */
#include <stdint.h>
#include <stdio.h>

#include "mcusim.h"

#define BITBAND_SRAM(addr, bit) \
    (0x22000000u + (((uint32_t)(addr) - 0x20000000u) << 5) + ((uint32_t)(bit) << 2))
#define ALIAS32(addr, bit) (*(volatile uint32_t *)BITBAND_SRAM(addr, bit))
#define ALIAS16(addr, bit) (*(volatile uint16_t *)BITBAND_SRAM(addr, bit))
#define ALIAS8(addr, bit)  (*(volatile uint8_t *)BITBAND_SRAM(addr, bit))

static volatile uint32_t flags[2] = {0x00000000u, 0xA5A5A5A5u};

int main(void)
{
    ALIAS32(&flags[0], 0) = 1;
    ALIAS32(&flags[0], 31) = 0xFFFFFFFEu | 1u; /* only bit 0 of the value counts */
    ALIAS32(&flags[0], 7) = 2;                 /* bit 0 clear: clears (already 0) */
    printf("set 0,31: %08lx\n", (unsigned long)flags[0]);
    ALIAS16(&flags[0], 12) = 1;
    ALIAS8(&flags[0], 19) = 1;
    printf("set 12,19 (h,b): %08lx\n", (unsigned long)flags[0]);
    ALIAS32(&flags[0], 0) = 0;
    printf("clear 0: %08lx\n", (unsigned long)flags[0]);
    unsigned bits = 0;
    for (int b = 31; b >= 0; b--)
        bits = (bits << 1) | ALIAS32(&flags[1], b);
    printf("read back: %08x\n", bits);
    printf("read h/b: %u %u %u %u\n", (unsigned)ALIAS16(&flags[1], 0),
           (unsigned)ALIAS16(&flags[1], 1), (unsigned)ALIAS8(&flags[1], 2),
           (unsigned)ALIAS8(&flags[1], 3));
    for (int b = 0; b < 32; b += 2)
        ALIAS32(&flags[1], b) = !ALIAS32(&flags[1], b);
    printf("toggle even: %08lx\n", (unsigned long)flags[1]);
    return 0;
}
