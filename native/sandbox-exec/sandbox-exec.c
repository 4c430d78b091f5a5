// gantry-sandbox-exec: the last step before the host ldconfig runs in its jail (src/Gantry/Hooks/
// LdconfigThreadRunner). The update-ldcache hook confines one of its threads (namespaces, pivot_root into the
// container root, capabilities cut) and starts ldconfig from there, but a .NET process cannot run code between
// fork and exec, and what follows must apply to ldconfig alone: resource limits, no_new_privs and the seccomp
// allow-list. This static program, bound read-only into the jail beside ldconfig, applies them and execs
// ldconfig through the descriptor it inherited. It is static so that nothing of the container's root (its libc,
// its loader) is ever loaded into it. It only takes privileges away, so running it by hand grants nothing.
//
//   gantry-sandbox-exec FD CPU NOFILE FSIZE FILTER -- ARGV0 ARGS...
//
// FD: an open descriptor of the program to run; CPU, NOFILE, FSIZE: hard and soft limits (seconds, files,
// bytes); FILTER: the classic BPF program as hex, 16 digits per instruction (code | jt << 16 | jf << 24 |
// k << 32, as Hooks/LdconfigSyscallFilter builds it), or "-" for none. Any failure: one line on stderr, exit 127.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_INSTRUCTIONS 4096

static int fail(const char *what)
{
    dprintf(2, "gantry-sandbox-exec: %s: %s\n", what, strerror(errno));
    return 127;
}

static int number(const char *text, unsigned long long *value)
{
    char *end;
    errno = 0;
    *value = strtoull(text, &end, 10);
    return errno == 0 && end != text && *end == '\0' && text[0] != '-' ? 0 : -1;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// One instruction per 16 hex digits, most significant first.
static int decode(const char *hex, struct sock_filter *out, size_t *count)
{
    size_t len = strlen(hex);
    if (len == 0 || len % 16 != 0 || len / 16 > MAX_INSTRUCTIONS) return -1;
    for (size_t i = 0; i < len / 16; i++) {
        uint64_t v = 0;
        for (size_t j = 0; j < 16; j++) {
            int d = hex_digit(hex[i * 16 + j]);
            if (d < 0) return -1;
            v = (v << 4) | (uint64_t)d;
        }
        out[i].code = (uint16_t)(v & 0xffff);
        out[i].jt = (uint8_t)((v >> 16) & 0xff);
        out[i].jf = (uint8_t)((v >> 24) & 0xff);
        out[i].k = (uint32_t)(v >> 32);
    }
    *count = len / 16;
    return 0;
}

int main(int argc, char **argv, char **envp)
{
    unsigned long long fd, limits[3];
    if (argc < 8 || strcmp(argv[6], "--") != 0 || number(argv[1], &fd) != 0 || fd > 1024 ||
        number(argv[2], &limits[0]) != 0 || number(argv[3], &limits[1]) != 0 || number(argv[4], &limits[2]) != 0) {
        dprintf(2, "usage: gantry-sandbox-exec FD CPU NOFILE FSIZE FILTER-HEX|- -- ARGV0 [ARGS...]\n");
        return 127;
    }
    const int resources[3] = {RLIMIT_CPU, RLIMIT_NOFILE, RLIMIT_FSIZE};
    for (int i = 0; i < 3; i++) {
        struct rlimit r = {.rlim_cur = limits[i], .rlim_max = limits[i]};
        if (setrlimit(resources[i], &r) != 0) return fail("setrlimit");
    }
    // ldconfig does not inherit the descriptor it is started through.
    if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) != 0) return fail("close-on-exec");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail("no_new_privs");
    if (strcmp(argv[5], "-") != 0) {
        static struct sock_filter program[MAX_INSTRUCTIONS];
        size_t count;
        if (decode(argv[5], program, &count) != 0) { errno = EINVAL; return fail("seccomp filter"); }
        struct sock_fprog fprog = {.len = (unsigned short)count, .filter = program};
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) != 0) return fail("install seccomp filter");
    }
    // From here on only the filter's calls are allowed; execveat is one of them.
    syscall(SYS_execveat, (int)fd, "", &argv[7], envp, AT_EMPTY_PATH);
    return fail("execveat");
}
