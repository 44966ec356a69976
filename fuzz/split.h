/* Deterministic random splits of a fuzz input: the first byte seeds the piece sizes, so libFuzzer
 * explores the split along with the bytes, and a crash reproduces from its input file alone. */
#ifndef C10K_FUZZ_SPLIT_H
#define C10K_FUZZ_SPLIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct splitter {
    uint32_t state;
    size_t max_piece; /* 0: everything at once */
} splitter_t;

static inline splitter_t splitter_new(uint8_t seed, int whole)
{
    /* Seeds 0..3 give tiny pieces (1..4 bytes), the others up to 256 bytes. */
    splitter_t s = {.state = 0x9e3779b9u ^ seed, .max_piece = whole ? 0 : (seed < 4 ? seed + 1u : 256u)};
    return s;
}

/* Size of the next piece of at most `left` bytes. */
static inline size_t splitter_next(splitter_t *s, size_t left)
{
    if (s->max_piece == 0)
        return left;
    s->state ^= s->state << 13, s->state ^= s->state >> 17, s->state ^= s->state << 5;
    size_t n = 1 + s->state % s->max_piece;
    return n < left ? n : left;
}

#endif
