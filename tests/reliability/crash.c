/* Crash safety of the library's files (DESIGN §4: temp file, fsync, rename, fsync dir;
 * checkpoint.json as the commit point).
 *
 *   crash save  DIR TRIALS SEED   SIGKILL a child that saves two ~4 MB models alternately to one
 *                                 path, at TRIALS random moments: the path always holds one of
 *                                 the two models byte for byte, and loads.
 *   crash train DIR TRIALS SEED   SIGKILL a child running temporal_train (a checkpoint committed
 *                                 every step, resume on) at TRIALS random moments: checkpoint.json
 *                                 always names a pair that loads, the next child resumes from it
 *                                 (a corrupt pair would make it fail), and a final resume runs to
 *                                 the end.
 *   crash fullfs DIR              saves into a 1 MiB tmpfs mounted at DIR/mnt (needs root and
 *                                 mount(2); otherwise says so and uses destinations that cannot
 *                                 be created): a failed write is TEMPORAL_ERR_IO naming the cause,
 *                                 the previous file is intact, and no temporary file is left.
 *
 * The children are this program re-executed (posix_spawn; the library forbids fork after load).
 * Random moments come from SEED, so a run is reproducible up to the machine's timing. */
#include "rel.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

extern char **environ;

static const char *self;

static temporal_model_config big_config(void) { /* ~1M parameters, 4 MB files */
    temporal_model_config c = temporal_model_config_default();
    c.feature_dim = 128;
    c.hidden_dim = 128;
    c.num_layers = 2;
    c.num_heads = 4;
    c.num_classes = 4;
    c.num_classifier_widths = 2;
    c.classifier_widths[0] = 128;
    c.classifier_widths[1] = 64;
    c.classifier_widths[2] = 0;
    return c;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static pid_t spawn(char *const argv[], int *out_fd) {
    pid_t pid;
    int p[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (out_fd != NULL) {
        if (pipe(p) != 0) return -1;
        posix_spawn_file_actions_adddup2(&fa, p[1], 1);
        posix_spawn_file_actions_addclose(&fa, p[0]);
    }
    if (posix_spawn(&pid, self, &fa, NULL, argv, environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    if (out_fd != NULL) {
        close(p[1]);
        *out_fd = p[0];
    }
    return pid;
}

static int count_temps(const char *dir, int remove_them) {
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (d == NULL) return -1;
    while ((e = readdir(d)) != NULL) {
        if (strstr(e->d_name, ".tmp-") != NULL) {
            n++;
            if (remove_them) {
                char p[4096];
                rel_join(p, sizeof p, dir, e->d_name);
                unlink(p);
            }
        }
    }
    closedir(d);
    return n;
}

static int same_file(const char *p, const unsigned char *ref, size_t n) {
    size_t m = 0;
    unsigned char *b = rel_read(p, &m);
    int same = b != NULL && m == n && memcmp(b, ref, n) == 0;
    free(b);
    return same;
}

/* --- save ---------------------------------------------------------------------------------- */

static int child_save(const char *path) {
    temporal_model a, b;
    temporal_model_config c = big_config();
    long i;
    if (temporal_model_create(&c, 1, &a) != TEMPORAL_OK || temporal_model_create(&c, 2, &b) != TEMPORAL_OK)
        return 3;
    for (i = 0;; i++) {
        if (temporal_model_save(i % 2 ? b : a, path) != TEMPORAL_OK) return 4;
        if (write(1, i % 2 ? "B" : "A", 1) != 1) return 5;
    }
}

static int run_save(const char *dir, int trials, unsigned seed) {
    char path[4096], ra[4096], rb[4096];
    temporal_model a, b;
    temporal_model_config c = big_config();
    unsigned char *refa, *refb;
    size_t na = 0, nb = 0;
    int t, was_a = 0, was_b = 0, temps = 0;
    long saves = 0;
    rel_mkdirs(dir);
    rel_join(path, sizeof path, dir, "model.safetensors");
    rel_join(ra, sizeof ra, dir, "ref-a.safetensors");
    rel_join(rb, sizeof rb, dir, "ref-b.safetensors");
    unlink(path);
    EXPECT(temporal_model_create(&c, 1, &a), TEMPORAL_OK, NULL);
    EXPECT(temporal_model_create(&c, 2, &b), TEMPORAL_OK, NULL);
    EXPECT(temporal_model_save(a, ra), TEMPORAL_OK, NULL);
    EXPECT(temporal_model_save(b, rb), TEMPORAL_OK, NULL);
    refa = rel_read(ra, &na);
    refb = rel_read(rb, &nb);
    CHECK(refa != NULL && refb != NULL && na > (1u << 20));
    srand(seed);
    for (t = 0; t < trials; t++) {
        char *argv[] = {(char *)self, "save-child", path, NULL};
        char buf[256];
        int fd, st;
        ssize_t k;
        temporal_model m = 0;
        double delay = (rand() % 1000) / 1000.0 * 0.25; /* 0 .. 250 ms: several saves */
        pid_t pid = spawn(argv, &fd);
        CHECK(pid > 0);
        if (pid <= 0) break;
        if (read(fd, buf, 1) != 1) { /* the first save completed */
            CHECK(!"save child died before its first save");
            waitpid(pid, &st, 0);
            break;
        }
        saves++;
        usleep((useconds_t)(delay * 1e6));
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        while ((k = read(fd, buf, sizeof buf)) > 0) saves += k;
        close(fd);
        /* The path holds one complete model, byte for byte, and it loads. */
        if (same_file(path, refa, na))
            was_a++;
        else if (same_file(path, refb, nb))
            was_b++;
        else {
            CHECK(!"after SIGKILL the checkpoint is neither model");
            fprintf(stderr, "crash save: trial %d (delay %.3f s): %s is torn\n", t, delay, path);
        }
        EXPECT(temporal_model_load(path, NULL, &m), TEMPORAL_OK, NULL);
        if (m != 0) temporal_model_free(m);
        temps += count_temps(dir, 1);
    }
    printf("crash save: %d SIGKILLs during saves (%ld saves completed in all): %d left model A, "
           "%d model B, %d torn; %d temporary files left behind by the kills (removed)\n",
           trials, saves, was_a, was_b, trials - was_a - was_b, temps);
    free(refa);
    free(refb);
    temporal_model_free(a);
    temporal_model_free(b);
    return 0;
}

/* --- train --------------------------------------------------------------------------------- */

enum { TN = 48, TT = 8, TF = 16, TC = 3 };

static temporal_train_config train_cfg(int epochs) {
    temporal_train_config tc = temporal_train_config_default();
    tc.epochs = epochs;
    tc.batch_size = 8;
    tc.patience = 0;
    tc.checkpoint_every_steps = 1;
    tc.resume = 1;
    return tc;
}

static temporal_model_config train_model(void) {
    temporal_model_config c = rel_small_config(0);
    c.num_classes = 0; /* from the dataset */
    return c;
}

static int child_train(const char *dir, int epochs) {
    char tr[4096], va[4096], out[4096];
    temporal_model_config c = train_model();
    temporal_train_config tc = train_cfg(epochs);
    temporal_status st;
    rel_join(tr, sizeof tr, dir, "train.h5");
    rel_join(va, sizeof va, dir, "val.h5");
    rel_join(out, sizeof out, dir, "run");
    st = temporal_train(tr, va, out, &c, &tc, NULL, NULL, NULL);
    if (st != TEMPORAL_OK) {
        char msg[1024];
        temporal_last_error(msg, sizeof msg);
        fprintf(stderr, "train child: status %d: %s\n", (int)st, msg);
        return 10 + (int)st;
    }
    return 0;
}

/* Reads checkpoint.json's "model" and "train_state" names (our own writer's format). */
static int read_pointer(const char *run, char *model, char *state, long *step) {
    char p[4096];
    size_t n = 0;
    unsigned char *j;
    const char *s;
    rel_join(p, sizeof p, run, "checkpoint.json");
    j = rel_read(p, &n);
    if (j == NULL) return 0;
    j = (unsigned char *)realloc(j, n + 1);
    j[n] = '\0';
    s = strstr((char *)j, "\"step\":");
    *step = s ? atol(s + 7) : -1;
    s = strstr((char *)j, "\"model\": \"");
    if (s == NULL || sscanf(s + 10, "%255[^\"]", model) != 1) {
        free(j);
        return 0;
    }
    s = strstr((char *)j, "\"train_state\": \"");
    if (s == NULL || sscanf(s + 16, "%255[^\"]", state) != 1) {
        free(j);
        return 0;
    }
    free(j);
    return 1;
}

static int run_train(const char *dir, int trials, unsigned seed) {
    char tr[4096], va[4096], run[4096], cmd[8192];
    float *x = (float *)malloc(sizeof(float) * TN * TT * TF);
    int32_t len[TN];
    int64_t lab[TN];
    const char *names[TC] = {"walk", "run", "jump"};
    int t, i, ok_pairs = 0, temps = 0, temps_end = -1, resumed_fail = 0;
    long last_step = -1, max_step = 0;
    if (!temporal_hdf5_available()) {
        printf("crash train: this build has no HDF5 (nohdf5): skipped\n");
        free(x);
        return 0;
    }
    rel_mkdirs(dir);
    rel_join(tr, sizeof tr, dir, "train.h5");
    rel_join(va, sizeof va, dir, "val.h5");
    rel_join(run, sizeof run, dir, "run");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", run);
    CHECK(system(cmd) == 0);
    for (i = 0; i < TN; i++) {
        len[i] = 3 + i % (TT - 2);
        lab[i] = i % TC;
    }
    rel_fill(x, (size_t)TN * TT * TF, 4);
    for (i = 0; i < TN; i++) x[(size_t)i * TT * TF + (size_t)lab[i]] += 2.0f; /* learnable */
    EXPECT(temporal_dataset_write(tr, x, TN, TT, TF, len, lab, names, TC), TEMPORAL_OK, NULL);
    EXPECT(temporal_dataset_write(va, x, TN / 2, TT, TF, len, lab, names, TC), TEMPORAL_OK, NULL);
    srand(seed);
    for (t = 0; t < trials; t++) {
        char *argv[] = {(char *)self, "train-child", (char *)dir, "100000", NULL};
        char model[256], state[256], p[4096];
        int st;
        long step = -1;
        double t0 = now(), delay = 0.05 + (rand() % 1000) / 1000.0 * 0.6;
        pid_t pid = spawn(argv, NULL);
        CHECK(pid > 0);
        if (pid <= 0) break;
        /* wait until this child has committed at least once past the previous step */
        for (;;) {
            long s2 = -1;
            if (read_pointer(run, model, state, &s2) && s2 > last_step) break;
            if (waitpid(pid, &st, WNOHANG) == pid) {
                resumed_fail++;
                fprintf(stderr, "crash train: trial %d: the child exited (status %d) instead of "
                                "training: the committed pair did not resume\n", t, st);
                pid = -1;
                break;
            }
            if (now() - t0 > 60) break;
            usleep(2000);
        }
        if (pid < 0) continue;
        usleep((useconds_t)(delay * 1e6));
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        /* checkpoint.json names a pair that exists and whose model loads (its stored SHA-256 is
         * checked: the data are what was saved). The train state is checked by the next child's
         * resume. */
        if (read_pointer(run, model, state, &step)) {
            temporal_model m = 0;
            struct stat sb;
            rel_join(p, sizeof p, run, model);
            if (rel_expect(temporal_model_load(p, NULL, &m), TEMPORAL_OK, NULL, model, __FILE__,
                           __LINE__))
                temporal_model_free(m);
            rel_join(p, sizeof p, run, state);
            CHECK(stat(p, &sb) == 0 && sb.st_size > 0);
            if (m != 0 && stat(p, &sb) == 0) ok_pairs++;
            CHECK(step >= last_step);
            last_step = step;
            if (step > max_step) max_step = step;
        } else {
            CHECK(!"checkpoint.json unreadable after SIGKILL");
        }
        temps += count_temps(run, 0);
    }
    /* A last child resumes and runs to the end (epochs fixed): exit status 0. */
    {
        char *argv[] = {(char *)self, "train-child", (char *)dir, "0", NULL};
        int st = -1;
        pid_t pid;
        long step = -1;
        char model[256], state[256];
        read_pointer(run, model, state, &step);
        snprintf(cmd, sizeof cmd, "%ld", step / (TN / 8) + 2); /* two more epochs */
        argv[3] = cmd;
        pid = spawn(argv, NULL);
        waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) resumed_fail++;
        temps_end = count_temps(run, 0); /* a commit prunes what killed writers left */
        CHECK(temps_end == 0);
    }
    CHECK(resumed_fail == 0);
    printf("crash train: %d SIGKILLs during temporal_train (checkpoint every step, up to step "
           "%ld): %d/%d committed pairs loadable, %d resume failures, final resume to the end "
           "OK; %d temporary files seen right after kills, %d left at the end\n",
           trials, max_step, ok_pairs, trials, resumed_fail, temps, temps_end);
    free(x);
    return 0;
}

/* --- full file system -------------------------------------------------------------------- */

static int run_fullfs(const char *dir) {
    char mnt[4096], p[4096], q[4096];
    temporal_model small, big, m = 0;
    temporal_model_config sc = rel_small_config(16), bc = big_config();
    unsigned char *before;
    size_t n = 0;
    int mounted;
    rel_mkdirs(dir);
    rel_join(mnt, sizeof mnt, dir, "mnt");
    mkdir(mnt, 0755);
    mounted = mount("tmpfs", mnt, "tmpfs", 0, "size=1m") == 0;
    EXPECT(temporal_model_create(&sc, 3, &small), TEMPORAL_OK, NULL);
    EXPECT(temporal_model_create(&bc, 4, &big), TEMPORAL_OK, NULL);
    if (mounted) {
        rel_join(p, sizeof p, mnt, "model.safetensors");
        rel_join(q, sizeof q, mnt, "new.safetensors");
        EXPECT(temporal_model_save(small, p), TEMPORAL_OK, NULL);
        before = rel_read(p, &n);
        /* 4 MB into 1 MiB: over an existing file, and as a new file */
        EXPECT(temporal_model_save(big, p), TEMPORAL_ERR_IO, "no space left on device");
        EXPECT(temporal_model_save(big, q), TEMPORAL_ERR_IO, "no space left on device");
        CHECK(same_file(p, before, n));
        CHECK(access(q, F_OK) != 0);
        CHECK(count_temps(mnt, 0) == 0);
        EXPECT(temporal_model_load(p, NULL, &m), TEMPORAL_OK, NULL);
        temporal_model_free(m);
        /* the library's dataset writer too */
        if (temporal_hdf5_available()) {
            float *x = (float *)calloc((size_t)64 * 64 * 128, sizeof(float));
            int64_t lab[64] = {0};
            EXPECT(temporal_dataset_write(q, x, 64, 64, 128, NULL, lab, NULL, 2), TEMPORAL_ERR_IO,
                   NULL);
            CHECK(access(q, F_OK) != 0);
            CHECK(count_temps(mnt, 0) == 0);
            free(x);
        }
        free(before);
        CHECK(umount(mnt) == 0);
        printf("crash fullfs: 1 MiB tmpfs: saves of a 4 MB model are TEMPORAL_ERR_IO (no space "
               "left on device), previous file intact, no temporary files left\n");
    } else {
        printf("crash fullfs: mount(2) of a tmpfs not permitted here (%s): destinations that "
               "cannot be created instead\n", strerror(errno));
    }
    EXPECT(temporal_model_save(big, "/etc/passwd/model.safetensors"), TEMPORAL_ERR_IO,
           "not a directory");
    EXPECT(temporal_model_save(big, "/proc/version/model.safetensors"), TEMPORAL_ERR_IO, NULL);
    EXPECT(temporal_model_save(big, "/proc/model.safetensors"), TEMPORAL_ERR_IO, NULL);
    CHECK(access("/proc/model.safetensors", F_OK) != 0);
    temporal_model_free(small);
    temporal_model_free(big);
    return 0;
}

int main(int argc, char **argv) {
    self = argv[0];
    if (argc >= 3 && strcmp(argv[1], "save-child") == 0) return child_save(argv[2]);
    if (argc >= 4 && strcmp(argv[1], "train-child") == 0) return child_train(argv[2], atoi(argv[3]));
    if (argc >= 5 && strcmp(argv[1], "save") == 0) {
        run_save(argv[2], atoi(argv[3]), (unsigned)atoi(argv[4]));
        return rel_summary("crash save");
    }
    if (argc >= 5 && strcmp(argv[1], "train") == 0) {
        run_train(argv[2], atoi(argv[3]), (unsigned)atoi(argv[4]));
        return rel_summary("crash train");
    }
    if (argc >= 3 && strcmp(argv[1], "fullfs") == 0) {
        run_fullfs(argv[2]);
        return rel_summary("crash fullfs");
    }
    fprintf(stderr, "usage: %s save DIR TRIALS SEED | train DIR TRIALS SEED | fullfs DIR\n", argv[0]);
    return 2;
}
