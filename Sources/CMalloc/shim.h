// glibc's malloc statistics and trimming (<malloc.h>, which Swift's Glibc module does not export).
#ifndef GW_MALLOC_SHIM_H
#define GW_MALLOC_SHIM_H
#include <malloc.h>
#include <stddef.h>

/// Bytes malloc holds freed in its arenas (mallinfo2's fordblks).
static inline size_t gw_malloc_free_bytes(void) { return mallinfo2().fordblks; }

/// Bytes malloc has handed out and not had back (mallinfo2's uordblks, mmap'd chunks apart).
static inline size_t gw_malloc_in_use_bytes(void) { return mallinfo2().uordblks; }

/// Gives the free pages of every arena back to the system (malloc_trim(0)).
static inline void gw_malloc_trim(void) { (void)malloc_trim(0); }
#endif
