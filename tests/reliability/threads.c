/* Concurrency: 16 threads x temporal_predict for a bounded time on one model and on several
 * models, every result bitwise equal to the serial one; training steps (temporal_trainer_step)
 * on one model while 8 threads predict on another (and on the one being trained); free while
 * 16 threads predict on the same handle: calls in flight finish with the correct result, calls
 * that start after free returned get TEMPORAL_ERR_BAD_HANDLE, nothing crashes.
 *
 *   threads SECONDS
 *
 * SECONDS bounds each phase's running time (it never decides pass or fail). */
#include "rel.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>

enum { NT = 16, F = 24, B = 3, T = 9, NC = 3, NMODELS = 4 };

static float x[B * T * F];
static int32_t lengths[B] = {9, 4, 1};
static double seconds;
static atomic_int stop;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static temporal_status predict(temporal_model m, float *out, float *fw) {
    return temporal_predict(m, x, B, T, F, lengths, NULL, out, B * NC, fw, B * T);
}

typedef struct worker {
    temporal_model *models;
    int nmodels;
    float (*want)[B * NC];
    float (*want_fw)[B * T];
    long calls, mismatches, errors, bad_handle, late_ok;
    atomic_int *freed; /* for the free race: 1 once temporal_model_free returned */
    int id;
} worker;

static void *predict_loop(void *arg) {
    worker *w = (worker *)arg;
    float out[B * NC], fw[B * T];
    long i = 0;
    do {
        int k = (int)((i + w->id) % w->nmodels);
        int freed_before = w->freed ? atomic_load(w->freed) : 0;
        temporal_status st = predict(w->models[k], out, fw);
        i++;
        w->calls++;
        if (st == TEMPORAL_OK) {
            if (memcmp(out, w->want[k], sizeof out) != 0 || memcmp(fw, w->want_fw[k], sizeof fw) != 0)
                w->mismatches++;
            if (freed_before) w->late_ok++; /* started after free returned: must not succeed */
        } else if (st == TEMPORAL_ERR_BAD_HANDLE && w->freed) {
            w->bad_handle++;
            if (freed_before) break; /* the handle is dead for this thread: done */
        } else {
            w->errors++;
        }
    } while (w->freed ? 1 : !atomic_load(&stop));
    return NULL;
}

static void run_workers(worker *w, int n, double secs) {
    pthread_t th[NT];
    int i;
    double t0 = now();
    atomic_store(&stop, 0);
    for (i = 0; i < n; i++) CHECK(pthread_create(&th[i], NULL, predict_loop, &w[i]) == 0);
    while (now() - t0 < secs) usleep(10000);
    atomic_store(&stop, 1);
    for (i = 0; i < n; i++) pthread_join(th[i], NULL);
}

static void phase_predict(int nmodels, const char *name) {
    temporal_model models[NMODELS];
    float want[NMODELS][B * NC], want_fw[NMODELS][B * T];
    worker w[NT];
    long calls = 0, bad = 0;
    int i;
    for (i = 0; i < nmodels; i++) {
        temporal_model_config c = rel_small_config(F);
        EXPECT(temporal_model_create(&c, 100 + (uint64_t)i, &models[i]), TEMPORAL_OK, NULL);
        EXPECT(predict(models[i], want[i], want_fw[i]), TEMPORAL_OK, NULL);
    }
    memset(w, 0, sizeof w);
    for (i = 0; i < NT; i++) {
        w[i].models = models;
        w[i].nmodels = nmodels;
        w[i].want = want;
        w[i].want_fw = want_fw;
        w[i].id = i;
    }
    run_workers(w, NT, seconds);
    for (i = 0; i < NT; i++) {
        calls += w[i].calls;
        bad += w[i].mismatches + w[i].errors;
        CHECK(w[i].calls > 0);
    }
    CHECK(bad == 0);
    printf("threads: %d threads x predict on %s: %ld calls, %ld not bitwise equal to serial or failed\n",
           NT, name, calls, bad);
    for (i = 0; i < nmodels; i++) EXPECT(temporal_model_free(models[i]), TEMPORAL_OK, NULL);
}

/* Training on model A (a trainer, steps in a loop) while 8 threads predict on model B (bitwise
 * equal to serial) and 4 threads predict on A (any finite result: its weights change). */
typedef struct trainer_arg {
    temporal_trainer t;
    long steps, errors;
    float first_loss, last_loss;
} trainer_arg;

static void *train_loop(void *arg) {
    trainer_arg *a = (trainer_arg *)arg;
    int64_t labels[B] = {0, 1, 2};
    do {
        float loss = 0;
        temporal_status st = temporal_trainer_step(a->t, x, B, T, F, lengths, labels, &loss);
        if (st != TEMPORAL_OK) {
            a->errors++;
            break;
        }
        if (a->steps == 0) a->first_loss = loss;
        a->last_loss = loss;
        a->steps++;
    } while (!atomic_load(&stop));
    return NULL;
}

static void *predict_any(void *arg) {
    worker *w = (worker *)arg;
    float out[B * NC], fw[B * T];
    do {
        int j;
        temporal_status st = predict(w->models[0], out, fw);
        w->calls++;
        if (st != TEMPORAL_OK) {
            w->errors++;
            continue;
        }
        for (j = 0; j < B * NC; j++)
            if (!isfinite(out[j])) w->mismatches++;
    } while (!atomic_load(&stop));
    return NULL;
}

