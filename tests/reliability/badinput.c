/* The bad-input matrix in C: every hostile argument class of issue 8 against every function it
 * applies to. Each case checks the documented status (include/temporal.h) and that the thread's
 * last-error message names the problem; the process must survive all of them. With
 * --repeat N the whole matrix runs N more times and the resident set may not grow (leaks);
 * under valgrind/ASan (run.sh --full) the same program is checked for leaks directly.
 *
 *   badinput DATA_DIR SCRATCH_DIR [--repeat N]
 *
 * DATA_DIR: tests/data (small.safetensors, F = 16, 3 classes). SCRATCH_DIR: writable. */
#include "rel.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define WILD ((void *)(uintptr_t)0xdead0000)

static const char *data_dir, *scratch;
static char ckpt[PATH_MAX];
static unsigned char *ckpt_bytes;
static size_t ckpt_len;

enum { F = 16, B = 2, T = 5, NC = 3 };

static temporal_model load_ok(void) {
    temporal_model m = 0;
    if (temporal_model_load(ckpt, NULL, &m) != TEMPORAL_OK) {
        char msg[512];
        temporal_last_error(msg, sizeof msg);
        fprintf(stderr, "cannot load %s: %s\n", ckpt, msg);
        exit(1);
    }
    return m;
}

/* Writes a variant of the checkpoint and expects load (from the file and from memory) to fail. */
static void bad_file_at(const char *name, const unsigned char *data, size_t n, temporal_status want,
                     const char *needle, int line) {
    char p[PATH_MAX];
    temporal_model m = 42;
    rel_join(p, sizeof p, scratch, name);
    CHECK(rel_write(p, data, n));
    if (!rel_expect(temporal_model_load(p, NULL, &m), want, needle, name, __FILE__, line))
        return;
    CHECK(m == 0);
    if (n > 0) {
        m = 42;
        rel_expect(temporal_model_load_memory(data, n, NULL, &m), want, needle, name, __FILE__,
                   line);
        CHECK(m == 0);
    }
    unlink(p);
}

#define bad_file(name, data, n, want, needle) bad_file_at(name, data, n, want, needle, __LINE__)

static void st_header_len(unsigned char *c, uint64_t v) {
    int i;
    for (i = 0; i < 8; i++) c[i] = (unsigned char)(v >> (8 * i));
}

