/* The public C API: each temporal_* function here calls its tgo_* export (exports.go) and keeps
 * the thread's last error. Including temporal.h makes the compiler check the header against
 * these definitions; cgo's own prototypes (in _cgo_export.h) are not const-correct, which is why
 * the public names are not exported from Go directly.
 *
 * Static TLS: a Go c-shared library is loaded with static TLS and glibc has only ~1-2 KiB to
 * spare, so the last error lives behind a pthread key, never in a _Thread_local buffer. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "temporal.h"
#include "_cgo_export.h"

#define TCAPI_VERSION "0.1.0"
#define TCAPI_MSG_CAP 1024

/* --- last error, per thread ------------------------------------------------------------- */

typedef struct tcapi_error {
    size_t len;
    char msg[TCAPI_MSG_CAP];
} tcapi_error;

static pthread_key_t tcapi_key;
static pthread_once_t tcapi_key_once = PTHREAD_ONCE_INIT;
static int tcapi_key_ok;

static void tcapi_make_key(void) { tcapi_key_ok = pthread_key_create(&tcapi_key, free) == 0; }

static tcapi_error *tcapi_thread_error(int create) {
    tcapi_error *e;
    pthread_once(&tcapi_key_once, tcapi_make_key);
    if (!tcapi_key_ok) return NULL;
    e = (tcapi_error *)pthread_getspecific(tcapi_key);
    if (e == NULL && create) {
        e = (tcapi_error *)calloc(1, sizeof *e);
        if (e != NULL && pthread_setspecific(tcapi_key, e) != 0) {
            free(e);
            e = NULL;
        }
    }
    return e;
}

/* tcapi_finish stores msg as the thread's last error when st is a failure; success leaves the
 * stored message alone. */
static temporal_status tcapi_finish(int st, const char *msg) {
    if (st != TEMPORAL_OK) {
        tcapi_error *e = tcapi_thread_error(1);
        if (e != NULL) {
            size_t n = strlen(msg);
            if (n == 0) {
                static const char fallback[] = "error without a message (please report)";
                msg = fallback;
                n = sizeof fallback - 1;
            }
            if (n >= TCAPI_MSG_CAP) n = TCAPI_MSG_CAP - 1;
            memcpy(e->msg, msg, n);
            e->msg[n] = '\0';
            e->len = n;
        }
    }
    return (temporal_status)st;
}

size_t temporal_last_error(char *buf, size_t cap) {
    const tcapi_error *e = tcapi_thread_error(0);
    size_t len = e != NULL ? e->len : 0;
    if (buf != NULL && cap > 0) {
        size_t n = len < cap - 1 ? len : cap - 1;
        if (n > 0) memcpy(buf, e->msg, n);
        buf[n] = '\0';
    }
    return len;
}

/* --- logging ------------------------------------------------------------------------------ */

static pthread_mutex_t tcapi_log_mu = PTHREAD_MUTEX_INITIALIZER;
static temporal_log_fn tcapi_log_fn;
static void *tcapi_log_user;
static int tcapi_log_max; /* 0: no callback */

int tcapi_log_level(void) { return __atomic_load_n(&tcapi_log_max, __ATOMIC_ACQUIRE); }

void tcapi_log(int level, const char *message) {
    temporal_log_fn fn;
    void *user;
    int max;
    pthread_mutex_lock(&tcapi_log_mu);
    fn = tcapi_log_fn;
    user = tcapi_log_user;
    max = tcapi_log_max;
    pthread_mutex_unlock(&tcapi_log_mu);
    if (fn != NULL && level <= max) fn(level, message, user);
}

temporal_status temporal_set_log_callback(temporal_log_fn fn, int max_level, void *user) {
    if (fn != NULL && (max_level < TEMPORAL_LOG_ERROR || max_level > TEMPORAL_LOG_DEBUG))
        return tcapi_finish(TEMPORAL_ERR_INVALID_ARGUMENT,
                            "temporal_set_log_callback: max_level must be in [1, 4] "
                            "(TEMPORAL_LOG_ERROR .. TEMPORAL_LOG_DEBUG)");
    pthread_mutex_lock(&tcapi_log_mu);
    tcapi_log_fn = fn;
    tcapi_log_user = user;
    __atomic_store_n(&tcapi_log_max, fn != NULL ? max_level : 0, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&tcapi_log_mu);
    return TEMPORAL_OK;
}

/* --- library ------------------------------------------------------------------------------ */

