#include "cs_control_block.h"

#include <stdatomic.h>
#include <string.h>

typedef struct {
    uint64_t magic;
    uint32_t layout_version;
    uint32_t header_size;
    uint64_t total_size;
    int32_t supervisor_pid;
    uint32_t max_workers;
    uint64_t supervisor_start_ticks;   /* /proc/self/stat field 22: guards against pid reuse */
    uint32_t numa_nodes;
    uint32_t reserved[5];
} __attribute__((aligned(64))) cs_cb_header;

typedef struct {
    _Atomic uint64_t seq;              /* seqlock: odd while the supervisor writes */
    _Atomic uint64_t global_budget, worker_soft_limit, worker_hard_limit, index_generation;
    _Atomic uint32_t omp_threads, nprobe_default;
    _Atomic uint64_t index_path[CS_CB_PATH_MAX / 8];   /* bytes, copied as relaxed 64-bit words */
} __attribute__((aligned(64))) cs_cb_config;

typedef struct {
    _Atomic uint64_t cleanup_generation;
    _Atomic uint32_t shutdown_requested;
    _Atomic int32_t cleanup_target;     /* the slot the latest cleanup is for; -1: every worker */
} __attribute__((aligned(64))) cs_cb_control;

typedef struct {
    _Atomic uint32_t state;
    _Atomic int32_t pid;
    _Atomic int32_t numa_node;
    uint32_t reserved;
    _Atomic uint64_t heartbeat_ns, index_generation_loaded, cleanup_generation_acked;
    _Atomic uint64_t rss_bytes, pss_bytes, inflight, requests_total, errors_total;
} __attribute__((aligned(64))) cs_cb_slot;

typedef struct {
    cs_cb_header header;
    cs_cb_config config;
    cs_cb_control control;
    cs_cb_slot slots[];
} cs_cb_block;

_Static_assert(sizeof(cs_cb_header) == 64, "header is one cache line");
_Static_assert(sizeof(cs_cb_slot) % 64 == 0, "slots are whole cache lines");
_Static_assert(offsetof(cs_cb_block, slots) % 64 == 0, "slots start on a cache line");
_Static_assert(sizeof(_Atomic uint64_t) == 8, "64-bit atomics are plain words");

size_t cs_cb_total_size(uint32_t max_workers) { return sizeof(cs_cb_block) + (size_t)max_workers * sizeof(cs_cb_slot); }
size_t cs_cb_slot_offset(uint32_t index) { return offsetof(cs_cb_block, slots) + (size_t)index * sizeof(cs_cb_slot); }
size_t cs_cb_slot_size(void) { return sizeof(cs_cb_slot); }