static void test_null_and_wild_pointers(void) {
    temporal_model m = load_ok(), out = 7;
    temporal_model_config cfg = rel_small_config(F);
    float x[B * T * F], o[B * NC], fw[B * T];
    int32_t len[B] = {T, 2};
    const char *names[NC] = {"a", "b", "c"};
    char buf[64];
    size_t n;
    temporal_load_options lo = temporal_load_options_default();
    rel_fill(x, B * T * F, 1);

    /* NULL */
    EXPECT(temporal_model_create(NULL, 1, &out), TEMPORAL_ERR_INVALID_ARGUMENT, "cfg is NULL");
    EXPECT(temporal_model_create(&cfg, 1, NULL), TEMPORAL_ERR_INVALID_ARGUMENT, "out is NULL");
    EXPECT(temporal_model_load(NULL, NULL, &out), TEMPORAL_ERR_INVALID_ARGUMENT, "path is NULL");
    EXPECT(temporal_model_load(ckpt, NULL, NULL), TEMPORAL_ERR_INVALID_ARGUMENT, "out is NULL");
    EXPECT(temporal_model_load_ex(NULL, NULL, &out), TEMPORAL_ERR_INVALID_ARGUMENT, "path");
    EXPECT(temporal_model_load_memory(NULL, 100, NULL, &out), TEMPORAL_ERR_INVALID_ARGUMENT,
           "data is NULL");
    EXPECT(temporal_model_load_memory(ckpt_bytes, ckpt_len, NULL, NULL),
           TEMPORAL_ERR_INVALID_ARGUMENT, "out is NULL");
    EXPECT(temporal_model_save(m, NULL), TEMPORAL_ERR_INVALID_ARGUMENT, "path is NULL");
    EXPECT(temporal_model_info(m, NULL), TEMPORAL_ERR_INVALID_ARGUMENT, "out is NULL");
    EXPECT(temporal_model_class_name(m, 0, NULL, 8, &n), TEMPORAL_ERR_INVALID_ARGUMENT,
           "buf is NULL");
    EXPECT(temporal_model_set_class_names(m, NULL, NC), TEMPORAL_ERR_INVALID_ARGUMENT,
           "names is NULL");
    {
        const char *with_null[NC] = {"a", NULL, "c"};
        EXPECT(temporal_model_set_class_names(m, with_null, NC), TEMPORAL_ERR_INVALID_ARGUMENT,
               "names[1] is NULL");
    }
    EXPECT(temporal_predict(m, NULL, B, T, F, NULL, NULL, o, B * NC, NULL, 0),
           TEMPORAL_ERR_INVALID_ARGUMENT, "features is NULL");
    EXPECT(temporal_predict(m, x, B, T, F, NULL, NULL, NULL, B * NC, NULL, 0),
           TEMPORAL_ERR_INVALID_ARGUMENT, "out is NULL");
    EXPECT(temporal_cuda_device_name(0, NULL, 8, &n), TEMPORAL_ERR_INVALID_ARGUMENT, "NULL");
    /* NULL where the header allows it: defaults. */
    EXPECT(temporal_predict(m, x, B, T, F, NULL, NULL, o, B * NC, NULL, 0), TEMPORAL_OK, NULL);
    EXPECT(temporal_model_class_name(m, 0, NULL, 0, NULL), TEMPORAL_OK, NULL);
    CHECK(temporal_last_error(NULL, 0) > 0);

    /* Unmapped (wild) pointers: TEMPORAL_ERR_INTERNAL naming the address. Not under valgrind
     * (sanitize.sh sets REL_NO_WILD): its signal frames break the Go runtime's unwinding of the
     * recovered fault ("unknown caller pc"), which native runs and ASan runs do not. */
    if (getenv("REL_NO_WILD") != NULL) goto still_works;
    EXPECT(temporal_model_create((const temporal_model_config *)WILD, 1, &out),
           TEMPORAL_ERR_INTERNAL, "0xdead0000");
    EXPECT(temporal_model_create(&cfg, 1, (temporal_model *)WILD), TEMPORAL_ERR_INTERNAL,
           "0xdead0000");
    EXPECT(temporal_model_load((const char *)WILD, NULL, &out), TEMPORAL_ERR_INTERNAL,
           "0xdead0000");
    EXPECT(temporal_model_load(ckpt, (const char *)WILD, &out), TEMPORAL_ERR_INTERNAL,
           "0xdead0000");
    EXPECT(temporal_model_load_ex(ckpt, (const temporal_load_options *)WILD, &out),
           TEMPORAL_ERR_INTERNAL, "0xdead0000");
    lo.device = (const char *)WILD;
    EXPECT(temporal_model_load_ex(ckpt, &lo, &out), TEMPORAL_ERR_INTERNAL, "0xdead0000");
    EXPECT(temporal_model_load_memory(WILD, ckpt_len, NULL, &out), TEMPORAL_ERR_INTERNAL,
           "0xdead0000");
    EXPECT(temporal_model_save(m, (const char *)WILD), TEMPORAL_ERR_INTERNAL, "0xdead0000");
    EXPECT(temporal_model_info(m, (temporal_model_config *)WILD), TEMPORAL_ERR_INTERNAL,
           "0xdead0000");
    EXPECT(temporal_model_class_name(m, 0, (char *)WILD, 8, &n), TEMPORAL_ERR_INTERNAL,
           "0xdead0000");
    EXPECT(temporal_model_class_name(m, 0, buf, sizeof buf, (size_t *)WILD),
           TEMPORAL_ERR_INTERNAL, "0xdead0000");
    EXPECT(temporal_model_set_class_names(m, (const char *const *)WILD, NC),
           TEMPORAL_ERR_INTERNAL, "0xdead0000");
    {
        const char *wild_name[NC] = {"a", (const char *)WILD, "c"};
        EXPECT(temporal_model_set_class_names(m, wild_name, NC), TEMPORAL_ERR_INTERNAL,
               "0xdead0000");
    }
    EXPECT(temporal_predict(m, (const float *)WILD, B, T, F, NULL, NULL, o, B * NC, NULL, 0),
           TEMPORAL_ERR_INTERNAL, "0xdead0000");
    EXPECT(temporal_predict(m, x, B, T, F, (const int32_t *)WILD, NULL, o, B * NC, NULL, 0),
           TEMPORAL_ERR_INTERNAL, "0xdead0000");
    EXPECT(temporal_predict(m, x, B, T, F, NULL, (const temporal_predict_options *)WILD, o,
                            B * NC, NULL, 0),
           TEMPORAL_ERR_INTERNAL, "0xdead0000");
    EXPECT(temporal_predict(m, x, B, T, F, NULL, NULL, (float *)WILD, B * NC, NULL, 0),
           TEMPORAL_ERR_INTERNAL, "0xdead0000");
    EXPECT(temporal_predict(m, x, B, T, F, NULL, NULL, o, B * NC, (float *)WILD, B * T),
           TEMPORAL_ERR_INTERNAL, "0xdead0000");
    EXPECT(temporal_cuda_memory(0, (uint64_t *)WILD, NULL), TEMPORAL_ERR_DEVICE, NULL);
    /* A buffer that runs into an unmapped page. */
    {
        long page = sysconf(_SC_PAGESIZE);
        unsigned char *r = (unsigned char *)mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
                                                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(r != MAP_FAILED);
        if (r != MAP_FAILED) {
            float *edge = (float *)(r + page) - (B * T * F) / 2;
            CHECK(mprotect(r + page, (size_t)page, PROT_NONE) == 0);
            memcpy(edge, x, (B * T * F) / 2 * sizeof(float));
            EXPECT(temporal_predict(m, edge, B, T, F, NULL, NULL, o, B * NC, NULL, 0),
                   TEMPORAL_ERR_INTERNAL, "fault at address");
            /* a path string without a NUL before the unmapped page */
            memset(r + page - 16, 'a', 16);
            EXPECT(temporal_model_load((const char *)(r + page - 16), NULL, &out),
                   TEMPORAL_ERR_INTERNAL, "fault at address");
            munmap(r, (size_t)page * 2);
        }
    }
still_works:
    /* Everything still works. */
    EXPECT(temporal_predict(m, x, B, T, F, len, NULL, o, B * NC, fw, B * T), TEMPORAL_OK, NULL);
    EXPECT(temporal_model_set_class_names(m, names, NC), TEMPORAL_OK, NULL);
    EXPECT(temporal_model_free(m), TEMPORAL_OK, NULL);
}

