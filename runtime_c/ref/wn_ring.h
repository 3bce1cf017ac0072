/* Ring buffer indexing of the streaming convolutions: a ring of ring_len rows holds the last
 * inputs; pos is the row of the newest. Nothing moves: the cost does not depend on the dilation. */
#ifndef WN_RING_H
#define WN_RING_H

#include <stdint.h>

/* the next row, where the new input goes; it becomes the newest */
static inline int32_t wn_ring_advance(int32_t *pos, int32_t ring_len)
{
    int32_t p = *pos + 1;
    if (p == ring_len) {
        p = 0;
    }
    *pos = p;
    return p;
}

/* the row of tap k (oldest first) when the newest input is in row p */
static inline int32_t wn_ring_tap(int32_t p, int32_t k, int32_t kernel, int32_t dilation,
                                  int32_t ring_len)
{
    const int32_t row = p - (kernel - 1 - k) * dilation;
    return row < 0 ? row + ring_len : row;
}

#endif
