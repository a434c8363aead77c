/* Host stand-in for include/mcusim.h, used only by tools/host_check.py to
 * compile the kernel test programs natively: no cycle counter, no regions. */
#ifndef MCUSIM_H
#define MCUSIM_H
#include <stdint.h>
static inline void mcusim_cycles_init(void) {}
static inline uint32_t mcusim_cycles(void) { return 0; }
#define MCUSIM_REGION_BEGIN(name) ((void)(name))
#define MCUSIM_REGION_END(name) ((void)(name))
#endif
