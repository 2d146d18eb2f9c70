/*
 * temporal.h — the C API of libtemporal: a BiLSTM + multi-head self-attention video classifier
 * over per-frame CNN feature vectors.
 *
 * This header is the contract. It is C99 and may be included from C++ (every declaration is
 * extern "C"). Link with -ltemporal (soname libtemporal.so.1) or dlopen("libtemporal.so.1").
 *
 * ---------------------------------------------------------------------------------------------
 * General rules
 * ---------------------------------------------------------------------------------------------
 * Status.   Every fallible function returns a temporal_status. TEMPORAL_OK (0) is success; any
 *           other value is an error. The enum is append-only: treat an unknown code as an error.
 * Messages. A failing call stores a message for the calling thread, read with
 *           temporal_last_error(). Successful calls leave the message alone, so read it right
 *           after the failure. Messages are per thread.
 * Handles.  A temporal_model is an opaque 64-bit integer from a sparse range; 0 is never valid.
 *           Every call validates it: a zero, freed or never-issued handle gives
 *           TEMPORAL_ERR_BAD_HANDLE (never a crash).
 * Structs.  Every struct begins with uint32_t struct_size. Initialise it with the matching
 *           temporal_*_default() function below (they are static inline, so struct_size is the
 *           size your program was compiled with). The library reads min(struct_size, its own
 *           size) bytes, uses defaults for fields it does not receive, and rejects a struct_size
 *           smaller than version 1 of the struct (TEMPORAL_ERR_INVALID_ARGUMENT). Output structs
 *           are written only up to struct_size.
 * Memory.   The library never keeps a pointer you pass in after the call returns and never hands
 *           you memory to free. Strings are copied into caller buffers, snprintf style.
 * Threads.  Every function is thread-safe. Any number of temporal_predict calls may run on one
 *           model at once; temporal_model_save waits for running predicts on that model and
 *           blocks new ones while it runs. Concurrent calls give bitwise the same results as
 *           serial ones (for the same temporal_set_num_threads setting).
 * Faults.   Every call reads every input element and writes every output element from the
 *           library's Go code before any BLAS code touches them; a pointer into unmapped memory
 *           (e.g. 0xdead0000, or a buffer that runs into an unmapped page) then gives
 *           TEMPORAL_ERR_INTERNAL with a message naming the address, and the process lives on.
 *           Still fatal: writes through pointers that are mapped but not yours, real memory
 *           exhaustion inside the Go runtime, and faults inside OpenBLAS.
 * Devices.  "cpu" (or NULL), "cuda" (= "cuda:0"), "cuda:N" (the N-th visible device, as in
 *           PyTorch). The device is fixed when a model is loaded (created models are on the
 *           CPU). The library needs no CUDA to load: the driver (libcuda.so.1) and cuBLAS are
 *           opened at run time when a model first asks for "cuda"; a missing driver, cuBLAS,
 *           symbol or device is TEMPORAL_ERR_DEVICE with a message naming it, and the process
 *           carries on. A CUDA model holds its weights on the device (uploaded once) and the
 *           device's primary context, shared with other users in the process (e.g. PyTorch),
 *           released when the last model on the device is freed. All CUDA work on one device
 *           runs on one OS thread, so concurrent CUDA predicts serialise. Results agree with
 *           the CPU's to ‖a−b‖/‖b‖ ≤ 1e-5 (full float32 products, no TF32; the environment
 *           variable NVIDIA_TF32_OVERRIDE=1 would force TF32 inside cuBLAS). The kernels ship
 *           for sm_80 and sm_90 with compute_90 PTX (driver for CUDA 11.8 or newer).
 *           Any other device string is TEMPORAL_ERR_INVALID_ARGUMENT.
 * Logging.  Silent by default: the library writes nothing to stdout or stderr. Install a
 *           callback with temporal_set_log_callback() to receive levelled messages.
 *
 * ---------------------------------------------------------------------------------------------
 * Host caveats (the library is a Go c-shared library with a private, statically linked OpenBLAS)
 * ---------------------------------------------------------------------------------------------
 * - Never dlclose() it. (It is marked NODELETE, so dlclose does nothing anyway.)
 * - Do not fork() after loading it and keep using it in the child: the Go runtime's threads do
 *   not survive fork. Python multiprocessing must use "spawn" or "forkserver".
 * - Only one Go c-shared library per process.
 * - glibc only, version 2.34 or newer, x86-64 Linux.
 * - The Go runtime installs signal handlers when the library loads. Signal handlers the host
 *   installs afterwards must use SA_ONSTACK. The library installs no handlers of its own beyond
 *   the Go runtime's.
 * - The environment is copied when the library loads; variables set later are not seen.
 * - The host's own BLAS (numpy's, PyTorch's) is untouched: libtemporal's OpenBLAS copy is
 *   private and runs single-threaded per call.
 *
 * Padding modes (for batches of clips with different lengths):
 * - TEMPORAL_PADDING_MASKED (default): the output of clip b equals the output of
 *   features[b, :lengths[b]] run alone (to rounding, ~1e-6). Use this unless you need PyTorch's
 *   exact batch behaviour.
 * - TEMPORAL_PADDING_REFERENCE: exactly what the PyTorch reference model does with a padded
 *   mixed-length batch (its output for a clip depends on the other clips of the batch). For a
 *   single clip, or a batch of full-length clips, both modes give the same answer.
 */
