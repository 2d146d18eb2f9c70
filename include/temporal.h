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
 * Handles.  A temporal_model (and a temporal_trainer) is an opaque 64-bit integer from a sparse
 *           range; 0 is never valid, and the two kinds never overlap. Every call validates it: a
 *           zero, freed, never-issued or wrong-kind handle gives TEMPORAL_ERR_BAD_HANDLE (never a
 *           crash).
 * Callbacks. Callbacks (progress, log) are plain C function pointers called through a C
 *           trampoline; a progress callback runs on the thread that made the call, and a
 *           non-zero return cancels (TEMPORAL_ERR_CANCELLED).
 * Structs.  Every struct begins with uint32_t struct_size. Initialise it with the matching
 *           temporal_*_default() function below (they are static inline, so struct_size is the
 *           size your program was compiled with). The library reads min(struct_size, its own
 *           size) bytes, uses defaults for fields it does not receive, and rejects a struct_size
 *           smaller than version 1 of the struct (TEMPORAL_ERR_INVALID_ARGUMENT). Output structs
 *           are written only up to struct_size.
 * Memory.   The library never keeps a pointer you pass in after the call returns and never hands
 *           you memory to free. Strings are copied into caller buffers, snprintf style.
 * Threads.  Every function is thread-safe. Any number of temporal_predict calls may run on one
 *           model at once; temporal_model_save and temporal_trainer_step wait for running
 *           predicts on that model and block new ones while they run. Concurrent calls give bitwise the same results as
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
    TEMPORAL_TTA_NONE = 0, /* default: the clips as given */
    TEMPORAL_TTA_ALL = 1   /* test-time augmentation (DESIGN §3): the mean of the softmax over the
                              modes that apply to each clip (n = its length): original; reversed
                              (x[:n] flipped); speed-up (h = floor(n/2) frames,
                              idx_i = floor(i(n-1)/(h-1))) when n > 10; speed-down
                              (m = floor(1.5n) frames, idx_i = min(floor(i(n-1)/(m-1)), n-1))
                              when n > 10. The output is probabilities. */
} temporal_tta;

/* Options of temporal_predict. */
typedef struct temporal_predict_options {
    uint32_t struct_size; /* sizeof(temporal_predict_options) via temporal_predict_options_default() */
    int32_t padding;      /* temporal_padding */
    int32_t output;       /* temporal_output */
    int32_t tta;          /* temporal_tta: TEMPORAL_TTA_NONE (default) or TEMPORAL_TTA_ALL, which
                             needs output = TEMPORAL_OUTPUT_PROBABILITIES */
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
 *   TEMPORAL_ERR_INVALID_ARGUMENT  path or out NULL; path empty or over 64 KiB; unknown device
 *                                  string
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
 *   TEMPORAL_ERR_INVALID_ARGUMENT  path NULL, empty or over 64 KiB
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
 *   TEMPORAL_ERR_INVALID_ARGUMENT  opt->tta not a temporal_tta value; opt->tta ==
 *                                  TEMPORAL_TTA_ALL with output TEMPORAL_OUTPUT_LOGITS (TTA
 *                                  averages probabilities)
 *   TEMPORAL_ERR_INTERNAL          unmapped features/lengths/out/frame_weights memory; a bug
 * TTA (opt->tta == TEMPORAL_TTA_ALL): out receives the mean over the modes that apply of each
 * clip's softmax; each mode runs as one batch of the clips it applies to. frame_weights are the
 * original clips' weights. TTA runs on the CPU copy of the weights, also for a CUDA model. In
 * reference padding a mode's batch holds only the clips it applies to (mixed-length batches
 * depend on the batch, as without TTA). */
temporal_status temporal_predict(temporal_model m, const float *features, int64_t batch,
                                 int64_t frames, int64_t feature_dim, const int32_t *lengths,
                                 const temporal_predict_options *opt, float *out, size_t out_len,
                                 float *frame_weights, size_t frame_weights_len);

/* --------------------------------------------------------------------------------------------
 * Precision (opt-in reduced precision for CPU inference)
 * ------------------------------------------------------------------------------------------ */

typedef enum temporal_precision {
    TEMPORAL_PRECISION_FLOAT32 = 0,        /* default: float32 throughout (PyTorch's arithmetic) */
    TEMPORAL_PRECISION_BF16_RECURRENT = 1  /* the LSTM's recurrent weights W_hh as bfloat16 */
} temporal_precision;