const char *temporal_version(void) { return TCAPI_VERSION; }

int temporal_abi_version(void) { return TEMPORAL_ABI_VERSION; }

const char *temporal_status_string(temporal_status st) {
    switch (st) {
    case TEMPORAL_OK: return "ok";
    case TEMPORAL_ERR_INVALID_ARGUMENT: return "invalid argument";
    case TEMPORAL_ERR_BAD_HANDLE: return "bad handle";
    case TEMPORAL_ERR_IO: return "i/o error";
    case TEMPORAL_ERR_FORMAT: return "bad file format";
    case TEMPORAL_ERR_SHAPE: return "shape mismatch";
    case TEMPORAL_ERR_DEVICE: return "device error";
    case TEMPORAL_ERR_CANCELLED: return "cancelled";
    case TEMPORAL_ERR_OUT_OF_MEMORY: return "out of memory";
    case TEMPORAL_ERR_INTERNAL: return "internal error";
    case TEMPORAL_ERR_NUMERIC: return "numeric error";
    case TEMPORAL_ERR_UNSUPPORTED: return "unsupported";
    }
    return "unknown status";
}

temporal_status temporal_set_num_threads(int n) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_set_num_threads(n, msg, sizeof msg), msg);
}

int temporal_get_num_threads(void) { return tgo_get_num_threads(); }

int temporal_cuda_device_count(void) { return tgo_cuda_device_count(); }

int temporal_cuda_available(void) { return tgo_cuda_device_count() > 0; }

temporal_status temporal_cuda_device_name(int device, char *buf, size_t cap, size_t *length) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_cuda_device_name(device, buf, cap, length, msg, sizeof msg), msg);
}

temporal_status temporal_cuda_memory(int device, uint64_t *free_bytes, uint64_t *total_bytes) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_cuda_memory(device, free_bytes, total_bytes, msg, sizeof msg), msg);
}

temporal_status temporal_cuda_set_cublas_path(const char *path) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_cuda_set_cublas_path((char *)path, msg, sizeof msg), msg);
}

/* --- models ------------------------------------------------------------------------------- */

temporal_status temporal_model_create(const temporal_model_config *cfg, uint64_t seed,
                                      temporal_model *out) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_model_create((void *)cfg, seed, out, msg, sizeof msg), msg);
}

temporal_status temporal_model_load_ex(const char *path, const temporal_load_options *opt,
                                       temporal_model *out) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_model_load((char *)path, (void *)opt, out, msg, sizeof msg), msg);
}

temporal_status temporal_model_load(const char *path, const char *device, temporal_model *out) {
    temporal_load_options opt = temporal_load_options_default();
    opt.device = device;
    return temporal_model_load_ex(path, &opt, out);
}

temporal_status temporal_model_load_memory_ex(const void *data, size_t len,
                                              const temporal_load_options *opt,
                                              temporal_model *out) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_model_load_memory((void *)data, len, (void *)opt, out, msg, sizeof msg),
                        msg);
}

temporal_status temporal_model_load_memory(const void *data, size_t len, const char *device,
                                           temporal_model *out) {
    temporal_load_options opt = temporal_load_options_default();
    opt.device = device;
    return temporal_model_load_memory_ex(data, len, &opt, out);
}

temporal_status temporal_model_save(temporal_model m, const char *path) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_model_save(m, (char *)path, msg, sizeof msg), msg);
}

temporal_status temporal_model_free(temporal_model m) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_model_free(m, msg, sizeof msg), msg);
}

temporal_status temporal_model_info(temporal_model m, temporal_model_config *out) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_model_info(m, (void *)out, msg, sizeof msg), msg);
}

temporal_status temporal_model_class_name(temporal_model m, int32_t index, char *buf, size_t cap,
                                          size_t *len) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_model_class_name(m, index, buf, cap, len, msg, sizeof msg), msg);
}

temporal_status temporal_model_set_class_names(temporal_model m, const char *const *names,
                                               int32_t n) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_model_set_class_names(m, (char **)names, n, msg, sizeof msg), msg);
}

temporal_status temporal_model_set_precision(temporal_model m, int32_t p) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_model_set_precision(m, p, msg, sizeof msg), msg);
}

temporal_status temporal_model_get_precision(temporal_model m, int32_t *out) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_model_get_precision(m, out, msg, sizeof msg), msg);
}

