// faiss_shim.h — a plain-C view of the FAISS 1.7.3 C++ API that Debian's libfaiss.a ships.
//
// Shape (after FAISS's own c_api): opaque handles, an int status per call with results in
// out-parameters, a thread-local last error, every C++ exception caught, nothing printed.

#ifndef CODESAGE_FAISS_SHIM_H
#define CODESAGE_FAISS_SHIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// An owned FAISS index. Free with fs_index_free.
typedef struct fs_index fs_index;

/// Status codes returned by every fs_* call. Details: fs_last_error().
typedef enum fs_status {
    FS_OK = 0,
    FS_ERR_INVALID_ARGUMENT = 1,
    FS_ERR_FAISS = 2,
    FS_ERR_IO = 3,
    FS_ERR_UNSUPPORTED = 4,
    FS_ERR_UNKNOWN = 5,
    /// A file's contents do not hold together (for example lists that run past its end).
    FS_ERR_CORRUPT = 6,
} fs_status;

/// Flags for fs_index_read.
typedef enum fs_read_flags {
    /// Read the whole index into memory.
    FS_READ_IN_MEMORY = 0,
    /// Memory-map the inverted lists of a plain IVF file, read-only (IO_FLAG_MMAP | IO_FLAG_READ_ONLY).
    FS_READ_MMAP = 1,
} fs_read_flags;

/// The message of the last failed call on this thread ("" if none). Valid until the next call.
const char *fs_last_error(void);

/// Creates an index from an index_factory description with the inner-product metric.
int fs_index_factory(int dimension, const char *description, fs_index **out);

/// Trains the index on n vectors of `dimension` floats.
int fs_index_train(fs_index *index, int64_t n, const float *vectors);

/// Adds n vectors; they get ids ntotal ..< ntotal + n.
int fs_index_add(fs_index *index, int64_t n, const float *vectors);

/// Adds n vectors with explicit ids (IVF indexes only).
int fs_index_add_with_ids(fs_index *index, int64_t n, const float *vectors, const int64_t *ids);

/// Searches n queries for their k best matches: scores and labels are n * k each; missing slots get label -1.
int fs_index_search(const fs_index *index, int64_t n, const float *queries, int64_t k,
                    float *scores, int64_t *labels);

/// Number of vectors in the index.
int fs_index_ntotal(const fs_index *index, int64_t *out);

/// Dimension of the vectors.
int fs_index_dimension(const fs_index *index, int *out);

/// Whether the index is trained (1) or not (0).
int fs_index_is_trained(const fs_index *index, int *out);

/// Sets nprobe on an IVF index; FS_ERR_UNSUPPORTED on other types.
int fs_index_set_nprobe(fs_index *index, int64_t nprobe);

/// Writes the index to `path` and closes it (no fsync, no rename: the Swift caller writes a temporary name
/// and publishes it through FileSystem.writeDurably).
int fs_index_write(const fs_index *index, const char *path);

/// Reads an index written by fs_index_write; `flags` is one of fs_read_flags.
int fs_index_read(const char *path, int flags, fs_index **out);

/// Whether the inverted lists are memory-mapped from a file (1) or in the heap (0).
int fs_index_is_memory_mapped(const fs_index *index, int *out);

/// Reads one byte of every page of a memory-mapped index's file mapping, so the pages are resident
/// and mapped in this process before the first search; stores the bytes covered (0 when not mapped).
int fs_index_prefault(const fs_index *index, uint64_t *bytes);

/// Sets prefetch_nthread on on-disk inverted lists (0 = no prefetch threads per search).
/// FS_ERR_UNSUPPORTED when the lists are not on disk.
int fs_index_set_prefetch_threads(fs_index *index, int threads);

/// Sets faiss::distance_compute_blas_threshold (query count from which search uses BLAS).
void fs_set_blas_threshold(int threshold);

/// Sets the OpenMP thread count of the calling thread.
void fs_set_omp_threads(int threads);

/// Frees the index; NULL is allowed.
void fs_index_free(fs_index *index);

/// A set of ids a search leaves out (the tombstones of an index's delta segment). Free with fs_selector_free.
typedef struct fs_selector fs_selector;

/// Builds a selector that admits every id except the n in `ids` (a hash set with FAISS's Bloom filter in front).
int fs_selector_excluding(const int64_t *ids, int64_t n, fs_selector **out);

/// Frees a selector (NULL is fine).
void fs_selector_free(fs_selector *selector);

/// fs_index_search, leaving out the ids `excluded` rejects (NULL: none). On an IVF index the index's own
/// nprobe is used; the lists' scanners skip excluded ids, so k results stay k when enough others exist.
int fs_index_search_excluding(const fs_index *index, int64_t n, const float *queries, int64_t k,
                              const fs_selector *excluded, float *scores, int64_t *labels);

/// Exact inner-product top k of n queries over `count` rows of `dimension` floats at `vectors` (memory that
/// FAISS does not own, such as a mapped delta segment): `rows` get row numbers, -1 in missing slots.
int fs_flat_search(const float *vectors, int64_t count, int dimension, const float *queries, int64_t n, int64_t k,
                   float *scores, int64_t *rows);

#ifdef __cplusplus
}
#endif

#endif