/* Sets the arithmetic of the model's later CPU predicts (temporal_predict, its TTA, and
 * temporal_ensemble_predict) to p, a temporal_precision value. TEMPORAL_PRECISION_BF16_RECURRENT rounds every LSTM direction's
 * recurrent weight matrix W_hh once, now, to bfloat16 (round to nearest even; 8 significant
 * bits) and runs the recurrent products h·W_hh^T on those weights widened to float32, with
 * float32 accumulation; the hidden state and every other weight and product stay float32. At
 * batch 1 the recurrence reads each W_hh from cache once per frame, so halving its bytes makes a
 * predict faster; the price is accuracy: logits move by up to ~2e-3 of their largest magnitude
 * (README, "Reduced precision", has the measured numbers). TEMPORAL_PRECISION_FLOAT32 (the
 * default) gives bitwise the results of a model never switched.
 * The setting belongs to this handle only: it is not saved by temporal_model_save (files always
 * hold the float32 weights, which the model keeps for training and saving), and a loaded model
 * starts in float32. The bf16 copy takes memory of half the float32 W_hh (38 MB at the default
 * config); it is rebuilt after each temporal_trainer_step on the model. Safe while predicts run
 * on the model: each predict uses the setting in force when it started. Setting the current
 * precision again is allowed (it rebuilds the copy).
 *   TEMPORAL_ERR_INVALID_ARGUMENT  p is not a temporal_precision value
 *   TEMPORAL_ERR_BAD_HANDLE        m is 0, freed or never issued
 *   TEMPORAL_ERR_UNSUPPORTED       p is TEMPORAL_PRECISION_BF16_RECURRENT and m is a CUDA model
 *   TEMPORAL_ERR_INTERNAL          a bug */
temporal_status temporal_model_set_precision(temporal_model m, int32_t p);

/* Stores the model's precision (a temporal_precision value) in *out.
 *   TEMPORAL_ERR_INVALID_ARGUMENT  out NULL
 *   TEMPORAL_ERR_BAD_HANDLE        m is 0, freed or never issued
 *   TEMPORAL_ERR_INTERNAL          unmapped out memory */
temporal_status temporal_model_get_precision(temporal_model m, int32_t *out);

/* --------------------------------------------------------------------------------------------
 * Ensembles
 * ------------------------------------------------------------------------------------------ */

/* Runs an ensemble: probs_out [batch, num_classes] receives the mean over the n_models models
 * of each model's class probabilities (softmax of its logits; with opt->tta ==
 * TEMPORAL_TTA_ALL, each model's TTA mean first), accumulated in double and rounded once.
 * Inputs as temporal_predict (features, lengths, padding). The output is always probabilities:
 * opt->output is ignored. frame_weights (NULL or [batch, frames]) receives the models' mean
 * attention-pooling weights of the original clips. All models must take the same feature_dim
 * and have the same num_classes. The same handle may appear more than once (it then counts
 * that many times). Runs on the CPU copy of each model's weights, also for CUDA models.
 *   TEMPORAL_ERR_INVALID_ARGUMENT  models, features or probs_out NULL; n_models == 0 or
 *                                  > 1024; as temporal_predict for sizes, lengths and opt
 *   TEMPORAL_ERR_BAD_HANDLE        a models[i] is 0, freed or never issued (message names i)
 *   TEMPORAL_ERR_SHAPE             the models disagree on feature_dim or num_classes;
 *                                  feature_dim differs from theirs; out_len <
 *                                  batch * num_classes; frame_weights_len < batch * frames
 *   TEMPORAL_ERR_OUT_OF_MEMORY     sizes beyond the library's limits
 *   TEMPORAL_ERR_NUMERIC           a feature is NaN or Inf
 *   TEMPORAL_ERR_INTERNAL          unmapped caller memory; a bug */
temporal_status temporal_ensemble_predict(const temporal_model *models, size_t n_models,
                                          const float *features, int64_t batch, int64_t frames,
                                          int64_t feature_dim, const int32_t *lengths,
                                          const temporal_predict_options *opt, float *probs_out,
                                          size_t out_len, float *frame_weights,
                                          size_t frame_weights_len);

/* --------------------------------------------------------------------------------------------
 * Training (DESIGN §3: the reference recipe, every part configurable). Training runs on the CPU.
 * ------------------------------------------------------------------------------------------ */

