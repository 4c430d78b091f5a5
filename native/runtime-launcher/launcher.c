// gantry-runtime-launcher: what out/nvidia-container-runtime (and .cdi, .legacy) are. containerd and Docker
// start the runtime for every command of every container (create, start, state, kill, delete, ...), and only
// create needs Gantry's work; the rest must cost what runc costs, and a .NET process costs 10-15 ms before its
// Main runs. For a command that is not create this small program replays the decision the C# shim recorded in a
// cache file (which runtime binary, for this config.toml and PATH; see src/Gantry/Runtime/FastPathCache.cs) and
// execs that runtime. It decides nothing itself: whenever anything differs (config file, a directory the runtime
// was searched in, the cache's owner or mode, an option that needs logging) it execs the gantry binary beside it,
// with the same arguments, environment and argv[0], and the C# shim runs as if this program did not exist.
//
// Started as "gantry-runtime-exec PPID RUNTIME ARGV0 ARGS..." it is the step between the C# shim and the runtime
// when the shim stays alive during create (to serve the container's hook): the runtime must die with the shim,
// which .NET cannot arrange between fork and exec. It sets the parent-death signal, checks the shim is still its
// parent, restores what .NET changed for itself (SIGPIPE ignored, the signal mask) and execs the runtime.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define CACHE_DIR_DEFAULT "/run/gantry/shim"
#define CACHE_DIR_VARIABLE "GANTRY_SHIM_CACHE_DIR"
#define MAGIC "gantry-shim-fastpath 1\n"
#define MAX_CACHE (64 * 1024)

static int is_shim_name(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');
    const char *name = slash ? slash + 1 : argv0;
    return strcmp(name, "nvidia-container-runtime") == 0 || strcmp(name, "nvidia-container-runtime.cdi") == 0 ||
           strcmp(name, "nvidia-container-runtime.legacy") == 0;
}

static int flag_is(const char *name, size_t len, const char *want)
{
    return strlen(want) == len && strncmp(name, want, len) == 0;
}

// create edits the bundle; --version and --debug print or log; a value flag without its value is an error
// the C# shim reports. All of these go the full way.
static int needs_full_shim(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "create") == 0) return 1;
        if (a[0] != '-' || strcmp(a, "--") == 0) continue;
        while (*a == '-') a++;
        size_t len = strcspn(a, "=");
        if (flag_is(a, len, "version") || flag_is(a, len, "debug")) return 1;
        if (a[len] == '\0' && i == argc - 1 &&
            (flag_is(a, len, "b") || flag_is(a, len, "bundle") || flag_is(a, len, "log") ||
             flag_is(a, len, "log-format") || flag_is(a, len, "root")))
            return 1;
    }
    return 0;
}

// FNV-1a, 64 bit: the cache file name for a config path and a PATH (FastPathCache.Key computes the same).
static uint64_t fnv1a(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int config_path(char *out, size_t size)
{
    const char *explicit_path = getenv("NVIDIA_CTK_CONFIG_FILE_PATH");
    if (explicit_path && *explicit_path) return snprintf(out, size, "%s", explicit_path) < (int)size ? 0 : -1;
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *dir = xdg && *xdg ? xdg : "/etc";
    size_t dl = strlen(dir);
    const char *sep = dl > 0 && dir[dl - 1] == '/' ? "" : "/";
    return snprintf(out, size, "%s%snvidia-container-runtime/config.toml", dir, sep) < (int)size ? 0 : -1;
}

// The cache must be root's (or whoever runs the shim) and writable by nobody else, directory included.
static int trusted(const struct stat *st)
{
    return st->st_uid == geteuid() && (st->st_mode & 022) == 0;
}

// Reads the whole cache file into a NUL-terminated buffer; NULL when it is missing or not trusted.
static char *read_cache(const char *dir, const char *name)
{
    struct stat st;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || !trusted(&st)) return NULL;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return NULL;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return NULL;
    char *buf = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && trusted(&st) && st.st_size > 0 && st.st_size < MAX_CACHE &&
        (buf = malloc((size_t)st.st_size + 1)) != NULL) {
        ssize_t n = read(fd, buf, (size_t)st.st_size);
        if (n != st.st_size) { free(buf); buf = NULL; }
        else buf[n] = '\0';
    }
    close(fd);
    return buf;
}

static int same_time(const struct stat *st, long long sec, long long nsec)
{
    return (long long)st->st_mtim.tv_sec == sec && (long long)st->st_mtim.tv_nsec == nsec;
}

// One line of the cache; returns 1 when it still holds, 0 when it does not. *runtime is set by "runtime".
static int line_holds(char *line, const char *config, const char *path_env, const char **runtime)
{
    struct stat st;
    unsigned long long maj, min, ino, size;
    long long sec, nsec;
    int used = 0;
    if (strncmp(line, "path-env ", 9) == 0) return strcmp(line + 9, path_env) == 0;
    if (strncmp(line, "config-missing ", 15) == 0)
        return strcmp(line + 15, config) == 0 && stat(config, &st) != 0 && errno == ENOENT;
    if (sscanf(line, "config %llu %llu %llu %llu %lld %lld %n", &maj, &min, &ino, &size, &sec, &nsec, &used) == 6 && used > 0)
        return strcmp(line + used, config) == 0 && stat(config, &st) == 0 && major(st.st_dev) == maj &&
               minor(st.st_dev) == min && st.st_ino == ino && (unsigned long long)st.st_size == size && same_time(&st, sec, nsec);
    if (strncmp(line, "dir-missing ", 12) == 0) return stat(line + 12, &st) != 0 && errno == ENOENT;
    if (sscanf(line, "dir %lld %lld %n", &sec, &nsec, &used) == 2 && used > 0)
        return stat(line + used, &st) == 0 && S_ISDIR(st.st_mode) && same_time(&st, sec, nsec);
    if (strncmp(line, "runtime /", 9) == 0) { *runtime = line + 8; return 1; }
    return 0;
}

