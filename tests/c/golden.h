/* Reads tests/data/small.case.bin (format in tests/golden/main.go). Header-only, shared by the
 * C test programs; the C++ tests have their own reader. */
#ifndef TEMPORAL_TESTS_GOLDEN_H
#define TEMPORAL_TESTS_GOLDEN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct golden_case {
    int32_t B, T, F, C;
    int32_t *lengths;
    float *features;
    float *logits_masked, *fw_masked;
    float *logits_reference, *fw_reference;
    float *probs_masked;
    float *logits_full;
} golden_case;

static int golden_read(FILE *f, void *p, size_t n) { return fread(p, 1, n, f) == n; }

static float *golden_floats(FILE *f, size_t n, int *ok) {
    float *p = (float *)malloc(n * sizeof *p);
    if (p == NULL || !golden_read(f, p, n * sizeof *p)) *ok = 0;
    return p;
}

/* Returns 1 on success. The file is little-endian; so are the machines we run on. */
static int golden_load(const char *path, golden_case *g) {
    char magic[4];
    uint32_t version;
    int ok = 1;
    size_t B, T, F, C;
    FILE *f = fopen(path, "rb");
    memset(g, 0, sizeof *g);
    if (f == NULL) return 0;
    if (!golden_read(f, magic, 4) || memcmp(magic, "TGLD", 4) != 0 ||
        !golden_read(f, &version, 4) || version != 1 || !golden_read(f, &g->B, 4) ||
        !golden_read(f, &g->T, 4) || !golden_read(f, &g->F, 4) || !golden_read(f, &g->C, 4)) {
        fclose(f);
        return 0;
    }
    B = (size_t)g->B, T = (size_t)g->T, F = (size_t)g->F, C = (size_t)g->C;
    g->lengths = (int32_t *)malloc(B * sizeof(int32_t));
    if (g->lengths == NULL || !golden_read(f, g->lengths, B * sizeof(int32_t))) ok = 0;
    g->features = golden_floats(f, B * T * F, &ok);
    g->logits_masked = golden_floats(f, B * C, &ok);
    g->fw_masked = golden_floats(f, B * T, &ok);
    g->logits_reference = golden_floats(f, B * C, &ok);
    g->fw_reference = golden_floats(f, B * T, &ok);
    g->probs_masked = golden_floats(f, B * C, &ok);
    g->logits_full = golden_floats(f, B * C, &ok);
    fclose(f);
    return ok;
}

static void golden_free(golden_case *g) {
    free(g->lengths);
    free(g->features);
    free(g->logits_masked);
    free(g->fw_masked);
    free(g->logits_reference);
    free(g->fw_reference);
    free(g->probs_masked);
    free(g->logits_full);
}

/* Largest absolute difference of a and b over n elements. */
static double golden_maxdiff(const float *a, const float *b, size_t n) {
    double m = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        if (d < 0) d = -d;
        if (d != d) return 1e30;
        if (d > m) m = d;
    }
    return m;
}

#endif
