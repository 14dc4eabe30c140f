// cplatform.h — the few libc calls Swift's Glibc module does not expose (they need _GNU_SOURCE).
#ifndef CODESAGE_CPLATFORM_H
#define CODESAGE_CPLATFORM_H

#include <stddef.h>

/// Number of CPUs in the calling thread's affinity mask, or -1 with errno set.
int cs_affinity_cpu_count(void);

/// Binds the calling thread to the `count` CPUs in `cpus`; 0 on success, -1 with errno set.
int cs_bind_thread_to_cpus(const int *cpus, size_t count);

/// Returns memory held by malloc to the kernel (glibc malloc_trim(0)); 1 if any was released.
int cs_malloc_trim(void);
/// Bytes malloc has handed out and not yet had back (glibc mallinfo2: uordblks + hblkhd).
size_t cs_heap_bytes_in_use(void);

#endif
