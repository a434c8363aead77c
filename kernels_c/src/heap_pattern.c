/* heap_pattern: a fixed malloc/free sequence, for heap accounting.
 * Phase 1 allocates 16 blocks of 8 + 24*i bytes, phase 2 frees the odd
 * ones, phase 3 allocates 8 blocks of 100 bytes (reusing the holes), then
 * everything is freed. Prints the total bytes requested and a checksum of
 * the block contents, both independent of where malloc places blocks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N1 16
#define N2 8

static uint32_t sum_bytes(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += p[i];
    return s;
}

int main(void)
{
    uint8_t *a[N1], *b[N2];
    size_t total = 0;
    uint32_t sum = 0;

    for (int i = 0; i < N1; i++) {
        size_t n = 8 + 24 * (size_t)i;
        if (!(a[i] = malloc(n)))
            goto oom;
        memset(a[i], i + 1, n);
        total += n;
    }
    for (int i = 1; i < N1; i += 2) {
        sum += sum_bytes(a[i], 8 + 24 * (size_t)i);
        free(a[i]);
    }
    for (int i = 0; i < N2; i++) {
        if (!(b[i] = malloc(100)))
            goto oom;
        memset(b[i], 0x40 + i, 100);
        total += 100;
    }
    for (int i = 0; i < N2; i++) {
        sum += sum_bytes(b[i], 100);
        free(b[i]);
    }
    for (int i = 0; i < N1; i += 2) {
        sum += sum_bytes(a[i], 8 + 24 * (size_t)i);
        free(a[i]);
    }
    printf("heap_pattern: %d allocations, %u bytes, sum %lu\n", N1 + N2,
           (unsigned)total, (unsigned long)sum);
    return 0;
oom:
    printf("heap_pattern: out of memory\n");
    return 1;
}