static void test_handles(void) {
    temporal_model m = load_ok(), freed = load_ok();
    float x[B * T * F], o[B * NC];
    temporal_model_config info = temporal_model_config_default();
    const char *names[NC] = {"a", "b", "c"};
    char p[PATH_MAX];
    temporal_model bad[5];
    int i;
    rel_fill(x, B * T * F, 2);
    rel_join(p, sizeof p, scratch, "handle-save.safetensors");
    EXPECT(temporal_model_free(freed), TEMPORAL_OK, NULL);
    bad[0] = 0;
    bad[1] = freed;
    bad[2] = 12345;               /* never issued */
    bad[3] = m ^ 0x10;            /* never issued, near a live one */
    bad[4] = (uint32_t)m;         /* truncated to 32 bits (a ctypes default) */
    for (i = 0; i < 5; i++) {
        const char *needle = i == 0 ? "handle 0" : "not a live model";
        EXPECT(temporal_predict(bad[i], x, B, T, F, NULL, NULL, o, B * NC, NULL, 0),
               TEMPORAL_ERR_BAD_HANDLE, needle);
        EXPECT(temporal_model_save(bad[i], p), TEMPORAL_ERR_BAD_HANDLE, needle);
        EXPECT(temporal_model_info(bad[i], &info), TEMPORAL_ERR_BAD_HANDLE, needle);
        EXPECT(temporal_model_class_name(bad[i], 0, NULL, 0, NULL), TEMPORAL_ERR_BAD_HANDLE,
               needle);
        EXPECT(temporal_model_set_class_names(bad[i], names, NC), TEMPORAL_ERR_BAD_HANDLE,
               needle);
        EXPECT(temporal_model_free(bad[i]), TEMPORAL_ERR_BAD_HANDLE, needle);
    }
    CHECK(access(p, F_OK) != 0);
    EXPECT(temporal_model_free(m), TEMPORAL_OK, NULL);
    EXPECT(temporal_model_free(m), TEMPORAL_ERR_BAD_HANDLE, "not a live model");
}