void cs_cb_init(void *base, uint32_t max_workers, int32_t supervisor_pid, uint64_t supervisor_start_ticks, uint32_t numa_nodes) {
    cs_cb_block *b = base;
    b->header.layout_version = CS_CB_LAYOUT_VERSION;
    b->header.header_size = (uint32_t)sizeof(cs_cb_header);
    b->header.total_size = cs_cb_total_size(max_workers);
    b->header.supervisor_pid = supervisor_pid;
    b->header.max_workers = max_workers;
    b->header.supervisor_start_ticks = supervisor_start_ticks;
    b->header.numa_nodes = numa_nodes;
    atomic_store_explicit(&b->control.cleanup_target, -1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    __atomic_store_n(&b->header.magic, CS_CB_MAGIC, __ATOMIC_RELEASE);
}

int cs_cb_validate(const void *base, size_t mapped_size, int32_t expected_pid, uint64_t expected_ticks) {
    const cs_cb_block *b = base;
    if (mapped_size < sizeof(cs_cb_block)) return CS_CB_TOO_SMALL;
    if (__atomic_load_n(&b->header.magic, __ATOMIC_ACQUIRE) != CS_CB_MAGIC) return CS_CB_BAD_MAGIC;
    if (b->header.layout_version != CS_CB_LAYOUT_VERSION) return CS_CB_BAD_VERSION;
    if (b->header.header_size != sizeof(cs_cb_header)) return CS_CB_BAD_HEADER_SIZE;
    uint32_t workers = b->header.max_workers;
    if (workers == 0 || workers > CS_CB_MAX_WORKERS) return CS_CB_BAD_WORKERS;
    if (b->header.total_size != cs_cb_total_size(workers) || b->header.total_size > mapped_size) return CS_CB_BAD_TOTAL_SIZE;
    if (expected_pid > 0 && b->header.supervisor_pid != expected_pid) return CS_CB_PID_MISMATCH;
    if (expected_pid > 0 && b->header.supervisor_start_ticks != expected_ticks) return CS_CB_TICKS_MISMATCH;
    return CS_CB_OK;
}

uint32_t cs_cb_max_workers(const void *base) { return ((const cs_cb_block *)base)->header.max_workers; }
int32_t cs_cb_supervisor_pid(const void *base) { return ((const cs_cb_block *)base)->header.supervisor_pid; }
uint64_t cs_cb_supervisor_start_ticks(const void *base) { return ((const cs_cb_block *)base)->header.supervisor_start_ticks; }
uint32_t cs_cb_numa_nodes(const void *base) { return ((const cs_cb_block *)base)->header.numa_nodes; }

/* Seqlock after Linux's seqlock.rst and Boehm (MSPC 2012): fields are relaxed atomics, ordered by fences. */
void cs_cb_config_write(void *base, const cs_cb_config_values *v) {
    cs_cb_config *c = &((cs_cb_block *)base)->config;
    uint64_t seq = atomic_load_explicit(&c->seq, memory_order_relaxed);
    atomic_store_explicit(&c->seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&c->global_budget, v->global_budget, memory_order_relaxed);
    atomic_store_explicit(&c->worker_soft_limit, v->worker_soft_limit, memory_order_relaxed);
    atomic_store_explicit(&c->worker_hard_limit, v->worker_hard_limit, memory_order_relaxed);
    atomic_store_explicit(&c->index_generation, v->index_generation, memory_order_relaxed);
    atomic_store_explicit(&c->omp_threads, v->omp_threads, memory_order_relaxed);
    atomic_store_explicit(&c->nprobe_default, v->nprobe_default, memory_order_relaxed);
    uint64_t words[CS_CB_PATH_MAX / 8];
    memset(words, 0, sizeof words);
    size_t length = strnlen(v->index_path, CS_CB_PATH_MAX - 1);
    memcpy(words, v->index_path, length);
    for (size_t i = 0; i < CS_CB_PATH_MAX / 8; i++) atomic_store_explicit(&c->index_path[i], words[i], memory_order_relaxed);
    atomic_store_explicit(&c->seq, seq + 2, memory_order_release);
}

int cs_cb_config_read(const void *base, cs_cb_config_values *out, int max_tries) {
    const cs_cb_config *c = &((const cs_cb_block *)base)->config;
    for (int attempt = 0; attempt < max_tries; attempt++) {
        uint64_t before = atomic_load_explicit(&c->seq, memory_order_acquire);
        if (before & 1) continue;
        cs_cb_config_values v;
        v.global_budget = atomic_load_explicit(&c->global_budget, memory_order_relaxed);
        v.worker_soft_limit = atomic_load_explicit(&c->worker_soft_limit, memory_order_relaxed);
        v.worker_hard_limit = atomic_load_explicit(&c->worker_hard_limit, memory_order_relaxed);
        v.index_generation = atomic_load_explicit(&c->index_generation, memory_order_relaxed);
        v.omp_threads = atomic_load_explicit(&c->omp_threads, memory_order_relaxed);
        v.nprobe_default = atomic_load_explicit(&c->nprobe_default, memory_order_relaxed);
        uint64_t words[CS_CB_PATH_MAX / 8];
        for (size_t i = 0; i < CS_CB_PATH_MAX / 8; i++) words[i] = atomic_load_explicit(&c->index_path[i], memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&c->seq, memory_order_relaxed) != before) continue;
        memcpy(v.index_path, words, CS_CB_PATH_MAX);
        v.index_path[CS_CB_PATH_MAX - 1] = 0;
        *out = v;
        return attempt;
    }
    return -1;
}