temporal_status temporal_predict(temporal_model m, const float *features, int64_t batch,
                                 int64_t frames, int64_t feature_dim, const int32_t *lengths,
                                 const temporal_predict_options *opt, float *out, size_t out_len,
                                 float *frame_weights, size_t frame_weights_len) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_predict(m, (float *)features, batch, frames, feature_dim,
                                    (int32_t *)lengths, (void *)opt, out, out_len, frame_weights,
                                    frame_weights_len, msg, sizeof msg),
                        msg);
}

temporal_status temporal_ensemble_predict(const temporal_model *models, size_t n_models,
                                          const float *features, int64_t batch, int64_t frames,
                                          int64_t feature_dim, const int32_t *lengths,
                                          const temporal_predict_options *opt, float *probs_out,
                                          size_t out_len, float *frame_weights,
                                          size_t frame_weights_len) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_ensemble_predict((uint64_t *)models, n_models, (float *)features, batch,
                                             frames, feature_dim, (int32_t *)lengths, (void *)opt,
                                             probs_out, out_len, frame_weights, frame_weights_len,
                                             msg, sizeof msg),
                        msg);
}

/* --- training ----------------------------------------------------------------------------- */

/* The progress trampoline: Go cannot call a C function pointer, so it calls this with the
 * context temporal_train made on its own stack. It runs on the thread that called
 * temporal_train (the Go code calling it runs on that thread while the call lasts). */
typedef struct tcapi_progress_ctx {
    temporal_progress_fn fn;
    void *user;
} tcapi_progress_ctx;

int tcapi_call_progress(void *ctx, void *progress) {
    const tcapi_progress_ctx *c = (const tcapi_progress_ctx *)ctx;
    return c->fn((const temporal_train_progress *)progress, c->user);
}

int temporal_hdf5_available(void) { return tgo_hdf5_available(); }

temporal_status temporal_train(const char *train_h5, const char *val_h5, const char *out_dir,
                               const temporal_model_config *model_cfg,
                               const temporal_train_config *cfg, temporal_progress_fn cb,
                               void *user, temporal_train_report *report_out) {
    char msg[TCAPI_MSG_CAP] = "";
    tcapi_progress_ctx ctx;
    ctx.fn = cb;
    ctx.user = user;
    return tcapi_finish(tgo_train((char *)train_h5, (char *)val_h5, (char *)out_dir,
                                  (void *)model_cfg, (void *)cfg, cb != NULL ? (void *)&ctx : NULL,
                                  (void *)report_out, msg, sizeof msg),
                        msg);
}

temporal_status temporal_dataset_write(const char *path, const float *features, int64_t n,
                                       int64_t max_frames, int64_t feature_dim,
                                       const int32_t *lengths, const int64_t *labels,
                                       const char *const *class_names, int32_t num_classes) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_dataset_write((char *)path, (float *)features, n, max_frames,
                                          feature_dim, (int32_t *)lengths, (int64_t *)labels,
                                          (char **)class_names, num_classes, msg, sizeof msg),
                        msg);
}

temporal_status temporal_trainer_create(temporal_model m, const temporal_train_config *cfg,
                                        temporal_trainer *out) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_trainer_create(m, (void *)cfg, out, msg, sizeof msg), msg);
}

temporal_status temporal_trainer_step(temporal_trainer t, const float *features, int64_t batch,
                                      int64_t frames, int64_t feature_dim,
                                      const int32_t *lengths, const int64_t *labels,
                                      float *loss_out) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_trainer_step(t, (float *)features, batch, frames, feature_dim,
                                         (int32_t *)lengths, (int64_t *)labels, loss_out, msg,
                                         sizeof msg),
                        msg);
}

temporal_status temporal_trainer_lr(temporal_trainer t, double *lr) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_trainer_lr(t, lr, msg, sizeof msg), msg);
}

temporal_status temporal_trainer_set_class_weights(temporal_trainer t, const float *weights,
                                                   int32_t n) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_trainer_set_class_weights(t, (float *)weights, n, msg, sizeof msg), msg);
}

temporal_status temporal_trainer_save_state(temporal_trainer t, const char *path) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_trainer_save_state(t, (char *)path, msg, sizeof msg), msg);
}

temporal_status temporal_trainer_load_state(temporal_trainer t, const char *path) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_trainer_load_state(t, (char *)path, msg, sizeof msg), msg);
}

temporal_status temporal_trainer_free(temporal_trainer t) {
    char msg[TCAPI_MSG_CAP] = "";
    return tcapi_finish(tgo_trainer_free(t, msg, sizeof msg), msg);
}