static void test_dimensions(void) {
    temporal_model m = load_ok(), out = 9;
    float x[B * T * F], o[B * NC], fw[B * T];
    int32_t len[B];
    temporal_predict_options po;
    temporal_model_config c;
    size_t nl = B * NC;
    rel_fill(x, B * T * F, 3);

    /* zero / negative */
    EXPECT(temporal_predict(m, x, 0, T, F, NULL, NULL, o, nl, NULL, 0),
           TEMPORAL_ERR_INVALID_ARGUMENT, "batch = 0");
    EXPECT(temporal_predict(m, x, -1, T, F, NULL, NULL, o, nl, NULL, 0),
           TEMPORAL_ERR_INVALID_ARGUMENT, "batch = -1");
    EXPECT(temporal_predict(m, x, B, 0, F, NULL, NULL, o, nl, NULL, 0),
           TEMPORAL_ERR_INVALID_ARGUMENT, "frames = 0");
    EXPECT(temporal_predict(m, x, B, INT64_MIN, F, NULL, NULL, o, nl, NULL, 0),
           TEMPORAL_ERR_INVALID_ARGUMENT, "frames");
    EXPECT(temporal_predict(m, x, B, T, -F, NULL, NULL, o, nl, NULL, 0),
           TEMPORAL_ERR_INVALID_ARGUMENT, "feature_dim = -16");
    /* huge / overflowing: refused before anything is read (x is tiny) */
    EXPECT(temporal_predict(m, x, B, T, (int64_t)1 << 40, NULL, NULL, o, nl, NULL, 0),
           TEMPORAL_ERR_SHAPE, "feature_dim");
    EXPECT(temporal_predict(m, x, (int64_t)1 << 40, (int64_t)1 << 40, F, NULL, NULL, o, 64,
                            NULL, 0),
           TEMPORAL_ERR_OUT_OF_MEMORY, "limits");
    EXPECT(temporal_predict(m, x, INT64_MAX, INT64_MAX, F, NULL, NULL, o, 64, NULL, 0),
           TEMPORAL_ERR_OUT_OF_MEMORY, "limits");
    EXPECT(temporal_predict(m, x, (int64_t)1 << 21, 1, F, NULL, NULL, o, SIZE_MAX, NULL, 0),
           TEMPORAL_ERR_OUT_OF_MEMORY, "limits");
    EXPECT(temporal_predict(m, x, 1, (int64_t)1 << 21, F, NULL, NULL, o, SIZE_MAX, NULL, 0),
           TEMPORAL_ERR_OUT_OF_MEMORY, "limits");
    /* output buffers too small */
    EXPECT(temporal_predict(m, x, B, T, F, NULL, NULL, o, nl - 1, NULL, 0), TEMPORAL_ERR_SHAPE,
           "out_len");
    EXPECT(temporal_predict(m, x, B, T, F, NULL, NULL, o, 0, NULL, 0), TEMPORAL_ERR_SHAPE,
           "out_len");
    EXPECT(temporal_predict(m, x, B, T, F, NULL, NULL, o, nl, fw, B * T - 1), TEMPORAL_ERR_SHAPE,
           "frame_weights_len");
    /* lengths beyond T, zero, negative, INT32_MAX */
    len[0] = T;
    len[1] = T + 1;
    EXPECT(temporal_predict(m, x, B, T, F, len, NULL, o, nl, NULL, 0),
           TEMPORAL_ERR_INVALID_ARGUMENT, "lengths[1] = 6");
    len[1] = 0;
    EXPECT(temporal_predict(m, x, B, T, F, len, NULL, o, nl, NULL, 0),
           TEMPORAL_ERR_INVALID_ARGUMENT, "lengths[1] = 0");
    len[0] = -7;
    EXPECT(temporal_predict(m, x, B, T, F, len, NULL, o, nl, NULL, 0),
           TEMPORAL_ERR_INVALID_ARGUMENT, "lengths[0] = -7");
    len[0] = INT32_MAX;
    EXPECT(temporal_predict(m, x, B, T, F, len, NULL, o, nl, NULL, 0),
           TEMPORAL_ERR_INVALID_ARGUMENT, "lengths[0]");
    /* NaN and Inf in the features: TEMPORAL_ERR_NUMERIC naming the element */
    {
        float y[B * T * F];
        memcpy(y, x, sizeof y);
        y[1 * T * F + 2 * F + 3] = NAN;
        EXPECT(temporal_predict(m, y, B, T, F, NULL, NULL, o, nl, NULL, 0), TEMPORAL_ERR_NUMERIC,
               "clip 1, frame 2, feature 3");
        y[1 * T * F + 2 * F + 3] = INFINITY;
        EXPECT(temporal_predict(m, y, B, T, F, NULL, NULL, o, nl, NULL, 0), TEMPORAL_ERR_NUMERIC,
               "+Inf");
        memcpy(y, x, sizeof y);
        y[0] = -INFINITY;
        EXPECT(temporal_predict(m, y, B, T, F, NULL, NULL, o, nl, NULL, 0), TEMPORAL_ERR_NUMERIC,
               "features[0]");
        /* in a padding frame too (every element must be finite, header) */
        memcpy(y, x, sizeof y);
        y[1 * T * F + 4 * F] = NAN;
        len[0] = T;
        len[1] = 2;
        EXPECT(temporal_predict(m, y, B, T, F, len, NULL, o, nl, NULL, 0), TEMPORAL_ERR_NUMERIC,
               "NaN");
    }
    /* options */
    po = temporal_predict_options_default();
    po.struct_size = 3;
    EXPECT(temporal_predict(m, x, B, T, F, NULL, &po, o, nl, NULL, 0),
           TEMPORAL_ERR_INVALID_ARGUMENT, "struct_size = 3");
    po = temporal_predict_options_default();
    po.padding = -1;
    EXPECT(temporal_predict(m, x, B, T, F, NULL, &po, o, nl, NULL, 0),
           TEMPORAL_ERR_INVALID_ARGUMENT, "padding = -1");
    po = temporal_predict_options_default();
    po.output = 2;
    EXPECT(temporal_predict(m, x, B, T, F, NULL, &po, o, nl, NULL, 0),
           TEMPORAL_ERR_INVALID_ARGUMENT, "output = 2");
    po = temporal_predict_options_default();
    po.tta = 5;
    EXPECT(temporal_predict(m, x, B, T, F, NULL, &po, o, nl, NULL, 0),
           TEMPORAL_ERR_INVALID_ARGUMENT, "tta = 5");
    /* create: zero / negative / huge sizes */
    c = rel_small_config(F);
    c.feature_dim = 0;
    EXPECT(temporal_model_create(&c, 1, &out), TEMPORAL_ERR_INVALID_ARGUMENT, "feature");
    CHECK(out == 0);
    c = rel_small_config(F);
    c.hidden_dim = -8;
    EXPECT(temporal_model_create(&c, 1, &out), TEMPORAL_ERR_INVALID_ARGUMENT, "hidden");
    c = rel_small_config(F);
    c.num_layers = INT32_MAX;
    EXPECT(temporal_model_create(&c, 1, &out), TEMPORAL_ERR_INVALID_ARGUMENT, "layers");
    c = rel_small_config(F);
    c.hidden_dim = 1 << 20;
    c.feature_dim = 1 << 20;
    EXPECT(temporal_model_create(&c, 1, &out), TEMPORAL_ERR_INVALID_ARGUMENT, "limit");
    c = rel_small_config(F);
    c.num_heads = 3;
    EXPECT(temporal_model_create(&c, 1, &out), TEMPORAL_ERR_INVALID_ARGUMENT, "heads");
    c = rel_small_config(F);
    c.num_classes = 1;
    EXPECT(temporal_model_create(&c, 1, &out), TEMPORAL_ERR_INVALID_ARGUMENT, "classes");
    c = rel_small_config(F);
    c.num_classifier_widths = 9;
    EXPECT(temporal_model_create(&c, 1, &out), TEMPORAL_ERR_INVALID_ARGUMENT,
           "num_classifier_widths = 9");
    c = rel_small_config(F);
    c.dropout = NAN;
    EXPECT(temporal_model_create(&c, 1, &out), TEMPORAL_ERR_INVALID_ARGUMENT, "dropout");
    c = rel_small_config(F);
    c.bidirectional = 2;
    EXPECT(temporal_model_create(&c, 1, &out), TEMPORAL_ERR_INVALID_ARGUMENT, "bidirectional");
    c = rel_small_config(F);
    c.struct_size = 8;
    EXPECT(temporal_model_create(&c, 1, &out), TEMPORAL_ERR_INVALID_ARGUMENT, "struct_size = 8");
    /* library settings */
    EXPECT(temporal_set_num_threads(-1), TEMPORAL_ERR_INVALID_ARGUMENT, "n = -1");
    EXPECT(temporal_set_num_threads(1 << 20), TEMPORAL_ERR_INVALID_ARGUMENT, "4096");
    EXPECT(temporal_set_log_callback((temporal_log_fn)(uintptr_t)1, 9, NULL),
           TEMPORAL_ERR_INVALID_ARGUMENT, "max_level");
    /* class names */
    {
        const char *two[2] = {"a", "b"};
        char longname[5000];
        const char *three[NC];
        memset(longname, 'x', sizeof longname - 1);
        longname[sizeof longname - 1] = '\0';
        three[0] = "a";
        three[1] = longname;
        three[2] = "c";
        EXPECT(temporal_model_set_class_names(m, two, 2), TEMPORAL_ERR_INVALID_ARGUMENT, "2");
        EXPECT(temporal_model_set_class_names(m, two, -1), TEMPORAL_ERR_INVALID_ARGUMENT,
               "n = -1");
        EXPECT(temporal_model_set_class_names(m, three, NC), TEMPORAL_ERR_INVALID_ARGUMENT,
               "longer than");
        EXPECT(temporal_model_class_name(m, NC, NULL, 0, NULL), TEMPORAL_ERR_INVALID_ARGUMENT,
               "index = 3");
        EXPECT(temporal_model_class_name(m, -1, NULL, 0, NULL), TEMPORAL_ERR_INVALID_ARGUMENT,
               "index = -1");
    }
    /* info with a too-small struct */
    {
        temporal_model_config info = temporal_model_config_default();
        info.struct_size = 4;
        EXPECT(temporal_model_info(m, &info), TEMPORAL_ERR_INVALID_ARGUMENT, "struct_size = 4");
    }
    /* load_memory sizes */
    EXPECT(temporal_model_load_memory(ckpt_bytes, 0, NULL, &out), TEMPORAL_ERR_INVALID_ARGUMENT,
           "len is 0");
    EXPECT(temporal_model_load_memory(ckpt_bytes, SIZE_MAX, NULL, &out),
           TEMPORAL_ERR_OUT_OF_MEMORY, "exceeds");
    /* device strings */
    EXPECT(temporal_model_load(ckpt, "cuda:", &out), TEMPORAL_ERR_INVALID_ARGUMENT, "cuda:");
    EXPECT(temporal_model_load(ckpt, "cuda:99999999999999999999999", &out),
           TEMPORAL_ERR_INVALID_ARGUMENT, "cuda:9999");
    EXPECT(temporal_model_load(ckpt, "cpu\xff", &out), TEMPORAL_ERR_INVALID_ARGUMENT, "device");
    EXPECT(temporal_model_free(m), TEMPORAL_OK, NULL);
}

