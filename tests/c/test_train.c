/* C test of training, datasets, ensembles and TTA, linked with -ltemporal: the trainer handle
 * (loss goes down, determinism, bad input), temporal_dataset_write + temporal_train on a tiny
 * generated dataset (report, progress fields, cancel from the callback with a loadable
 * checkpoint left), temporal_ensemble_predict = mean of the members' probabilities, and
 * TEMPORAL_TTA_ALL = the mean of the members of DESIGN §3's modes computed by hand.
 *
 *   test_train SCRATCH_DIR
 *
 * Against a nohdf5 build (CTest's c_train_nohdf5 points LD_LIBRARY_PATH at it) the dataset and
 * train part checks TEMPORAL_ERR_UNSUPPORTED instead. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "temporal.h"

static const char *scratch;

/* The tiny architecture every test here uses: F=4, H=4, 1 layer, 2 heads, C=2. */
enum { F = 4, C = 2 };

static temporal_model_config tiny_config(void) {
    temporal_model_config c = temporal_model_config_default();
    c.feature_dim = F;
    c.hidden_dim = 4;
    c.num_layers = 1;
    c.num_heads = 2;
    c.num_classes = C;
    c.dropout = 0.0;
    c.num_classifier_widths = 1;
    c.classifier_widths[0] = 8;
    c.classifier_widths[1] = 0;
    c.classifier_widths[2] = 0;
    return c;
}

static temporal_model tiny_model(uint64_t seed) {
    temporal_model_config c = tiny_config();
    temporal_model m = 0;
    EXPECT_STATUS(temporal_model_create(&c, seed, &m), TEMPORAL_OK);
    return m;
}

/* Deterministic pseudo-random numbers (xorshift), so the data does not depend on libc. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static float frand(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

/* A clip whose class is the direction of a ramp in feature 0 (order matters), plus noise. */
static void make_clip(float *clip, int T, int n, int label) {
    int t, f;
    for (t = 0; t < T; t++) {
        for (f = 0; f < F; f++) {
            float v = 0.0f;
            if (t < n) {
                float ramp = (float)t / (float)(n > 1 ? n - 1 : 1);
                v = 0.1f * frand();
                if (f == 0) v += label == 0 ? ramp : 1.0f - ramp;
                if (f == 1) v += 0.5f;
            }
            clip[t * F + f] = v;
        }
    }
}

static void make_batch(float *x, int32_t *lengths, int64_t *labels, int B, int T, int min_len) {
    int b;
    for (b = 0; b < B; b++) {
        labels[b] = b % C;
        lengths[b] = min_len + (b * 5) % (T - min_len + 1);
        make_clip(x + (size_t)b * T * F, T, lengths[b], (int)labels[b]);
    }
}

/* --- trainer ------------------------------------------------------------------------------ */

enum { SB = 8, ST = 6 };

static void run_steps(uint64_t seed, int steps, float *losses, float *probs_after) {
    float x[SB * ST * F];
    int32_t lengths[SB];
    int64_t labels[SB];
    temporal_train_config cfg = temporal_train_config_default();
    temporal_model m = tiny_model(seed);
    temporal_trainer t = 0;
    temporal_predict_options po = temporal_predict_options_default();
    int i;
    rng_state = 12345;
    make_batch(x, lengths, labels, SB, ST, 2);
    cfg.seed = seed;
    cfg.lr = 1e-2;
    cfg.dropout = 0;
    EXPECT_STATUS(temporal_trainer_create(m, &cfg, &t), TEMPORAL_OK);
    CHECK(t != 0 && t != m);
    for (i = 0; i < steps; i++)
        EXPECT_STATUS(temporal_trainer_step(t, x, SB, ST, F, lengths, labels, &losses[i]),
                      TEMPORAL_OK);
    po.output = TEMPORAL_OUTPUT_PROBABILITIES;
    EXPECT_STATUS(temporal_predict(m, x, SB, ST, F, lengths, &po, probs_after, SB * C, NULL, 0),
                  TEMPORAL_OK);
    /* The trainer keeps the model alive after the model's handle is freed. */
    EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
    EXPECT_STATUS(temporal_trainer_step(t, x, SB, ST, F, lengths, labels, NULL), TEMPORAL_OK);
    EXPECT_STATUS(temporal_trainer_free(t), TEMPORAL_OK);
    EXPECT_STATUS(temporal_trainer_free(t), TEMPORAL_ERR_BAD_HANDLE);
}

