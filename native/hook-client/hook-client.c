// gantry-hook-client: the createContainer hook the runtime shim writes into config.json when it stays alive to
// do the hook's work itself (src/Gantry/Runtime/HookServer.cs). runc starts a hook as a new process for every
// container; a .NET hook costs ~10 ms of start and exit before its work begins, while the shim that wrote the
// spec is already running, warm, and waiting for runc. This static program hands the hook's input (the state
// on stdin) and its mount namespace (an open /proc/self/ns/mnt, over SCM_RIGHTS) to the shim's socket, prints
// what the shim answers on stderr and exits with its code. Whenever the shim is not there (the socket is gone,
// or it answers FALLBACK), it execs the hook it stands for, with the same arguments and the same stdin, so the
// spec works with or without the shim.
//
//   gantry-hook-client SOCKET PATH ARGV0 ARGS...
//
// Protocol (one stream connection): the client sends "GANTRY-HOOK 1\n" with the namespace descriptor attached,
// then the state, then shuts its side down; the server answers "EXIT <code>\n" and the hook's messages, or
// "FALLBACK\n".
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define HELLO "GANTRY-HOOK 1\n"
#define MAX_STATE (4 << 20)
#define MAX_REPLY (1 << 20)

static char *state;
static size_t state_len;

static int read_all(int fd, char **buf, size_t *len, size_t max)
{
    size_t cap = 16384;
    *buf = malloc(cap);
    *len = 0;
    if (*buf == NULL) return -1;
    for (;;) {
        if (*len == cap) {
            if (cap >= max) { errno = EFBIG; return -1; }
            cap *= 2;
            char *bigger = realloc(*buf, cap);
            if (bigger == NULL) return -1;
            *buf = bigger;
        }
        ssize_t n = read(fd, *buf + *len, cap - *len);
        if (n == 0) return 0;
        if (n < 0) { if (errno == EINTR) continue; return -1; }
        *len += (size_t)n;
    }
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0) { if (errno == EINTR) continue; return -1; }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

// Execs the hook this client stands for, its stdin the state already read.
static int fallback(char **argv)
{
    int fd = memfd_create("gantry-hook-state", 0);
    if (fd < 0 || (state_len > 0 && write(fd, state, state_len) != (ssize_t)state_len) || lseek(fd, 0, SEEK_SET) != 0 ||
        dup2(fd, 0) < 0) {
        dprintf(2, "gantry-hook-client: cannot hand the state to %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    if (fd != 0) close(fd);
    execv(argv[2], argv + 3);
    dprintf(2, "gantry-hook-client: cannot exec %s: %s\n", argv[2], strerror(errno));
    return 1;
}

// Sends the greeting with the namespace attached; -1 when nothing reached the server.
static int send_hello(int sock)
{
    int ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (ns < 0) return -1;
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec iov = { .iov_base = HELLO, .iov_len = strlen(HELLO) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &ns, sizeof(int));
    ssize_t n;
    do n = sendmsg(sock, &msg, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
    close(ns);
    return n == (ssize_t)strlen(HELLO) ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        dprintf(2, "usage: gantry-hook-client SOCKET PATH ARGV0 [ARGS...]\n");
        return 2;
    }
    if (read_all(0, &state, &state_len, MAX_STATE) != 0) {
        dprintf(2, "gantry-hook-client: cannot read the container state: %s\n", strerror(errno));
        return 1;
    }
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(argv[1]) >= sizeof addr.sun_path) return fallback(argv);
    strcpy(addr.sun_path, argv[1]);
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0 || send_hello(sock) != 0) {
        if (sock >= 0) close(sock);
        return fallback(argv);
    }
    char *reply;
    size_t reply_len;
    if (write_all(sock, state, state_len) != 0 || shutdown(sock, SHUT_WR) != 0 ||
        read_all(sock, &reply, &reply_len, MAX_REPLY) != 0) {
        dprintf(2, "gantry-hook-client: lost the runtime shim at %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    close(sock);
    if (reply_len >= 9 && memcmp(reply, "FALLBACK\n", 9) == 0) return fallback(argv);
    char *nl = memchr(reply, '\n', reply_len);
    int code;
    if (nl == NULL || reply_len < 5 || memcmp(reply, "EXIT ", 5) != 0 || sscanf(reply + 5, "%d", &code) != 1) {
        dprintf(2, "gantry-hook-client: the runtime shim at %s gave no answer\n", argv[1]);
        return 1;
    }
    size_t text = (size_t)(nl + 1 - reply);
    if (reply_len > text) (void)!write(2, nl + 1, reply_len - text);
    return code;
}
