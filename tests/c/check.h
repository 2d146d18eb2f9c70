/* The C tests' check macros: CHECK counts a condition, EXPECT_STATUS a call's status and, for a
 * failure, that the thread's last error holds a message. Each test program includes this once
 * and prints `checks` and `failures` at the end. */
#ifndef TEMPORAL_TEST_CHECK_H
#define TEMPORAL_TEST_CHECK_H

#include <stdio.h>

#include "temporal.h"

static int failures, checks;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        checks++;                                                                     \
        if (!(cond)) {                                                                \
            failures++;                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                             \
    } while (0)

#define EXPECT_STATUS(call, want) expect_status((call), (want), #call, __FILE__, __LINE__)

static void expect_status(temporal_status got, temporal_status want, const char *what,
                          const char *file, int line) {
    char msg[1024];
    checks++;
    if (got != want) {
        failures++;
        temporal_last_error(msg, sizeof msg);
        fprintf(stderr, "%s:%d: %s returned %d (%s), want %d (%s); last error: %s\n", file, line,
                what, (int)got, temporal_status_string(got), (int)want,
                temporal_status_string(want), msg);
        return;
    }
    if (want != TEMPORAL_OK) {
        size_t n = temporal_last_error(msg, sizeof msg);
        checks++;
        if (n == 0 || msg[0] == '\0') {
            failures++;
            fprintf(stderr, "%s:%d: %s failed without a message\n", file, line, what);
        }
    }
}

#endif
