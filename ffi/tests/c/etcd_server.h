/* A one-member etcd for the C and C++ membership tests: free 127.0.0.1
 * ports, data in a fresh directory under /tmp, healthy (GET /health) before
 * use, killed by pid at the end. C11 and C++17. The including file defines
 * _GNU_SOURCE before any include.
 *
 *   etcd_server e;
 *   int want = etcd_wanted("test_membership");  // 1 run, 0 skip, -1 fail
 *   if (want == 1 && etcd_start(&e)) { ... e.endpoint ...; etcd_stop(&e); }
 *
 * Without an `etcd` on PATH the tests skip, saying so, unless
 * RINGLOCK_REQUIRE_ETCD is set (then they fail); RINGLOCK_SKIP_ETCD skips. */

#ifndef RINGLOCK_TEST_ETCD_SERVER_H
#define RINGLOCK_TEST_ETCD_SERVER_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    pid_t pid;
    char endpoint[64];
    char dir[64];
} etcd_server;

static inline double etcd_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static inline void etcd_sleep_ms(long ms) {
    struct timespec t;
    t.tv_sec = ms / 1000;
    t.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&t, NULL);
}

static inline struct sockaddr_in etcd_loopback(int port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* A port nobody listens on now (the kernel's choice for port 0); 0 on error. */
static inline int etcd_free_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0), port = 0;
    struct sockaddr_in a = etcd_loopback(0);
    socklen_t len = sizeof a;
    if (s < 0) {
        return 0;
    }
    if (bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(s, (struct sockaddr *)&a, &len) == 0) {
        port = ntohs(a.sin_port);
    }
    close(s);
    return port;
}

/* GET /health on 127.0.0.1:port answers {"health":"true"}. */
static inline int etcd_healthy(int port) {
    static const char request[] = "GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    char answer[1024];
    size_t got = 0;
    ssize_t n;
    struct timeval tv = {1, 0};
    struct sockaddr_in a = etcd_loopback(port);
    int ok = 0, s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) {
        return 0;
    }
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(s, (struct sockaddr *)&a, sizeof a) == 0 &&
        write(s, request, sizeof request - 1) == (ssize_t)(sizeof request - 1)) {
        while (got < sizeof answer - 1 && (n = read(s, answer + got, sizeof answer - 1 - got)) > 0) {
            got += (size_t)n;
        }
        answer[got] = '\0';
        ok = strstr(answer, "\"health\":\"true\"") != NULL;
    }
    close(s);
    return ok;
}

static inline int etcd_on_path(void) {
    const char *path = getenv("PATH");
    char dir[4096];
    while (path != NULL && *path != '\0') {
        const char *end = strchr(path, ':');
        size_t len = end != NULL ? (size_t)(end - path) : strlen(path);
        if (len > 0 && len < sizeof dir - 6) {
            memcpy(dir, path, len);
            memcpy(dir + len, "/etcd", 6);
            if (access(dir, X_OK) == 0) {
                return 1;
            }
        }
        path = end != NULL ? end + 1 : NULL;
    }
    return 0;
}

/* 1: run the etcd tests; 0: skip them (said on stdout); -1: fail (no etcd
 * but RINGLOCK_REQUIRE_ETCD is set). */
static inline int etcd_wanted(const char *test) {
    const char *skip = getenv("RINGLOCK_SKIP_ETCD"), *require = getenv("RINGLOCK_REQUIRE_ETCD");
    if (skip != NULL && skip[0] != '\0') {
        printf("SKIPPED %s: RINGLOCK_SKIP_ETCD is set\n", test);
        return 0;
    }
    if (etcd_on_path()) {
        return 1;
    }
    if (require != NULL && require[0] != '\0') {
        fprintf(stderr, "%s: RINGLOCK_REQUIRE_ETCD is set but no etcd is on PATH\n", test);
        return -1;
    }
    printf("SKIPPED %s: etcd is not installed (apt-get install etcd-server, or set "
           "RINGLOCK_REQUIRE_ETCD=1 to fail instead)\n", test);
    return 0;
}

static inline void etcd_stop(etcd_server *e) {
    char cmd[128];
    if (e->pid > 0) {
        kill(e->pid, SIGKILL);
        waitpid(e->pid, NULL, 0);
        e->pid = 0;
    }
    if (e->dir[0] != '\0') {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "etcd_stop: could not remove %s\n", e->dir);
        }
        e->dir[0] = '\0';
    }
}

/* Starts an etcd and waits until it is healthy (three tries: a port may be
 * taken between choosing and binding it); 1 on success. */
static inline int etcd_start(etcd_server *e) {
    for (int attempt = 0; attempt < 3; attempt++) {
        char data[96], log[96], client[64], peer[64], cluster[96];
        int cport = etcd_free_port(), pport = etcd_free_port();
        memset(e, 0, sizeof *e);
        strcpy(e->dir, "/tmp/ringlock-c-etcd-XXXXXX");
        if (cport == 0 || pport == 0 || mkdtemp(e->dir) == NULL) {
            e->dir[0] = '\0';
            continue;
        }
        snprintf(data, sizeof data, "%s/data", e->dir);
        snprintf(log, sizeof log, "%s/etcd.log", e->dir);
        snprintf(client, sizeof client, "http://127.0.0.1:%d", cport);
        snprintf(peer, sizeof peer, "http://127.0.0.1:%d", pport);
        snprintf(cluster, sizeof cluster, "m0=%s", peer);
        snprintf(e->endpoint, sizeof e->endpoint, "%s", client);
        e->pid = fork();
        if (e->pid == 0) {
            int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600), null = open("/dev/null", O_RDONLY);
            if (fd >= 0 && null >= 0) {
                dup2(null, 0);
                dup2(fd, 1);
                dup2(fd, 2);
            }
            execlp("etcd", "etcd", "--name", "m0", "--data-dir", data, "--listen-client-urls", client,
                   "--advertise-client-urls", client, "--listen-peer-urls", peer,
                   "--initial-advertise-peer-urls", peer, "--initial-cluster", cluster,
                   "--heartbeat-interval", "50", "--election-timeout", "500", (char *)NULL);
            _exit(127);
        }
        if (e->pid > 0) {
            double until = etcd_now() + 15;
            while (etcd_now() < until && waitpid(e->pid, NULL, WNOHANG) == 0) {
                if (etcd_healthy(cport)) {
                    return 1;
                }
                etcd_sleep_ms(20);
            }
            char tail[160];
            fprintf(stderr, "etcd on port %d did not become healthy (try %d); its log:\n", cport,
                    attempt + 1);
            snprintf(tail, sizeof tail, "tail -n 20 '%s' >&2", log);
            if (system(tail) != 0) {
                fprintf(stderr, "(no log)\n");
            }
        }
        etcd_stop(e);
    }
    return 0;
}

#endif
