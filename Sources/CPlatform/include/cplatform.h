// cplatform.h — the few libc calls Swift's Glibc module does not expose (they need _GNU_SOURCE).
#ifndef CODESAGE_CPLATFORM_H
#define CODESAGE_CPLATFORM_H

#include <stddef.h>
#include <sys/inotify.h>
#include <poll.h>

/// Number of CPUs in the calling thread's affinity mask, or -1 with errno set.
int cs_affinity_cpu_count(void);

/// Binds thread `tid` (0: the caller) to the `count` CPUs in `cpus`; 0 on success, -1 with errno set.
int cs_bind_task_to_cpus(int tid, const int *cpus, size_t count);

/// Starts `path` with `argv` and `envp` (NULL-terminated) by posix_spawn, with every signal unblocked
/// and SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2 and SIGPIPE back to their default action
/// (ignored signals survive exec otherwise). Stores the child's pid; returns 0 or an errno value.
int cs_spawn(const char *path, char *const argv[], char *const envp[], int *pid);

/// Asks the kernel to send `signal` to the caller when its parent thread exits (PR_SET_PDEATHSIG);
/// 0 on success, -1 with errno set.
int cs_set_parent_death_signal(int signal);

/// Returns memory held by malloc to the kernel (glibc malloc_trim(0)); 1 if any was released.
int cs_malloc_trim(void);
/// Bytes malloc has handed out and not yet had back (glibc mallinfo2: uordblks + hblkhd).
size_t cs_heap_bytes_in_use(void);

#endif
