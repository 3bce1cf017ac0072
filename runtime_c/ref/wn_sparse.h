/* Index access of the sparse formats: indices are stored in the narrowest unsigned type that
 * fits (1, 2 or 4 bytes), given per matrix. */
#ifndef WN_SPARSE_H
#define WN_SPARSE_H

#include <stdint.h>

static inline uint32_t wn_index(const void *p, int32_t i, int32_t bytes)
{
    if (bytes == 1) {
        return ((const uint8_t *)p)[i];
    }
    if (bytes == 2) {
        return ((const uint16_t *)p)[i];
    }
    return ((const uint32_t *)p)[i];
}

#endif
