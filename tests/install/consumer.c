/* Classifies one synthetic clip with an installed libtemporal (C API, built via pkg-config).
 *   consumer_c MODEL.safetensors */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <temporal.h>

int main(int argc, char **argv) {
    temporal_model m = 0;
    temporal_model_config cfg = temporal_model_config_default();
    temporal_predict_options opt = temporal_predict_options_default();
    char msg[512];
    float *x, probs[64];
    int frames = 10, i, best = 0;
    if (argc != 2) return 2;
    if (temporal_model_load(argv[1], NULL, &m) != TEMPORAL_OK ||
        temporal_model_info(m, &cfg) != TEMPORAL_OK || cfg.num_classes > 64) {
        temporal_last_error(msg, sizeof msg);
        fprintf(stderr, "error: %s\n", msg);
        return 1;
    }
    x = (float *)malloc(sizeof(float) * (size_t)(frames * cfg.feature_dim));
    for (i = 0; i < frames * cfg.feature_dim; i++) x[i] = (float)sin(0.1 * i);
    opt.output = TEMPORAL_OUTPUT_PROBABILITIES;
    if (temporal_predict(m, x, 1, frames, cfg.feature_dim, NULL, &opt, probs, 64, NULL, 0) !=
        TEMPORAL_OK) {
        temporal_last_error(msg, sizeof msg);
        fprintf(stderr, "error: %s\n", msg);
        return 1;
    }
    for (i = 1; i < cfg.num_classes; i++)
        if (probs[i] > probs[best]) best = i;
    printf("libtemporal %s (C): class=%d p=%.4f\n", temporal_version(), best, probs[best]);
    free(x);
    temporal_model_free(m);
    return 0;
}