#ifndef TEMPORAL_H
#define TEMPORAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version of this header. temporal_abi_version() returns the library's; they must be
 * equal. It is also the soname's number (libtemporal.so.1). */
#define TEMPORAL_ABI_VERSION 1

/* Status codes. Append-only; treat unknown codes as errors. */
typedef enum temporal_status {
    TEMPORAL_OK = 0,
    TEMPORAL_ERR_INVALID_ARGUMENT = 1, /* NULL pointer, bad value, bad struct_size, bad device string */
    TEMPORAL_ERR_BAD_HANDLE = 2,       /* 0, freed or never-issued temporal_model */
    TEMPORAL_ERR_IO = 3,               /* file cannot be opened, read, written; a directory as path */
    TEMPORAL_ERR_FORMAT = 4,           /* file or buffer is not a valid checkpoint (truncated, corrupt) */
    TEMPORAL_ERR_SHAPE = 5,            /* dimensions disagree with the model, output buffer too small */
    TEMPORAL_ERR_DEVICE = 6,           /* device missing or failing (no driver, cuBLAS, GPU; a CUDA call) */
    TEMPORAL_ERR_CANCELLED = 7,        /* a callback asked to stop */
    TEMPORAL_ERR_OUT_OF_MEMORY = 8,    /* a size from the caller or a file exceeds the limits */
    TEMPORAL_ERR_INTERNAL = 9,         /* a bug, or a fault on caller memory (see Faults above) */
    TEMPORAL_ERR_NUMERIC = 10,         /* non-finite input or diverged training */
    TEMPORAL_ERR_UNSUPPORTED = 11      /* a feature this build or version lacks (e.g. HDF5 in a nohdf5 build) */
} temporal_status;

/* Opaque model handle; 0 is never valid. */
typedef uint64_t temporal_model;

/* --------------------------------------------------------------------------------------------
 * Structs
 * ------------------------------------------------------------------------------------------ */

/* Upper bound on hidden classifier layers a temporal_model_config can describe. */
#define TEMPORAL_MAX_CLASSIFIER_WIDTHS 8

/* Model configuration (DESIGN §2). Input to temporal_model_create; output of
 * temporal_model_info. Sizes: feature_dim >= 1, hidden_dim >= 1, num_layers >= 1,
 * D = (bidirectional ? 2 : 1) * hidden_dim >= 2, num_heads divides D, num_classes >= 2,
 * 0 <= dropout < 1, 1 <= num_classifier_widths <= TEMPORAL_MAX_CLASSIFIER_WIDTHS, each width >= 1. */
typedef struct temporal_model_config {
    uint32_t struct_size;        /* sizeof(temporal_model_config) via temporal_model_config_default() */
    int32_t feature_dim;         /* F: per-frame feature width (1280 for EfficientNet-V2) */
    int32_t hidden_dim;          /* H: LSTM hidden width */
    int32_t num_layers;          /* L: LSTM layers */
    int32_t num_heads;           /* attention heads; must divide D */
    int32_t num_classes;         /* C: output classes */
    double dropout;              /* training dropout p (inference ignores it) */
    int32_t bidirectional;       /* 0 or 1 */
    int32_t num_classifier_widths;                            /* used entries of classifier_widths */
    int32_t classifier_widths[TEMPORAL_MAX_CLASSIFIER_WIDTHS]; /* hidden classifier widths */
    int64_t num_params;          /* output only (info): total parameter count; ignored by create */
    int32_t num_class_names;     /* output only (info): 0, or num_classes when the model has names */
    uint32_t reserved;           /* set to 0 */
} temporal_model_config;

