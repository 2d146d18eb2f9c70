/* Memory: repeated load/predict/free cycles (plus failing calls) at a small config keep the
 * resident set flat. Prints the RSS every 1000 cycles; fails if it grew by more than 16 MiB
 * between cycle 1000 and the last (a leaked 22 KB model per cycle would add 200 MB over 10k).
 *
 *   rss DATA_DIR CYCLES */
#include "rel.h"

enum { F = 16, B = 3, T = 7, NC = 3 };

int main(int argc, char **argv) {
    char path[4096];
    unsigned char *bytes;
    size_t n = 0;
    long cycles, i, rss1k = -1, rss_end;
    float x[B * T * F], out[B * NC], fw[B * T];
    int32_t len[B] = {7, 4, 1};
    if (argc < 3) {
        fprintf(stderr, "usage: %s DATA_DIR CYCLES\n", argv[0]);
        return 2;
    }
    cycles = atol(argv[2]);
    rel_join(path, sizeof path, argv[1], "small.safetensors");
    bytes = rel_read(path, &n);
    if (bytes == NULL) return 2;
    rel_fill(x, sizeof x / sizeof x[0], 5);
    printf("rss: start %ld KiB\n", rel_rss_kib());
    for (i = 1; i <= cycles; i++) {
        temporal_model m = 0, m2 = 0, bad = 0;
        temporal_model_config info = temporal_model_config_default();
        if (temporal_model_load(path, NULL, &m) != TEMPORAL_OK ||
            temporal_model_load_memory(bytes, n, NULL, &m2) != TEMPORAL_OK) {
            CHECK(!"load failed");
            break;
        }
        CHECK(temporal_predict(m, x, B, T, F, len, NULL, out, B * NC, fw, B * T) == TEMPORAL_OK);
        CHECK(temporal_predict(m2, x, B, T, F, NULL, NULL, out, B * NC, NULL, 0) == TEMPORAL_OK);
        CHECK(temporal_model_info(m, &info) == TEMPORAL_OK);
        CHECK(temporal_model_free(m2) == TEMPORAL_OK);
        /* failing calls make messages and errors: they must not leak either */
        CHECK(temporal_model_load_memory(bytes, n / 2, NULL, &bad) == TEMPORAL_ERR_FORMAT);
        CHECK(temporal_predict(m, x, B, T, F + 1, NULL, NULL, out, B * NC, NULL, 0) ==
              TEMPORAL_ERR_SHAPE);
        CHECK(temporal_model_load("/nonexistent/x.safetensors", NULL, &bad) == TEMPORAL_ERR_IO);
        CHECK(temporal_model_free(m) == TEMPORAL_OK);
        CHECK(temporal_predict(m, x, B, T, F, NULL, NULL, out, B * NC, NULL, 0) ==
              TEMPORAL_ERR_BAD_HANDLE);
        if (i % 1000 == 0) {
            long r = rel_rss_kib();
            printf("rss: %ld cycles: %ld KiB\n", i, r);
            fflush(stdout);
            if (i == 1000) rss1k = r;
        }
    }
    rss_end = rel_rss_kib();
    if (rss1k > 0) {
        printf("rss: growth from cycle 1000 to %ld: %ld KiB\n", cycles, rss_end - rss1k);
        CHECK(rss_end - rss1k < 16 * 1024);
    }
    free(bytes);
    return rel_summary("rss");
}
