/*
 * genmetrics.h — C API of GenMetrics (libgenmetrics.so, a NativeAOT build of the managed engine).
 *
 * No .NET runtime is needed at run time: link against libgenmetrics.so (see docs/c-api.md).
 *
 * Conventions shared by every function:
 *  - Return value: a genmetrics_status. GENMETRICS_OK (0) on success; on failure the out-parameters are
 *    left untouched and genmetrics_last_error() describes the problem.
 *  - Ownership: nothing the caller passes is retained after a call returns (buffers are read, or copied,
 *    during the call only). Out-buffers are owned by the caller. The only object the library allocates
 *    for the caller is a genmetrics_context, released with genmetrics_context_destroy().
 *  - Threads: every function may be called from any thread. Calls on one context are serialised by the
 *    library (a second thread waits); use one context per thread to run evaluations in parallel.
 *    Error messages are per thread.
 *  - Units: distances are squared Euclidean distances of the feature vectors as given (no scaling).
 *    FID and KID are reported as computed (KID is not multiplied by 1000).
 *  - No exception, signal or abort crosses the boundary for bad arguments or bad data.
 */
#ifndef GENMETRICS_H
#define GENMETRICS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this header's API. Incremented on any incompatible change; compare with
 * genmetrics_api_version() at run time to detect a library built from a different header. */
#define GENMETRICS_API_VERSION 2

/* Reference defaults (the engine's MetricDefaults; a test checks that these equal it):
 * KID as torch-fidelity (subsets, subset size, seed of numpy's RandomState), k of NVIDIA's precision/recall
 * and of clovaai/prdc. */
#define GENMETRICS_DEFAULT_KID_SUBSETS 100
#define GENMETRICS_DEFAULT_KID_SUBSET_SIZE 1000
#define GENMETRICS_DEFAULT_SEED 2020
#define GENMETRICS_DEFAULT_PR_K 3
#define GENMETRICS_DEFAULT_PRDC_K 5

/* Status codes. Stable: new codes may be added, existing values never change. */
typedef enum genmetrics_status {
    GENMETRICS_OK = 0,
    /* The data cannot be evaluated: N = 0 or too few samples, k >= N, feature dimensions that differ,
     * NaN or infinite values, a matrix too large for the engine. The message says which input
     * ("real" or "fake") and what is wrong. */
    GENMETRICS_E_INPUT = 1,
    /* The call itself is wrong: a NULL pointer, an unknown dtype, a negative size, k < 1, an output
     * buffer that is too small, a destroyed or NULL context. */
    GENMETRICS_E_ARGUMENT = 2,
    /* The requested compute backend is unknown or not usable on this machine (e.g. "cuda" without a
     * usable GPU), or a CUDA call failed during the computation (e.g. the device is out of memory);
     * the message says why. */
    GENMETRICS_E_BACKEND = 3,
    /* A bug in GenMetrics (or an out-of-memory condition); the message carries the internal error. */
    GENMETRICS_E_INTERNAL = 4
} genmetrics_status;

/* Element type of a feature buffer. */
typedef enum genmetrics_dtype {
    GENMETRICS_FLOAT32 = 0,
    /* float64 values are converted to float32 for the k-NN metrics and KID (as the reference tools
     * compute them), while FID's mean and covariance are accumulated from the exact float64 values. */
    GENMETRICS_FLOAT64 = 1
} genmetrics_dtype;

/* A read-only view of N feature vectors of D values each, row-major and contiguous:
 * element (i, j) is at data[i * dim + j]. The library only reads it, and only during the call. */
typedef struct genmetrics_features {
    const void* data;  /* rows * dim values of type dtype; must not be NULL */
    int64_t rows;      /* N >= 1 (the k-NN metrics need N > k, KID needs N >= 2) */
    int64_t dim;       /* D >= 1; must equal the other set's D */
    int32_t dtype;     /* a genmetrics_dtype */
} genmetrics_features;

/* Precision, recall, density and coverage at one k: NVIDIA's precision/recall and clovaai/prdc's four
 * numbers (API version 2 added prdc_precision and prdc_recall). Field names are the CLI's JSON keys. */