static void test_paths(void) {
    temporal_model m = load_ok(), out = 3;
    char p[PATH_MAX], q[PATH_MAX];
    char *longp;
    size_t i;

    /* non-UTF-8 names are fine (bytes, as the OS sees them) */
    rel_join(p, sizeof p, scratch, "caf\xe9-\xff\xfe.safetensors");
    EXPECT(temporal_model_save(m, p), TEMPORAL_OK, NULL);
    EXPECT(temporal_model_load(p, NULL, &out), TEMPORAL_OK, NULL);
    EXPECT(temporal_model_free(out), TEMPORAL_OK, NULL);
    unlink(p);
    rel_join(p, sizeof p, scratch, "missing-\xc3\x28.safetensors");
    EXPECT(temporal_model_load(p, NULL, &out), TEMPORAL_ERR_IO, "no such file");
    /* longer than PATH_MAX, and a component longer than NAME_MAX */
    longp = (char *)malloc(PATH_MAX + 200);
    strcpy(longp, scratch);
    for (i = strlen(longp); i < PATH_MAX + 100; i++) longp[i] = (i % 50 == 0) ? '/' : 'd';
    longp[i] = '\0';
    /* (the message is the operation and the path; past 1023 bytes the cause is cut off) */
    EXPECT(temporal_model_load(longp, NULL, &out), TEMPORAL_ERR_IO, "load checkpoint: open");
    EXPECT(temporal_model_save(m, longp), TEMPORAL_ERR_IO, "temporal_model_save: write");
    strcpy(longp, scratch);
    strcat(longp, "/");
    for (i = strlen(longp); i < strlen(scratch) + 400; i++) longp[i] = 'n';
    longp[i] = '\0';
    EXPECT(temporal_model_load(longp, NULL, &out), TEMPORAL_ERR_IO, "file name too long");
    EXPECT(temporal_model_save(m, longp), TEMPORAL_ERR_IO, "too long");
    free(longp);
    /* directories */
    EXPECT(temporal_model_load(scratch, NULL, &out), TEMPORAL_ERR_IO, "not a regular file");
    EXPECT(temporal_model_save(m, scratch), TEMPORAL_ERR_IO, "directory");
    rel_join(p, sizeof p, scratch, "");
    EXPECT(temporal_model_save(m, p), TEMPORAL_ERR_INVALID_ARGUMENT, "not a file path");
    /* unreadable / uncreatable (root ignores permissions: a path under a regular file) */
    EXPECT(temporal_model_load("/etc/passwd/x.safetensors", NULL, &out), TEMPORAL_ERR_IO,
           "not a directory");
    EXPECT(temporal_model_save(m, "/etc/passwd/x.safetensors"), TEMPORAL_ERR_IO,
           "not a directory");
    rel_join(p, sizeof p, scratch, "no/such/dir/x.safetensors");
    EXPECT(temporal_model_save(m, p), TEMPORAL_ERR_IO, "no such file");
    /* special files are not read (no hang on /dev/zero, no read of a FIFO) */
    EXPECT(temporal_model_load("/dev/zero", NULL, &out), TEMPORAL_ERR_IO, "not a regular file");
    EXPECT(temporal_model_load("/dev/null", NULL, &out), TEMPORAL_ERR_IO, "not a regular file");
    rel_join(q, sizeof q, scratch, "fifo");
    unlink(q);
    if (mkfifo(q, 0600) == 0) {
        EXPECT(temporal_model_load(q, NULL, &out), TEMPORAL_ERR_IO, "not a regular file");
        unlink(q);
    }
    /* a path the library cannot even open because it has an embedded NUL: it sees the prefix */
    EXPECT(temporal_model_load("\0hidden", NULL, &out), TEMPORAL_ERR_INVALID_ARGUMENT, "empty");
    CHECK(out == 0);
    EXPECT(temporal_model_free(m), TEMPORAL_OK, NULL);
}