typedef enum temporal_loss {
    TEMPORAL_LOSS_FOCAL = 0,        /* default: focal loss with label smoothing and class weights */
    TEMPORAL_LOSS_CROSS_ENTROPY = 1 /* PyTorch's nn.CrossEntropyLoss(weight=alpha,
                                       label_smoothing=s); gamma is ignored */
} temporal_loss;

/* Configuration of temporal_train and temporal_trainer_create. The defaults are the reference
 * recipe. Fields marked (train) are used by temporal_train only. */
typedef struct temporal_train_config {
    uint32_t struct_size;   /* sizeof(temporal_train_config) via temporal_train_config_default() */
    int32_t epochs;         /* (train) maximum epochs, >= 1 (150) */
    int32_t batch_size;     /* (train) clips per step, >= 1 (48) */
    int32_t patience;       /* (train) early stopping: epochs without a strict improvement of
                               validation accuracy, >= 0 (25; 0: off) */
    double lr;              /* AdamW learning rate eta_0 > 0 (1e-3) */
    double weight_decay;    /* AdamW weight decay >= 0 (5e-4) */
    uint64_t seed;          /* weights' initialisation, sampling, augmentation, dropout (42) */
    int32_t padding;        /* temporal_padding used in training and validation (MASKED) */
    int32_t loss;           /* temporal_loss (TEMPORAL_LOSS_FOCAL) */
    double gamma;           /* focal exponent >= 0 (2) */
    double label_smoothing; /* s in [0, 1) (0.1) */
    int32_t dropout;        /* 1: training-mode dropout (the model's dropout p), 0: off (1) */
    int32_t augment;        /* (train) 1: the three augmentations of DESIGN §3, 0: off (1) */
    int64_t checkpoint_every_steps; /* (train) also commit a checkpoint every N steps, >= 0
                                       (0: only at the end of every epoch, which always happens) */
    int32_t resume;         /* (train) 1: continue from out_dir's committed checkpoint when one
                               exists (exact: same weights as an uninterrupted run), 0: fresh (0) */
    int32_t class_weights;  /* (train) 1: alpha_c = clip(N/(K n_c), 0.5, 10) from the training
                               labels for the loss and the sampling; 0: uniform (1). A trainer
                               handle always uses alpha = 1. */
    double clip_norm;       /* gradient clipping max norm (1.0; <= 0: no clipping, the
                               non-finite check stays) */
} temporal_train_config;

static inline temporal_train_config temporal_train_config_default(void) {
    temporal_train_config c;
    c.struct_size = (uint32_t)sizeof(temporal_train_config);
    c.epochs = 150;
    c.batch_size = 48;
    c.patience = 25;
    c.lr = 1e-3;
    c.weight_decay = 5e-4;
    c.seed = 42;
    c.padding = TEMPORAL_PADDING_MASKED;
    c.loss = TEMPORAL_LOSS_FOCAL;
    c.gamma = 2.0;
    c.label_smoothing = 0.1;
    c.dropout = 1;
    c.augment = 1;
    c.checkpoint_every_steps = 0;
    c.resume = 0;
    c.class_weights = 1;
    c.clip_norm = 1.0;
    return c;
}

typedef enum temporal_progress_phase {
    TEMPORAL_PROGRESS_STEP = 0, /* after every optimizer step */
    TEMPORAL_PROGRESS_EPOCH = 1 /* after every epoch: validation done, checkpoint committed */
} temporal_progress_phase;

/* What a temporal_progress_fn receives. Validation fields are those of the last finished epoch
 * (in step phase too); -1 before the first validation and when there is no validation set. */
typedef struct temporal_train_progress {
    uint32_t struct_size;      /* sizeof the library's struct: fields past your own
                                  sizeof(temporal_train_progress) are newer than your header */
    int32_t phase;             /* temporal_progress_phase */
    int32_t epoch;             /* 1-based epoch the step belongs to / the epoch just finished */
    int32_t epochs;            /* the maximum, cfg->epochs */
    int64_t step;              /* optimizer steps done in the whole run (including a resumed part) */
    int32_t step_in_epoch;     /* 1-based */
    int32_t steps_per_epoch;   /* ceil(N / batch_size) */
    double loss;               /* step: the batch loss; epoch: the mean batch loss of the epoch */
    double lr;                 /* step: lr of the step just done; epoch: lr of the next step */
    double val_loss;
    double val_accuracy;       /* in [0, 1] */
    double val_macro_f1;       /* in [0, 1] */
    double best_val_accuracy;  /* best so far (0 before the first epoch) */
    int32_t best_epoch;        /* epoch of best_val_accuracy (0: none yet) */
    int32_t reserved;
    double elapsed_seconds;    /* since this call started */
    double eta_seconds;        /* estimate if every remaining epoch runs (0 before the first step) */
} temporal_train_progress;