typedef struct genmetrics_prdc_result {
    double precision;       /* improved precision, Kynkäänniemi et al. / StyleGAN2 (distance <= radius) */
    double recall;          /* improved recall, same semantics */
    double density;         /* density of clovaai/prdc (strict <) */
    double coverage;        /* coverage of clovaai/prdc (strict <) */
    double prdc_precision;  /* precision of clovaai/prdc: as precision with strict < (radius = max of the
                             * k+1 smallest distances within the set, self included) */
    double prdc_recall;     /* recall of clovaai/prdc: as recall with strict < */
} genmetrics_prdc_result;

/* Opaque evaluation context: owns a compute backend (CPU threads, or a GPU and its memory). */
typedef struct genmetrics_context genmetrics_context;

/* GENMETRICS_API_VERSION of the header the library was built with. Never fails. */
int32_t genmetrics_api_version(void);

/* Library version as a NUL-terminated UTF-8 string, e.g. "1.0.0": the product version of
 * Directory.Build.props, the same as `genmetrics --version`. Static storage: never free it. Never fails. */
const char* genmetrics_version(void);

/* The vector instructions the engine's CPU kernels run with and the x86-64 level of the loaded build:
 * "AVX-512 (x86-64-v4)", "AVX2 (x86-64-v3)", "SSE4.2 (x86-64)" or "SSE2 (x86-64)". libgenmetrics.so loads
 * the best of libgenmetrics-x86-64-v4.so, -x86-64-v3.so and -x86-64.so the processor runs (the environment
 * variable GENMETRICS_ISA=x86-64|x86-64-v3|x86-64-v4 chooses one). Static storage. Never fails. */
const char* genmetrics_instruction_set(void);

/* Message of the last failed call on the calling thread, as NUL-terminated UTF-8; "" when the last
 * call succeeded. Owned by the library and valid until the next genmetrics_* call on this thread
 * (other than genmetrics_last_error itself); copy it to keep it. Never returns NULL. */
const char* genmetrics_last_error(void);

/* Creates a context on a compute backend: "cpu", "cuda" or "auto" (CUDA when a usable GPU is found,
 * else the CPU); NULL means "auto". A suffix ":fp32", ":tf32" or ":fp16" chooses the arithmetic of the
 * CUDA distance GEMMs for the k-NN metrics ("cuda:tf32"; fp32 when absent; the CPU accepts only fp32).
 * Unlike the CLI's metrics --precision, the library does not rerun the k-NN pass in fp32 to count the
 * decisions the faster arithmetic changed. On success *out_context receives the context.
 * Errors: GENMETRICS_E_ARGUMENT (out_context NULL), GENMETRICS_E_BACKEND (unknown name or precision,
 * "cuda" with no usable device, a precision other than fp32 on the CPU). */
genmetrics_status genmetrics_context_create(const char* backend, genmetrics_context** out_context);

/* Releases a context and everything it holds. NULL is ignored. The context must not be in use by
 * another thread, and must not be used afterwards. */
void genmetrics_context_destroy(genmetrics_context* context);

/* Name of the context's backend, "cpu" or "cuda" (static storage, never free it); NULL when context
 * is NULL. */
const char* genmetrics_context_backend(const genmetrics_context* context);

/* Fréchet Inception Distance between two feature sets (pytorch-fid: covariance with divisor N - 1,
 * Tr sqrt(Σ_real Σ_fake) in float64). Needs N >= 2 in each set.
 * Errors: GENMETRICS_E_ARGUMENT (NULL pointer, bad dtype, negative size), GENMETRICS_E_INPUT (N < 2,
 * dimensions differ, non-finite values). */
genmetrics_status genmetrics_fid(genmetrics_context* context,
                                 const genmetrics_features* real,
                                 const genmetrics_features* fake,
                                 double* out_fid);

/* FID from two precomputed Gaussians: mu_* hold D float64 values, sigma_* hold D x D float64 values
 * (row-major; symmetric positive semi-definite), as stored by pytorch-fid/TTUR .npz files.
 * Errors: GENMETRICS_E_ARGUMENT (NULL pointer, dim < 1), GENMETRICS_E_INPUT (non-finite values). */