static void test_files(void) {
    unsigned char *c = (unsigned char *)malloc(ckpt_len + 64);
    uint64_t hl = 0;
    int i;
    for (i = 0; i < 8; i++) hl |= (uint64_t)ckpt_bytes[i] << (8 * i);

    /* truncated */
    bad_file("empty.safetensors", ckpt_bytes, 0, TEMPORAL_ERR_FORMAT, "too short");
    bad_file("seven.safetensors", ckpt_bytes, 7, TEMPORAL_ERR_FORMAT, "too short");
    bad_file("in-header.safetensors", ckpt_bytes, 8 + (size_t)hl / 2, TEMPORAL_ERR_FORMAT,
             "runs past the end");
    bad_file("half.safetensors", ckpt_bytes, ckpt_len / 2, TEMPORAL_ERR_FORMAT, NULL);
    bad_file("minus-one.safetensors", ckpt_bytes, ckpt_len - 1, TEMPORAL_ERR_FORMAT, NULL);
    /* header-corrupted */
    memcpy(c, ckpt_bytes, ckpt_len);
    c[8] = '[';
    bad_file("json-array.safetensors", c, ckpt_len, TEMPORAL_ERR_FORMAT, "header");
    memcpy(c, ckpt_bytes, ckpt_len);
    c[9] = 0x01; /* a control character right after the opening brace */
    bad_file("json-garbage.safetensors", c, ckpt_len, TEMPORAL_ERR_FORMAT, "header");
    memcpy(c, ckpt_bytes, ckpt_len);
    st_header_len(c, 0);
    bad_file("hlen-zero.safetensors", c, ckpt_len, TEMPORAL_ERR_FORMAT, NULL);
    memcpy(c, ckpt_bytes, ckpt_len);
    st_header_len(c, UINT64_MAX);
    bad_file("hlen-max.safetensors", c, ckpt_len, TEMPORAL_ERR_FORMAT, "runs past the end");
    memcpy(c, ckpt_bytes, ckpt_len);
    st_header_len(c, hl - 1); /* the header ends one byte early */
    bad_file("hlen-short.safetensors", c, ckpt_len, TEMPORAL_ERR_FORMAT, "header");
    { /* an offset moved: "data_offsets":[0, → [4, */
        char *s;
        memcpy(c, ckpt_bytes, ckpt_len);
        c[8 + hl - 1] = '\0';
        s = strstr((char *)c + 8, "\"data_offsets\":[0,");
        c[8 + hl - 1] = ckpt_bytes[8 + hl - 1];
        CHECK(s != NULL);
        if (s != NULL) {
            s[16] = '4';
            bad_file("offsets.safetensors", c, ckpt_len, TEMPORAL_ERR_FORMAT, "bytes for F32");
        }
        memcpy(c, ckpt_bytes, ckpt_len);
        c[8 + hl - 1] = '\0';
        s = strstr((char *)c + 8, "\"F32\"");
        c[8 + hl - 1] = ckpt_bytes[8 + hl - 1];
        CHECK(s != NULL);
        if (s != NULL) {
            memcpy(s, "\"F16\"", 5);
            bad_file("dtype.safetensors", c, ckpt_len, TEMPORAL_ERR_FORMAT, "F16");
        }
    }
    /* data-corrupted: caught by the stored SHA-256 */
    memcpy(c, ckpt_bytes, ckpt_len);
    c[ckpt_len - 5] ^= 0x01;
    bad_file("bitflip.safetensors", c, ckpt_len, TEMPORAL_ERR_FORMAT, "SHA-256");
    memcpy(c, ckpt_bytes, ckpt_len);
    c[8 + hl + 3] ^= 0x80;
    bad_file("bitflip-first.safetensors", c, ckpt_len, TEMPORAL_ERR_FORMAT, "SHA-256");
    /* trailing bytes after the data */
    memcpy(c, ckpt_bytes, ckpt_len);
    memset(c + ckpt_len, 0, 64);
    bad_file("trailing.safetensors", c, ckpt_len + 64, TEMPORAL_ERR_FORMAT, NULL);
    free(c);
    /* oversized header: a sparse file whose header claims 101 MiB (limit 100 MiB) */
    {
        char p[PATH_MAX];
        unsigned char h[8];
        int fd;
        temporal_model out = 1;
        rel_join(p, sizeof p, scratch, "huge-header.safetensors");
        fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, 0644);
        CHECK(fd >= 0);
        if (fd >= 0) {
            st_header_len(h, (uint64_t)101 << 20);
            CHECK(write(fd, h, 8) == 8);
            CHECK(ftruncate(fd, ((off_t)102) << 20) == 0);
            close(fd);
            EXPECT(temporal_model_load(p, NULL, &out), TEMPORAL_ERR_OUT_OF_MEMORY,
                   "exceeds the limit");
            CHECK(out == 0);
            unlink(p);
        }
    }
}

