/* Host caveat: a C host that installs its own SIGINT handler (with SA_ONSTACK, as the header
 * asks) after loading the library keeps working: SIGINT raised on the main thread, sent to the
 * process from another thread and delivered while predicts run all reach the host's handler,
 * and predict still gives the same result. The library is dlopen'ed (as a plugin host would).
 *
 *   sigint LIBRARY_PATH */
#include "rel.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

enum { F = 16, B = 2, T = 6, NC = 3 };

static volatile sig_atomic_t handled;
static atomic_int stop;

static void on_sigint(int sig) {
    (void)sig;
    handled++;
}

typedef temporal_status (*create_fn)(const temporal_model_config *, uint64_t, temporal_model *);
typedef temporal_status (*predict_fn)(temporal_model, const float *, int64_t, int64_t, int64_t,
                                      const int32_t *, const temporal_predict_options *, float *,
                                      size_t, float *, size_t);
typedef temporal_status (*free_fn)(temporal_model);

static predict_fn predict;
static temporal_model model;
static float x[B * T * F], want[B * NC];
static long bg_calls, bg_bad;

static void *predict_loop(void *arg) {
    float out[B * NC];
    (void)arg;
    while (!atomic_load(&stop)) {
        if (predict(model, x, B, T, F, NULL, NULL, out, B * NC, NULL, 0) != TEMPORAL_OK ||
            memcmp(out, want, sizeof out) != 0)
            bg_bad++;
        bg_calls++;
    }
    return NULL;
}

int main(int argc, char **argv) {
    void *lib;
    create_fn create;
    free_fn mfree;
    struct sigaction sa;
    temporal_model_config c = rel_small_config(F);
    float out[B * NC];
    pthread_t th[3];
    int i;
    if (argc < 2) {
        fprintf(stderr, "usage: %s LIBRARY\n", argv[0]);
        return 2;
    }
    lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 2;
    }
    create = (create_fn)dlsym(lib, "temporal_model_create");
    predict = (predict_fn)dlsym(lib, "temporal_predict");
    mfree = (free_fn)dlsym(lib, "temporal_model_free");
    CHECK(create && predict && mfree);
    rel_fill(x, sizeof x / sizeof x[0], 3);
    CHECK(create(&c, 11, &model) == TEMPORAL_OK);
    CHECK(predict(model, x, B, T, F, NULL, NULL, want, B * NC, NULL, 0) == TEMPORAL_OK);

    /* The host's handler, installed after the library (and so after the Go runtime's). */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGINT, &sa, NULL) == 0);

    for (i = 0; i < 5; i++) CHECK(raise(SIGINT) == 0);
    CHECK(handled == 5);
    CHECK(predict(model, x, B, T, F, NULL, NULL, out, B * NC, NULL, 0) == TEMPORAL_OK);
    CHECK(memcmp(out, want, sizeof out) == 0);

    /* SIGINT to the process while three threads predict (it lands on any thread, including
     * ones inside Go code). */
    atomic_store(&stop, 0);
    for (i = 0; i < 3; i++) CHECK(pthread_create(&th[i], NULL, predict_loop, NULL) == 0);
    for (i = 0; i < 20; i++) {
        int before = handled, w;
        usleep(2000);
        CHECK(kill(getpid(), SIGINT) == 0);
        /* wait for delivery before the next one (two pending SIGINTs would merge into one) */
        for (w = 0; w < 10000 && handled == before; w++) usleep(1000);
    }
    atomic_store(&stop, 1);
    for (i = 0; i < 3; i++) pthread_join(th[i], NULL);
    CHECK(handled == 25);
    CHECK(bg_bad == 0 && bg_calls > 0);
    CHECK(predict(model, x, B, T, F, NULL, NULL, out, B * NC, NULL, 0) == TEMPORAL_OK);
    CHECK(memcmp(out, want, sizeof out) == 0);
    CHECK(mfree(model) == TEMPORAL_OK);
    printf("sigint: host handler ran %d times (5 raised, 20 sent while %ld predicts ran), predict "
           "still bitwise equal\n", (int)handled, bg_calls);
    return rel_summary("sigint");
}