/* A progress callback. It runs on the thread that called temporal_train, between steps (the
 * library does no work meanwhile); p is valid only during the call. Return 0 to continue,
 * non-zero to cancel: temporal_train then returns TEMPORAL_ERR_CANCELLED, and out_dir keeps
 * the last committed checkpoint (cancelling in the epoch phase: that epoch's). It may call
 * other library functions, but not temporal_train with the same out_dir. It must return
 * normally: no longjmp and no C++ exception out of it (catch them and return non-zero). */
typedef int (*temporal_progress_fn)(const temporal_train_progress *p, void *user);

/* What temporal_train reports (also when it is cancelled: then what was done so far). */
typedef struct temporal_train_report {
    uint32_t struct_size;        /* sizeof(temporal_train_report) via temporal_train_report_default() */
    int32_t epochs_run;          /* epochs completed (including a resumed part) */
    int32_t best_epoch;          /* 1-based; 0 when no epoch finished */
    int32_t stopped_early;       /* 1 when patience ended the run before cfg->epochs */
    int64_t final_step;          /* optimizer steps done in the whole run */
    double best_val_accuracy;    /* 0 without a validation set */
    double final_train_loss;     /* mean batch loss of the last finished epoch (-1: none) */
    char best_model_path[4096];  /* out_dir/best.safetensors, NUL-terminated ("" when no epoch
                                    finished); a longer path is TEMPORAL_ERR_INVALID_ARGUMENT
                                    before training starts */
} temporal_train_report;

static inline temporal_train_report temporal_train_report_default(void) {
    temporal_train_report r;
    r.struct_size = (uint32_t)sizeof(temporal_train_report);
    r.epochs_run = 0;
    r.best_epoch = 0;
    r.stopped_early = 0;
    r.final_step = 0;
    r.best_val_accuracy = 0;
    r.final_train_loss = -1;
    r.best_model_path[0] = '\0';
    return r;
}

/* 1 when this build reads and writes HDF5 datasets, 0 for a nohdf5 build (whose
 * temporal_train and temporal_dataset_write give TEMPORAL_ERR_UNSUPPORTED). Never fails. */
int temporal_hdf5_available(void);

/* Trains a model on HDF5 datasets in the reference layout (DESIGN §4: features [N, T, F]
 * float32 zero-padded, labels int64, num_frames int32, category_mapping JSON attribute) with the
 * reference recipe (DESIGN §3). out_dir (created if missing) receives best.safetensors (the best
 * validation accuracy; with no val_h5, the last epoch), last-<step>.safetensors with its
 * .train.safetensors state, and checkpoint.json (the commit point, written atomically).
 *   train_h5   the training set.
 *   val_h5     NULL: no validation (no early stopping), else the validation set.
 *   model_cfg  NULL: the reference model (DESIGN §2) with feature_dim and num_classes from the
 *              training set; otherwise the architecture, where feature_dim = 0 and
 *              num_classes = 0 mean "from the training set". Class names come from the dataset.
 *   cfg        NULL: temporal_train_config_default().
 *   cb, user   NULL, or a progress callback (see temporal_progress_fn) and its argument.
 *   report_out NULL, or receives the report (on TEMPORAL_OK and on TEMPORAL_ERR_CANCELLED).
 * Deterministic: the same data, cfg (seed) and temporal_set_num_threads setting give the same
 * weights.
 *   TEMPORAL_ERR_INVALID_ARGUMENT  train_h5 or out_dir NULL or empty; val_h5 empty (use NULL);
 *                                  a struct_size too small (cfg, model_cfg, report_out);
 *                                  a cfg field out of range (the message names it); an
 *                                  empty dataset; resume on a different training set
 *   TEMPORAL_ERR_IO                a dataset cannot be opened or read; out_dir cannot be written
 *   TEMPORAL_ERR_FORMAT            a dataset is not in the reference layout (the message says
 *                                  what is missing or wrong); a corrupt checkpoint to resume
 *   TEMPORAL_ERR_SHAPE             model_cfg disagrees with the dataset's feature_dim or
 *                                  classes; the validation set disagrees with the training set
 *   TEMPORAL_ERR_OUT_OF_MEMORY     a dataset declares sizes beyond the library's limits
 *   TEMPORAL_ERR_NUMERIC           a NaN/Inf feature, or training diverged (a non-finite loss
 *                                  or gradient); the last committed checkpoint is kept
 *   TEMPORAL_ERR_CANCELLED         the callback returned non-zero (the last committed
 *                                  checkpoint is kept; report_out is filled)
 *   TEMPORAL_ERR_UNSUPPORTED       a nohdf5 build
 *   TEMPORAL_ERR_INTERNAL          unmapped caller memory; a bug */
