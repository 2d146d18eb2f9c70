/* One CUDA predict through the public C API, checked against the CPU, small enough to run
 * under compute-sanitizer (tests/gpu/run_gpu_checks.sh).
 *
 *   gpu_smoke DATA_DIR [DEVICE]     DATA_DIR holds small.safetensors and small.case.bin
 *                                   (tests/data); DEVICE defaults to "cuda"
 *
 * Prints the device, then for each padding mode ‖cuda − cpu‖/‖cpu‖ of logits and frame weights
 * (limit 1e-5) and ‖cuda − golden‖/‖golden‖. Exit 0 when all pass, 1 on a failed check, 2 on
 * a usage or setup error. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "golden.h"
#include "temporal.h"

static int failures;

static void fail_status(const char *what, temporal_status st) {
    char msg[1024];
    temporal_last_error(msg, sizeof msg);
    fprintf(stderr, "gpu_smoke: %s: %s (%d): %s\n", what, temporal_status_string(st), (int)st, msg);
    failures++;
}

static double rel_err(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        num += d * d;
        den += (double)b[i] * (double)b[i];
    }
    if (num != num) return INFINITY;
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

int main(int argc, char **argv) {
    const char *dev = argc > 2 ? argv[2] : "cuda";
    char path[4096], name[256];
    size_t len = 0;
    uint64_t free_b = 0, total_b = 0;
    golden_case g;
    temporal_model cpu = 0, gpu = 0;
    temporal_status st;
    int mode;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DATA_DIR [DEVICE]\n", argv[0]);
        return 2;
    }
    printf("libtemporal %s; cuda_available %d, %d device(s)\n", temporal_version(), temporal_cuda_available(),
           temporal_cuda_device_count());
    if ((st = temporal_cuda_device_name(0, name, sizeof name, &len)) != TEMPORAL_OK) {
        fail_status("temporal_cuda_device_name", st);
        return 2;
    }
    if ((st = temporal_cuda_memory(0, &free_b, &total_b)) != TEMPORAL_OK) {
        fail_status("temporal_cuda_memory", st);
        return 2;
    }
    printf("cuda:0 = %s (%zu chars), %.1f of %.1f GiB free\n", name, len, free_b / 1073741824.0,
           total_b / 1073741824.0);

    snprintf(path, sizeof path, "%s/small.case.bin", argv[1]);
    if (!golden_load(path, &g)) {
        fprintf(stderr, "gpu_smoke: cannot read %s\n", path);
        return 2;
    }
    snprintf(path, sizeof path, "%s/small.safetensors", argv[1]);
    if ((st = temporal_model_load(path, "cpu", &cpu)) != TEMPORAL_OK) {
        fail_status("load on cpu", st);
        return 2;
    }
    if ((st = temporal_model_load(path, dev, &gpu)) != TEMPORAL_OK) {
        fail_status("load on the GPU", st);
        return 2;
    }

    for (mode = 0; mode < 2; mode++) {
        size_t nl = (size_t)g.B * (size_t)g.C, nf = (size_t)g.B * (size_t)g.T;
        float *lc = (float *)malloc(nl * sizeof(float)), *lg = (float *)malloc(nl * sizeof(float));
        float *fc = (float *)malloc(nf * sizeof(float)), *fg = (float *)malloc(nf * sizeof(float));
        temporal_predict_options o = temporal_predict_options_default();
        const float *want = mode == 0 ? g.logits_masked : g.logits_reference;
        double e, efw, eg;
        o.padding = mode == 0 ? TEMPORAL_PADDING_MASKED : TEMPORAL_PADDING_REFERENCE;
        if (!lc || !lg || !fc || !fg) return 2;
        memset(lg, 0xff, nl * sizeof(float)); /* NaN: every element must be written */
        memset(fg, 0xff, nf * sizeof(float));
        st = temporal_predict(cpu, g.features, g.B, g.T, g.F, g.lengths, &o, lc, nl, fc, nf);
        if (st != TEMPORAL_OK) fail_status("predict on cpu", st);
        st = temporal_predict(gpu, g.features, g.B, g.T, g.F, g.lengths, &o, lg, nl, fg, nf);
        if (st != TEMPORAL_OK) fail_status("predict on the GPU", st);
        e = rel_err(lg, lc, nl);
        efw = rel_err(fg, fc, nf);
        eg = rel_err(lg, want, nl);
        printf("%s: |cuda-cpu|/|cpu| logits %.3g (max|d| %.3g), frame weights %.3g; |cuda-golden|/|golden| %.3g\n",
               mode == 0 ? "masked" : "reference", e, golden_maxdiff(lg, lc, nl), efw, eg);
        if (!(e <= 1e-5 && efw <= 1e-5 && eg <= 1e-5)) {
            fprintf(stderr, "gpu_smoke: %s: over the 1e-5 limit\n", mode == 0 ? "masked" : "reference");
            failures++;
        }
        free(lc);
        free(lg);
        free(fc);
        free(fg);
    }
    if ((st = temporal_model_free(gpu)) != TEMPORAL_OK) fail_status("free", st);
    if ((st = temporal_model_free(cpu)) != TEMPORAL_OK) fail_status("free", st);
    golden_free(&g);
    printf("gpu_smoke: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
