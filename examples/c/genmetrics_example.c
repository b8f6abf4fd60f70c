/* Computes FID, precision/recall and prdc's four numbers between two .npy feature files through libgenmetrics.so.
 *
 *   genmetrics_example REAL.npy FAKE.npy [k] [backend]     (k default 3, backend default auto)
 *
 * Prints one "key value" line per number, with 17 significant digits so that a script can compare it
 * with `genmetrics metrics REAL FAKE --metrics fid,pr --json -`. Exit code 0, or 1 on any error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genmetrics.h"
#include "npy.h"

static genmetrics_features as_features(const npy_array* a)
{
    genmetrics_features f;
    f.data = a->data;
    f.rows = a->rows;
    f.dim = a->cols;
    f.dtype = a->is_float64 ? GENMETRICS_FLOAT64 : GENMETRICS_FLOAT32;
    return f;
}

int main(int argc, char** argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        /* Which library answered, and which of its builds (instruction set) the loader chose. */
        printf("libgenmetrics %s (C API %d), instruction set %s\n",
               genmetrics_version(), genmetrics_api_version(), genmetrics_instruction_set());
        return 0;
    }
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: %s REAL.npy FAKE.npy [k] [cpu|cuda|auto]\n       %s --version\n", argv[0], argv[0]);
        return 1;
    }
    int k = argc > 3 ? atoi(argv[3]) : 3;
    const char* backend = argc > 4 ? argv[4] : "auto";

    if (genmetrics_api_version() != GENMETRICS_API_VERSION) {
        fprintf(stderr, "libgenmetrics.so implements API %d, this program was built for %d\n",
                genmetrics_api_version(), GENMETRICS_API_VERSION);
        return 1;
    }

    npy_array real_array, fake_array;
    if (npy_read(argv[1], &real_array) != 0) return 1;
    if (npy_read(argv[2], &fake_array) != 0) { npy_free(&real_array); return 1; }
    genmetrics_features real = as_features(&real_array);
    genmetrics_features fake = as_features(&fake_array);

    int exit_code = 1;
    genmetrics_context* context = NULL;
    double fid;
    genmetrics_prdc_result prdc;
    if (genmetrics_context_create(backend, &context) != GENMETRICS_OK) {
        fprintf(stderr, "genmetrics_context_create: %s\n", genmetrics_last_error());
    } else if (genmetrics_fid(context, &real, &fake, &fid) != GENMETRICS_OK) {
        fprintf(stderr, "genmetrics_fid: %s\n", genmetrics_last_error());
    } else if (genmetrics_prdc(context, &real, &fake, k, &prdc) != GENMETRICS_OK) {
        fprintf(stderr, "genmetrics_prdc: %s\n", genmetrics_last_error());
    } else {
        printf("fid %.17g\n", fid);
        printf("precision %.17g\n", prdc.precision);
        printf("recall %.17g\n", prdc.recall);
        printf("prdc_precision %.17g\n", prdc.prdc_precision);
        printf("prdc_recall %.17g\n", prdc.prdc_recall);
        printf("density %.17g\n", prdc.density);
        printf("coverage %.17g\n", prdc.coverage);
        fprintf(stderr, "libgenmetrics %s (%s), backend %s, k = %d\n",
                genmetrics_version(), genmetrics_instruction_set(), genmetrics_context_backend(context), k);
        exit_code = 0;
    }

    genmetrics_context_destroy(context);
    npy_free(&real_array);
    npy_free(&fake_array);
    return exit_code;
}