static void phase_train_while_predict(void) {
    temporal_model a, b;
    temporal_trainer tr = 0;
    temporal_model_config c = rel_small_config(F);
    temporal_train_config tc = temporal_train_config_default();
    float want[1][B * NC], want_fw[1][B * T];
    pthread_t th[13];
    worker w[12];
    trainer_arg ta;
    double t0;
    long calls_b = 0, calls_a = 0, bad = 0;
    int i;
    EXPECT(temporal_model_create(&c, 7, &a), TEMPORAL_OK, NULL);
    EXPECT(temporal_model_create(&c, 8, &b), TEMPORAL_OK, NULL);
    EXPECT(predict(b, want[0], want_fw[0]), TEMPORAL_OK, NULL);
    tc.dropout = 0;
    EXPECT(temporal_trainer_create(a, &tc, &tr), TEMPORAL_OK, NULL);
    memset(w, 0, sizeof w);
    memset(&ta, 0, sizeof ta);
    ta.t = tr;
    atomic_store(&stop, 0);
    for (i = 0; i < 12; i++) {
        w[i].models = i < 8 ? &b : &a;
        w[i].nmodels = 1;
        w[i].want = want;
        w[i].want_fw = want_fw;
        CHECK(pthread_create(&th[i], NULL, i < 8 ? predict_loop : predict_any, &w[i]) == 0);
    }
    CHECK(pthread_create(&th[12], NULL, train_loop, &ta) == 0);
    t0 = now();
    while (now() - t0 < seconds) usleep(10000);
    atomic_store(&stop, 1);
    for (i = 0; i < 13; i++) pthread_join(th[i], NULL);
    for (i = 0; i < 12; i++) {
        if (i < 8) calls_b += w[i].calls;
        else calls_a += w[i].calls;
        bad += w[i].mismatches + w[i].errors;
    }
    CHECK(bad == 0 && ta.errors == 0 && ta.steps > 0);
    printf("threads: training model A (%ld steps, loss %.4f -> %.4f) while 8 threads predict on B "
           "(%ld calls, bitwise = serial) and 4 on A (%ld calls, finite): %ld failures\n",
           ta.steps, ta.first_loss, ta.last_loss, calls_b, calls_a, bad + ta.errors);
    /* B is unchanged by all this. */
    {
        float out[B * NC], fw[B * T];
        EXPECT(predict(b, out, fw), TEMPORAL_OK, NULL);
        CHECK(memcmp(out, want[0], sizeof out) == 0);
    }
    EXPECT(temporal_trainer_free(tr), TEMPORAL_OK, NULL);
    EXPECT(temporal_model_free(a), TEMPORAL_OK, NULL);
    EXPECT(temporal_model_free(b), TEMPORAL_OK, NULL);
}

/* free while 16 threads predict on the same handle. */
static void phase_free_race(int rounds) {
    int r, i;
    long ok = 0, bad_handle = 0, wrong = 0, late = 0;
    for (r = 0; r < rounds; r++) {
        temporal_model m;
        temporal_model_config c = rel_small_config(F);
        float want[1][B * NC], want_fw[1][B * T];
        worker w[NT];
        pthread_t th[NT];
        atomic_int freed;
        atomic_store(&freed, 0);
        EXPECT(temporal_model_create(&c, 55 + (uint64_t)r, &m), TEMPORAL_OK, NULL);
        EXPECT(predict(m, want[0], want_fw[0]), TEMPORAL_OK, NULL);
        memset(w, 0, sizeof w);
        atomic_store(&stop, 0);
        for (i = 0; i < NT; i++) {
            w[i].models = &m;
            w[i].nmodels = 1;
            w[i].want = want;
            w[i].want_fw = want_fw;
            w[i].freed = &freed;
            CHECK(pthread_create(&th[i], NULL, predict_loop, &w[i]) == 0);
        }
        usleep(1000 + 1500 * (r % 7)); /* free at different points of the calls in flight */
        EXPECT(temporal_model_free(m), TEMPORAL_OK, NULL);
        atomic_store(&freed, 1); /* every worker ends at its first BAD_HANDLE after this */
        for (i = 0; i < NT; i++) {
            pthread_join(th[i], NULL);
            ok += w[i].calls - w[i].bad_handle - w[i].errors;
            bad_handle += w[i].bad_handle;
            wrong += w[i].mismatches + w[i].errors;
            late += w[i].late_ok;
        }
        EXPECT(temporal_model_free(m), TEMPORAL_ERR_BAD_HANDLE, "not a live model");
    }
    CHECK(wrong == 0 && late == 0 && bad_handle >= (long)rounds * NT);
    printf("threads: free during 16-thread predict, %d rounds: %ld calls OK (all bitwise = serial), "
           "%ld BAD_HANDLE after free, %ld wrong, %ld succeeded after free returned\n",
           rounds, ok, bad_handle, wrong, late);
}

int main(int argc, char **argv) {
    seconds = argc > 1 ? atof(argv[1]) : 2;
    rel_fill(x, sizeof x / sizeof x[0], 9);
    phase_predict(1, "one model");
    phase_predict(NMODELS, "4 models");
    phase_train_while_predict();
    phase_free_race(seconds >= 5 ? 40 : 10);
    return rel_summary("threads");
}
