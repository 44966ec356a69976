/* The struct that holds a member, from a pointer to that member (as in the Linux kernel and
 * libuv): how an intrusive timer or handle finds its connection or server. */
#ifndef C10K_CONTAINER_OF_H
#define C10K_CONTAINER_OF_H

#include <stddef.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

#endif