static void test_trainer(void) {
    enum { STEPS = 12 };
    float l1[STEPS], l2[STEPS], p1[SB * C], p2[SB * C];
    int i;
    run_steps(7, STEPS, l1, p1);
    run_steps(7, STEPS, l2, p2);
    for (i = 0; i < STEPS; i++) CHECK(isfinite(l1[i]) && l1[i] > 0);
    CHECK(l1[STEPS - 1] < l1[0]);
    CHECK(l1[STEPS - 1] < 0.9f * l1[0]);
    /* Same seed and data: bitwise the same losses and weights. */
    CHECK(memcmp(l1, l2, sizeof l1) == 0);
    CHECK(memcmp(p1, p2, sizeof p1) == 0);
    printf("trainer: loss %.5f -> %.5f over %d steps\n", l1[0], l1[STEPS - 1], STEPS);
}

/* A custom loop checkpointed mid-run (model + trainer state) and resumed by a new trainer on the
 * reloaded model ends bitwise where the uninterrupted loop ends, dropout on. */
static void test_trainer_state(void) {
    enum { FIRST = 3, REST = 4 };
    float x[SB * ST * F], p1[SB * C], p2[SB * C];
    int32_t lengths[SB];
    int64_t labels[SB];
    char model_path[4200], state_path[4200], bad_path[4200];
    temporal_train_config cfg = temporal_train_config_default();
    temporal_predict_options po = temporal_predict_options_default();
    temporal_model m = tiny_model(3), m2 = 0;
    temporal_trainer t = 0, t2 = 0;
    int i;
    rng_state = 999;
    make_batch(x, lengths, labels, SB, ST, 2);
    cfg.seed = 5;
    cfg.lr = 1e-2;
    po.output = TEMPORAL_OUTPUT_PROBABILITIES;
    snprintf(model_path, sizeof model_path, "%s/loop.safetensors", scratch);
    snprintf(state_path, sizeof state_path, "%s/loop.trainer.safetensors", scratch);
    snprintf(bad_path, sizeof bad_path, "%s/no-such-dir/state", scratch);
    EXPECT_STATUS(temporal_trainer_create(m, &cfg, &t), TEMPORAL_OK);
    for (i = 0; i < FIRST; i++)
        EXPECT_STATUS(temporal_trainer_step(t, x, SB, ST, F, lengths, labels, NULL), TEMPORAL_OK);
    EXPECT_STATUS(temporal_model_save(m, model_path), TEMPORAL_OK);
    EXPECT_STATUS(temporal_trainer_save_state(t, state_path), TEMPORAL_OK);
    for (i = 0; i < REST; i++)
        EXPECT_STATUS(temporal_trainer_step(t, x, SB, ST, F, lengths, labels, NULL), TEMPORAL_OK);
    EXPECT_STATUS(temporal_predict(m, x, SB, ST, F, lengths, &po, p1, SB * C, NULL, 0), TEMPORAL_OK);

    EXPECT_STATUS(temporal_model_load(model_path, NULL, &m2), TEMPORAL_OK);
    EXPECT_STATUS(temporal_trainer_create(m2, &cfg, &t2), TEMPORAL_OK);
    EXPECT_STATUS(temporal_trainer_load_state(t2, state_path), TEMPORAL_OK);
    for (i = 0; i < REST; i++)
        EXPECT_STATUS(temporal_trainer_step(t2, x, SB, ST, F, lengths, labels, NULL), TEMPORAL_OK);
    EXPECT_STATUS(temporal_predict(m2, x, SB, ST, F, lengths, &po, p2, SB * C, NULL, 0), TEMPORAL_OK);
    CHECK(memcmp(p1, p2, sizeof p1) == 0);

    /* Errors: arguments, handles, a model file is not a trainer state, unwritable and missing
     * paths. */
    EXPECT_STATUS(temporal_trainer_save_state(t, NULL), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_trainer_save_state(t, ""), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_trainer_load_state(t, NULL), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_trainer_save_state(0, state_path), TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_STATUS(temporal_trainer_load_state(m, state_path), TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_STATUS(temporal_trainer_load_state(t, model_path), TEMPORAL_ERR_FORMAT);
    EXPECT_STATUS(temporal_trainer_save_state(t, bad_path), TEMPORAL_ERR_IO);
    EXPECT_STATUS(temporal_trainer_load_state(t, bad_path), TEMPORAL_ERR_IO);
    EXPECT_STATUS(temporal_trainer_free(t), TEMPORAL_OK);
    EXPECT_STATUS(temporal_trainer_free(t2), TEMPORAL_OK);
    EXPECT_STATUS(temporal_trainer_save_state(t, state_path), TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
    EXPECT_STATUS(temporal_model_free(m2), TEMPORAL_OK);
    printf("trainer state: resumed loop bitwise equal to the uninterrupted one\n");
}

/* Class weights: a weighted step's loss differs from the unweighted one on the same model and
 * batch; NULL removes them; bad vectors are refused. */
static void test_trainer_class_weights(void) {
    float x[SB * ST * F], plain = 0, weighted = 0, again = 0;
    int32_t lengths[SB];
    int64_t labels[SB];
    const float w[C] = {0.25f, 3.0f};
    const float bad_neg[C] = {1.0f, -1.0f};
    float bad_nan[C] = {1.0f, 1.0f};
    temporal_train_config cfg = temporal_train_config_default();
    temporal_model m1 = tiny_model(8), m2 = tiny_model(8), m3 = tiny_model(8);
    temporal_trainer t1 = 0, t2 = 0, t3 = 0;
    rng_state = 4242;
    make_batch(x, lengths, labels, SB, ST, 2);
    cfg.dropout = 0;
    bad_nan[1] = NAN;
    EXPECT_STATUS(temporal_trainer_create(m1, &cfg, &t1), TEMPORAL_OK);
    EXPECT_STATUS(temporal_trainer_create(m2, &cfg, &t2), TEMPORAL_OK);
    EXPECT_STATUS(temporal_trainer_create(m3, &cfg, &t3), TEMPORAL_OK);
    EXPECT_STATUS(temporal_trainer_set_class_weights(t2, w, C), TEMPORAL_OK);
    EXPECT_STATUS(temporal_trainer_set_class_weights(t3, w, C), TEMPORAL_OK);
    EXPECT_STATUS(temporal_trainer_set_class_weights(t3, NULL, 0), TEMPORAL_OK);
    EXPECT_STATUS(temporal_trainer_step(t1, x, SB, ST, F, lengths, labels, &plain), TEMPORAL_OK);
    EXPECT_STATUS(temporal_trainer_step(t2, x, SB, ST, F, lengths, labels, &weighted), TEMPORAL_OK);
    EXPECT_STATUS(temporal_trainer_step(t3, x, SB, ST, F, lengths, labels, &again), TEMPORAL_OK);
    CHECK(isfinite(weighted) && weighted != plain);
    CHECK(memcmp(&again, &plain, sizeof plain) == 0);
    EXPECT_STATUS(temporal_trainer_set_class_weights(t1, w, C + 1), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_trainer_set_class_weights(t1, w, -1), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_trainer_set_class_weights(t1, NULL, C), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_trainer_set_class_weights(t1, bad_neg, C), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_trainer_set_class_weights(t1, bad_nan, C), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_trainer_set_class_weights(0, w, C), TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_STATUS(temporal_trainer_set_class_weights(m1, w, C), TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_STATUS(temporal_trainer_free(t1), TEMPORAL_OK);
    EXPECT_STATUS(temporal_trainer_free(t2), TEMPORAL_OK);
    EXPECT_STATUS(temporal_trainer_free(t3), TEMPORAL_OK);
    EXPECT_STATUS(temporal_trainer_set_class_weights(t1, w, C), TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_STATUS(temporal_model_free(m1), TEMPORAL_OK);
    EXPECT_STATUS(temporal_model_free(m2), TEMPORAL_OK);
    EXPECT_STATUS(temporal_model_free(m3), TEMPORAL_OK);
    printf("trainer class weights: loss %.5f unweighted, %.5f weighted\n", plain, weighted);
}

static void test_trainer_errors(void) {
    float x[SB * ST * F], loss = 0;
    int32_t lengths[SB];
    int64_t labels[SB];
    double lr = 0;
    temporal_train_config cfg = temporal_train_config_default();
    temporal_model m = tiny_model(1);
    temporal_trainer t = 0;
    make_batch(x, lengths, labels, SB, ST, 2);

    EXPECT_STATUS(temporal_trainer_create(m, NULL, NULL), TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_trainer_create(0, NULL, &t), TEMPORAL_ERR_BAD_HANDLE);
    CHECK(t == 0);
    cfg.lr = -1;
    EXPECT_STATUS(temporal_trainer_create(m, &cfg, &t), TEMPORAL_ERR_INVALID_ARGUMENT);
    cfg = temporal_train_config_default();
    cfg.label_smoothing = 1.0;
    EXPECT_STATUS(temporal_trainer_create(m, &cfg, &t), TEMPORAL_ERR_INVALID_ARGUMENT);
    cfg = temporal_train_config_default();
    cfg.dropout = 2;
    EXPECT_STATUS(temporal_trainer_create(m, &cfg, &t), TEMPORAL_ERR_INVALID_ARGUMENT);
    cfg = temporal_train_config_default();
    cfg.struct_size = 8;
    EXPECT_STATUS(temporal_trainer_create(m, &cfg, &t), TEMPORAL_ERR_INVALID_ARGUMENT);
    /* NULL cfg: the reference recipe. */
    EXPECT_STATUS(temporal_trainer_create(m, NULL, &t), TEMPORAL_OK);
    EXPECT_STATUS(temporal_trainer_lr(t, &lr), TEMPORAL_OK);
    CHECK(lr == 1e-3);
    EXPECT_STATUS(temporal_trainer_lr(t, NULL), TEMPORAL_ERR_INVALID_ARGUMENT);

    labels[3] = C; /* out of range */
    EXPECT_STATUS(temporal_trainer_step(t, x, SB, ST, F, lengths, labels, &loss),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    labels[3] = -1;
    EXPECT_STATUS(temporal_trainer_step(t, x, SB, ST, F, lengths, labels, &loss),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    labels[3] = 1;
    EXPECT_STATUS(temporal_trainer_step(t, x, SB, ST, F, lengths, NULL, &loss),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_trainer_step(t, NULL, SB, ST, F, lengths, labels, &loss),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_trainer_step(t, x, 0, ST, F, lengths, labels, &loss),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_trainer_step(t, x, SB, ST, F - 1, lengths, labels, &loss),
                  TEMPORAL_ERR_SHAPE);
    lengths[0] = ST + 1;
    EXPECT_STATUS(temporal_trainer_step(t, x, SB, ST, F, lengths, labels, &loss),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    lengths[0] = ST;
    x[5] = NAN;
    EXPECT_STATUS(temporal_trainer_step(t, x, SB, ST, F, lengths, labels, &loss),
                  TEMPORAL_ERR_NUMERIC);
    x[5] = 0;
    EXPECT_STATUS(temporal_trainer_step(m, x, SB, ST, F, lengths, labels, &loss),
                  TEMPORAL_ERR_BAD_HANDLE); /* a model handle is not a trainer handle */
    EXPECT_STATUS(temporal_trainer_step(0, x, SB, ST, F, lengths, labels, &loss),
                  TEMPORAL_ERR_BAD_HANDLE);
    /* The failed steps changed nothing: the schedule is still at step 0. */
    EXPECT_STATUS(temporal_trainer_lr(t, &lr), TEMPORAL_OK);
    CHECK(lr == 1e-3);
    EXPECT_STATUS(temporal_trainer_step(t, x, SB, ST, F, lengths, labels, &loss), TEMPORAL_OK);
    CHECK(isfinite(loss) && loss > 0);
    EXPECT_STATUS(temporal_trainer_lr(t, &lr), TEMPORAL_OK);
    CHECK(lr < 1e-3);
    EXPECT_STATUS(temporal_trainer_free(t), TEMPORAL_OK);
    EXPECT_STATUS(temporal_trainer_free(0), TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_STATUS(temporal_trainer_free(m), TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
}

/* --- ensembles and TTA -------------------------------------------------------------------- */

enum { EB = 4, ET = 14 };

static void softmax_row(const float *z, double *p) {
    double mx = z[0], s = 0;
    int c;
    for (c = 1; c < C; c++) mx = z[c] > mx ? z[c] : mx;
    for (c = 0; c < C; c++) s += (p[c] = exp((double)z[c] - mx));
    for (c = 0; c < C; c++) p[c] /= s;
}

static void test_ensemble(void) {
    float x[EB * ET * F], pa[EB * C], pb[EB * C], pe[EB * C], fw[EB * ET];
    int32_t lengths[EB];
    int64_t labels[EB];
    temporal_predict_options po = temporal_predict_options_default();
    temporal_model ms[3];
    temporal_model bad;
    temporal_model_config c3 = tiny_config();
    float maxdiff = 0;
    int i;
    make_batch(x, lengths, labels, EB, ET, 3);
    ms[0] = tiny_model(42);
    ms[1] = tiny_model(43);
    po.output = TEMPORAL_OUTPUT_PROBABILITIES;
    EXPECT_STATUS(temporal_predict(ms[0], x, EB, ET, F, lengths, &po, pa, EB * C, NULL, 0),
                  TEMPORAL_OK);
    EXPECT_STATUS(temporal_predict(ms[1], x, EB, ET, F, lengths, &po, pb, EB * C, NULL, 0),
                  TEMPORAL_OK);
    EXPECT_STATUS(temporal_ensemble_predict(ms, 2, x, EB, ET, F, lengths, NULL, pe, EB * C, fw,
                                            EB * ET),
                  TEMPORAL_OK);
    for (i = 0; i < EB * C; i++) {
        float d = fabsf(pe[i] - 0.5f * (pa[i] + pb[i]));
        maxdiff = d > maxdiff ? d : maxdiff;
    }
    CHECK(maxdiff <= 1e-6f);
    CHECK(memcmp(pa, pb, sizeof pa) != 0);
    /* One member: its own probabilities. */
    EXPECT_STATUS(temporal_ensemble_predict(ms, 1, x, EB, ET, F, lengths, &po, pe, EB * C, NULL,
                                            0),
                  TEMPORAL_OK);
    CHECK(memcmp(pe, pa, sizeof pa) == 0);
    printf("ensemble: max |mean - ensemble| = %g\n", maxdiff);

    /* Errors. */
    EXPECT_STATUS(temporal_ensemble_predict(NULL, 2, x, EB, ET, F, lengths, NULL, pe, EB * C, NULL,
                                            0),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_ensemble_predict(ms, 0, x, EB, ET, F, lengths, NULL, pe, EB * C, NULL,
                                            0),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_ensemble_predict(ms, 2, x, EB, ET, F, lengths, NULL, pe, EB * C - 1,
                                            NULL, 0),
                  TEMPORAL_ERR_SHAPE);
    EXPECT_STATUS(temporal_ensemble_predict(ms, 2, x, EB, ET, F + 1, lengths, NULL, pe, EB * C,
                                            NULL, 0),
                  TEMPORAL_ERR_SHAPE);
    c3.num_classes = 3;
    bad = 0;
    EXPECT_STATUS(temporal_model_create(&c3, 1, &bad), TEMPORAL_OK);
    ms[2] = bad;
    EXPECT_STATUS(temporal_ensemble_predict(ms, 3, x, EB, ET, F, lengths, NULL, pe, EB * C * 3,
                                            NULL, 0),
                  TEMPORAL_ERR_SHAPE);
    EXPECT_STATUS(temporal_model_free(bad), TEMPORAL_OK);
    EXPECT_STATUS(temporal_ensemble_predict(ms, 3, x, EB, ET, F, lengths, NULL, pe, EB * C, NULL,
                                            0),
                  TEMPORAL_ERR_BAD_HANDLE);

    /* TTA: out = mean over the modes that apply of softmax, each mode computed here by hand
     * (one clip at a time through temporal_predict: masked padding makes a clip's output
     * independent of the batch). Lengths 3..14: both n <= 10 and n > 10 occur. */
    {
        float tta[EB * C], tfw[EB * ET], logits[C];
        static float clip[2 * ET * F];
        int b, checked_speed = 0;
        maxdiff = 0;
        po.tta = TEMPORAL_TTA_ALL;
        EXPECT_STATUS(temporal_predict(ms[0], x, EB, ET, F, lengths, &po, tta, EB * C, tfw,
                                       EB * ET),
                      TEMPORAL_OK);
        for (b = 0; b < EB; b++) {
            int n = lengths[b], mode, modes = 0, i2, c;
            double acc[C] = {0}, p[C];
            const float *src = x + (size_t)b * ET * F;
            for (mode = 0; mode < 4; mode++) {
                int len = 0;
                if (mode >= 2 && n <= 10) continue;
                if (mode == 0 || mode == 1) len = n;
                if (mode == 2) len = n / 2;
                if (mode == 3) len = n + n / 2;
                for (i2 = 0; i2 < len; i2++) {
                    int t = i2;
                    if (mode == 1) t = n - 1 - i2;
                    if (mode == 2) t = i2 * (n - 1) / (len - 1);
                    if (mode == 3) {
                        t = i2 * (n - 1) / (len - 1);
                        if (t > n - 1) t = n - 1;
                    }
                    memcpy(clip + i2 * F, src + t * F, F * sizeof(float));
                }
                EXPECT_STATUS(temporal_predict(ms[0], clip, 1, len, F, NULL, NULL, logits, C, NULL,
                                               0),
                              TEMPORAL_OK);
                softmax_row(logits, p);
                for (c = 0; c < C; c++) acc[c] += p[c];
                modes++;
                if (mode >= 2) checked_speed = 1;
            }
            for (c = 0; c < C; c++) {
                float d = fabsf(tta[b * C + c] - (float)(acc[c] / modes));
                maxdiff = d > maxdiff ? d : maxdiff;
            }
        }
        CHECK(checked_speed);
        CHECK(maxdiff <= 2e-6f);
        printf("tta: max |by hand - TEMPORAL_TTA_ALL| = %g\n", maxdiff);
        /* The ensemble's TTA is the mean of the members' TTA. */
        EXPECT_STATUS(temporal_predict(ms[1], x, EB, ET, F, lengths, &po, pb, EB * C, NULL, 0),
                      TEMPORAL_OK);
        EXPECT_STATUS(temporal_ensemble_predict(ms, 2, x, EB, ET, F, lengths, &po, pe, EB * C,
                                                NULL, 0),
                      TEMPORAL_OK);
        maxdiff = 0;
        for (i = 0; i < EB * C; i++) {
            float d = fabsf(pe[i] - 0.5f * (tta[i] + pb[i]));
            maxdiff = d > maxdiff ? d : maxdiff;
        }
        CHECK(maxdiff <= 1e-6f);
    }
    EXPECT_STATUS(temporal_model_free(ms[0]), TEMPORAL_OK);
    EXPECT_STATUS(temporal_model_free(ms[1]), TEMPORAL_OK);
}

/* --- datasets and temporal_train ------------------------------------------------------------ */

enum { NTRAIN = 24, NVAL = 12, DT = 12 };

typedef struct progress_log {
    int steps, epochs, bad, cancel_at_step;
    int64_t last_step;
} progress_log;

static int on_progress(const temporal_train_progress *p, void *user) {
    progress_log *log = (progress_log *)user;
    if (p->struct_size < sizeof *p) log->bad++;
    if (p->epoch < 1 || p->epoch > p->epochs || p->steps_per_epoch != 3) log->bad++;
    if (p->step != log->last_step + (p->phase == TEMPORAL_PROGRESS_STEP ? 1 : 0)) log->bad++;
    if (!isfinite(p->loss) || p->loss <= 0 || !(p->lr > 0) || p->eta_seconds < 0 ||
        p->elapsed_seconds < 0)
        log->bad++;
    if (p->phase == TEMPORAL_PROGRESS_STEP) {
        log->steps++;
        if (p->step_in_epoch < 1 || p->step_in_epoch > 3) log->bad++;
        if (p->epoch == 1 && p->val_accuracy != -1) log->bad++;
    } else if (p->phase == TEMPORAL_PROGRESS_EPOCH) {
        log->epochs++;
        if (p->val_accuracy < 0 || p->val_accuracy > 1 || p->val_macro_f1 < 0 ||
            p->val_macro_f1 > 1 || !(p->val_loss > 0) || p->best_epoch < 1)
            log->bad++;
    } else {
        log->bad++;
    }
    log->last_step = p->step;
    return log->cancel_at_step > 0 && p->step == log->cancel_at_step;
}

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static void write_set(const char *path, int n, unsigned seed) {
    float *x = (float *)malloc(sizeof(float) * n * DT * F);
    int32_t *lengths = (int32_t *)malloc(sizeof(int32_t) * n);
    int64_t *labels = (int64_t *)malloc(sizeof(int64_t) * n);
    const char *names[C] = {"up", "down"};
    rng_state = seed;
    make_batch(x, lengths, labels, n, DT, 9);
    EXPECT_STATUS(temporal_dataset_write(path, x, n, DT, F, lengths, labels, names, C),
                  TEMPORAL_OK);
    /* Bad input. */
    labels[1] = 2;
    EXPECT_STATUS(temporal_dataset_write(path, x, n, DT, F, lengths, labels, names, C),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    labels[1] = 1;
    x[3] = INFINITY;
    EXPECT_STATUS(temporal_dataset_write(path, x, n, DT, F, lengths, labels, NULL, C),
                  TEMPORAL_ERR_NUMERIC);
    x[3] = 0;
    names[1] = "up";
    EXPECT_STATUS(temporal_dataset_write(path, x, n, DT, F, lengths, labels, names, C),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_dataset_write(path, x, n, DT, F, lengths, labels, NULL, 1),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_dataset_write(NULL, x, n, DT, F, lengths, labels, NULL, C),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    lengths[0] = DT + 1;
    EXPECT_STATUS(temporal_dataset_write(path, x, n, DT, F, lengths, labels, NULL, C),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    free(x);
    free(lengths);
    free(labels);
}

static void test_train(void) {
    char train_h5[4096], val_h5[4096], out[4096], path[4096 + 64];
    temporal_model_config mc = tiny_config();
    temporal_train_config cfg = temporal_train_config_default();
    temporal_train_report rep = temporal_train_report_default();
    progress_log log;
    temporal_model m = 0;
    temporal_model_config info = temporal_model_config_default();
    char name[32];

    snprintf(train_h5, sizeof train_h5, "%s/train.h5", scratch);
    snprintf(val_h5, sizeof val_h5, "%s/val.h5", scratch);
    write_set(train_h5, NTRAIN, 1);
    write_set(val_h5, NVAL, 2);

    cfg.epochs = 3;
    cfg.batch_size = 8;
    cfg.lr = 5e-3;
    cfg.seed = 3;
    mc.feature_dim = 0; /* from the dataset */
    mc.num_classes = 0;

    /* A full run. */
    memset(&log, 0, sizeof log);
    snprintf(out, sizeof out, "%s/run", scratch);
    EXPECT_STATUS(temporal_train(train_h5, val_h5, out, &mc, &cfg, on_progress, &log, &rep),
                  TEMPORAL_OK);
    CHECK(log.bad == 0);
    CHECK(log.steps == 9 && log.epochs == 3);
    CHECK(rep.epochs_run == 3 && rep.final_step == 9);
    CHECK(rep.best_epoch >= 1 && rep.best_epoch <= 3);
    CHECK(rep.best_val_accuracy > 0 && rep.best_val_accuracy <= 1);
    CHECK(rep.final_train_loss > 0 && rep.stopped_early == 0);
    CHECK(strstr(rep.best_model_path, "best.safetensors") != NULL);
    EXPECT_STATUS(temporal_model_load(rep.best_model_path, NULL, &m), TEMPORAL_OK);
    EXPECT_STATUS(temporal_model_info(m, &info), TEMPORAL_OK);
    CHECK(info.feature_dim == F && info.num_classes == C && info.num_class_names == C);
    EXPECT_STATUS(temporal_model_class_name(m, 1, name, sizeof name, NULL), TEMPORAL_OK);
    CHECK(strcmp(name, "down") == 0);
    EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
    printf("train: %d epochs, best val accuracy %.3f (epoch %d), final loss %.4f\n",
           rep.epochs_run, rep.best_val_accuracy, rep.best_epoch, rep.final_train_loss);

    /* Cancel from the callback in epoch 2: CANCELLED, the epoch-1 checkpoint stays loadable. */
    memset(&log, 0, sizeof log);
    log.cancel_at_step = 5;
    rep = temporal_train_report_default();
    snprintf(out, sizeof out, "%s/cancelled", scratch);
    EXPECT_STATUS(temporal_train(train_h5, val_h5, out, &mc, &cfg, on_progress, &log, &rep),
                  TEMPORAL_ERR_CANCELLED);
    CHECK(log.bad == 0 && log.steps == 5 && log.epochs == 1);
    CHECK(rep.epochs_run == 1 && rep.final_step == 5);
    snprintf(path, sizeof path, "%s/checkpoint.json", out);
    CHECK(file_exists(path));
    snprintf(path, sizeof path, "%s/last-3.safetensors", out);
    CHECK(file_exists(path));
    m = 0;
    EXPECT_STATUS(temporal_model_load(path, NULL, &m), TEMPORAL_OK);
    EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
    EXPECT_STATUS(temporal_model_load(rep.best_model_path, NULL, &m), TEMPORAL_OK);
    EXPECT_STATUS(temporal_model_free(m), TEMPORAL_OK);
    /* Resume finishes the run. */
    memset(&log, 0, sizeof log);
    log.last_step = 3;
    cfg.resume = 1;
    EXPECT_STATUS(temporal_train(train_h5, val_h5, out, &mc, &cfg, on_progress, &log, &rep),
                  TEMPORAL_OK);
    CHECK(rep.epochs_run == 3 && rep.final_step == 9 && log.bad == 0);
    cfg.resume = 0;

    /* No validation set, no callback, no report, default model config would be far too big:
     * use the tiny one. */
    snprintf(out, sizeof out, "%s/noval", scratch);
    cfg.epochs = 1;
    EXPECT_STATUS(temporal_train(train_h5, NULL, out, &mc, &cfg, NULL, NULL, NULL), TEMPORAL_OK);

    /* Errors. */
    EXPECT_STATUS(temporal_train(NULL, NULL, out, &mc, &cfg, NULL, NULL, NULL),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_train(train_h5, NULL, NULL, &mc, &cfg, NULL, NULL, NULL),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(temporal_train(train_h5, NULL, "", &mc, &cfg, NULL, NULL, NULL),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    cfg.epochs = 0;
    EXPECT_STATUS(temporal_train(train_h5, NULL, out, &mc, &cfg, NULL, NULL, NULL),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    cfg.epochs = 1;
    cfg.loss = 5;
    EXPECT_STATUS(temporal_train(train_h5, NULL, out, &mc, &cfg, NULL, NULL, NULL),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    cfg.loss = TEMPORAL_LOSS_FOCAL;
    rep.struct_size = 4;
    EXPECT_STATUS(temporal_train(train_h5, NULL, out, &mc, &cfg, NULL, NULL, &rep),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    snprintf(path, sizeof path, "%s/missing.h5", scratch);
    EXPECT_STATUS(temporal_train(path, NULL, out, &mc, &cfg, NULL, NULL, NULL), TEMPORAL_ERR_IO);
    mc.feature_dim = F + 1;
    EXPECT_STATUS(temporal_train(train_h5, NULL, out, &mc, &cfg, NULL, NULL, NULL),
                  TEMPORAL_ERR_SHAPE);
}

/* A nohdf5 build: the dataset writer and temporal_train are UNSUPPORTED (after argument
 * checks for temporal_train: a bad cfg is still INVALID_ARGUMENT). */
static void test_nohdf5(void) {
    char path[4096], msg[512];
    float x[2 * 3 * F] = {0};
    const int64_t labels[2] = {0, 1};
    temporal_train_config cfg = temporal_train_config_default();
    snprintf(path, sizeof path, "%s/never.h5", scratch);
    EXPECT_STATUS(temporal_dataset_write(path, x, 2, 3, F, NULL, labels, NULL, C),
                  TEMPORAL_ERR_UNSUPPORTED);
    CHECK(temporal_last_error(msg, sizeof msg) > 0 && strstr(msg, "HDF5") != NULL);
    EXPECT_STATUS(temporal_train(path, NULL, scratch, NULL, &cfg, NULL, NULL, NULL),
                  TEMPORAL_ERR_UNSUPPORTED);
    CHECK(access(path, F_OK) != 0);
    cfg.epochs = 0;
    EXPECT_STATUS(temporal_train(path, NULL, scratch, NULL, &cfg, NULL, NULL, NULL),
                  TEMPORAL_ERR_INVALID_ARGUMENT);
    printf("nohdf5 build: dataset_write and train are UNSUPPORTED\n");
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    scratch = argv[1];
    {
        char buf[4096];
        size_t i;
        snprintf(buf, sizeof buf, "%s", scratch);
        for (i = 1; buf[i] != '\0'; i++) {
            if (buf[i] == '/') {
                buf[i] = '\0';
                mkdir(buf, 0755);
                buf[i] = '/';
            }
        }
        mkdir(buf, 0755);
    }
    test_trainer();
    test_trainer_state();
    test_trainer_class_weights();
    test_trainer_errors();
    test_ensemble();
    if (temporal_hdf5_available())
        test_train();
    else
        test_nohdf5();
    printf("train test: %d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