static void run_matrix(void) {
    test_null_and_wild_pointers();
    test_handles();
    test_dimensions();
    test_paths();
    test_files();
}

int main(int argc, char **argv) {
    int repeat = 0, i;
    long rss0 = 0, rss1;
    if (argc < 3) {
        fprintf(stderr, "usage: %s DATA_DIR SCRATCH_DIR [--repeat N]\n", argv[0]);
        return 2;
    }
    data_dir = argv[1];
    scratch = argv[2];
    if (argc >= 5 && strcmp(argv[3], "--repeat") == 0) repeat = atoi(argv[4]);
    rel_mkdirs(scratch);
    rel_join(ckpt, sizeof ckpt, data_dir, "small.safetensors");
    ckpt_bytes = rel_read(ckpt, &ckpt_len);
    if (ckpt_bytes == NULL) {
        fprintf(stderr, "cannot read %s\n", ckpt);
        return 2;
    }
    run_matrix();
    if (repeat > 0) {
        for (i = 0; i < repeat / 5 + 1; i++) run_matrix(); /* warm up */
        rss0 = rel_rss_kib();
        for (i = 0; i < repeat; i++) run_matrix();
        rss1 = rel_rss_kib();
        printf("badinput: RSS %ld KiB -> %ld KiB over %d more runs of the matrix\n", rss0, rss1,
               repeat);
        CHECK(rss1 - rss0 < 16 * 1024);
    }
    free(ckpt_bytes);
    return rel_summary("badinput");
}
