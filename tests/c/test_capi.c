/* C test of the whole public API, linked with -ltemporal: every error path of the header's
 * per-function tables, last-error semantics, golden logits against the Go core, concurrency.
 *
 *   test_capi DATA_DIR SCRATCH_DIR
 *
 * DATA_DIR holds small.safetensors and small.case.bin (tests/data); SCRATCH_DIR is writable. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "golden.h"
#include "check.h"
#include "temporal.h"

static const char *data_dir, *scratch_dir;
static golden_case g;
static char model_path[4096];

/* mkdir -p */
static void make_dirs(const char *path) {
    char buf[4096];
    size_t i;
    snprintf(buf, sizeof buf, "%s", path);
    for (i = 1; buf[i] != '\0'; i++) {
        if (buf[i] == '/') {
            buf[i] = '\0';
            mkdir(buf, 0755);
            buf[i] = '/';
        }
    }
    mkdir(buf, 0755);
}

static void path_join(char *out, size_t cap, const char *dir, const char *name) {
    snprintf(out, cap, "%s/%s", dir, name);
}

static int write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f == NULL) return 0;
    if (n > 0 && fwrite(data, 1, n, f) != n) {
        fclose(f);
        return 0;
    }
    return fclose(f) == 0;
}

static unsigned char *read_file(const char *path, size_t *n) {
    unsigned char *p;
    long size;
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = (unsigned char *)malloc((size_t)size + 1);
    if (p != NULL && fread(p, 1, (size_t)size, f) != (size_t)size) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *n = (size_t)size;
    return p;
}

static temporal_model load_golden(void) {
    temporal_model m = 0;
    EXPECT_STATUS(temporal_model_load(model_path, NULL, &m), TEMPORAL_OK);
    return m;
}

/* Predicts the golden batch (masked, with lengths) into out. */
static temporal_status predict_golden(temporal_model m, float *out) {
    return temporal_predict(m, g.features, g.B, g.T, g.F, g.lengths, NULL, out,
                            (size_t)(g.B * g.C), NULL, 0);
}

static temporal_model_config fixture_config(void) {
    temporal_model_config c = temporal_model_config_default();
    c.feature_dim = 16;
    c.hidden_dim = 8;
    c.num_layers = 2;
    c.num_heads = 2;
    c.num_classes = 3;
    c.dropout = 0.4;
    c.bidirectional = 1;
    c.num_classifier_widths = 2;
    c.classifier_widths[0] = 12;
    c.classifier_widths[1] = 8;
    c.classifier_widths[2] = 0;
    return c;
}

/* ---------------------------------------------------------------------------------------- */

static void test_library(void) {
    int n;
    CHECK(temporal_abi_version() == TEMPORAL_ABI_VERSION);
    CHECK(temporal_version() != NULL && strlen(temporal_version()) > 0);
    CHECK(strcmp(temporal_status_string(TEMPORAL_OK), "ok") == 0);
    CHECK(strcmp(temporal_status_string(TEMPORAL_ERR_SHAPE), "shape mismatch") == 0);
    CHECK(strcmp(temporal_status_string((temporal_status)99), "unknown status") == 0);
    /* No GPU here: 0 and 0; with one, both agree. */
    CHECK(temporal_cuda_device_count() >= 0);
    CHECK(temporal_cuda_available() == (temporal_cuda_device_count() > 0));
    CHECK(temporal_get_num_threads() >= 1);
    EXPECT_STATUS(temporal_set_num_threads(-1), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_set_num_threads(5000), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_set_num_threads(3), TEMPORAL_OK);
    CHECK(temporal_get_num_threads() == 3);
    EXPECT_STATUS(temporal_set_num_threads(0), TEMPORAL_OK);
    n = temporal_get_num_threads();
    CHECK(n == (int)sysconf(_SC_NPROCESSORS_ONLN) || n >= 1);
}

/* --- last error --------------------------------------------------------------------------- */

static void *fresh_thread_error(void *arg) {
    char buf[16] = "garbage";
    size_t *len = (size_t *)arg;
    *len = temporal_last_error(buf, sizeof buf);
    if (buf[0] != '\0') *len = 999;
    /* A failure on this thread must not touch the main thread's message. */
    temporal_model_free(0);
    return NULL;
}

static void test_last_error(void) {
    char buf[1024], small[8];
    size_t full, n, other = 12345;
    pthread_t th;
    temporal_model m;

    EXPECT_STATUS(temporal_model_free(0x1234), TEMPORAL_ERR_BAD_HANDLE);
    full = temporal_last_error(NULL, 0);
    CHECK(full > 7);
    n = temporal_last_error(buf, sizeof buf);
    CHECK(n == full && strlen(buf) == full);
    CHECK(strstr(buf, "temporal_model_free") != NULL);
    /* Truncation: like snprintf, the full length back and a NUL-terminated prefix. */
    memset(small, 'x', sizeof small);
    n = temporal_last_error(small, sizeof small);
    CHECK(n == full);
    CHECK(small[7] == '\0' && strlen(small) == 7 && strncmp(small, buf, 7) == 0);
    /* cap 1: just the NUL. */
    n = temporal_last_error(small, 1);
    CHECK(n == full && small[0] == '\0');
    /* A successful call leaves the message alone. */
    m = load_golden();
    CHECK(temporal_last_error(NULL, 0) == full);
    EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
    CHECK(temporal_last_error(NULL, 0) == full);
    /* Per thread: a fresh thread sees nothing, and its failure does not reach this thread. */
    CHECK(pthread_create(&th, NULL, fresh_thread_error, &other) == 0);
    pthread_join(th, NULL);
    CHECK(other == 0);
    n = temporal_last_error(small, sizeof small);
    CHECK(n == full);
    temporal_last_error(buf + 512, 512);
    CHECK(strncmp(buf, buf + 512, 200) == 0);
}