genmetrics_status genmetrics_fid_from_statistics(genmetrics_context* context,
                                                 const double* mu_real, const double* sigma_real,
                                                 const double* mu_fake, const double* sigma_fake,
                                                 int64_t dim,
                                                 double* out_fid);

/* Precision/recall (Kynkäänniemi et al., reference default k = 3) and clovaai/prdc's precision, recall,
 * density and coverage (reference default k = 5) at the given k, from one shared k-NN computation. Requires 1 <= k < N for
 * both sets. Results are in [0, 1] except density (>= 0, may exceed 1).
 * Errors: GENMETRICS_E_ARGUMENT (NULL pointer, bad dtype, k < 1), GENMETRICS_E_INPUT (k >= N,
 * dimensions differ, non-finite values). */
genmetrics_status genmetrics_prdc(genmetrics_context* context,
                                  const genmetrics_features* real,
                                  const genmetrics_features* fake,
                                  int32_t k,
                                  genmetrics_prdc_result* out);

/* Realism score of every fake sample against the real set (Kynkäänniemi et al., kynkaat variant:
 * real k-NN radii above their median are ignored; reference default k = 3). Writes fake->rows floats
 * to out_scores, in the order of the fake rows; out_capacity is the number of floats out_scores can
 * hold. Requires 1 <= k < N_real.
 * Errors: GENMETRICS_E_ARGUMENT (NULL pointer, bad dtype, k < 1, out_capacity < fake->rows),
 * GENMETRICS_E_INPUT (k >= N_real, dimensions differ, non-finite values). */
genmetrics_status genmetrics_realism(genmetrics_context* context,
                                     const genmetrics_features* real,
                                     const genmetrics_features* fake,
                                     int32_t k,
                                     float* out_scores,
                                     int64_t out_capacity);

/* Kernel Inception Distance (torch-fidelity: cubic polynomial kernel, unbiased MMD²) over `subsets`
 * random subsets of `subset_size` rows of each set, drawn with numpy's RandomState(seed) as
 * torch-fidelity does (reference defaults: GENMETRICS_DEFAULT_KID_SUBSETS, _SUBSET_SIZE and _SEED). When a set has fewer rows than
 * subset_size, the subset size is reduced to the smaller set. out_std (population standard deviation
 * over subsets) may be NULL.
 * Errors: GENMETRICS_E_ARGUMENT (NULL pointer, bad dtype), GENMETRICS_E_INPUT (subsets < 1,
 * subset_size < 2, seed < 0, a set with fewer than 2 rows, dimensions differ, non-finite values). */
genmetrics_status genmetrics_kid(genmetrics_context* context,
                                 const genmetrics_features* real,
                                 const genmetrics_features* fake,
                                 int32_t subsets,
                                 int32_t subset_size,
                                 int32_t seed,
                                 double* out_mean,
                                 double* out_std);

/* Features of a folder (searched recursively) or .zip of PNG/JPEG/BMP/GIF/TGA images, in sorted path
 * order, through a network layer: network "inception" or "vgg16" (installed by `genmetrics models
 * install`, in $GENMETRICS_HOME/models) or the path of an ONNX file ([N,3,H,W] in); layer NULL for the
 * network's default (inception: pool3 [N, 2048]; vgg16: fc2_relu [N, 4096]; required for an ONNX file),
 * or logits_unbiased, fc2, an ONNX output name. network NULL: Inception pool3. mode: "clean" (NULL;
 * clean-fid), "legacy-pytorch" (pytorch-fid), "legacy-tensorflow" (TTUR, StyleGAN2, torch-fidelity) or
 * "none". Every image must decode (a corrupt one is GENMETRICS_E_INPUT naming it). Features are cached as
 * the CLI caches them. On success *out_data is a float32 [*out_rows, *out_dim] row-major buffer owned by
 * the caller: release it with genmetrics_features_free.
 * Errors: GENMETRICS_E_ARGUMENT (NULL pointer), GENMETRICS_E_INPUT (no such folder, no images, a corrupt
 * image, network not installed, no such layer, unknown mode). */
