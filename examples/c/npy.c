#include "npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char* path, const char* problem)
{
    fprintf(stderr, "%s: %s\n", path, problem);
    return -1;
}

/* The value text after 'key': in the header dict, or NULL. */
static const char* dict_value(const char* header, const char* key)
{
    const char* at = strstr(header, key);
    if (at == NULL) return NULL;
    at = strchr(at + strlen(key), ':');
    if (at == NULL) return NULL;
    at++;
    while (*at == ' ') at++;
    return at;
}

int npy_read(const char* path, npy_array* out)
{
    FILE* f = fopen(path, "rb");
    if (f == NULL) return fail(path, "cannot open");

    unsigned char preamble[10];
    if (fread(preamble, 1, 8, f) != 8 || memcmp(preamble, "\x93NUMPY", 6) != 0) {
        fclose(f);
        return fail(path, "not a .npy file (bad magic)");
    }
    uint32_t header_len;
    if (preamble[6] == 1) {
        unsigned char len[2];
        if (fread(len, 1, 2, f) != 2) { fclose(f); return fail(path, "truncated header"); }
        header_len = (uint32_t)len[0] | ((uint32_t)len[1] << 8);
    } else if (preamble[6] == 2 || preamble[6] == 3) {
        unsigned char len[4];
        if (fread(len, 1, 4, f) != 4) { fclose(f); return fail(path, "truncated header"); }
        header_len = (uint32_t)len[0] | ((uint32_t)len[1] << 8) | ((uint32_t)len[2] << 16) | ((uint32_t)len[3] << 24);
    } else {
        fclose(f);
        return fail(path, "unsupported .npy format version");
    }

    char* header = malloc((size_t)header_len + 1);
    if (header == NULL || fread(header, 1, header_len, f) != header_len) {
        free(header);
        fclose(f);
        return fail(path, "truncated header");
    }
    header[header_len] = '\0';

    const char* descr = dict_value(header, "'descr'");
    const char* fortran = dict_value(header, "'fortran_order'");
    const char* shape = dict_value(header, "'shape'");
    int is_float64;
    long long rows = 0, cols = 0;
    if (descr != NULL && strncmp(descr, "'<f4'", 5) == 0) is_float64 = 0;
    else if (descr != NULL && strncmp(descr, "'<f8'", 5) == 0) is_float64 = 1;
    else { free(header); fclose(f); return fail(path, "dtype is not <f4 or <f8"); }
    if (fortran == NULL || strncmp(fortran, "False", 5) != 0) {
        free(header); fclose(f); return fail(path, "Fortran-order arrays are not supported");
    }
    if (shape == NULL || sscanf(shape, "(%lld, %lld)", &rows, &cols) != 2 || rows < 0 || cols < 0) {
        free(header); fclose(f); return fail(path, "shape is not 2-D (N, D)");
    }
    free(header);

    size_t element = is_float64 ? sizeof(double) : sizeof(float);
    size_t count = (size_t)rows * (size_t)cols;
    void* data = malloc(count * element + 1);
    if (data == NULL) { fclose(f); return fail(path, "out of memory"); }
    if (fread(data, element, count, f) != count) {
        free(data);
        fclose(f);
        return fail(path, "truncated data");
    }
    fclose(f);
    out->data = data;
    out->rows = rows;
    out->cols = cols;
    out->is_float64 = is_float64;
    return 0;
}

void npy_free(npy_array* array)
{
    free(array->data);
    array->data = NULL;
}
