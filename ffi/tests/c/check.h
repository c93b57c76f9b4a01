/* The small test harness of the C tests: CHECK, EXPECT_FAIL, EXPECT_OK and
 * the closing "N passed, N failed" line. A test file may define
 * CHECK_CONTEXT (an expression giving a string, e.g. the backend under test)
 * before including this header; failures then name it. */

#ifndef RINGLOCK_TEST_CHECK_H
#define RINGLOCK_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

#include "ringlock.h"

#ifndef CHECK_CONTEXT
#define CHECK_CONTEXT ""
#endif

static int passed, failed;

/* Counts a failure and says where, with the context if there is one. */
#define FAIL_AT_(fmt, ...)                                                         \
    do {                                                                           \
        const char *ctx_ = (CHECK_CONTEXT);                                        \
        failed++;                                                                  \
        fprintf(stderr, "%s:%d: FAIL%s%s%s: " fmt "\n", __FILE__, __LINE__,        \
                ctx_[0] ? " [" : "", ctx_, ctx_[0] ? "]" : "", __VA_ARGS__);       \
    } while (0)

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (cond) {                                                                \
            passed++;                                                              \
        } else {                                                                   \
            FAIL_AT_("%s", #cond);                                                 \
        }                                                                          \
    } while (0)

/* Leaves a known message in rl_last_error(), so that a later check can tell
 * that a new failure replaced it. */
static inline void mark_last_error(void) { (void)rl_ring_len(NULL); }

/* The call failed with `want`, and recorded a new, non-empty message
 * starting with the name `fn` of the function that failed. */
#define EXPECT_FAIL(call, want, fn)                                                \
    do {                                                                           \
        mark_last_error();                                                         \
        rl_status got_ = (call);                                                   \
        const char *msg_ = rl_last_error();                                        \
        if (got_ == (want) && strncmp(msg_, fn ": ", strlen(fn ": ")) == 0 &&      \
            msg_[strlen(fn ": ")] != '\0') {                                       \
            passed++;                                                              \
        } else {                                                                   \
            FAIL_AT_("%s -> %u (%s), want %u; message \"%s\"", #call,              \
                     (unsigned)got_, rl_status_str(got_), (unsigned)(want), msg_); \
        }                                                                          \
    } while (0)

#define EXPECT_OK(call)                                                            \
    do {                                                                           \
        rl_status got_ = (call);                                                   \
        if (got_ == RL_OK) {                                                       \
            passed++;                                                              \
        } else {                                                                   \
            FAIL_AT_("%s -> %s: %s", #call, rl_status_str(got_), rl_last_error()); \
        }                                                                          \
    } while (0)

/* Prints "<name>: N passed, N failed"; the exit status of the test. */
static inline int check_report(const char *name) {
    printf("%s: %d passed, %d failed\n", name, passed, failed);
    return failed == 0 ? 0 : 1;
}

#endif