/* --- create / info / class names ------------------------------------------------------------ */

static void test_create(void) {
    temporal_model_config c = fixture_config(), info;
    temporal_model m = 77, m2;
    float a[64], b[64];
    char name[16];
    size_t len = 0;

    EXPECT_STATUS(temporal_model_create(NULL, 1, &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    CHECK(m == 0);
    EXPECT_STATUS(temporal_model_create(&c, 1, NULL), TEMPORAL_ERR_INVALID_ARGUMENT);
    c.struct_size = 4;
    EXPECT_STATUS(temporal_model_create(&c, 1, &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    c = fixture_config();
    c.num_heads = 3; /* does not divide D = 16 */
    EXPECT_STATUS(temporal_model_create(&c, 1, &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    c = fixture_config();
    c.num_classes = 1;
    EXPECT_STATUS(temporal_model_create(&c, 1, &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    c = fixture_config();
    c.num_classifier_widths = 0;
    EXPECT_STATUS(temporal_model_create(&c, 1, &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    c.num_classifier_widths = TEMPORAL_MAX_CLASSIFIER_WIDTHS + 1;
    EXPECT_STATUS(temporal_model_create(&c, 1, &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    c = fixture_config();
    c.bidirectional = 2;
    EXPECT_STATUS(temporal_model_create(&c, 1, &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    c = fixture_config();
    c.dropout = 1.5;
    EXPECT_STATUS(temporal_model_create(&c, 1, &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    c = fixture_config();
    c.feature_dim = -5;
    EXPECT_STATUS(temporal_model_create(&c, 1, &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    /* Far more parameters than the library accepts: refused before allocating. */
    c = temporal_model_config_default();
    c.feature_dim = 1 << 20;
    c.hidden_dim = 1 << 19;
    c.num_heads = 16;
    EXPECT_STATUS(temporal_model_create(&c, 1, &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    {
        char msg[1024];
        temporal_last_error(msg, sizeof msg);
        CHECK(strstr(msg, "limit") != NULL);
    }
    EXPECT_STATUS(temporal_model_create((const temporal_model_config *)(uintptr_t)0xdead0000, 1,
                                        &m),
                  TEMPORAL_ERR_INTERNAL);

    /* The fixture config and seed give the committed model's weights, hence its logits. */
    c = fixture_config();
    EXPECT_STATUS(temporal_model_create(&c, 1234, &m), TEMPORAL_OK);
    CHECK(m != 0);
    EXPECT_STATUS(predict_golden(m, a), TEMPORAL_OK);
    CHECK(golden_maxdiff(a, g.logits_masked, (size_t)(g.B * g.C)) <= 1e-6);
    /* Another seed gives another model. */
    EXPECT_STATUS(temporal_model_create(&c, 1235, &m2), TEMPORAL_OK);
    CHECK(m2 != m);
    EXPECT_STATUS(predict_golden(m2, b), TEMPORAL_OK);
    CHECK(golden_maxdiff(a, b, (size_t)(g.B * g.C)) > 1e-4);

    info = temporal_model_config_default();
    EXPECT_STATUS(temporal_model_info(m, &info), TEMPORAL_OK);
    CHECK(info.struct_size == sizeof info);
    CHECK(info.feature_dim == 16 && info.hidden_dim == 8 && info.num_layers == 2);
    CHECK(info.num_heads == 2 && info.num_classes == 3 && info.bidirectional == 1);
    CHECK(info.num_classifier_widths == 2 && info.classifier_widths[0] == 12 &&
          info.classifier_widths[1] == 8 && info.classifier_widths[2] == 0);
    CHECK(fabs(info.dropout - 0.4) < 1e-12);
    CHECK(info.num_params > 0 && info.num_class_names == 0);
    /* A created model has no class names: "" and length 0. */
    EXPECT_STATUS(temporal_model_class_name(m, 1, name, sizeof name, &len), TEMPORAL_OK);
    CHECK(len == 0 && name[0] == '\0');
    {
        const char *names[3] = {"a", "bb", "ccc"};
        const char *with_null[3] = {"a", NULL, "c"};
        EXPECT_STATUS(temporal_model_set_class_names(m, names, 2), TEMPORAL_ERR_INVALID_ARGUMENT);
        EXPECT_STATUS(temporal_model_set_class_names(m, NULL, 3), TEMPORAL_ERR_INVALID_ARGUMENT);
        EXPECT_STATUS(temporal_model_set_class_names(m, with_null, 3),
                      TEMPORAL_ERR_INVALID_ARGUMENT);
        EXPECT_STATUS(temporal_model_set_class_names(0, names, 3), TEMPORAL_ERR_BAD_HANDLE);
        EXPECT_STATUS(temporal_model_set_class_names(
                          m, (const char *const *)(uintptr_t)0xdead0000, 3),
                      TEMPORAL_ERR_INTERNAL);
        EXPECT_STATUS(temporal_model_set_class_names(m, names, 3), TEMPORAL_OK);
        EXPECT_STATUS(temporal_model_class_name(m, 2, name, sizeof name, &len), TEMPORAL_OK);
        CHECK(len == 3 && strcmp(name, "ccc") == 0);
        info = temporal_model_config_default();
        EXPECT_STATUS(temporal_model_info(m, &info), TEMPORAL_OK);
        CHECK(info.num_class_names == 3);
        EXPECT_STATUS(temporal_model_set_class_names(m, NULL, 0), TEMPORAL_OK);
        EXPECT_STATUS(temporal_model_info(m, &info), TEMPORAL_OK);
        CHECK(info.num_class_names == 0);
    }

    EXPECT_STATUS(temporal_model_info(m, NULL), TEMPORAL_ERR_INVALID_ARGUMENT);
    info.struct_size = 8;
    EXPECT_STATUS(temporal_model_info(m, &info), TEMPORAL_ERR_INVALID_ARGUMENT);
    info = temporal_model_config_default();
    EXPECT_STATUS(temporal_model_info(0, &info), TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_STATUS(temporal_model_info(m, (temporal_model_config *)(uintptr_t)0xdead0000),
                  TEMPORAL_ERR_INTERNAL);
    EXPECT_STATUS(temporal_model_free(m2), TEMPORAL_OK);
    EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
}

static void test_info_and_names(void) {
    temporal_model m = load_golden();
    temporal_model_config info = temporal_model_config_default();
    char name[16];
    size_t len = 99;
    const char *want[3] = {"walk", "run", "jump"};
    int i;

    EXPECT_STATUS(temporal_model_info(m, &info), TEMPORAL_OK);
    CHECK(info.feature_dim == g.F && info.num_classes == g.C && info.num_class_names == 3);
    for (i = 0; i < 3; i++) {
        EXPECT_STATUS(temporal_model_class_name(m, i, name, sizeof name, &len), TEMPORAL_OK);
        CHECK(strcmp(name, want[i]) == 0 && len == strlen(want[i]));
    }
    /* Length query and truncation, snprintf style. */
    EXPECT_STATUS(temporal_model_class_name(m, 0, NULL, 0, &len), TEMPORAL_OK);
    CHECK(len == 4);
    EXPECT_STATUS(temporal_model_class_name(m, 0, name, 3, &len), TEMPORAL_OK);
    CHECK(len == 4 && strcmp(name, "wa") == 0);
    EXPECT_STATUS(temporal_model_class_name(m, 0, name, sizeof name, NULL), TEMPORAL_OK);
    EXPECT_STATUS(temporal_model_class_name(m, -1, name, sizeof name, &len),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_model_class_name(m, 3, name, sizeof name, &len),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_model_class_name(m, 0, NULL, 5, &len), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_model_class_name(0, 0, name, sizeof name, &len),
                  TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
}

/* --- golden logits ------------------------------------------------------------------------ */

static void test_golden(void) {
    temporal_model m = load_golden();
    size_t nl = (size_t)(g.B * g.C), nf = (size_t)(g.B * g.T);
    float *out = (float *)malloc(nl * sizeof(float)), *fw = (float *)malloc(nf * sizeof(float));
    temporal_predict_options o = temporal_predict_options_default();

    EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F, g.lengths, &o, out, nl, fw, nf),
                  TEMPORAL_OK);
    CHECK(golden_maxdiff(out, g.logits_masked, nl) <= 1e-6);
    CHECK(golden_maxdiff(fw, g.fw_masked, nf) <= 1e-6);
    o.padding = TEMPORAL_PADDING_REFERENCE;
    EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F, g.lengths, &o, out, nl, fw, nf),
                  TEMPORAL_OK);
    CHECK(golden_maxdiff(out, g.logits_reference, nl) <= 1e-6);
    CHECK(golden_maxdiff(fw, g.fw_reference, nf) <= 1e-6);
    o = temporal_predict_options_default();
    o.output = TEMPORAL_OUTPUT_PROBABILITIES;
    EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F, g.lengths, &o, out, nl, NULL, 0),
                  TEMPORAL_OK);
    CHECK(golden_maxdiff(out, g.probs_masked, nl) <= 1e-6);
    EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F, NULL, NULL, out, nl, NULL, 0),
                  TEMPORAL_OK);
    CHECK(golden_maxdiff(out, g.logits_full, nl) <= 1e-6);
    /* Every thread setting gives the fixture's answer (to rounding: the partition may change). */
    {
        int threads[3] = {1, 2, 5}, i;
        for (i = 0; i < 3; i++) {
            EXPECT_STATUS(temporal_set_num_threads(threads[i]), TEMPORAL_OK);
            EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F, g.lengths, NULL, out, nl,
                                           fw, nf),
                          TEMPORAL_OK);
            CHECK(golden_maxdiff(out, g.logits_masked, nl) <= 1e-6);
            CHECK(golden_maxdiff(fw, g.fw_masked, nf) <= 1e-6);
        }
        EXPECT_STATUS(temporal_set_num_threads(0), TEMPORAL_OK);
    }
    /* A bigger out buffer than needed is fine; only B*C elements are written. */
    {
        float big[64];
        size_t i;
        for (i = 0; i < 64; i++) big[i] = -7;
        EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F, g.lengths, NULL, big, 64,
                                       NULL, 0),
                      TEMPORAL_OK);
        CHECK(golden_maxdiff(big, g.logits_masked, nl) <= 1e-6);
        CHECK(big[nl] == -7 && big[63] == -7);
    }
    EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
    free(out);
    free(fw);
}

/* --- precision ----------------------------------------------------------------------------- */

/* temporal_model_set_precision / get_precision: float32 by default and bitwise unchanged after a
 * bf16 round trip; bf16 close to float32 but not equal; bad arguments; not saved with the model. */
static void test_precision(void) {
    temporal_model m = load_golden(), m2 = 0;
    size_t nl = (size_t)(g.B * g.C), i;
    float *f32 = (float *)malloc(nl * sizeof(float)), *out = (float *)malloc(nl * sizeof(float));
    int32_t p = -1;
    char path[4096];
    double maxabs = 0;

    EXPECT_STATUS(temporal_model_get_precision(m, &p), TEMPORAL_OK);
    CHECK(p == TEMPORAL_PRECISION_FLOAT32);
    EXPECT_STATUS(predict_golden(m, f32), TEMPORAL_OK);
    CHECK(golden_maxdiff(f32, g.logits_masked, nl) <= 1e-6);

    EXPECT_STATUS(temporal_model_set_precision(m, 2),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_model_set_precision(m, -1),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_model_get_precision(m, NULL), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_model_set_precision(0, TEMPORAL_PRECISION_BF16_RECURRENT),
                  TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_STATUS(temporal_model_get_precision(0, &p), TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_STATUS(temporal_model_get_precision(m, &p), TEMPORAL_OK);
    CHECK(p == TEMPORAL_PRECISION_FLOAT32);

    EXPECT_STATUS(temporal_model_set_precision(m, TEMPORAL_PRECISION_BF16_RECURRENT), TEMPORAL_OK);
    EXPECT_STATUS(temporal_model_get_precision(m, &p), TEMPORAL_OK);
    CHECK(p == TEMPORAL_PRECISION_BF16_RECURRENT);
    EXPECT_STATUS(predict_golden(m, out), TEMPORAL_OK);
    for (i = 0; i < nl; i++)
        if (fabs((double)f32[i]) > maxabs) maxabs = fabs((double)f32[i]);
    CHECK(golden_maxdiff(out, f32, nl) <= 2e-2 * maxabs + 1e-4);
    CHECK(memcmp(out, f32, nl * sizeof(float)) != 0);

    /* Saved files hold float32 weights and no precision: a reload starts in float32. */
    path_join(path, sizeof path, scratch_dir, "precision.safetensors");
    EXPECT_STATUS(temporal_model_save(m, path), TEMPORAL_OK);
    EXPECT_STATUS(temporal_model_load(path, NULL, &m2), TEMPORAL_OK);
    EXPECT_STATUS(temporal_model_get_precision(m2, &p), TEMPORAL_OK);
    CHECK(p == TEMPORAL_PRECISION_FLOAT32);
    EXPECT_STATUS(predict_golden(m2, out), TEMPORAL_OK);
    CHECK(memcmp(out, f32, nl * sizeof(float)) == 0);
    EXPECT_STATUS(temporal_model_free(m2), TEMPORAL_OK);

    EXPECT_STATUS(temporal_model_set_precision(m, TEMPORAL_PRECISION_FLOAT32), TEMPORAL_OK);
    EXPECT_STATUS(predict_golden(m, out), TEMPORAL_OK);
    CHECK(memcmp(out, f32, nl * sizeof(float)) == 0);
    EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
    EXPECT_STATUS(temporal_model_set_precision(m, TEMPORAL_PRECISION_FLOAT32),
                  TEMPORAL_ERR_BAD_HANDLE);
    free(f32);
    free(out);
}

/* --- predict errors ------------------------------------------------------------------------ */

static void test_predict_errors(void) {
    temporal_model m = load_golden(), freed = load_golden();
    size_t nl = (size_t)(g.B * g.C), nf = (size_t)(g.B * g.T);
    float out[64], fw[64];
    int32_t bad_len[3];
    temporal_predict_options o;
    long page = sysconf(_SC_PAGESIZE);
    unsigned char *region;

    EXPECT_STATUS(temporal_model_free(freed), TEMPORAL_OK);
    /* Handles. */
    EXPECT_STATUS(predict_golden(0, out), TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_STATUS(predict_golden(freed, out), TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_STATUS(predict_golden(12345, out), TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_STATUS(predict_golden(m ^ 1, out), TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_STATUS(predict_golden((uint32_t)m, out), TEMPORAL_ERR_BAD_HANDLE);
    /* NULL pointers and dimensions. */
    EXPECT_STATUS(temporal_predict(m, NULL, g.B, g.T, g.F, NULL, NULL, out, nl, NULL, 0),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F, NULL, NULL, NULL, nl, NULL, 0),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_predict(m, g.features, 0, g.T, g.F, NULL, NULL, out, nl, NULL, 0),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_predict(m, g.features, g.B, -1, g.F, NULL, NULL, out, nl, NULL, 0),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, 0, NULL, NULL, out, nl, NULL, 0),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F + 1, NULL, NULL, out, nl, NULL, 0),
                  TEMPORAL_ERR_SHAPE);
    EXPECT_STATUS(temporal_predict(m, g.features, 1, g.T * g.B, g.F / 2, NULL, NULL, out, nl, NULL,
                                   0),
                  TEMPORAL_ERR_SHAPE);
    /* Sizes that overflow or exceed the limits: refused before anything is read. */
    EXPECT_STATUS(temporal_predict(m, g.features, (int64_t)1 << 40, (int64_t)1 << 40, g.F, NULL,
                                   NULL, out, 64, NULL, 0),
                  TEMPORAL_ERR_OUT_OF_MEMORY);
    EXPECT_STATUS(temporal_predict(m, g.features, INT64_MAX, 2, g.F, NULL, NULL, out, 64, NULL, 0),
                  TEMPORAL_ERR_OUT_OF_MEMORY);
    /* Lengths out of range. */
    memcpy(bad_len, g.lengths, sizeof bad_len);
    bad_len[1] = 0;
    EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F, bad_len, NULL, out, nl, NULL, 0),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    bad_len[1] = g.T + 1;
    EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F, bad_len, NULL, out, nl, NULL, 0),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    bad_len[1] = -3;
    EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F, bad_len, NULL, out, nl, NULL, 0),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    /* Output buffers too small. */
    EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F, NULL, NULL, out, nl - 1, NULL, 0),
                  TEMPORAL_ERR_SHAPE);
    EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F, NULL, NULL, out, nl, fw, nf - 1),
                  TEMPORAL_ERR_SHAPE);
    /* Options. */
    o = temporal_predict_options_default();
    o.struct_size = 0;
    EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F, NULL, &o, out, nl, NULL, 0),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    o = temporal_predict_options_default();
    o.padding = 7;
    EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F, NULL, &o, out, nl, NULL, 0),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    o = temporal_predict_options_default();
    o.output = -1;
    EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F, NULL, &o, out, nl, NULL, 0),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    o = temporal_predict_options_default();
    o.tta = TEMPORAL_TTA_ALL; /* TTA averages probabilities: logits output is refused */
    EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F, NULL, &o, out, nl, NULL, 0),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    o.tta = 9;
    o.output = TEMPORAL_OUTPUT_PROBABILITIES;
    EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F, NULL, &o, out, nl, NULL, 0),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    /* Non-finite input. */
    {
        size_t n = (size_t)(g.B * g.T * g.F);
        float *x = (float *)malloc(n * sizeof(float));
        memcpy(x, g.features, n * sizeof(float));
        x[n / 2] = NAN;
        EXPECT_STATUS(temporal_predict(m, x, g.B, g.T, g.F, NULL, NULL, out, nl, NULL, 0),
                      TEMPORAL_ERR_NUMERIC);
        x[n / 2] = INFINITY;
        EXPECT_STATUS(temporal_predict(m, x, g.B, g.T, g.F, NULL, NULL, out, nl, NULL, 0),
                      TEMPORAL_ERR_NUMERIC);
        free(x);
    }

    /* Caller memory that is not mapped, or read-only: an error status, and we live on. */
    EXPECT_STATUS(temporal_predict(m, (const float *)(uintptr_t)0xdead0000, g.B, g.T, g.F, NULL,
                                   NULL, out, nl, NULL, 0),
                  TEMPORAL_ERR_INTERNAL);
    EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F, NULL, NULL,
                                   (float *)(uintptr_t)0xdead0000, nl, NULL, 0),
                  TEMPORAL_ERR_INTERNAL);
    EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F,
                                   (const int32_t *)(uintptr_t)0xdead0000, NULL, out, nl, NULL, 0),
                  TEMPORAL_ERR_INTERNAL);
    EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F, NULL,
                                   (const temporal_predict_options *)(uintptr_t)0xdead0000, out,
                                   nl, NULL, 0),
                  TEMPORAL_ERR_INTERNAL);
    EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F, NULL, NULL, out, nl,
                                   (float *)(uintptr_t)0xdead0000, nf),
                  TEMPORAL_ERR_INTERNAL);
    /* An input that runs from a mapped page into a PROT_NONE one. */
    region = (unsigned char *)mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(region != MAP_FAILED);
    if (region != MAP_FAILED) {
        size_t n = (size_t)(g.B * g.T * g.F);
        float *x = (float *)(region + page) - n / 2; /* the second half lies past the page */
        CHECK(mprotect(region + page, (size_t)page, PROT_NONE) == 0);
        memcpy(x, g.features, n / 2 * sizeof(float));
        EXPECT_STATUS(temporal_predict(m, x, g.B, g.T, g.F, NULL, NULL, out, nl, NULL, 0),
                      TEMPORAL_ERR_INTERNAL);
        /* Output into a read-only page. */
        CHECK(mprotect(region, (size_t)page, PROT_READ) == 0);
        EXPECT_STATUS(temporal_predict(m, g.features, g.B, g.T, g.F, NULL, NULL, (float *)region,
                                       nl, NULL, 0),
                      TEMPORAL_ERR_INTERNAL);
        munmap(region, (size_t)page * 2);
    }
    /* The library still works afterwards. */
    EXPECT_STATUS(predict_golden(m, out), TEMPORAL_OK);
    CHECK(golden_maxdiff(out, g.logits_masked, nl) <= 1e-6);
    EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
}

