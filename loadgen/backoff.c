/* Exponential backoff with jitter, and a binary min-heap of retry times. */
#include "backoff.h"

uint64_t lg_backoff_delay(lg_backoff_heap *h, unsigned *level)
{
    uint64_t d = LG_BACKOFF_FIRST_US;
    for (unsigned i = 0; i < *level && d < LG_BACKOFF_MAX_US; i++)
        d *= 2;
    if (d > LG_BACKOFF_MAX_US)
        d = LG_BACKOFF_MAX_US;
    else
        (*level)++;
    /* xorshift64: jitter spreads the retries of connections that failed together. */
    h->rng ^= h->rng << 13;
    h->rng ^= h->rng >> 7;
    h->rng ^= h->rng << 17;
    return d / 2 + h->rng % (d / 2 + 1);
}

static void swap(lg_backoff_entry *a, lg_backoff_entry *b)
{
    lg_backoff_entry t = *a;
    *a = *b;
    *b = t;
}

void lg_backoff_push(lg_backoff_heap *h, uint64_t at_us, void *item)
{
    size_t i = h->n++;
    h->e[i] = (lg_backoff_entry){at_us, item};
    while (i > 0 && h->e[(i - 1) / 2].at_us > h->e[i].at_us) {
        swap(&h->e[(i - 1) / 2], &h->e[i]);
        i = (i - 1) / 2;
    }
}

void *lg_backoff_pop(lg_backoff_heap *h)
{
    if (!h->n)
        return NULL;
    void *item = h->e[0].item;
    h->e[0] = h->e[--h->n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && h->e[l].at_us < h->e[m].at_us)
            m = l;
        if (r < h->n && h->e[r].at_us < h->e[m].at_us)
            m = r;
        if (m == i)
            break;
        swap(&h->e[i], &h->e[m]);
        i = m;
    }
    return item;
}
