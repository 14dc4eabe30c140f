// faiss_shim.cpp — implementation of faiss_shim.h over the FAISS 1.7.3 C++ API.
// Every entry point catches every exception and reports it through fs_last_error().

#include "faiss_shim.h"

#include <faiss/Index.h>
#include <faiss/IndexIVF.h>
#include <faiss/impl/FaissException.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/invlists/OnDiskInvertedLists.h>
#include <faiss/utils/Heap.h>
#include <faiss/utils/distances.h>

// libgomp's omp.h lives in GCC's private include folder, which clang does not search; declare the one call used.
extern "C" void omp_set_num_threads(int);

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

struct fs_index {
    faiss::Index *index;
};

struct fs_selector {
    faiss::IDSelectorBatch batch;
    faiss::IDSelectorNot excluding;
    fs_selector(const int64_t *ids, int64_t n)
        : batch(static_cast<size_t>(n), reinterpret_cast<const faiss::Index::idx_t *>(ids)), excluding(&batch) {}
};

namespace {

thread_local std::string last_error;

int fail(int status, const std::string &message) {
    last_error = message;
    return status;
}

/// Runs `body`, turning any exception into a status and a message.
template <typename Body>
int guarded(const char *operation, Body body) {
    try {
        last_error.clear();
        return body();
    } catch (const faiss::FaissException &e) {
        return fail(FS_ERR_FAISS, std::string(operation) + ": " + e.msg);
    } catch (const std::bad_alloc &) {
        return fail(FS_ERR_FAISS, std::string(operation) + ": out of memory");
    } catch (const std::exception &e) {
        return fail(FS_ERR_UNKNOWN, std::string(operation) + ": " + e.what());
    } catch (...) {
        return fail(FS_ERR_UNKNOWN, std::string(operation) + ": unknown C++ exception");
    }
}

std::string errno_message(const char *what, const std::string &path) {
    return std::string(what) + " " + path + ": " + std::strerror(errno);
}

faiss::IndexIVF *as_ivf(const fs_index *index) {
    return dynamic_cast<faiss::IndexIVF *>(index->index);
}

/// A memory-mapped read trusts the list sizes in the file; a truncated file would fault on the first search.
/// Checks that every list lies inside the file, so damage is an error at open time.
int validate_mapped_lists(const fs_index *index, const char *path) {
    faiss::IndexIVF *ivf = as_ivf(index);
    auto *ondisk = ivf == nullptr ? nullptr : dynamic_cast<faiss::OnDiskInvertedLists *>(ivf->invlists);
    if (ondisk == nullptr) return FS_OK;
    struct stat info;
    if (::stat(path, &info) != 0) return fail(FS_ERR_IO, errno_message("stat", path));
    const size_t file_size = static_cast<size_t>(info.st_size);
    const size_t entry_bytes = ondisk->code_size + sizeof(faiss::Index::idx_t);
    size_t entries = 0;
    for (size_t list = 0; list < ondisk->lists.size(); list++) {
        const auto &one = ondisk->lists[list];
        if (one.size > one.capacity || one.capacity > file_size / (entry_bytes ? entry_bytes : 1) ||
            one.offset > file_size || one.capacity * entry_bytes > file_size - one.offset) {
            return fail(FS_ERR_CORRUPT, std::string("read ") + path + ": inverted list " + std::to_string(list) +
                                            " runs past the end of the file (" + std::to_string(file_size) +
                                            " bytes); the file is truncated or damaged");
        }
        entries += one.size;
    }
    if (entries != static_cast<size_t>(ivf->ntotal))
        return fail(FS_ERR_CORRUPT, std::string("read ") + path + ": lists hold " + std::to_string(entries) +
                                        " vectors but the header says " + std::to_string(ivf->ntotal));
    return FS_OK;
}

} // namespace

