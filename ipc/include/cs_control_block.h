/* cs_control_block.h — the layout of CodeSage's POSIX shared-memory control block.
 *
 * One segment per supervisor: a header, a config area written only by the supervisor under a
 * seqlock, a control area written only by the supervisor, and one cache-line-aligned slot per
 * worker written only by that worker. Offsets, never pointers; C11 atomics on every shared field.
 * Swift reaches the fields through the functions below (Swift cannot name C11 _Atomic members).
 * docs/deployment.md and ../shared/research/systems.md §3 give the reasons. */
#ifndef CODESAGE_CONTROL_BLOCK_H
#define CODESAGE_CONTROL_BLOCK_H

#include <stddef.h>
#include <stdint.h>

/* "CODESAGE" in ASCII, stored last by the creator (release), so a reader that sees it sees the rest. */
#define CS_CB_MAGIC 0x4547415345444F43ULL
#define CS_CB_LAYOUT_VERSION 1u
#define CS_CB_MAX_WORKERS 1024u
#define CS_CB_PATH_MAX 256u

/* Worker states (slot.state). */
enum { CS_WORKER_EMPTY = 0, CS_WORKER_STARTING = 1, CS_WORKER_READY = 2, CS_WORKER_DRAINING = 3, CS_WORKER_DEAD = 4 };

/* What cs_cb_validate found. */
enum {
    CS_CB_OK = 0,
    CS_CB_TOO_SMALL = 1,        /* the mapping is smaller than a header */
    CS_CB_BAD_MAGIC = 2,        /* not a control block, or not yet initialised */
    CS_CB_BAD_VERSION = 3,      /* another layout version */
    CS_CB_BAD_HEADER_SIZE = 4,
    CS_CB_BAD_TOTAL_SIZE = 5,   /* total_size disagrees with max_workers or with the mapping */
    CS_CB_BAD_WORKERS = 6,      /* max_workers is 0 or over CS_CB_MAX_WORKERS */
    CS_CB_PID_MISMATCH = 7,     /* another supervisor's block */
    CS_CB_TICKS_MISMATCH = 8    /* same pid, another process (pid reused) */
};

/* The multi-word configuration, as plain values (copied in and out under the seqlock). */
typedef struct {
    uint64_t global_budget;       /* CODESAGE_MAX_MEMORY_MB, bytes */
    uint64_t worker_soft_limit;   /* bytes; over it a worker is asked to clean up */
    uint64_t worker_hard_limit;   /* bytes; over it a worker is drained and restarted */
    uint64_t index_generation;    /* the published generation workers should serve */
    uint32_t omp_threads;
    uint32_t nprobe_default;
    char index_path[CS_CB_PATH_MAX];
} cs_cb_config_values;

/* One worker's slot, as plain values. */
typedef struct {
    uint32_t state;
    int32_t pid;
    int32_t numa_node;
    uint64_t heartbeat_ns;              /* CLOCK_MONOTONIC */
    uint64_t index_generation_loaded;
    uint64_t cleanup_generation_acked;
    uint64_t rss_bytes, pss_bytes;
    uint64_t inflight, requests_total, errors_total;
} cs_cb_slot_values;

/* Bytes of a block for `max_workers` slots. */
size_t cs_cb_total_size(uint32_t max_workers);

/* Initialises a zeroed mapping of cs_cb_total_size(max_workers) bytes; stores the magic last. */
void cs_cb_init(void *base, uint32_t max_workers, int32_t supervisor_pid, uint64_t supervisor_start_ticks, uint32_t numa_nodes);

/* Checks a mapping of `mapped_size` bytes: magic, version, sizes, worker count, and (when
 * expected_pid > 0) the supervisor's pid and start ticks. Returns a CS_CB_* code. */
int cs_cb_validate(const void *base, size_t mapped_size, int32_t expected_pid, uint64_t expected_ticks);

/* Header fields (valid after cs_cb_validate). */
uint32_t cs_cb_max_workers(const void *base);
int32_t cs_cb_supervisor_pid(const void *base);
uint64_t cs_cb_supervisor_start_ticks(const void *base);
uint32_t cs_cb_numa_nodes(const void *base);

/* Config: one writer (the supervisor); readers retry while a write is in progress. Returns the
 * number of retries a read needed, or -1 if it gave up after `max_tries` (a writer died mid-write). */
void cs_cb_config_write(void *base, const cs_cb_config_values *values);
int cs_cb_config_read(const void *base, cs_cb_config_values *out, int max_tries);

/* Control: written by the supervisor. */
/* Bumps and returns the cleanup generation, for worker `target_slot` only (-1: every worker). Workers
 * acknowledge every generation they see and clean up when it is for them; a target overwritten by a
 * quicker second request is not lost for long: the supervisor asks again while the worker stays over. */
uint64_t cs_cb_request_cleanup(void *base, int32_t target_slot);
int32_t cs_cb_cleanup_target(const void *base);
uint64_t cs_cb_cleanup_generation(const void *base);
void cs_cb_request_shutdown(void *base);
int cs_cb_shutdown_requested(const void *base);

/* Slots: slot i is written only by worker i. `count` is the caller's own record of how many slots the
   mapping holds (the supervisor's from create, a worker's from validation), never header.max_workers,
   which any process mapping the block can write. Out-of-range indices are ignored (writes) or read as empty. */
void cs_cb_slot_write(void *base, uint32_t count, uint32_t index, const cs_cb_slot_values *values);
void cs_cb_slot_read(const void *base, uint32_t count, uint32_t index, cs_cb_slot_values *out);
void cs_cb_slot_heartbeat(void *base, uint32_t count, uint32_t index, uint64_t now_ns);
void cs_cb_slot_set_state(void *base, uint32_t count, uint32_t index, uint32_t state);

/* Layout facts, for tests. */
size_t cs_cb_slot_offset(uint32_t index);
size_t cs_cb_slot_size(void);

#endif
