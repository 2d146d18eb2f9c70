/* Memory footprint of inference (issue 5): the peak RSS of a C host that loads a default-config
 * checkpoint and runs B=1 predicts must stay within 1.2x the weights' size (weights read straight
 * into their final buffers: no whole-file buffer, no per-tensor copies, no gradient or optimizer
 * buffers for an inference model).
 *
 *   test_rss [SCRATCH_DIR]
 *
 * The parent creates a default-config model, saves it to a temporary file in SCRATCH_DIR (default
 * $TMPDIR or /tmp), frees it, and re-executes itself (fork + exec of /proc/self/exe) once per mode,
 * so the measuring process never held a created model:
 *
 *   --child-file PATH    temporal_model_load(PATH); asserts peak VmHWM <= 1.2 x weights.
 *   --child-memory PATH  reads PATH into a malloc'd buffer (the caller's copy of the file, which
 *                        stays resident), then temporal_model_load_memory; asserts peak VmHWM <=
 *                        file bytes + 1.2 x weights, i.e. the library adds what a file load does.
 *
 * Each child prints the weights' size, VmRSS before load, VmHWM/VmRSS after load, VmHWM after 20
 * predicts of one clip (T=64) and the ratio peak / weights. A memory bound, not a time bound. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "temporal.h"

#define LIMIT_RATIO 1.2
#define FRAMES 64
#ifndef PREDICTS
#define PREDICTS 20
#endif

static void fail_status(const char *what, temporal_status st) {
    char msg[1024];
    temporal_last_error(msg, sizeof msg);
    fprintf(stderr, "test_rss: %s returned %d (%s): %s\n", what, (int)st,
            temporal_status_string(st), msg);
    exit(1);
}

#define MUST(call)                                       \
    do {                                                 \
        temporal_status st_ = (call);                    \
        if (st_ != TEMPORAL_OK) fail_status(#call, st_); \
    } while (0)

/* The value in kB of a "Key:   N kB" line of /proc/self/status, or -1. */
static long status_kb(const char *key) {
    char line[256];
    size_t klen = strlen(key);
    long v = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            v = strtol(line + klen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

static double mb(double bytes) { return bytes / (1024.0 * 1024.0); }
static double kb_mb(long kb) { return (double)kb / 1024.0; }

/* Deterministic finite features in [-1, 1). */
static void fill_features(float *x, size_t n) {
    uint64_t s = 0x9e3779b97f4a7c15u;
    size_t i;
    for (i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        x[i] = (float)((double)(s >> 40) / (double)(1u << 23)) - 1.0f;
    }
}

/* Reads the whole file at path into a malloc'd buffer. */
static void *read_file(const char *path, size_t *len) {
    struct stat sb;
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t got = 0;
    if (!f || fstat(fileno(f), &sb) != 0) {
        fprintf(stderr, "test_rss: cannot open %s: %s\n", path, strerror(errno));
        exit(1);
    }
    buf = malloc((size_t)sb.st_size);
    if (!buf) {
        fprintf(stderr, "test_rss: cannot allocate %lld bytes\n", (long long)sb.st_size);
        exit(1);
    }
    while (got < (size_t)sb.st_size) {
        size_t n = fread(buf + got, 1, (size_t)sb.st_size - got, f);
        if (n == 0) {
            fprintf(stderr, "test_rss: short read of %s\n", path);
            exit(1);
        }
        got += n;
    }
    fclose(f);
    *len = got;
    return buf;
}

static int child(int memory_mode, const char *path) {
    temporal_model m = 0;
    temporal_model_config info = temporal_model_config_default();
    long rss_before, hwm_before, hwm_load, rss_load, hwm_pred, rss_pred, anon_pred, file_pred;
    double weights, allowed, extra = 0;
    void *file = NULL;
    size_t file_len = 0;
    float *x, *out;
    int i, ok;

    if (memory_mode) {
        file = read_file(path, &file_len);
        extra = (double)file_len;
    }
    rss_before = status_kb("VmRSS");
    hwm_before = status_kb("VmHWM");
    if (memory_mode) {
        MUST(temporal_model_load_memory(file, file_len, NULL, &m));
    } else {
        MUST(temporal_model_load(path, NULL, &m));
    }
    hwm_load = status_kb("VmHWM");
    rss_load = status_kb("VmRSS");

    MUST(temporal_model_info(m, &info));
    weights = (double)info.num_params * 4.0;
    x = malloc(sizeof(float) * (size_t)FRAMES * (size_t)info.feature_dim);
    out = malloc(sizeof(float) * (size_t)info.num_classes);
    if (!x || !out) {
        fprintf(stderr, "test_rss: out of memory\n");
        return 1;
    }
    fill_features(x, (size_t)FRAMES * (size_t)info.feature_dim);
    for (i = 0; i < PREDICTS; i++) {
        MUST(temporal_predict(m, x, 1, FRAMES, info.feature_dim, NULL, NULL, out,
                              (size_t)info.num_classes, NULL, 0));
    }
    hwm_pred = status_kb("VmHWM");
    rss_pred = status_kb("VmRSS");
    anon_pred = status_kb("RssAnon");
    file_pred = status_kb("RssFile");
    if (rss_before < 0 || hwm_load < 0 || hwm_pred < 0) {
        fprintf(stderr, "test_rss: cannot read VmHWM/VmRSS from /proc/self/status\n");
        return 1;
    }

    allowed = extra + LIMIT_RATIO * weights;
    ok = (double)hwm_pred * 1024.0 <= allowed;
    printf("test_rss %s: %lld params, weights %.1f MiB\n", memory_mode ? "load_memory" : "load",
           (long long)info.num_params, mb(weights));
    if (memory_mode) {
        printf("  caller's buffer (the file): %.1f MiB, resident throughout\n", mb(extra));
    }
    printf("  before load:        VmRSS %8.1f MiB  VmHWM %8.1f MiB\n", kb_mb(rss_before),
           kb_mb(hwm_before));
    printf("  after load:         VmRSS %8.1f MiB  VmHWM %8.1f MiB\n", kb_mb(rss_load),
           kb_mb(hwm_load));
    printf("  after %d predicts:  VmRSS %8.1f MiB  VmHWM %8.1f MiB  (RssAnon %.1f, RssFile %.1f)\n",
           PREDICTS, kb_mb(rss_pred), kb_mb(hwm_pred), kb_mb(anon_pred), kb_mb(file_pred));
    if (memory_mode) {
        printf("  (peak - buffer) / weights = %.3f; peak / weights = %.3f (limit: buffer + %.1f x "
               "weights = %.1f MiB) %s\n",
               ((double)hwm_pred * 1024.0 - extra) / weights, (double)hwm_pred * 1024.0 / weights,
               LIMIT_RATIO, mb(allowed), ok ? "ok" : "FAILED");
    } else {
        printf("  peak / weights = %.3f (limit %.1f x weights = %.1f MiB) %s\n",
               (double)hwm_pred * 1024.0 / weights, LIMIT_RATIO, mb(allowed), ok ? "ok" : "FAILED");
    }
    fflush(stdout);
    MUST(temporal_model_free(m));
    free(x);
    free(out);
    free(file);
    return ok ? 0 : 1;
}

/* Runs /proc/self/exe MODE PATH and returns its exit status (1 if it did not exit normally). */
static int run_child(const char *mode, const char *path) {
    int status;
    pid_t pid;
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        perror("test_rss: fork");
        return 1;
    }
    if (pid == 0) { /* only async-signal-safe calls between fork and exec */
        char *const args[] = {(char *)"test_rss", (char *)mode, (char *)path, NULL};
        execv("/proc/self/exe", args);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            perror("test_rss: waitpid");
            return 1;
        }
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    fprintf(stderr, "test_rss: child %s died with signal %d\n", mode,
            WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    return 1;
}

int main(int argc, char **argv) {
    temporal_model_config cfg = temporal_model_config_default();
    temporal_model m = 0;
    const char *dir;
    char path[4096];
    int fd, rc_file, rc_mem;

    if (argc == 3 && strcmp(argv[1], "--child-file") == 0) return child(0, argv[2]);
    if (argc == 3 && strcmp(argv[1], "--child-memory") == 0) return child(1, argv[2]);
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(stderr, "usage: %s [SCRATCH_DIR]\n", argv[0]);
        return 2;
    }
    dir = argc == 2 ? argv[1] : getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    if (argc == 2) { /* mkdir -p */
        char buf[4096];
        char *p;
        snprintf(buf, sizeof buf, "%s", dir);
        for (p = buf + 1; *p; p++) {
            if (*p == '/') {
                *p = '\0';
                mkdir(buf, 0755);
                *p = '/';
            }
        }
        mkdir(buf, 0755);
    }
    snprintf(path, sizeof path, "%s/test-rss-XXXXXX", dir);
    fd = mkstemp(path);
    if (fd < 0) {
        fprintf(stderr, "test_rss: mkstemp %s: %s\n", path, strerror(errno));
        return 1;
    }
    close(fd);

    MUST(temporal_model_create(&cfg, 42, &m));
    MUST(temporal_model_save(m, path));
    MUST(temporal_model_free(m));

    rc_file = run_child("--child-file", path);
    rc_mem = run_child("--child-memory", path);
    unlink(path);
    if (rc_file != 0 || rc_mem != 0) {
        fprintf(stderr, "test_rss: FAILED (load: exit %d, load_memory: exit %d)\n", rc_file,
                rc_mem);
        return 1;
    }
    printf("test_rss: ok\n");
    return 0;
}