extern "C" {

const char *fs_last_error(void) { return last_error.c_str(); }

int fs_index_factory(int dimension, const char *description, fs_index **out) {
    if (dimension <= 0 || description == nullptr || out == nullptr)
        return fail(FS_ERR_INVALID_ARGUMENT, "index_factory: dimension must be > 0 and description non-null");
    return guarded("index_factory", [&]() -> int {
        faiss::Index *index = faiss::index_factory(dimension, description, faiss::METRIC_INNER_PRODUCT);
        *out = new fs_index{index};
        return FS_OK;
    });
}

int fs_index_train(fs_index *index, int64_t n, const float *vectors) {
    if (index == nullptr || n < 0 || (n > 0 && vectors == nullptr))
        return fail(FS_ERR_INVALID_ARGUMENT, "train: null index or vectors, or negative count");
    return guarded("train", [&]() -> int {
        index->index->train(n, vectors);
        return FS_OK;
    });
}

int fs_index_add(fs_index *index, int64_t n, const float *vectors) {
    if (index == nullptr || n < 0 || (n > 0 && vectors == nullptr))
        return fail(FS_ERR_INVALID_ARGUMENT, "add: null index or vectors, or negative count");
    return guarded("add", [&]() -> int {
        index->index->add(n, vectors);
        return FS_OK;
    });
}

int fs_index_add_with_ids(fs_index *index, int64_t n, const float *vectors, const int64_t *ids) {
    if (index == nullptr || n < 0 || (n > 0 && (vectors == nullptr || ids == nullptr)))
        return fail(FS_ERR_INVALID_ARGUMENT, "add_with_ids: null index, vectors or ids, or negative count");
    return guarded("add_with_ids", [&]() -> int {
        static_assert(sizeof(faiss::Index::idx_t) == sizeof(int64_t), "FAISS ids are 64-bit");
        index->index->add_with_ids(n, vectors, reinterpret_cast<const faiss::Index::idx_t *>(ids));
        return FS_OK;
    });
}

int fs_index_search(const fs_index *index, int64_t n, const float *queries, int64_t k,
                    float *scores, int64_t *labels) {
    if (index == nullptr || n < 0 || k <= 0 || (n > 0 && (queries == nullptr || scores == nullptr || labels == nullptr)))
        return fail(FS_ERR_INVALID_ARGUMENT, "search: null pointer, negative count or k <= 0");
    return guarded("search", [&]() -> int {
        index->index->search(n, queries, k, scores, reinterpret_cast<faiss::Index::idx_t *>(labels));
        return FS_OK;
    });
}

int fs_index_ntotal(const fs_index *index, int64_t *out) {
    if (index == nullptr || out == nullptr) return fail(FS_ERR_INVALID_ARGUMENT, "ntotal: null pointer");
    *out = index->index->ntotal;
    return FS_OK;
}

int fs_index_dimension(const fs_index *index, int *out) {
    if (index == nullptr || out == nullptr) return fail(FS_ERR_INVALID_ARGUMENT, "dimension: null pointer");
    *out = index->index->d;
    return FS_OK;
}

int fs_index_is_trained(const fs_index *index, int *out) {
    if (index == nullptr || out == nullptr) return fail(FS_ERR_INVALID_ARGUMENT, "is_trained: null pointer");
    *out = index->index->is_trained ? 1 : 0;
    return FS_OK;
}

int fs_index_set_nprobe(fs_index *index, int64_t nprobe) {
    if (index == nullptr || nprobe <= 0) return fail(FS_ERR_INVALID_ARGUMENT, "set_nprobe: null index or nprobe <= 0");
    faiss::IndexIVF *ivf = as_ivf(index);
    if (ivf == nullptr) return fail(FS_ERR_UNSUPPORTED, "set_nprobe: not an IVF index");
    ivf->nprobe = static_cast<size_t>(nprobe);
    return FS_OK;
}

int fs_index_write(const fs_index *index, const char *path) {
    if (index == nullptr || path == nullptr) return fail(FS_ERR_INVALID_ARGUMENT, "write: null index or path");
    return guarded("write", [&]() -> int {
        // Writes `path` and closes it; the caller (FileSystem.writeDurably) fsyncs it and renames it into place.
        const std::string target(path);
        FILE *file = std::fopen(target.c_str(), "wbxe");  // x: O_EXCL, never an existing file or link
        if (file == nullptr) return fail(FS_ERR_IO, errno_message("open", target));
        try {
            faiss::write_index(index->index, file);
        } catch (...) {
            std::fclose(file);
            throw;
        }
        if (std::fflush(file) != 0) {
            int status = fail(FS_ERR_IO, errno_message("flush", target));
            std::fclose(file);
            return status;
        }
        if (std::fclose(file) != 0) return fail(FS_ERR_IO, errno_message("close", target));
        return FS_OK;
    });
}

int fs_index_read(const char *path, int flags, fs_index **out) {
    if (path == nullptr || out == nullptr) return fail(FS_ERR_INVALID_ARGUMENT, "read: null path or out");
    if (flags != FS_READ_IN_MEMORY && flags != FS_READ_MMAP)
        return fail(FS_ERR_INVALID_ARGUMENT, "read: unknown flags");
    if (::access(path, R_OK) != 0) return fail(FS_ERR_IO, errno_message("read", path));
    return guarded("read", [&]() -> int {
        int io_flags = flags == FS_READ_MMAP ? (faiss::IO_FLAG_MMAP | faiss::IO_FLAG_READ_ONLY) : 0;
        faiss::Index *index = faiss::read_index(path, io_flags);
        auto *wrapped = new fs_index{index};
        int status = validate_mapped_lists(wrapped, path);
        if (status != FS_OK) {
            fs_index_free(wrapped);
            return status;
        }
        *out = wrapped;
        return FS_OK;
    });
}

int fs_index_is_memory_mapped(const fs_index *index, int *out) {
    if (index == nullptr || out == nullptr) return fail(FS_ERR_INVALID_ARGUMENT, "is_memory_mapped: null pointer");
    faiss::IndexIVF *ivf = as_ivf(index);
    *out = (ivf != nullptr && dynamic_cast<faiss::OnDiskInvertedLists *>(ivf->invlists) != nullptr) ? 1 : 0;
    return FS_OK;
}

int fs_index_prefault(const fs_index *index, uint64_t *bytes) {
    if (index == nullptr || bytes == nullptr) return fail(FS_ERR_INVALID_ARGUMENT, "prefault: null pointer");
    faiss::IndexIVF *ivf = as_ivf(index);
    auto *ondisk = ivf == nullptr ? nullptr : dynamic_cast<faiss::OnDiskInvertedLists *>(ivf->invlists);
    *bytes = 0;
    if (ondisk == nullptr || ondisk->ptr == nullptr) return FS_OK;
    const long page = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
    const volatile uint8_t *base = ondisk->ptr;
    uint8_t sink = 0;
    for (size_t offset = 0; offset < ondisk->totsize; offset += (size_t)page) sink ^= base[offset];
    (void)sink;
    *bytes = ondisk->totsize;
    return FS_OK;
}

int fs_index_set_prefetch_threads(fs_index *index, int threads) {
    if (index == nullptr || threads < 0) return fail(FS_ERR_INVALID_ARGUMENT, "set_prefetch_threads: null index or negative count");
    faiss::IndexIVF *ivf = as_ivf(index);
    auto *ondisk = ivf == nullptr ? nullptr : dynamic_cast<faiss::OnDiskInvertedLists *>(ivf->invlists);
    if (ondisk == nullptr) return fail(FS_ERR_UNSUPPORTED, "set_prefetch_threads: inverted lists are not on disk");
    ondisk->prefetch_nthread = threads;
    return FS_OK;
}

void fs_set_blas_threshold(int threshold) { faiss::distance_compute_blas_threshold = threshold; }

void fs_set_omp_threads(int threads) {
    if (threads > 0) omp_set_num_threads(threads);
}

void fs_index_free(fs_index *index) {
    if (index == nullptr) return;
    delete index->index;
    delete index;
}

int fs_selector_excluding(const int64_t *ids, int64_t n, fs_selector **out) {
    if (out == nullptr || n < 0 || (n > 0 && ids == nullptr))
        return fail(FS_ERR_INVALID_ARGUMENT, "selector: null pointer or negative count");
    return guarded("selector", [&]() -> int {
        *out = new fs_selector(ids, n);
        return FS_OK;
    });
}

void fs_selector_free(fs_selector *selector) { delete selector; }

int fs_index_search_excluding(const fs_index *index, int64_t n, const float *queries, int64_t k,
                              const fs_selector *excluded, float *scores, int64_t *labels) {
    if (excluded == nullptr) return fs_index_search(index, n, queries, k, scores, labels);
    if (index == nullptr || n < 0 || k <= 0 || (n > 0 && (queries == nullptr || scores == nullptr || labels == nullptr)))
        return fail(FS_ERR_INVALID_ARGUMENT, "search: null pointer, negative count or k <= 0");
    return guarded("search", [&]() -> int {
        auto *out = reinterpret_cast<faiss::Index::idx_t *>(labels);
        if (faiss::IndexIVF *ivf = as_ivf(index)) {
            faiss::SearchParametersIVF params;
            params.nprobe = ivf->nprobe;
            params.max_codes = ivf->max_codes;
            params.sel = const_cast<faiss::IDSelectorNot *>(&excluded->excluding);
            ivf->search(n, queries, k, scores, out, &params);
        } else {
            faiss::SearchParameters params;
            params.sel = const_cast<faiss::IDSelectorNot *>(&excluded->excluding);
            index->index->search(n, queries, k, scores, out, &params);
        }
        return FS_OK;
    });
}

int fs_flat_search(const float *vectors, int64_t count, int dimension, const float *queries, int64_t n, int64_t k,
                   float *scores, int64_t *rows) {
    if (count < 0 || dimension <= 0 || n < 0 || k <= 0 || (count > 0 && vectors == nullptr) ||
        (n > 0 && (queries == nullptr || scores == nullptr || rows == nullptr)))
        return fail(FS_ERR_INVALID_ARGUMENT, "flat search: null pointer, negative count or k <= 0");
    return guarded("flat search", [&]() -> int {
        faiss::float_minheap_array_t heaps = {static_cast<size_t>(n), static_cast<size_t>(k),
                                              reinterpret_cast<faiss::Index::idx_t *>(rows), scores};
        faiss::knn_inner_product(queries, vectors, static_cast<size_t>(dimension), static_cast<size_t>(n),
                                 static_cast<size_t>(count), &heaps, nullptr);
        return FS_OK;
    });
}

} // extern "C"