/* The reference configuration: 1280/768/4 layers/12 heads/4 classes/0.4/bidirectional/768,512,256
 * (65,277,701 parameters). */
static inline temporal_model_config temporal_model_config_default(void) {
    temporal_model_config c;
    int i;
    c.struct_size = (uint32_t)sizeof(temporal_model_config);
    c.feature_dim = 1280;
    c.hidden_dim = 768;
    c.num_layers = 4;
    c.num_heads = 12;
    c.num_classes = 4;
    c.dropout = 0.4;
    c.bidirectional = 1;
    c.num_classifier_widths = 3;
    for (i = 0; i < TEMPORAL_MAX_CLASSIFIER_WIDTHS; i++) c.classifier_widths[i] = 0;
    c.classifier_widths[0] = 768;
    c.classifier_widths[1] = 512;
    c.classifier_widths[2] = 256;
    c.num_params = 0;
    c.num_class_names = 0;
    c.reserved = 0;
    return c;
}

typedef enum temporal_padding {
    TEMPORAL_PADDING_MASKED = 0,   /* default; see "Padding modes" above */
    TEMPORAL_PADDING_REFERENCE = 1
} temporal_padding;

typedef enum temporal_output {
    TEMPORAL_OUTPUT_LOGITS = 0,        /* default: raw classifier outputs */
    TEMPORAL_OUTPUT_PROBABILITIES = 1  /* softmax over classes of the logits */
} temporal_output;

typedef enum temporal_tta {
    TEMPORAL_TTA_NONE = 0 /* only value accepted now; others give TEMPORAL_ERR_UNSUPPORTED */
} temporal_tta;

/* Options of temporal_predict. */
typedef struct temporal_predict_options {
    uint32_t struct_size; /* sizeof(temporal_predict_options) via temporal_predict_options_default() */
    int32_t padding;      /* temporal_padding */
    int32_t output;       /* temporal_output */
    int32_t tta;          /* temporal_tta; reserved, must be TEMPORAL_TTA_NONE */
} temporal_predict_options;

static inline temporal_predict_options temporal_predict_options_default(void) {
    temporal_predict_options o;
    o.struct_size = (uint32_t)sizeof(temporal_predict_options);
    o.padding = TEMPORAL_PADDING_MASKED;
    o.output = TEMPORAL_OUTPUT_LOGITS;
    o.tta = TEMPORAL_TTA_NONE;
    return o;
}

/* Options of temporal_model_load_ex / temporal_model_load_memory_ex. */
typedef struct temporal_load_options {
    uint32_t struct_size; /* sizeof(temporal_load_options) via temporal_load_options_default() */
    int32_t num_heads;    /* 0: from the file's metadata, else 12 (a PyTorch state_dict has none);
                             > 0: overrides the file */
    const char *device;   /* NULL or "cpu", "cuda", "cuda:N"; copied, not kept */
} temporal_load_options;

static inline temporal_load_options temporal_load_options_default(void) {
    temporal_load_options o;
    o.struct_size = (uint32_t)sizeof(temporal_load_options);
    o.num_heads = 0;
    o.device = (const char *)0;
    return o;
}

/* --------------------------------------------------------------------------------------------
 * Library
 * ------------------------------------------------------------------------------------------ */

/* The library's version, e.g. "0.1.0". Static storage; never NULL; never fails. */
const char *temporal_version(void);

/* The library's ABI version; equals TEMPORAL_ABI_VERSION of the header it was built with.
 * Never fails. */
int temporal_abi_version(void);

/* A short English name for a status code ("ok", "invalid argument", ...; "unknown status" for
 * codes this library does not know). Static storage; never NULL; never fails. */
const char *temporal_status_string(temporal_status st);

/* Copies the calling thread's last error message into buf, like snprintf: writes at most
 * cap-1 characters plus a NUL when cap > 0, and returns the message's full length (not
 * counting the NUL). temporal_last_error(NULL, 0) returns the length. A thread that has seen
 * no failure gets "" and 0. Never fails, never changes the stored message. */