// Execs the recorded runtime when the record holds; returns otherwise.
static void fast_path(int argc, char **argv)
{
    if (argc < 2 || needs_full_shim(argc, argv)) return;
    char config[4096];
    if (config_path(config, sizeof config) != 0) return;
    const char *path_env = getenv("PATH");
    if (path_env == NULL) path_env = "";
    uint64_t h = fnv1a(0xcbf29ce484222325ULL, config, strlen(config));
    h = fnv1a(h, "", 1);
    h = fnv1a(h, path_env, strlen(path_env));
    char name[32];
    snprintf(name, sizeof name, "%016llx", (unsigned long long)h);
    const char *dir = getenv(CACHE_DIR_VARIABLE);
    char *cache = read_cache(dir && *dir ? dir : CACHE_DIR_DEFAULT, name);
    if (cache == NULL) return;

    const char *runtime = NULL;
    int ok = strncmp(cache, MAGIC, strlen(MAGIC)) == 0;
    for (char *line = cache + strlen(MAGIC), *next; ok && *line; line = next) {
        next = strchr(line, '\n');
        if (next == NULL) { ok = 0; break; }
        *next++ = '\0';
        ok = line_holds(line, config, path_env, &runtime);
    }
    if (ok && runtime != NULL && access(runtime, X_OK) == 0) {
        char **args = malloc(sizeof(char *) * ((size_t)argc + 1));
        if (args != NULL) {
            args[0] = (char *)runtime;
            for (int i = 1; i < argc; i++) args[i] = argv[i];
            args[argc] = NULL;
            execv(runtime, args); // on success this never returns
            free(args);
        }
    }
    free(cache);
}

// The C# shim: the gantry binary in this program's own directory.
static int exec_gantry(char **argv)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) { perror("nvidia-container-runtime: cannot find its own path"); return 1; }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash == NULL || (size_t)(slash - self) + sizeof "/gantry" > sizeof self) return 1;
    strcpy(slash, "/gantry");
    execv(self, argv);
    dprintf(2, "nvidia-container-runtime: cannot exec %s: %s\n", self, strerror(errno));
    return 1;
}

// The runtime gets the signal disposition and mask a process normally starts with, whatever the shim had.
static int exec_runtime(const char *runtime, char **argv)
{
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execv(runtime, argv);
    dprintf(2, "nvidia-container-runtime: cannot exec %s: %s\n", runtime, strerror(errno));
    return 1;
}

static int exec_runtime_for_parent(int argc, char **argv)
{
    if (argc < 4) { dprintf(2, "usage: gantry-runtime-exec PPID RUNTIME ARGV0 [ARGS...]\n"); return 2; }
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) { perror("gantry-runtime-exec: parent-death signal"); return 1; }
    if (getppid() != (pid_t)strtol(argv[1], NULL, 10)) return 1; // the shim is already gone
    return exec_runtime(argv[2], argv + 3);
}

// Started as "gantry-runtime-guard PPID RUNTIME ARGV0 ARGS..." by a shim that answered its served hook before the
// hook's work was done (runc goes on meanwhile and may finish the create first): should the shim die before it
// dismisses the guard (SIGKILL, once that work is done), the guard execs the runtime with ARGS, which the shim makes
// "[globals] delete --force ID", so that no container is left created, ready to start, with half the hook's work.
static int guard_for_parent(int argc, char **argv)
{
    if (argc < 4) { dprintf(2, "usage: gantry-runtime-guard PPID RUNTIME ARGV0 [ARGS...]\n"); return 2; }
    pid_t shim = (pid_t)strtol(argv[1], NULL, 10);
    sigset_t death;
    sigemptyset(&death);
    sigaddset(&death, SIGUSR1);
    sigprocmask(SIG_BLOCK, &death, NULL);
    if (prctl(PR_SET_PDEATHSIG, SIGUSR1) != 0) { perror("gantry-runtime-guard: parent-death signal"); return 1; }
    // The signal comes when the thread that started the guard ends; the poll covers a shim that lives on after it.
    struct timespec second = { 1, 0 };
    while (getppid() == shim) sigtimedwait(&death, NULL, &second);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) { dup2(null, 0); dup2(null, 1); }
    return exec_runtime(argv[2], argv + 3);
}

int main(int argc, char **argv)
{
    if (argc < 1 || argv[0] == NULL) return 1;
    if (strcmp(argv[0], "gantry-runtime-exec") == 0) return exec_runtime_for_parent(argc, argv);
    if (strcmp(argv[0], "gantry-runtime-guard") == 0) return guard_for_parent(argc, argv);
    if (is_shim_name(argv[0])) fast_path(argc, argv);
    return exec_gantry(argv);
}
