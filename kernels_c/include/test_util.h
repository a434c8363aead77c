/* Deterministic data generation and reporting shared by the test programs.
 * All inputs come from a fixed-seed LCG so every board and the host
 * self-check (tools/) see identical data without reading host files. */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Globals the host reads back from the ELF after a run (see README). */
#define TEST_EXPORT __attribute__((used))
/* A constant the simulator reads from the ELF although the program never uses it. */
#define TEST_INFO __attribute__((used, section(".mcusim.info")))

/* Numerical Recipes LCG; the top bits are the usable ones. */
static inline uint32_t lcg_next(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state;
}

/* Uniform int8 over the full range. */
void fill_int8(uint32_t *rng, int8_t *buf, size_t n);
/* Uniform int32 in [-bound, bound]. */
void fill_int32(uint32_t *rng, int32_t *buf, size_t n, int32_t bound);
/* Per-channel requantisation: mult uniform in [2^30, 2^31), shift uniform
 * in [shift_lo, shift_hi]. */
void fill_requant(uint32_t *rng, int32_t *mult, int32_t *shift, size_t n,
                  int32_t shift_lo, int32_t shift_hi);

/* FNV-1a over bytes: the output fingerprint every program prints. */
uint32_t checksum(const void *buf, size_t n);

/* Prints "<name> checksum: 0x%08x" and, on its own line, "cycles: <N>"
 * (one fixed format so QEMU comparisons can mask the number). */
void report(const char *name, const void *out, size_t n, uint32_t cycles);

#endif /* TEST_UTIL_H */