size_t temporal_last_error(char *buf, size_t cap);

/* Sets the number of worker threads one call may use (0: the number of cores, the default).
 * Results depend only on this setting and the shapes, never on timing or on how many calls run
 * at once. Process-wide; calls already running keep the setting they started with. The
 * library's OpenBLAS always runs single-threaded; the library splits work itself.
 *   TEMPORAL_ERR_INVALID_ARGUMENT  n < 0 or n > 4096 */
temporal_status temporal_set_num_threads(int n);

/* The current worker thread setting (the number of cores when it is 0). Never fails. */
int temporal_get_num_threads(void);

/* 1 when a CUDA device can be used, else 0. Never fails. The first CUDA query of a process
 * loads the driver (libcuda.so.1) and calls cuInit; on a host without a driver or GPU it
 * returns 0 and the process carries on. */
int temporal_cuda_available(void);

/* Number of visible CUDA devices (as CUDA_VISIBLE_DEVICES leaves them; "cuda:N" is the N-th).
 * 0 when there is no usable driver or no build-time CUDA support. Never fails. */
int temporal_cuda_device_count(void);

/* The name of CUDA device `device` (e.g. "NVIDIA H200"), copied into buf like
 * temporal_last_error (at most cap-1 characters plus a NUL when cap > 0); *length (if not NULL)
 * receives the full length.
 *   TEMPORAL_ERR_INVALID_ARGUMENT  device < 0; buf NULL with cap > 0
 *   TEMPORAL_ERR_DEVICE            no such device, no driver (the message says which) */
temporal_status temporal_cuda_device_name(int device, char *buf, size_t cap, size_t *length);

/* Free and total memory of CUDA device `device`, in bytes (either pointer may be NULL). The
 * device's primary context is retained for the query unless a model already holds it (the
 * first query on a device costs its context creation, a few hundred MB of device memory while
 * it lasts).
 *   TEMPORAL_ERR_INVALID_ARGUMENT  device < 0
 *   TEMPORAL_ERR_DEVICE            no such device, no driver */
temporal_status temporal_cuda_memory(int device, uint64_t *free_bytes, uint64_t *total_bytes);

/* Chooses the cuBLAS library the CUDA backend loads: a path (e.g. the
 * site-packages/nvidia/cublas/lib/libcublas.so.12 of a pip install) or a soname. NULL or ""
 * restores the default: the TEMPORAL_CUBLAS environment variable as it was when the library
 * was loaded, else libcublas.so.13, .12, .11 in that order. An explicit path is used alone (no
 * fall-back). Takes effect only before the first CUDA model of the process loads cuBLAS.
 *   TEMPORAL_ERR_INVALID_ARGUMENT  cuBLAS is already loaded from elsewhere (the message names it) */
temporal_status temporal_cuda_set_cublas_path(const char *path);

/* Log levels passed to a temporal_log_fn. */
typedef enum temporal_log_level {
    TEMPORAL_LOG_ERROR = 1,
    TEMPORAL_LOG_WARN = 2,
    TEMPORAL_LOG_INFO = 3,
    TEMPORAL_LOG_DEBUG = 4
} temporal_log_level;

/* A log callback. message is NUL-terminated and valid only during the call. It runs on the
 * thread of the API call that logs, possibly on several threads at once; it must not call back
 * into the library. */
typedef void (*temporal_log_fn)(int level, const char *message, void *user);

/* Installs fn (NULL: none, the default, which is silent) to receive every message whose level
 * is <= max_level (TEMPORAL_LOG_ERROR .. TEMPORAL_LOG_DEBUG). user is passed back unchanged.
 * Process-wide; calls already running may still use the previous callback.
 *   TEMPORAL_ERR_INVALID_ARGUMENT  fn != NULL and max_level outside [1, 4] */
temporal_status temporal_set_log_callback(temporal_log_fn fn, int max_level, void *user);

/* --------------------------------------------------------------------------------------------
 * Models
 * ------------------------------------------------------------------------------------------ */