temporal_status temporal_train(const char *train_h5, const char *val_h5, const char *out_dir,
                               const temporal_model_config *model_cfg,
                               const temporal_train_config *cfg, temporal_progress_fn cb,
                               void *user, temporal_train_report *report_out);

/* Writes a dataset in the reference HDF5 layout (what temporal_train reads), atomically.
 *   features     [n, max_frames, feature_dim] float32, finite; frames at and after lengths[i]
 *                are written as zeros (the layout is zero-padded).
 *   lengths      NULL (every clip has max_frames frames) or [n] int32 in [1, max_frames].
 *   labels       [n] int64 in [0, num_classes).
 *   class_names  NULL (names "0", "1", ...) or num_classes NUL-terminated UTF-8 strings.
 *   num_classes  >= 2.
 *   TEMPORAL_ERR_INVALID_ARGUMENT  path, features or labels NULL; path empty; n, max_frames,
 *                                  feature_dim < 1; num_classes < 2; a label or length out of
 *                                  range; a class name NULL, empty, duplicated or > 4096 bytes
 *   TEMPORAL_ERR_OUT_OF_MEMORY     n * max_frames * feature_dim beyond the library's limits
 *   TEMPORAL_ERR_NUMERIC           a feature is NaN or Inf (within a clip's length)
 *   TEMPORAL_ERR_IO                cannot write path
 *   TEMPORAL_ERR_UNSUPPORTED       a nohdf5 build
 *   TEMPORAL_ERR_INTERNAL          unmapped caller memory; a bug */
temporal_status temporal_dataset_write(const char *path, const float *features, int64_t n,
                                       int64_t max_frames, int64_t feature_dim,
                                       const int32_t *lengths, const int64_t *labels,
                                       const char *const *class_names, int32_t num_classes);

/* A trainer: optimizer steps of the reference recipe (loss, clipping, AdamW, the per-step
 * cosine schedule) on a model, for custom training loops. Opaque handle; 0 is never valid;
 * handles of trainers and models are distinct. */
typedef uint64_t temporal_trainer;

/* Creates a trainer for model m (which must be on the CPU). It uses cfg's lr, weight_decay,
 * seed (its dropout stream), padding, loss, gamma, label_smoothing, dropout and clip_norm; the
 * (train) fields are ignored; the loss starts without class weights
 * (temporal_trainer_set_class_weights sets them). The trainer keeps the model alive
 * (freeing m's handle does not end the trainer). The AdamW moments start at zero.
 *   TEMPORAL_ERR_INVALID_ARGUMENT  out NULL; cfg->struct_size too small; a field out of range
 *   TEMPORAL_ERR_BAD_HANDLE        m is 0, freed or never issued
 *   TEMPORAL_ERR_UNSUPPORTED       m is on a CUDA device (training runs on the CPU)
 *   TEMPORAL_ERR_INTERNAL          unmapped cfg/out memory; a bug
 * Free the trainer with temporal_trainer_free (temporal_model_free does not free it). */
temporal_status temporal_trainer_create(temporal_model m, const temporal_train_config *cfg,
                                        temporal_trainer *out);

