/* Exposes the header-only requantisation to ctypes for fuzzing. */
#include "int8_kernels.h"
int32_t host_requantize(int32_t acc, int32_t mult, int32_t shift)
{
    return int8_requantize(acc, mult, shift);
}