/* Creates a model on the CPU with freshly initialised weights (PyTorch's distributions,
 * deterministic in seed). On success *out is a new handle; free it with temporal_model_free.
 * *out is set to 0 on failure (when out is not NULL).
 *   TEMPORAL_ERR_INVALID_ARGUMENT  cfg or out NULL; cfg->struct_size too small; a size rule broken;
 *                                  more than 2^33 parameters (the library's limit)
 *   TEMPORAL_ERR_INTERNAL          unmapped cfg memory; a bug
 * A model within the limit that does not fit in the machine's memory ends the process (Go
 * cannot recover from real memory exhaustion). */
temporal_status temporal_model_create(const temporal_model_config *cfg, uint64_t seed,
                                      temporal_model *out);

/* Loads a safetensors checkpoint (ours, or a PyTorch state_dict saved with safetensors) onto a
 * device (NULL: "cpu"). Heads come from the file's metadata, else 12; use temporal_model_load_ex
 * to override. *out is set to 0 on failure (when out is not NULL).
 *   TEMPORAL_ERR_INVALID_ARGUMENT  path or out NULL; path empty; unknown device string
 *   TEMPORAL_ERR_IO                path missing, unreadable, or not a regular file (a directory)
 *   TEMPORAL_ERR_FORMAT            not a valid checkpoint: truncated, corrupt header, wrong tensor
 *                                  names/shapes/dtype, checksum mismatch
 *   TEMPORAL_ERR_NUMERIC           the weights hold NaN or Inf
 *   TEMPORAL_ERR_OUT_OF_MEMORY     sizes in the file exceed the library's limits
 *   TEMPORAL_ERR_DEVICE            "cuda"/"cuda:N" unusable: no driver or cuBLAS, no such
 *                                  device, a CUDA call failed, device memory exhausted (the
 *                                  message names the library, call and CUDA status)
 *   TEMPORAL_ERR_INTERNAL          a bug */
temporal_status temporal_model_load(const char *path, const char *device, temporal_model *out);

/* temporal_model_load with options (opt NULL: defaults). Same statuses, plus
 *   TEMPORAL_ERR_INVALID_ARGUMENT  opt->struct_size too small; opt->num_heads < 0 or not
 *                                  dividing D */
temporal_status temporal_model_load_ex(const char *path, const temporal_load_options *opt,
                                       temporal_model *out);

/* Loads a checkpoint from len bytes at data (the file's contents). The bytes are copied or
 * parsed during the call and not kept. Statuses as temporal_model_load, except no
 * TEMPORAL_ERR_IO; data == NULL or len == 0 is TEMPORAL_ERR_INVALID_ARGUMENT; a len larger than
 * any checkpoint the library accepts is TEMPORAL_ERR_OUT_OF_MEMORY; unmapped data is
 * TEMPORAL_ERR_INTERNAL. */
temporal_status temporal_model_load_memory(const void *data, size_t len, const char *device,
                                           temporal_model *out);

/* temporal_model_load_memory with options (opt NULL: defaults). */
temporal_status temporal_model_load_memory_ex(const void *data, size_t len,
                                              const temporal_load_options *opt,
                                              temporal_model *out);

/* Writes the model to path as a safetensors checkpoint (config and class names in metadata),
 * atomically: a temporary file in the same directory, then rename. Waits for predicts running
 * on this model.
 *   TEMPORAL_ERR_INVALID_ARGUMENT  path NULL or empty
 *   TEMPORAL_ERR_BAD_HANDLE        m is 0, freed or never issued
 *   TEMPORAL_ERR_IO                cannot write (missing directory, permissions, disk full,
 *                                  path is a directory)
 *   TEMPORAL_ERR_INTERNAL          a bug */
temporal_status temporal_model_save(temporal_model m, const char *path);

/* Releases the handle. Returns at once, without waiting: later calls with m get
 * TEMPORAL_ERR_BAD_HANDLE, and calls already running on m finish normally; the model's memory
 * goes when the last of them returns. Freeing 0 is TEMPORAL_ERR_BAD_HANDLE (not a no-op), as is
 * freeing twice.
 *   TEMPORAL_ERR_BAD_HANDLE        m is 0, freed or never issued */
temporal_status temporal_model_free(temporal_model m);