uint64_t cs_cb_request_cleanup(void *base, int32_t target_slot) {
    cs_cb_block *b = base;
    atomic_store_explicit(&b->control.cleanup_target, target_slot, memory_order_relaxed);
    return atomic_fetch_add_explicit(&b->control.cleanup_generation, 1, memory_order_acq_rel) + 1;
}
int32_t cs_cb_cleanup_target(const void *base) {
    return atomic_load_explicit(&((const cs_cb_block *)base)->control.cleanup_target, memory_order_relaxed);
}
uint64_t cs_cb_cleanup_generation(const void *base) {
    return atomic_load_explicit(&((const cs_cb_block *)base)->control.cleanup_generation, memory_order_acquire);
}
void cs_cb_request_shutdown(void *base) {
    atomic_store_explicit(&((cs_cb_block *)base)->control.shutdown_requested, 1, memory_order_release);
}
int cs_cb_shutdown_requested(const void *base) {
    return (int)atomic_load_explicit(&((const cs_cb_block *)base)->control.shutdown_requested, memory_order_acquire);
}

static cs_cb_slot *slot_at(void *base, uint32_t count, uint32_t index) {
    cs_cb_block *b = base;
    return index < count ? &b->slots[index] : NULL;
}

void cs_cb_slot_write(void *base, uint32_t count, uint32_t index, const cs_cb_slot_values *v) {
    cs_cb_slot *s = slot_at(base, count, index);
    if (s == NULL) return;
    atomic_store_explicit(&s->pid, v->pid, memory_order_relaxed);
    atomic_store_explicit(&s->numa_node, v->numa_node, memory_order_relaxed);
    atomic_store_explicit(&s->heartbeat_ns, v->heartbeat_ns, memory_order_relaxed);
    atomic_store_explicit(&s->index_generation_loaded, v->index_generation_loaded, memory_order_relaxed);
    atomic_store_explicit(&s->rss_bytes, v->rss_bytes, memory_order_relaxed);
    atomic_store_explicit(&s->pss_bytes, v->pss_bytes, memory_order_relaxed);
    atomic_store_explicit(&s->inflight, v->inflight, memory_order_relaxed);
    atomic_store_explicit(&s->requests_total, v->requests_total, memory_order_relaxed);
    atomic_store_explicit(&s->errors_total, v->errors_total, memory_order_relaxed);
    /* Release: whoever sees the acked generation or the state sees the figures written before it. */
    atomic_store_explicit(&s->cleanup_generation_acked, v->cleanup_generation_acked, memory_order_release);
    atomic_store_explicit(&s->state, v->state, memory_order_release);
}

void cs_cb_slot_read(const void *base, uint32_t count, uint32_t index, cs_cb_slot_values *out) {
    memset(out, 0, sizeof *out);
    cs_cb_slot *s = slot_at((void *)base, count, index);
    if (s == NULL) return;
    out->state = atomic_load_explicit(&s->state, memory_order_acquire);
    out->cleanup_generation_acked = atomic_load_explicit(&s->cleanup_generation_acked, memory_order_acquire);
    out->pid = atomic_load_explicit(&s->pid, memory_order_relaxed);
    out->numa_node = atomic_load_explicit(&s->numa_node, memory_order_relaxed);
    out->heartbeat_ns = atomic_load_explicit(&s->heartbeat_ns, memory_order_relaxed);
    out->index_generation_loaded = atomic_load_explicit(&s->index_generation_loaded, memory_order_relaxed);
    out->rss_bytes = atomic_load_explicit(&s->rss_bytes, memory_order_relaxed);
    out->pss_bytes = atomic_load_explicit(&s->pss_bytes, memory_order_relaxed);
    out->inflight = atomic_load_explicit(&s->inflight, memory_order_relaxed);
    out->requests_total = atomic_load_explicit(&s->requests_total, memory_order_relaxed);
    out->errors_total = atomic_load_explicit(&s->errors_total, memory_order_relaxed);
}

void cs_cb_slot_heartbeat(void *base, uint32_t count, uint32_t index, uint64_t now_ns) {
    cs_cb_slot *s = slot_at(base, count, index);
    if (s != NULL) atomic_store_explicit(&s->heartbeat_ns, now_ns, memory_order_release);
}

void cs_cb_slot_set_state(void *base, uint32_t count, uint32_t index, uint32_t state) {
    cs_cb_slot *s = slot_at(base, count, index);
    if (s != NULL) atomic_store_explicit(&s->state, state, memory_order_release);
}
