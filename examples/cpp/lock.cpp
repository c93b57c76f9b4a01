// A counter in a file, shared by processes under one ringlock lock. The C++
// edition (through ringlock.hpp); examples/c/lock.c and
// examples/python/lock.py take the same arguments and mix freely.
//
//   lock_cpp <lock-name> <counter-file> <increments> [shm|file] [lock-dir]
//
// Each increment: acquire exclusively (waiting for ever), read the decimal
// counter from the file (missing or empty: 0), write counter + 1, release.
// At the end prints one line:
//
//   cpp pid=<pid> increments=<n> last_token=<t> died_seen=<k>
//
// Exits 1 with a message on any error.

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include "ringlock.hpp"

namespace {

std::runtime_error os_error(const std::string &path) {
    return std::runtime_error(path + ": " + std::strerror(errno));
}

// Reads the counter (missing or empty: 0) and writes it plus one, over the
// old value, which it is never shorter than.
void increment(const std::string &path) {
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw os_error(path);
    }
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n < 0) {
        close(fd);
        throw os_error(path);
    }
    std::string text(buf, static_cast<std::size_t>(n));
    std::size_t first = text.find_first_not_of(" \n");
    std::uint64_t value = 0;
    if (first != std::string::npos) {
        std::size_t last = text.find_last_not_of(" \n");
        std::string digits = text.substr(first, last - first + 1);
        if (digits.find_first_not_of("0123456789") != std::string::npos) {
            close(fd);
            throw std::runtime_error(path + ": does not hold a decimal counter");
        }
        value = std::stoull(digits);
    }
    std::string next = std::to_string(value + 1);
    auto len = static_cast<off_t>(next.size());
    if (pwrite(fd, next.data(), next.size(), 0) != len || ftruncate(fd, len) != 0) {
        close(fd);
        throw os_error(path);
    }
    if (close(fd) != 0) {
        throw os_error(path);
    }
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 4 || argc > 6) {
        std::fprintf(stderr, "usage: %s <lock-name> <counter-file> <increments> [shm|file] [lock-dir]\n",
                     argv[0]);
        return 2;
    }
    try {
        std::string count = argv[3];
        if (count.empty() || count.find_first_not_of("0123456789") != std::string::npos) {
            throw std::runtime_error(count + ": not a count");
        }
        unsigned long long increments = std::stoull(count);
        ringlock::Options options;
        if (argc >= 5) {
            std::string backend = argv[4];
            if (backend == "shm") {
                options.backend = ringlock::Backend::shm;
            } else if (backend == "file") {
                options.backend = ringlock::Backend::file;
            } else {
                throw std::runtime_error(backend + ": the backend is shm or file");
            }
        }
        if (argc >= 6) {
            options.dir = argv[5];
        }
        ringlock::Lock lock(argv[1], options);
        std::uint64_t last_token = 0;
        unsigned long long died_seen = 0;
        for (unsigned long long i = 0; i < increments; i++) {
            ringlock::Guard guard(lock);  // released at the end of each round
            if (guard.hold().token <= last_token) {
                throw std::runtime_error("the fencing token went backwards");
            }
            last_token = guard.hold().token;
            died_seen += guard.hold().previous_owner_died;
            increment(argv[2]);
        }
        std::printf("cpp pid=%ld increments=%llu last_token=%" PRIu64 " died_seen=%llu\n",
                    static_cast<long>(getpid()), increments, last_token, died_seen);
    } catch (const ringlock::Error &e) {
        std::fprintf(stderr, "lock_cpp: %s (%s)\n", e.what(), e.status_name());
        return 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "lock_cpp: %s\n", e.what());
        return 1;
    }
    return 0;
}