/* Fills *out with the model's configuration and num_params / num_class_names. Set
 * out->struct_size first (temporal_model_config_default()); only that many bytes are written.
 *   TEMPORAL_ERR_INVALID_ARGUMENT  out NULL; out->struct_size too small
 *   TEMPORAL_ERR_BAD_HANDLE        m is 0, freed or never issued
 *   TEMPORAL_ERR_UNSUPPORTED       the model (from a foreign file) has more than
 *                                  TEMPORAL_MAX_CLASSIFIER_WIDTHS hidden classifier layers
 *   TEMPORAL_ERR_INTERNAL          unmapped out memory */
temporal_status temporal_model_info(temporal_model m, temporal_model_config *out);

/* Copies the name of class index (0-based) into buf like snprintf (NUL-terminated when
 * cap > 0) and stores its full length in *len when len is not NULL. A model without class
 * names gives "" and length 0. buf may be NULL when cap is 0 (to ask for the length).
 *   TEMPORAL_ERR_INVALID_ARGUMENT  buf NULL with cap > 0; index < 0 or >= num_classes
 *   TEMPORAL_ERR_BAD_HANDLE        m is 0, freed or never issued */
temporal_status temporal_model_class_name(temporal_model m, int32_t index, char *buf, size_t cap,
                                          size_t *len);

/* Replaces the model's class names with the n strings at names (NUL-terminated UTF-8, each at
 * most 4096 bytes; copied, not kept). n == 0 clears them (names may then be NULL). They are
 * saved with the model. Waits for predicts running on this model.
 *   TEMPORAL_ERR_INVALID_ARGUMENT  names NULL with n > 0; a names[i] NULL or too long;
 *                                  n neither 0 nor num_classes
 *   TEMPORAL_ERR_BAD_HANDLE        m is 0, freed or never issued
 *   TEMPORAL_ERR_INTERNAL          unmapped names memory; a bug */
temporal_status temporal_model_set_class_names(temporal_model m, const char *const *names,
                                               int32_t n);

/* Runs the model (inference: dropout off) on a batch.
 *   features       [batch, frames, feature_dim] float32, C order; every element must be finite.
 *   lengths        NULL (every clip has all frames) or [batch] int32 with 1 <= lengths[b] <= frames:
 *                  clip b's frames are features[b, :lengths[b]]; the rest is padding and ignored
 *                  in masked mode.
 *   opt            NULL: defaults (masked padding, logits, no TTA).
 *   out            [batch, num_classes] float32; out_len >= batch * num_classes. Logits, or class
 *                  probabilities with TEMPORAL_OUTPUT_PROBABILITIES. Only the first
 *                  batch * num_classes elements are written.
 *   frame_weights  NULL, or [batch, frames] float32 with frame_weights_len >= batch * frames:
 *                  the attention-pooling weight of each frame (each clip's weights sum to 1;
 *                  0 for padding frames: t >= lengths[b] in masked mode, t >= max(lengths) in
 *                  reference mode).
 * Thread-safe; any number of predicts may share one model. Work space is reused between calls.
 * On failure the contents of out and frame_weights are unspecified.
 *   TEMPORAL_ERR_INVALID_ARGUMENT  features or out NULL; batch < 1; frames < 1; feature_dim < 1;
 *                                  a length outside [1, frames]; opt->struct_size too small;
 *                                  opt->padding or opt->output not a known value
 *   TEMPORAL_ERR_BAD_HANDLE        m is 0, freed or never issued
 *   TEMPORAL_ERR_SHAPE             feature_dim differs from the model's; out_len <
 *                                  batch * num_classes; frame_weights_len < batch * frames
 *   TEMPORAL_ERR_OUT_OF_MEMORY     batch * frames * feature_dim (or the work space it needs)
 *                                  overflows or exceeds the library's limits
 *   TEMPORAL_ERR_NUMERIC           a feature is NaN or Inf (the message names its index)
 *   TEMPORAL_ERR_DEVICE            a CUDA model: a CUDA or cuBLAS call failed (including device
 *                                  memory for the work space); the message names the call
 *   TEMPORAL_ERR_UNSUPPORTED       opt->tta != TEMPORAL_TTA_NONE
 *   TEMPORAL_ERR_INTERNAL          unmapped features/lengths/out/frame_weights memory; a bug */
temporal_status temporal_predict(temporal_model m, const float *features, int64_t batch,
                                 int64_t frames, int64_t feature_dim, const int32_t *lengths,
                                 const temporal_predict_options *opt, float *out, size_t out_len,
                                 float *frame_weights, size_t frame_weights_len);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TEMPORAL_H */