/* --- load / save / free ---------------------------------------------------------------------- */

static void expect_load_fails(const char *path, temporal_status want, int line) {
    temporal_model m = 99;
    expect_status(temporal_model_load(path, NULL, &m), want, path, __FILE__, line);
    checks++;
    if (m != 0) {
        failures++;
        fprintf(stderr, "%s:%d: failed load left *out = %llu\n", __FILE__, line,
                (unsigned long long)m);
    }
}

static void test_load_errors(void) {
    char p[4096];
    unsigned char *bytes;
    size_t n = 0;
    temporal_model m = 5;
    temporal_load_options lo;

    bytes = read_file(model_path, &n);
    CHECK(bytes != NULL && n > 200);
    if (bytes == NULL) return;

    EXPECT_STATUS(temporal_model_load(NULL, NULL, &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_model_load(model_path, NULL, NULL), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_model_load("", NULL, &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    path_join(p, sizeof p, scratch_dir, "does-not-exist.safetensors");
    expect_load_fails(p, TEMPORAL_ERR_IO, __LINE__);
    expect_load_fails(scratch_dir, TEMPORAL_ERR_IO, __LINE__); /* a directory */
    if (geteuid() != 0) { /* root reads anything */
        path_join(p, sizeof p, scratch_dir, "unreadable.safetensors");
        CHECK(write_file(p, bytes, n));
        chmod(p, 0);
        expect_load_fails(p, TEMPORAL_ERR_IO, __LINE__);
    }
    path_join(p, sizeof p, scratch_dir, "empty.safetensors");
    CHECK(write_file(p, bytes, 0));
    expect_load_fails(p, TEMPORAL_ERR_FORMAT, __LINE__);
    path_join(p, sizeof p, scratch_dir, "truncated-header.safetensors");
    CHECK(write_file(p, bytes, 40));
    expect_load_fails(p, TEMPORAL_ERR_FORMAT, __LINE__);
    path_join(p, sizeof p, scratch_dir, "truncated-data.safetensors");
    CHECK(write_file(p, bytes, n - 100));
    expect_load_fails(p, TEMPORAL_ERR_FORMAT, __LINE__);
    path_join(p, sizeof p, scratch_dir, "not-safetensors.safetensors");
    CHECK(write_file(p, "hello, this is not a checkpoint at all", 38));
    expect_load_fails(p, TEMPORAL_ERR_FORMAT, __LINE__);
    { /* corrupt JSON header */
        unsigned char *c = (unsigned char *)malloc(n);
        memcpy(c, bytes, n);
        c[8] = '!';
        c[20] ^= 0x55;
        path_join(p, sizeof p, scratch_dir, "corrupt-header.safetensors");
        CHECK(write_file(p, c, n));
        expect_load_fails(p, TEMPORAL_ERR_FORMAT, __LINE__);
        /* a flipped bit in the tensor data: caught by the SHA-256 in the metadata */
        memcpy(c, bytes, n);
        c[n - 7] ^= 0x10;
        path_join(p, sizeof p, scratch_dir, "corrupt-data.safetensors");
        CHECK(write_file(p, c, n));
        expect_load_fails(p, TEMPORAL_ERR_FORMAT, __LINE__);
        /* header length pointing far past the end */
        memcpy(c, bytes, n);
        c[7] = 0x7f;
        path_join(p, sizeof p, scratch_dir, "huge-header.safetensors");
        CHECK(write_file(p, c, n));
        {
            temporal_status st = temporal_model_load(p, NULL, &m);
            CHECK(st == TEMPORAL_ERR_FORMAT || st == TEMPORAL_ERR_OUT_OF_MEMORY);
        }
        free(c);
    }
    /* Devices. */
    EXPECT_STATUS(temporal_model_load(model_path, "cpu", &m), TEMPORAL_OK);
    EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
    if (!temporal_cuda_available()) {
        EXPECT_STATUS(temporal_model_load(model_path, "cuda", &m), TEMPORAL_ERR_DEVICE);
        CHECK(m == 0);
        EXPECT_STATUS(temporal_model_load(model_path, "cuda:0", &m), TEMPORAL_ERR_DEVICE);
        { /* the message names what is missing */
            char msg[1024];
            temporal_last_error(msg, sizeof msg);
            CHECK(strstr(msg, "CUDA") != NULL || strstr(msg, "cuda") != NULL);
        }
    } else { /* a GPU: the device agrees with the CPU (header: ||a-b||/||b|| <= 1e-5) */
        float out[64];
        double num = 0, den = 0;
        int i;
        EXPECT_STATUS(temporal_model_load(model_path, "cuda", &m), TEMPORAL_OK);
        EXPECT_STATUS(predict_golden(m, out), TEMPORAL_OK);
        for (i = 0; i < g.B * g.C; i++) {
            num += ((double)out[i] - g.logits_masked[i]) * ((double)out[i] - g.logits_masked[i]);
            den += (double)g.logits_masked[i] * g.logits_masked[i];
        }
        CHECK(num <= 1e-10 * den);
        EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
    }
    {
        char dev[32];
        snprintf(dev, sizeof dev, "cuda:%d", temporal_cuda_device_count() + 2);
        EXPECT_STATUS(temporal_model_load(model_path, dev, &m), TEMPORAL_ERR_DEVICE);
        CHECK(m == 0);
        EXPECT_STATUS(temporal_model_load_memory(bytes, n, dev, &m), TEMPORAL_ERR_DEVICE);
        lo = temporal_load_options_default();
        lo.device = dev;
        EXPECT_STATUS(temporal_model_load_ex(model_path, &lo, &m), TEMPORAL_ERR_DEVICE);
    }
    EXPECT_STATUS(temporal_model_load(model_path, "cuda:x", &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_model_load(model_path, "cuda:-1", &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_model_load(model_path, "tpu", &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_model_load(model_path, "", &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_model_load(model_path, "CPU", &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    /* Load options. */
    lo = temporal_load_options_default();
    EXPECT_STATUS(temporal_model_load_ex(model_path, &lo, &m), TEMPORAL_OK);
    EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
    EXPECT_STATUS(temporal_model_load_ex(model_path, NULL, &m), TEMPORAL_OK);
    EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
    lo.num_heads = 4; /* divides D = 16: overrides the file's 2 */
    EXPECT_STATUS(temporal_model_load_ex(model_path, &lo, &m), TEMPORAL_OK);
    {
        temporal_model_config info = temporal_model_config_default();
        EXPECT_STATUS(temporal_model_info(m, &info), TEMPORAL_OK);
        CHECK(info.num_heads == 4);
    }
    EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
    lo.num_heads = 3;
    EXPECT_STATUS(temporal_model_load_ex(model_path, &lo, &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    lo.num_heads = -1;
    EXPECT_STATUS(temporal_model_load_ex(model_path, &lo, &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    lo = temporal_load_options_default();
    lo.struct_size = 4;
    EXPECT_STATUS(temporal_model_load_ex(model_path, &lo, &m), TEMPORAL_ERR_INVALID_ARGUMENT);

    /* From memory. */
    EXPECT_STATUS(temporal_model_load_memory(NULL, n, NULL, &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_model_load_memory(bytes, 0, NULL, &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_model_load_memory(bytes, n, NULL, NULL), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_model_load_memory(bytes, n - 100, NULL, &m), TEMPORAL_ERR_FORMAT);
    EXPECT_STATUS(temporal_model_load_memory(bytes, 30, NULL, &m), TEMPORAL_ERR_FORMAT);
    EXPECT_STATUS(temporal_model_load_memory(bytes, n, "gpu", &m), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_model_load_memory(bytes, SIZE_MAX, NULL, &m),
                  TEMPORAL_ERR_OUT_OF_MEMORY);
    EXPECT_STATUS(temporal_model_load_memory((const void *)(uintptr_t)0xdead0000, n, NULL, &m),
                  TEMPORAL_ERR_INTERNAL);
    EXPECT_STATUS(temporal_model_load_memory(bytes, n, NULL, &m), TEMPORAL_OK);
    {
        float out[64];
        EXPECT_STATUS(predict_golden(m, out), TEMPORAL_OK);
        CHECK(golden_maxdiff(out, g.logits_masked, (size_t)(g.B * g.C)) <= 1e-6);
        memset(bytes, 0, n); /* the library kept no reference to the buffer */
        EXPECT_STATUS(predict_golden(m, out), TEMPORAL_OK);
        CHECK(golden_maxdiff(out, g.logits_masked, (size_t)(g.B * g.C)) <= 1e-6);
    }
    EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
    free(bytes);
}

static void test_save_free(void) {
    temporal_model m = load_golden(), m2 = 0;
    char p[4096];
    float out[64];

    EXPECT_STATUS(temporal_model_save(m, NULL), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_model_save(m, ""), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_model_save(0, model_path), TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_STATUS(temporal_model_save(m, scratch_dir), TEMPORAL_ERR_IO); /* a directory */
    path_join(p, sizeof p, scratch_dir, "no/such/dir/x.safetensors");
    EXPECT_STATUS(temporal_model_save(m, p), TEMPORAL_ERR_IO);
    path_join(p, sizeof p, scratch_dir, "saved.safetensors");
    EXPECT_STATUS(temporal_model_save(m, p), TEMPORAL_OK);
    EXPECT_STATUS(temporal_model_load(p, NULL, &m2), TEMPORAL_OK);
    EXPECT_STATUS(predict_golden(m2, out), TEMPORAL_OK);
    CHECK(golden_maxdiff(out, g.logits_masked, (size_t)(g.B * g.C)) <= 1e-6);
    {
        char name[8];
        EXPECT_STATUS(temporal_model_class_name(m2, 2, name, sizeof name, NULL), TEMPORAL_OK);
        CHECK(strcmp(name, "jump") == 0);
    }
    /* free: 0, twice, never issued. */
    EXPECT_STATUS(temporal_model_free(0), TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_STATUS(temporal_model_free(m2), TEMPORAL_OK);
    EXPECT_STATUS(temporal_model_free(m2), TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_STATUS(temporal_model_free(0xffffffffffffffffull), TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_STATUS(temporal_model_save(m2, p), TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
    EXPECT_STATUS(predict_golden(m, out), TEMPORAL_ERR_BAD_HANDLE);
}

/* --- logging ------------------------------------------------------------------------------ */

static int log_calls, log_max_seen;
static void *log_user_seen;

static void log_fn(int level, const char *message, void *user) {
    log_calls++;
    if (level > log_max_seen) log_max_seen = level;
    log_user_seen = user;
    (void)message;
}

static void test_logging(void) {
    int tag;
    temporal_model m;
    EXPECT_STATUS(temporal_set_log_callback(log_fn, 0, NULL), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_set_log_callback(log_fn, 5, NULL), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_set_log_callback(log_fn, TEMPORAL_LOG_INFO, &tag), TEMPORAL_OK);
    m = load_golden();
    CHECK(log_calls >= 1 && log_max_seen <= TEMPORAL_LOG_INFO && log_user_seen == &tag);
    EXPECT_STATUS(temporal_set_log_callback(log_fn, TEMPORAL_LOG_DEBUG, &tag), TEMPORAL_OK);
    log_calls = 0;
    temporal_model_free(0); /* failures are logged at debug level */
    CHECK(log_calls == 1 && log_max_seen == TEMPORAL_LOG_DEBUG);
    EXPECT_STATUS(temporal_set_log_callback(NULL, 0, NULL), TEMPORAL_OK);
    log_calls = 0;
    temporal_model_free(0);
    EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
    CHECK(log_calls == 0);
}

/* --- concurrency ---------------------------------------------------------------------------- */

#define NTHREADS 8
#define NITER 40

typedef struct worker {
    temporal_model m;
    const float *want;
    int mismatches, errors, ok, bad_handle;
    volatile int *stop;
} worker;

static void *predict_worker(void *arg) {
    worker *w = (worker *)arg;
    float out[64];
    int i;
    size_t nl = (size_t)(g.B * g.C);
    for (i = 0; i < NITER; i++) {
        temporal_status st = predict_golden(w->m, out);
        if (st != TEMPORAL_OK) {
            w->errors++;
            continue;
        }
        if (memcmp(out, w->want, nl * sizeof(float)) != 0) w->mismatches++;
    }
    return NULL;
}

static void *racing_worker(void *arg) {
    worker *w = (worker *)arg;
    float out[64];
    while (!*w->stop) {
        temporal_status st = predict_golden(w->m, out);
        if (st == TEMPORAL_OK)
            w->ok++;
        else if (st == TEMPORAL_ERR_BAD_HANDLE)
            w->bad_handle++;
        else
            w->errors++;
        if (st == TEMPORAL_ERR_BAD_HANDLE && w->bad_handle > 3) break;
    }
    return NULL;
}

static void test_concurrency(void) {
    temporal_model m = load_golden();
    float serial[64];
    pthread_t th[NTHREADS];
    worker w[NTHREADS];
    int i, round;
    volatile int stop = 0;

    EXPECT_STATUS(predict_golden(m, serial), TEMPORAL_OK);
    memset(w, 0, sizeof w);
    for (i = 0; i < NTHREADS; i++) {
        w[i].m = m;
        w[i].want = serial;
        CHECK(pthread_create(&th[i], NULL, predict_worker, &w[i]) == 0);
    }
    for (i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK(w[i].errors == 0 && w[i].mismatches == 0);
    }
    EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);

    /* free racing with predicts: every call returns OK or BAD_HANDLE, nothing crashes. */
    for (round = 0; round < 5; round++) {
        m = load_golden();
        stop = 0;
        memset(w, 0, sizeof w);
        for (i = 0; i < NTHREADS; i++) {
            w[i].m = m;
            w[i].stop = &stop;
            CHECK(pthread_create(&th[i], NULL, racing_worker, &w[i]) == 0);
        }
        usleep(2000 + 3000 * round);
        EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
        usleep(2000);
        stop = 1;
        for (i = 0; i < NTHREADS; i++) {
            pthread_join(th[i], NULL);
            CHECK(w[i].errors == 0);
        }
        EXPECT_STATUS(temporal_model_free(m), TEMPORAL_ERR_BAD_HANDLE);
    }
}

static void *saver(void *arg) {
    temporal_model m = *(temporal_model *)arg;
    char p[4096];
    int i;
    path_join(p, sizeof p, scratch_dir, "concurrent-save.safetensors");
    for (i = 0; i < 5; i++) temporal_model_save(m, p);
    return NULL;
}

static void test_save_during_predict(void) {
    temporal_model m = load_golden();
    pthread_t th[4], s;
    worker w[4];
    float serial[64];
    int i;
    EXPECT_STATUS(predict_golden(m, serial), TEMPORAL_OK);
    memset(w, 0, sizeof w);
    CHECK(pthread_create(&s, NULL, saver, &m) == 0);
    for (i = 0; i < 4; i++) {
        w[i].m = m;
        w[i].want = serial;
        CHECK(pthread_create(&th[i], NULL, predict_worker, &w[i]) == 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(w[i].errors == 0 && w[i].mismatches == 0);
    }
    pthread_join(s, NULL);
    EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
}

int main(int argc, char **argv) {
    char case_path[4096];
    if (argc != 3) {
        fprintf(stderr, "usage: %s DATA_DIR SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    data_dir = argv[1];
    scratch_dir = argv[2];
    make_dirs(scratch_dir);
    path_join(model_path, sizeof model_path, data_dir, "small.safetensors");
    path_join(case_path, sizeof case_path, data_dir, "small.case.bin");
    if (!golden_load(case_path, &g)) {
        fprintf(stderr, "cannot read %s\n", case_path);
        return 1;
    }
    test_library();
    test_last_error();
    test_create();
    test_info_and_names();
    test_golden();
    test_precision();
    test_predict_errors();
    test_load_errors();
    test_save_free();
    test_logging();
    test_concurrency();
    test_save_during_predict();
    golden_free(&g);
    printf("%d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
