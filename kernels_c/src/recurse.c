/* recurse: recursion of known depth with a known frame, for stack-depth
 * accounting. Each level holds a 64-byte volatile array (so it really lives
 * on the stack) and uses it after the recursive call (so no tail call).
 * Expected output: "recurse: depth 50 sum 2550". */
#include <stdint.h>
#include <stdio.h>

#define DEPTH 50
#define FRAME_BYTES 64

__attribute__((noinline)) static unsigned level(unsigned depth)
{
    volatile uint8_t frame[FRAME_BYTES];
    for (unsigned i = 0; i < FRAME_BYTES; i++)
        frame[i] = (uint8_t)(depth + i);
    unsigned below = depth ? level(depth - 1) : 0;
    return below + frame[depth % FRAME_BYTES];   /* = 2 * depth for depth < 64 */
}

int main(void)
{
    printf("recurse: depth %d sum %u\n", DEPTH, level(DEPTH));
    return 0;
}
