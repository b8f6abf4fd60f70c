/* A minimal reader for .npy files holding a C-order 2-D array of little-endian float32 (<f4) or
 * float64 (<f8): enough for feature matrices, nothing more (no Fortran order, no other dtypes). */
#ifndef GENMETRICS_EXAMPLE_NPY_H
#define GENMETRICS_EXAMPLE_NPY_H

#include <stdint.h>

typedef struct npy_array {
    void* data;      /* rows * cols values, malloc'ed; release with npy_free */
    int64_t rows;
    int64_t cols;
    int is_float64;  /* 0: float32, 1: float64 */
} npy_array;

/* Reads `path` into *out. Returns 0 on success; otherwise prints the reason to stderr and returns -1. */
int npy_read(const char* path, npy_array* out);

void npy_free(npy_array* array);

#endif