/* One optimizer step on a batch; *loss_out (if not NULL) receives the batch loss before the
 * update. features and lengths as temporal_predict; labels [batch] int64 in [0, num_classes).
 * Takes the model's lock exclusively: predicts on the same model wait for the step, and the
 * step waits for running predicts. Steps on one trainer run one at a time (a second caller
 * waits). A non-finite loss or gradient leaves the weights, moments and schedule untouched.
 *   TEMPORAL_ERR_INVALID_ARGUMENT  features or labels NULL; batch, frames, feature_dim < 1; a
 *                                  length outside [1, frames]; a label outside [0, num_classes)
 *   TEMPORAL_ERR_BAD_HANDLE        t is 0, freed or never issued
 *   TEMPORAL_ERR_SHAPE             feature_dim differs from the model's
 *   TEMPORAL_ERR_OUT_OF_MEMORY     sizes beyond the library's limits
 *   TEMPORAL_ERR_NUMERIC           a NaN/Inf feature; a non-finite loss or gradient norm
 *   TEMPORAL_ERR_INTERNAL          unmapped caller memory; a bug */
temporal_status temporal_trainer_step(temporal_trainer t, const float *features, int64_t batch,
                                      int64_t frames, int64_t feature_dim,
                                      const int32_t *lengths, const int64_t *labels,
                                      float *loss_out);

/* The learning rate the trainer's next step will use (schedule position). *lr must not be NULL.
 *   TEMPORAL_ERR_INVALID_ARGUMENT  lr NULL
 *   TEMPORAL_ERR_BAD_HANDLE        t is 0, freed or never issued
 *   TEMPORAL_ERR_INTERNAL          unmapped lr memory */
temporal_status temporal_trainer_lr(temporal_trainer t, double *lr);

/* Sets the loss's class weights for the trainer's later steps (the trainer starts without: every
 * class weighs 1). weights: n = num_classes values, finite and >= 0; weights NULL with n = 0
 * removes them. The weights are copied. Waits for a running step. They are not part of
 * temporal_trainer_save_state's file (set them again on a resumed trainer).
 *   TEMPORAL_ERR_INVALID_ARGUMENT  n differs from the model's num_classes (or weights NULL with
 *                                  n != 0); a weight NaN, infinite or negative
 *   TEMPORAL_ERR_BAD_HANDLE        t is 0, freed or never issued
 *   TEMPORAL_ERR_INTERNAL          unmapped weights memory; a bug
 * With cross-entropy, a batch whose labels all weigh 0 makes temporal_trainer_step fail with
 * TEMPORAL_ERR_INVALID_ARGUMENT. */
temporal_status temporal_trainer_set_class_weights(temporal_trainer t, const float *weights,
                                                   int32_t n);

/* Writes the trainer's optimizer state to path, atomically (safetensors): both AdamW moments of
 * every parameter, AdamW's step count, the schedule's position and the dropout stream. Save the
 * model at the same point (temporal_model_save) to resume a custom training loop later: a new
 * trainer on the reloaded model that loads this state (temporal_trainer_load_state) continues
 * bitwise as this one would. The trainer's configuration is not saved. Waits for a running step.
 *   TEMPORAL_ERR_INVALID_ARGUMENT  path NULL, empty or over 64 KiB
 *   TEMPORAL_ERR_BAD_HANDLE        t is 0, freed or never issued
 *   TEMPORAL_ERR_IO                path cannot be written (an existing file is left intact)
 *   TEMPORAL_ERR_INTERNAL          unmapped path memory; a bug */
temporal_status temporal_trainer_save_state(temporal_trainer t, const char *path);

/* Restores the state temporal_trainer_save_state wrote into t. The file must hold the moments of
 * exactly t's model's parameters; on any error the trainer is unchanged. Waits for a running
 * step.
 *   TEMPORAL_ERR_INVALID_ARGUMENT  path NULL, empty or over 64 KiB
 *   TEMPORAL_ERR_BAD_HANDLE        t is 0, freed or never issued
 *   TEMPORAL_ERR_IO                path cannot be read
 *   TEMPORAL_ERR_FORMAT            not a trainer state file, another model's state, or damaged
 *   TEMPORAL_ERR_INTERNAL          unmapped path memory; a bug */
temporal_status temporal_trainer_load_state(temporal_trainer t, const char *path);

/* Releases the trainer (never blocks; a step in flight finishes). Freeing 0 or twice is
 * TEMPORAL_ERR_BAD_HANDLE.
 *   TEMPORAL_ERR_BAD_HANDLE        t is 0, freed or never issued */
temporal_status temporal_trainer_free(temporal_trainer t);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TEMPORAL_H */
