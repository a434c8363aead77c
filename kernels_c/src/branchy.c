/* branchy: branch-heavy integer work for branch/pipeline models. Four
 * phases, each scaled by BRANCHY_N and each a region:
 *   sieve   - segmented sieve of Eratosthenes over [0, BRANCHY_N * 8)
 *   collatz - total and max stopping time of 1..BRANCHY_N
 *   fsm     - a 4-state machine over 8 * BRANCHY_N pseudo-random symbols
 *   qsort   - newlib qsort of 128-word LCG arrays, BRANCHY_N / 100 rounds
 * Memory stays small and fixed (fits 20 KiB boards) whatever N is.
 * Default N = 20000 runs ~25 M instructions; branchy_small (N = 200) ~200 k. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mcusim.h"
#include "test_util.h"

#ifndef BRANCHY_N
#define BRANCHY_N 20000
#endif

#define SEG 1024        /* sieve segment length */
#define BASE 2048       /* base primes up to here: covers limits < 4 M */
#define SORT_LEN 128

static uint8_t composite[BASE > SEG ? BASE : SEG];
static uint16_t base_primes[320];   /* pi(2048) = 309 */
static uint32_t sort_buf[SORT_LEN];

static uint32_t sieve(uint32_t limit)
{
    unsigned n_base = 0;
    for (unsigned i = 2; i < BASE; i++) {
        if (composite[i])
            continue;
        base_primes[n_base++] = (uint16_t)i;
        for (unsigned j = i * i; j < BASE; j += i)
            composite[j] = 1;
    }
    uint32_t count = 0;
    for (uint32_t lo = 0; lo < limit; lo += SEG) {
        for (unsigned i = 0; i < SEG; i++)
            composite[i] = 0;
        for (unsigned k = 0; k < n_base; k++) {
            uint32_t p = base_primes[k];
            if (p * p >= lo + SEG)
                break;
            uint32_t start = p * p > lo ? p * p : (lo + p - 1) / p * p;
            for (uint32_t j = start; j < lo + SEG; j += p)
                composite[j - lo] = 1;
        }
        for (unsigned i = 0; i < SEG && lo + i < limit; i++)
            count += lo + i >= 2 && !composite[i];
    }
    return count;
}

static uint32_t collatz(uint32_t n, uint32_t *max_steps)
{
    uint32_t total = 0;
    *max_steps = 0;
    for (uint32_t i = 1; i <= n; i++) {
        uint32_t x = i, steps = 0;
        while (x != 1) {
            x = (x & 1) ? 3 * x + 1 : x >> 1;
            steps++;
        }
        total += steps;
        if (steps > *max_steps)
            *max_steps = steps;
    }
    return total;
}

/* Recognises runs in a 4-symbol stream; the data-dependent switch makes
 * branches hard to predict. */
static uint32_t fsm(uint32_t n_symbols, uint32_t seed)
{
    enum { IDLE, RUN, PEAK, COOL } state = IDLE;
    uint32_t events = 0, rng = seed;
    for (uint32_t i = 0; i < n_symbols; i++) {
        unsigned sym = lcg_next(&rng) >> 30;
        switch (state) {
        case IDLE:
            if (sym == 0)
                state = RUN;
            break;
        case RUN:
            if (sym == 0)
                state = PEAK;
            else if (sym == 3)
                state = IDLE;
            break;
        case PEAK:
            events++;
            state = sym & 1 ? COOL : RUN;
            break;
        case COOL:
            if (sym >= 2)
                state = IDLE;
            events += sym == 1;
            break;
        }
    }
    return events * 4 + state;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static uint32_t sort_rounds(uint32_t rounds, uint32_t seed)
{
    uint32_t rng = seed, digest = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        for (unsigned i = 0; i < SORT_LEN; i++)
            sort_buf[i] = lcg_next(&rng);
        qsort(sort_buf, SORT_LEN, sizeof sort_buf[0], cmp_u32);
        for (unsigned i = 1; i < SORT_LEN; i++)
            if (sort_buf[i - 1] > sort_buf[i])
                return 0xBAD;           /* qsort broken: poison the digest */
        digest = digest * 31 + sort_buf[r % SORT_LEN];
    }
    return digest;
}

int main(void)
{
    uint32_t max_steps;

    MCUSIM_REGION_BEGIN("sieve");
    uint32_t primes = sieve(BRANCHY_N * 8u);
    MCUSIM_REGION_END("sieve");

    MCUSIM_REGION_BEGIN("collatz");
    uint32_t steps = collatz(BRANCHY_N, &max_steps);
    MCUSIM_REGION_END("collatz");

    MCUSIM_REGION_BEGIN("fsm");
    uint32_t events = fsm(BRANCHY_N * 8u, 0xF5);
    MCUSIM_REGION_END("fsm");

    MCUSIM_REGION_BEGIN("qsort");
    uint32_t digest = sort_rounds(BRANCHY_N / 100 ? BRANCHY_N / 100 : 1, 0x50);
    MCUSIM_REGION_END("qsort");

    printf("branchy N=%d: primes %lu, collatz steps %lu max %lu, fsm %lu, "
           "sort 0x%08lx\n", BRANCHY_N, (unsigned long)primes,
           (unsigned long)steps, (unsigned long)max_steps,
           (unsigned long)events, (unsigned long)digest);
    printf("branchy checksum: 0x%08lx\n",
           (unsigned long)(primes ^ steps * 3 ^ max_steps * 5 ^ events * 7 ^ digest));
    return 0;
}
