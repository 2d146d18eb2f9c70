/* Shared helpers of the reliability programs in tests/reliability. Header-only; include it first. */
#ifndef TEMPORAL_RELIABILITY_H
#define TEMPORAL_RELIABILITY_H

#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "temporal.h"

static int rel_failures, rel_checks;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        rel_checks++;                                                                 \
        if (!(cond)) {                                                                \
            rel_failures++;                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                             \
    } while (0)

/* EXPECT(call, status, "substring"): the call returns status, and a failing call leaves a
 * non-empty last-error message containing needle (case-insensitive; NULL: any message). */
#define EXPECT(call, want, needle) rel_expect((call), (want), (needle), #call, __FILE__, __LINE__)

static inline int rel_expect(temporal_status got, temporal_status want, const char *needle,
                      const char *what, const char *file, int line) {
    char msg[1024] = "";
    rel_checks++;
    temporal_last_error(msg, sizeof msg);
    if (got != want) {
        rel_failures++;
        fprintf(stderr, "%s:%d: %s\n    returned %d (%s), want %d (%s); last error: %s\n", file,
                line, what, (int)got, temporal_status_string(got), (int)want,
                temporal_status_string(want), msg);
        return 0;
    }
    if (want != TEMPORAL_OK) {
        rel_checks++;
        if (msg[0] == '\0' || (needle != NULL && strcasestr(msg, needle) == NULL)) {
            rel_failures++;
            fprintf(stderr, "%s:%d: %s\n    message does not name the problem (want \"%s\"): %s\n",
                    file, line, what, needle ? needle : "", msg);
            return 0;
        }
    }
    return 1;
}

static inline void rel_join(char *out, size_t cap, const char *dir, const char *name) {
    if (snprintf(out, cap, "%s/%s", dir, name) >= (int)cap) {
        fprintf(stderr, "path too long: %s/%s\n", dir, name);
        exit(2);
    }
}

/* mkdir -p */
static inline void rel_mkdirs(const char *path) {
    char p[4096];
    size_t i;
    snprintf(p, sizeof p, "%s", path);
    for (i = 1; p[i] != '\0'; i++) {
        if (p[i] == '/') {
            p[i] = '\0';
            mkdir(p, 0755);
            p[i] = '/';
        }
    }
    mkdir(p, 0755);
}

static inline int rel_write(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    int ok;
    if (f == NULL) return 0;
    ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

static inline unsigned char *rel_read(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    unsigned char *p;
    long len;
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = (unsigned char *)malloc(len > 0 ? (size_t)len : 1);
    if (p != NULL && fread(p, 1, (size_t)len, f) != (size_t)len) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p != NULL) *n = (size_t)len;
    return p;
}

/* Resident set size in KiB (from /proc/self/statm). */
static inline long rel_rss_kib(void) {
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL) return -1;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = -1;
    fclose(f);
    return rss < 0 ? -1 : rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* A small model configuration (a few KB of weights). */
static inline temporal_model_config rel_small_config(int32_t F) {
    temporal_model_config c = temporal_model_config_default();
    c.feature_dim = F;
    c.hidden_dim = 8;
    c.num_layers = 2;
    c.num_heads = 2;
    c.num_classes = 3;
    c.num_classifier_widths = 2;
    c.classifier_widths[0] = 12;
    c.classifier_widths[1] = 6;
    c.classifier_widths[2] = 0;
    return c;
}

/* Deterministic features. */
static inline void rel_fill(float *x, size_t n, unsigned seed) {
    size_t i;
    uint32_t s = seed * 2654435761u + 1;
    for (i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)((int32_t)(s >> 8) % 2000) / 1000.0f;
    }
}

static inline int rel_summary(const char *name) {
    printf("%s: %d checks, %d failures\n", name, rel_checks, rel_failures);
    return rel_failures == 0 ? 0 : 1;
}

#endif