genmetrics_status genmetrics_features_from_images(genmetrics_context* context,
                                                  const char* path,
                                                  const char* network,
                                                  const char* layer,
                                                  const char* mode,
                                                  float** out_data,
                                                  int64_t* out_rows,
                                                  int64_t* out_dim);

/* Releases a buffer returned by genmetrics_features_from_images. NULL is ignored. */
void genmetrics_features_free(float* data);

/* Mean and covariance (float64, divisor N - 1 as pytorch-fid) of the features of a folder or .zip, the
 * statistics pytorch-fid's --save-stats writes; network, layer and mode as in
 * genmetrics_features_from_images (NULL network: Inception pool3, dim 2048). out_mu holds dim_capacity
 * doubles and out_sigma dim_capacity^2; *out_dim receives the features' dim even when dim_capacity is
 * too small (then GENMETRICS_E_ARGUMENT); *out_count (may be NULL) the number of images.
 * Errors: as genmetrics_features_from_images, plus GENMETRICS_E_ARGUMENT (dim_capacity < dim) and
 * GENMETRICS_E_INPUT (fewer than 2 images). */
genmetrics_status genmetrics_statistics_from_images(genmetrics_context* context,
                                                    const char* path,
                                                    const char* network,
                                                    const char* layer,
                                                    const char* mode,
                                                    double* out_mu,
                                                    double* out_sigma,
                                                    int64_t dim_capacity,
                                                    int64_t* out_dim,
                                                    int64_t* out_count);

/* Symmetric and complement precision/recall at one k (Khayatkhoei & AbdAlmageed 2023, manifmetric:
 * strict <, reference default k = 5). */
typedef struct genmetrics_symmetric_result {
    double sym_precision;   /* min(prdc precision, complement precision) */
    double sym_recall;      /* min(prdc recall, coverage) */
    double comp_precision;  /* fraction of fakes whose nearest real lies inside the fake's own k-NN ball */
} genmetrics_symmetric_result;

genmetrics_status genmetrics_symmetric_precision_recall(genmetrics_context* context,
                                                        const genmetrics_features* real,
                                                        const genmetrics_features* fake,
                                                        int32_t k,
                                                        genmetrics_symmetric_result* out);

/* Covariance divisor of genmetrics_statistics. */
enum {
    GENMETRICS_COV_N_MINUS_1 = 0,  /* np.cov, pytorch-fid, TTUR (the default everywhere) */
    GENMETRICS_COV_N = 1           /* StyleGAN2-ADA's metric scripts */
};

/* Mean [D] and covariance [D x D] (row-major) of one feature set, in float64 (float64 inputs are used
 * exactly), as `genmetrics stats` writes them. dim_capacity: the D that out_mu holds (out_sigma holds its
 * square); must be >= features->dim. Needs N >= 2.
 * Errors: GENMETRICS_E_ARGUMENT (NULL pointer, bad dtype, bad divisor, dim_capacity too small),
 * GENMETRICS_E_INPUT (N < 2, non-finite values). */
genmetrics_status genmetrics_statistics(genmetrics_context* context,
                                        const genmetrics_features* features,
                                        int32_t covariance_divisor,
                                        double* out_mu,
                                        double* out_sigma,
                                        int64_t dim_capacity);

/* Inception Score from N x C logits (the FID Inception's unbiased logits) or class probabilities (rows in
 * [0, 1] summing to 1), over `splits` consecutive splits (reference default 10); shuffle != 0 first
 * permutes the rows with numpy's RandomState(seed) as torch-fidelity does (seed 2020 is its default).
 * out_std (population standard deviation over splits) may be NULL.
 * Errors: GENMETRICS_E_ARGUMENT (NULL pointer, bad dtype), GENMETRICS_E_INPUT (splits < 1 or > N,
 * seed < 0, non-finite values). */
genmetrics_status genmetrics_inception_score(genmetrics_context* context,
                                             const genmetrics_features* logits,
                                             int32_t splits,
                                             int32_t shuffle,
                                             int32_t seed,
                                             double* out_mean,
                                             double* out_std);

#ifdef __cplusplus
}
#endif

#endif /* GENMETRICS_H */
