/* Loads libtemporal with dlopen(RTLD_NOW | RTLD_LOCAL), as ctypes and editor plugins do. Linking
 * with -ltemporal hides the static-TLS failure ("cannot allocate memory in static TLS block")
 * that a thread-local buffer or an OpenBLAS member with TLS causes (capi recipe §1), so this
 * program never links the library.
 *
 *   test_dlopen LIBRARY DATA_DIR */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "golden.h"
#include "temporal.h"

static int failures;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            failures++;                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                             \
    } while (0)

/* Every public function of the header must resolve. */
static const char *const public_names[] = {
    "temporal_version", "temporal_abi_version", "temporal_status_string", "temporal_last_error",
    "temporal_set_num_threads", "temporal_get_num_threads", "temporal_cuda_available",
    "temporal_cuda_device_count", "temporal_cuda_device_name", "temporal_cuda_memory",
    "temporal_cuda_set_cublas_path", "temporal_set_log_callback", "temporal_model_create",
    "temporal_model_load", "temporal_model_load_ex", "temporal_model_load_memory",
    "temporal_model_load_memory_ex", "temporal_model_save", "temporal_model_free",
    "temporal_model_info", "temporal_model_class_name", "temporal_model_set_class_names",
    "temporal_predict", "temporal_ensemble_predict", "temporal_hdf5_available", "temporal_train",
    "temporal_dataset_write", "temporal_trainer_create", "temporal_trainer_step",
    "temporal_trainer_lr", "temporal_trainer_free"};

#define SYM(h, name) ((__typeof__(name) *)dlsym_fn((h), #name))

/* dlsym returns void *; converting through a union avoids ISO C's object/function pointer
 * warning. */
typedef void (*any_fn)(void);
static any_fn dlsym_fn(void *h, const char *name) {
    union {
        void *obj;
        any_fn fn;
    } u;
    u.obj = dlsym(h, name);
    return u.fn;
}

int main(int argc, char **argv) {
    void *h;
    size_t i;
    golden_case g;
    char path[4096], msg[512];
    temporal_model m = 0;
    float out[64];

    if (argc != 3) {
        fprintf(stderr, "usage: %s LIBRARY DATA_DIR\n", argv[0]);
        return 2;
    }
    h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        fprintf(stderr, "dlopen failed: %s\n", dlerror());
        return 1;
    }
    for (i = 0; i < sizeof public_names / sizeof public_names[0]; i++) {
        if (dlsym(h, public_names[i]) == NULL) {
            failures++;
            fprintf(stderr, "missing symbol %s\n", public_names[i]);
        }
    }
    /* The private OpenBLAS and the Go internals stay hidden. */
    CHECK(dlsym(h, "cblas_sgemm") == NULL);
    CHECK(dlsym(h, "openblas_set_num_threads") == NULL);
    CHECK(dlsym(h, "tgo_predict") == NULL);
    if (failures) return 1;

    CHECK(SYM(h, temporal_abi_version)() == TEMPORAL_ABI_VERSION);
    snprintf(path, sizeof path, "%s/small.case.bin", argv[2]);
    if (!golden_load(path, &g)) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    snprintf(path, sizeof path, "%s/small.safetensors", argv[2]);
    CHECK(SYM(h, temporal_model_load)(path, "cpu", &m) == TEMPORAL_OK);
    CHECK(SYM(h, temporal_predict)(m, g.features, g.B, g.T, g.F, g.lengths, NULL, out,
                                   (size_t)(g.B * g.C), NULL, 0) == TEMPORAL_OK);
    CHECK(golden_maxdiff(out, g.logits_masked, (size_t)(g.B * g.C)) <= 1e-6);
    /* An unmapped input is an error, not a crash, in a dlopen host too. */
    CHECK(SYM(h, temporal_predict)(m, (const float *)(uintptr_t)0xdead0000, g.B, g.T, g.F, NULL,
                                   NULL, out, (size_t)(g.B * g.C), NULL,
                                   0) == TEMPORAL_ERR_INTERNAL);
    CHECK(SYM(h, temporal_last_error)(msg, sizeof msg) > 0 && strstr(msg, "0xdead0000") != NULL);
    /* HDF5 datasets: a nohdf5 build refuses them with UNSUPPORTED (and says why). */
    if (SYM(h, temporal_hdf5_available)() == 0) {
        const int64_t labels[2] = {0, 1};
        temporal_train_config tc = temporal_train_config_default();
        temporal_train_report rep = temporal_train_report_default();
        snprintf(path, sizeof path, "%s/never-written.h5", argv[2]);
        CHECK(SYM(h, temporal_dataset_write)(path, g.features, 2, 1, g.F, NULL, labels, NULL, 2) ==
              TEMPORAL_ERR_UNSUPPORTED);
        CHECK(SYM(h, temporal_last_error)(msg, sizeof msg) > 0 && strstr(msg, "HDF5") != NULL);
        tc.epochs = 1;
        CHECK(SYM(h, temporal_train)(path, NULL, "/nonexistent-dir/never", NULL, &tc, NULL, NULL,
                                     &rep) == TEMPORAL_ERR_UNSUPPORTED);
        CHECK(SYM(h, temporal_last_error)(msg, sizeof msg) > 0 && strstr(msg, "HDF5") != NULL);
        printf("nohdf5 build: dataset_write and train are UNSUPPORTED\n");
    }
    CHECK(SYM(h, temporal_model_free)(m) == TEMPORAL_OK);
    CHECK(SYM(h, temporal_model_free)(m) == TEMPORAL_ERR_BAD_HANDLE);
    golden_free(&g);
    /* Never dlclose (header: host caveats). */
    printf("dlopen test: %d failures\n", failures);
    return failures == 0 ? 0 : 1;
}
