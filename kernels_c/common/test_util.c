#include "test_util.h"

#include <stdio.h>

void fill_int8(uint32_t *rng, int8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (int8_t)(lcg_next(rng) >> 24);
}

void fill_int32(uint32_t *rng, int32_t *buf, size_t n, int32_t bound)
{
    const uint32_t span = 2u * (uint32_t)bound + 1u;
    for (size_t i = 0; i < n; i++)
        buf[i] = (int32_t)((lcg_next(rng) >> 8) % span) - bound;
}

void fill_requant(uint32_t *rng, int32_t *mult, int32_t *shift, size_t n,
                  int32_t shift_lo, int32_t shift_hi)
{
    const uint32_t span = (uint32_t)(shift_hi - shift_lo + 1);
    for (size_t i = 0; i < n; i++) {
        mult[i] = (int32_t)(0x40000000u | (lcg_next(rng) >> 2));
        shift[i] = shift_lo + (int32_t)((lcg_next(rng) >> 24) % span);
    }
}

uint32_t checksum(const void *buf, size_t n)
{
    const uint8_t *b = buf;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

void report(const char *name, const void *out, size_t n, uint32_t cycles)
{
    printf("%s checksum: 0x%08lx\n", name, (unsigned long)checksum(out, n));
    printf("cycles: %lu\n", (unsigned long)cycles);
}
