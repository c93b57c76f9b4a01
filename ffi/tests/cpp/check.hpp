// The C++ tests' harness: pass/fail counters, CHECK, EXPECT_ERROR and the
// summary line ("<name>: N passed, N failed"). Header-only, C++17.

#pragma once

#include <cstdio>
#include <cstring>

#include "ringlock.hpp"

inline int passed = 0;
inline int failed = 0;
// Printed in brackets with every failure when set (test_lock: the backend).
inline const char *check_context = nullptr;

inline void check_fail(const char *file, int line, const char *what) {
    failed++;
    if (check_context != nullptr) {
        std::fprintf(stderr, "%s:%d: FAIL [%s]: %s\n", file, line, check_context, what);
    } else {
        std::fprintf(stderr, "%s:%d: FAIL: %s\n", file, line, what);
    }
}

#define CHECK(cond)                                    \
    do {                                               \
        if (cond) {                                    \
            passed++;                                  \
        } else {                                       \
            check_fail(__FILE__, __LINE__, #cond);     \
        }                                              \
    } while (0)

// `body` throws ringlock::Error with `status`, that status's name, and a
// message starting with `prefix`.
template <class F>
void expect_error(F body, rl_status status, const char *prefix, const char *file, int line) {
    try {
        body();
        check_fail(file, line, "no exception");
    } catch (const ringlock::Error &e) {
        bool ok = e.status() == status && std::strncmp(e.what(), prefix, std::strlen(prefix)) == 0 &&
                  std::strcmp(e.status_name(), rl_status_str(status)) == 0;
        if (ok) {
            passed++;
        } else {
            char what[512];
            std::snprintf(what, sizeof what, "status %u (%s), message \"%s\"",
                          static_cast<unsigned>(e.status()), e.status_name(), e.what());
            check_fail(file, line, what);
        }
    }
}

#define EXPECT_ERROR(stmt, status, prefix) expect_error([&] { stmt; }, status, prefix, __FILE__, __LINE__)

// Prints the summary line; the process's exit status.
inline int check_summary(const char *name) {
    std::printf("%s: %d passed, %d failed\n", name, passed, failed);
    return failed == 0 ? 0 : 1;
}
