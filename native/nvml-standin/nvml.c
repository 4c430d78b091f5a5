/*
 * Gantry NVML stand-in: a shared library with the real NVML C ABI (names, signatures, struct layouts,
 * return codes as in nvml.h) that answers from a text file of simulated facts instead of a GPU driver.
 * Gantry's discovery loads it exactly as it loads the real libnvidia-ml.so.1, so the NVML code path is
 * tested without a GPU. Written from the public NVML API documentation; depends on libc only.
 *
 * Facts file: GANTRY_NVML_FACTS if set, else "gantry-nvml-facts.txt" in the directory of the path this
 * library was loaded from (found with dladdr; if absent there, the directory of its realpath). Missing or
 * unreadable → nvmlInit* returns NVML_ERROR_DRIVER_NOT_LOADED; malformed → NVML_ERROR_UNKNOWN.
 * Set GANTRY_NVML_DEBUG=1 to have the reason printed to stderr.
 *
 * Facts format (version 1), written by src/Gantry/Simulation/NvmlFacts.cs. One "key value" per line; the
 * value is the rest of the line (may hold spaces). Blank lines and lines starting with '#' are ignored, and
 * so are unknown keys, so new facts (utilization, temperature, ...) can be added without breaking readers.
 *
 *   version 1                       format version (a larger major is refused)
 *   driver 550.54.15                nvmlSystemGetDriverVersion
 *   cuda 12040                      nvmlSystemGetCudaDriverVersion (1000*major + 10*minor)
 *   nvml 12.550.54.15               nvmlSystemGetNVMLVersion (default "<cuda major>.<driver>")
 *   persistence 1                   0/1: persistence mode of every GPU (nvmlDeviceGetPersistenceMode; default 1)
 *   init-delay-ms 1500              while persistence is 0, nvmlInit* sleeps this long, as a real driver without
 *                                   the persistence daemon spends opening every GPU (default 0)
 *   gpu                             starts the next GPU; NVML index = order of "gpu" lines
 *     uuid GPU-...                  required
 *     minor 0                       /dev/nvidia<minor> (default: the index)
 *     bus-id 00000000:01:00.0       PCI domain:bus:device.function, hex (default 00000000:<index+1>:00.0)
 *     pci-device-id 0x20B010DE      pciDeviceId (device << 16 | vendor); pci-subsystem-id likewise
 *     name NVIDIA A100-SXM4-40GB    (absent → NOT_SUPPORTED)
 *     brand tesla                   nvmlBrandType_t by lower-case name (tesla, quadro, geforce, ...) or number
 *     cc 8.0                        compute capability major.minor (absent → NOT_SUPPORTED)
 *     memory-total 42949672960      bytes (absent → NOT_SUPPORTED); memory-used bytes (default 0)
 *     mig-capable 1                 0/1; mig-mode 0/1 current (implies capable); mig-pending 0/1 (default current)
 *     max-mig 7                     nvmlDeviceGetMaxMigDeviceCount when MIG is enabled (default 7)
 *     addressing-mode 2             nvmlDeviceGetAddressingMode: 0 none, 1 HMM, 2 ATS (absent → NOT_SUPPORTED)
 *   mig                             starts the next MIG device of the last GPU; its index = order under it
 *     uuid MIG-...  gi 1  ci 0  profile 1g.5gb  memory-total 5368709120  memory-used 0
 *     name ...                      (default "<parent name> MIG <profile>")
 *
 * Telemetry (per GPU; each absent key makes its function answer NOT_SUPPORTED, as on a GPU without it).
 * A value "LO..HI" is a live reading: it moves within [LO, HI] as a deterministic pseudo-random walk over
 * wall-clock time (a new target every second, eased in between), so two reads a second apart differ and
 * every client sees the same value at the same instant. GANTRY_NVML_TIME=<seconds since the epoch> freezes
 * the clock (golden tests). A single value is constant.
 *     power 60000..250000           nvmlDeviceGetPowerUsage, mW
 *     power-limit 400000            nvmlDeviceGetPowerManagementLimit / GetEnforcedPowerLimit, mW
 *     temperature 31..68            nvmlDeviceGetTemperature (GPU sensor), °C
 *     utilization-gpu 0..100        nvmlDeviceGetUtilizationRates .gpu; utilization-memory → .memory, %
 *     encoder 0..20  decoder 0..20  nvmlDeviceGetEncoderUtilization / GetDecoderUtilization, %
 *     clock-sm 210..1410            nvmlDeviceGetClockInfo SM and GRAPHICS; clock-mem → MEM, MHz
 *     max-clock-sm 1410             nvmlDeviceGetMaxClockInfo SM and GRAPHICS; max-clock-mem → MEM, MHz
 *     bar1-total 68719476736        nvmlDeviceGetBAR1MemoryInfo, bytes; bar1-used LO..HI (default 0)
 *     pcie-gen 4  pcie-width 16     nvmlDeviceGetMaxPcieLinkGeneration / GetMaxPcieLinkWidth
 *     pcie-rx 0..900000             nvmlDeviceGetPcieThroughput RX; pcie-tx → TX, KB/s
 *     cores 6912                    nvmlDeviceGetNumGpuCores
 *     memory-bus-width 5120         nvmlDeviceGetMemoryBusWidth, bits
 *     ecc 1                         nvmlDeviceGetEccMode (current = pending)
 *     ecc-errors-l1 0  ecc-errors-l2 0  ecc-errors-memory 0   nvmlDeviceGetMemoryErrorCounter (any type)
 *     process 4242 python3 2147483648   one line per compute process: pid, name, used bytes
 *                                   (nvmlDeviceGetComputeRunningProcesses{,_v2,_v3}, nvmlSystemGetProcessName)
 *     memory-used also takes LO..HI.
 * Events (nvmlEventSetCreate / nvmlDeviceRegisterEvents / nvmlEventSetWait_v2): GANTRY_NVML_EVENTS if set, else
 * "gantry-nvml-events.txt" beside the facts file. Appended to while clients run (`gantry simulate-event`); an
 * event set sees the lines appended after it was created, one event per line:
 *   xid GPU CODE [GI CI]            an Xid critical error (nvmlEventTypeXidCriticalError, eventData = CODE) on GPU
 *                                   (NVML index); GI CI name a MIG device's instances (default 0xFFFFFFFF: all)
 *   ecc GPU double|single           a double/single bit ECC error event
 *   lost GPU                        the GPU fell off the bus: Xid 79, and from then on nvmlDeviceGetMemoryInfo
 *                                   answers NVML_ERROR_GPU_IS_LOST for it (and its MIG devices)
 *   back GPU                        the GPU answers again (after a reset); no event
 *
 *   topology 0 1 hostbridge         top level: nvmlDeviceGetTopologyCommonAncestor of GPUs 0 and 1 (either
 *                                   order); internal|single|multiple|hostbridge|node|system or the number
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <time.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EXPORT __attribute__((visibility("default")))

typedef int nvmlReturn_t;
enum {
    NVML_SUCCESS = 0, NVML_ERROR_UNINITIALIZED = 1, NVML_ERROR_INVALID_ARGUMENT = 2, NVML_ERROR_NOT_SUPPORTED = 3,
    NVML_ERROR_NO_PERMISSION = 4, NVML_ERROR_ALREADY_INITIALIZED = 5, NVML_ERROR_NOT_FOUND = 6,
    NVML_ERROR_INSUFFICIENT_SIZE = 7, NVML_ERROR_INSUFFICIENT_POWER = 8, NVML_ERROR_DRIVER_NOT_LOADED = 9,
    NVML_ERROR_TIMEOUT = 10, NVML_ERROR_IRQ_ISSUE = 11, NVML_ERROR_LIBRARY_NOT_FOUND = 12,
    NVML_ERROR_FUNCTION_NOT_FOUND = 13, NVML_ERROR_CORRUPTED_INFOROM = 14, NVML_ERROR_GPU_IS_LOST = 15,
    NVML_ERROR_RESET_REQUIRED = 16, NVML_ERROR_OPERATING_SYSTEM = 17, NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18,
    NVML_ERROR_IN_USE = 19, NVML_ERROR_MEMORY = 20, NVML_ERROR_NO_DATA = 21,
    NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25, NVML_ERROR_UNKNOWN = 999
};

/* Layouts exactly as nvml.h. */
typedef struct {
    char busIdLegacy[16];
    unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
    char busId[32];
} nvmlPciInfo_t;
typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
typedef struct { unsigned int version; unsigned long long total, reserved, free, used; } nvmlMemory_v2_t;
#define NVML_MEMORY_V2 ((unsigned int)(sizeof(nvmlMemory_v2_t) | (2u << 24)))

#define MAX_GPUS 64
#define MAX_MIG 8
#define MAX_PROCS 32

/* A reading: constant (lo == hi) or a walk within [lo, hi]; absent → NOT_SUPPORTED. */
typedef struct { int have; unsigned long long lo, hi; } reading_t;
typedef struct { unsigned int pid; unsigned long long used; char name[64]; } proc_t;
#define SLOTS (1 + MAX_MIG) /* a GPU and its MIG devices sit side by side in g_dev */

typedef struct nvmlDevice_st {
    int present, is_mig;
    unsigned int index, minor, gi, ci, mig_count, max_mig;
    struct nvmlDevice_st *parent;
    char uuid[96], name[96], profile[32];
    unsigned int domain, bus, dev, fn, pci_device_id, pci_subsystem_id;
    int brand, have_cc, cc_major, cc_minor, have_mem, mig_capable, mig_mode, mig_pending;
    unsigned long long mem_total;
    reading_t mem_used, power, power_limit, temperature, util_gpu, util_mem, encoder, decoder, clock_sm, clock_mem,
        max_clock_sm, max_clock_mem, bar1_total, bar1_used, pcie_gen, pcie_width, pcie_rx, pcie_tx, cores, bus_width,
        ecc, ecc_l1, ecc_l2, ecc_mem;
    unsigned int proc_count;
    proc_t procs[MAX_PROCS];
    /* New fields go here, after the readings: a reading's offset seeds its values (get_reading), and recorded
     * outputs depend on them. */
    int have_addressing;
    unsigned int addressing_mode;
} *nvmlDevice_t;

static struct nvmlDevice_st g_dev[MAX_GPUS * SLOTS];
static unsigned int g_count;
static char g_driver[80], g_nvml[80];
static signed char g_topology[MAX_GPUS][MAX_GPUS]; /* nvmlGpuTopologyLevel_t + 1; 0 = unknown */
static int g_cuda;
static int g_refcount;
static volatile char g_lock;

static const char *const g_brands[] = {
    "unknown", "quadro", "tesla", "nvs", "grid", "geforce", "titan", "vapps", "vpc", "vcs", "vws",
    "cloudgaming", "quadrortx", "nvidiartx", "nvidia", "geforcertx", "titanrtx"
};

static void lock(void) { while (__atomic_test_and_set(&g_lock, __ATOMIC_ACQUIRE)) sched_yield(); }
static void unlock(void) { __atomic_clear(&g_lock, __ATOMIC_RELEASE); }
static int initialized(void) { return __atomic_load_n(&g_refcount, __ATOMIC_ACQUIRE) > 0; }

static void diag(const char *what, const char *detail)
{
    if (getenv("GANTRY_NVML_DEBUG")) fprintf(stderr, "gantry-nvml-standin: %s: %s\n", what, detail);
}

static int valid(nvmlDevice_t d)
{
    if (d < g_dev || d >= g_dev + MAX_GPUS * SLOTS) return 0;
    if (((const char *)d - (const char *)g_dev) % sizeof(*d) != 0) return 0;
    return d->present;
}

static nvmlReturn_t copy_str(const char *src, char *dst, unsigned int length)
{
    if (!dst) return NVML_ERROR_INVALID_ARGUMENT;
    size_t n = strlen(src);
    if (n + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
    memcpy(dst, src, n + 1);
    return NVML_SUCCESS;
}

static int parse_uint(const char *s, unsigned long long *out)
{
    char *end;
    if (!*s) return 0;
    *out = strtoull(s, &end, 0);
    return *end == '\0';
}

static int parse_bus_id(const char *s, struct nvmlDevice_st *d)
{
    unsigned int a, b, c, f;
    if (sscanf(s, "%x:%x:%x.%x", &a, &b, &c, &f) == 4) { d->domain = a; d->bus = b; d->dev = c; d->fn = f; return 1; }
    if (sscanf(s, "%x:%x.%x", &b, &c, &f) == 3) { d->domain = 0; d->bus = b; d->dev = c; d->fn = f; return 1; }
    return 0;
}

static int parse_brand(const char *s)
{
    unsigned long long n;
    if (parse_uint(s, &n)) return (int)n;
    for (unsigned int i = 0; i < sizeof g_brands / sizeof *g_brands; i++)
        if (strcasecmp(s, g_brands[i]) == 0) return (int)i;
    return -1;
}

/* "N" or "LO..HI" (LO <= HI). */
static int parse_reading(const char *s, reading_t *r)
{
    const char *dots = strstr(s, "..");
    char lo[32];
    if (!dots) {
        if (!parse_uint(s, &r->lo)) return 0;
        r->hi = r->lo;
    } else {
        size_t n = (size_t)(dots - s);
        if (n == 0 || n >= sizeof lo) return 0;
        memcpy(lo, s, n); lo[n] = '\0';
        if (!parse_uint(lo, &r->lo) || !parse_uint(dots + 2, &r->hi) || r->hi < r->lo) return 0;
    }
    r->have = 1;
    return 1;
}

/* "process PID NAME BYTES": NAME may not hold spaces. */
static int parse_process(const char *s, struct nvmlDevice_st *d)
{
    if (d->proc_count >= MAX_PROCS) return 0;
    proc_t *p = &d->procs[d->proc_count];
    unsigned long long used;
    int consumed = 0;
    if (sscanf(s, "%u %63s %llu%n", &p->pid, p->name, &used, &consumed) != 3 || s[consumed] != '\0') return 0;
    p->used = used;
    d->proc_count++;
    return 1;
}

static int parse_level(const char *s)
{
    static const char *const names[] = { "internal", "single", "multiple", "hostbridge", "node", "system" };
    unsigned long long n;
    if (parse_uint(s, &n)) return n <= 50 && n % 10 == 0 ? (int)n : -1;
    for (int i = 0; i < 6; i++) if (!strcasecmp(s, names[i])) return i * 10;
    return -1;
}

/* "topology A B LEVEL" between two GPUs by NVML index. */
static int parse_topology(const char *s)
{
    unsigned int a, b;
    char level[32];
    int consumed = 0;
    if (sscanf(s, "%u %u %31s%n", &a, &b, level, &consumed) != 3 || s[consumed] != '\0') return 0;
    int l = parse_level(level);
    if (a >= MAX_GPUS || b >= MAX_GPUS || l < 0) return 0;
    g_topology[a][b] = g_topology[b][a] = (signed char)(l + 1);
    return 1;
}

static const struct { const char *key; size_t offset; } g_readings[] = {
#define R(k, f) { k, offsetof(struct nvmlDevice_st, f) }
    R("memory-used", mem_used), R("power", power), R("power-limit", power_limit), R("temperature", temperature),
    R("utilization-gpu", util_gpu), R("utilization-memory", util_mem), R("encoder", encoder), R("decoder", decoder),
    R("clock-sm", clock_sm), R("clock-mem", clock_mem), R("max-clock-sm", max_clock_sm), R("max-clock-mem", max_clock_mem),
    R("bar1-total", bar1_total), R("bar1-used", bar1_used), R("pcie-gen", pcie_gen), R("pcie-width", pcie_width),
    R("pcie-rx", pcie_rx), R("pcie-tx", pcie_tx), R("cores", cores), R("memory-bus-width", bus_width), R("ecc", ecc),
    R("ecc-errors-l1", ecc_l1), R("ecc-errors-l2", ecc_l2), R("ecc-errors-memory", ecc_mem),
#undef R
};

/* Applies one "key value" line to the current device; 0 on a malformed value. Unknown keys pass. */
static int apply_key(struct nvmlDevice_st *d, const char *key, const char *val)
{
    for (size_t i = 0; i < sizeof g_readings / sizeof *g_readings; i++)
        if (!strcmp(key, g_readings[i].key)) return parse_reading(val, (reading_t *)((char *)d + g_readings[i].offset));
    if (!strcmp(key, "process")) return parse_process(val, d);

    unsigned long long n = 0;
    int numeric = parse_uint(val, &n);
#define NUM(field) do { if (!numeric) return 0; d->field = n; } while (0)
    if (!strcmp(key, "uuid")) snprintf(d->uuid, sizeof d->uuid, "%s", val);
    else if (!strcmp(key, "name")) snprintf(d->name, sizeof d->name, "%s", val);
    else if (!strcmp(key, "profile")) snprintf(d->profile, sizeof d->profile, "%s", val);
    else if (!strcmp(key, "minor")) NUM(minor);
    else if (!strcmp(key, "gi")) NUM(gi);
    else if (!strcmp(key, "ci")) NUM(ci);
    else if (!strcmp(key, "pci-device-id")) NUM(pci_device_id);
    else if (!strcmp(key, "pci-subsystem-id")) NUM(pci_subsystem_id);
    else if (!strcmp(key, "memory-total")) { NUM(mem_total); d->have_mem = 1; }
    else if (!strcmp(key, "mig-capable")) NUM(mig_capable);
    else if (!strcmp(key, "mig-mode")) { NUM(mig_mode); d->mig_pending = d->mig_mode; if (n) d->mig_capable = 1; }
    else if (!strcmp(key, "mig-pending")) NUM(mig_pending);
    else if (!strcmp(key, "max-mig")) { NUM(max_mig); if (n > MAX_MIG) return 0; }
    else if (!strcmp(key, "addressing-mode")) { NUM(addressing_mode); d->have_addressing = 1; }
    else if (!strcmp(key, "bus-id")) return parse_bus_id(val, d);
    else if (!strcmp(key, "brand")) { d->brand = parse_brand(val); return d->brand >= 0; }
    else if (!strcmp(key, "cc")) { d->have_cc = sscanf(val, "%d.%d", &d->cc_major, &d->cc_minor) == 2; return d->have_cc; }
#undef NUM
    return 1;
}

/* The events file sits beside the facts file (or GANTRY_NVML_EVENTS names it); see the events section. */
static char g_events_path[PATH_MAX + 64];
static void remember_events_path(const char *facts, int len)
{
    const char *env = getenv("GANTRY_NVML_EVENTS");
    if (env && *env) { snprintf(g_events_path, sizeof g_events_path, "%s", env); return; }
    const char *slash = memrchr(facts, '/', (size_t)len);
    int dirlen = slash ? (int)(slash - facts) : 1;
    snprintf(g_events_path, sizeof g_events_path, "%.*s/gantry-nvml-events.txt", dirlen, slash ? facts : ".");
}

static FILE *open_facts(void)
{
    const char *env = getenv("GANTRY_NVML_FACTS");
    if (env && *env) { diag("facts (GANTRY_NVML_FACTS)", env); remember_events_path(env, (int)strlen(env)); return fopen(env, "r"); }
    Dl_info info;
    if (!dladdr((void *)&open_facts, &info) || !info.dli_fname) return NULL;
    char path[PATH_MAX + 64], real[PATH_MAX];
    const char *src = info.dli_fname;
    for (int attempt = 0; attempt < 2; attempt++) {
        const char *slash = strrchr(src, '/');
        int dirlen = slash ? (int)(slash - src) : 1;
        snprintf(path, sizeof path, "%.*s/gantry-nvml-facts.txt", dirlen, slash ? src : ".");
        diag("facts", path);
        FILE *f = fopen(path, "r");
        if (f) remember_events_path(path, (int)strlen(path));
        if (f || !realpath(info.dli_fname, real)) return f;
        src = real; /* loaded through a symlink: try the directory of the file it points to */
    }
    return NULL;
}

static int g_persistence = 1;
static unsigned g_init_delay_ms;

static nvmlReturn_t load_facts(void)
{
    FILE *f = open_facts();
    if (!f) { diag("cannot open facts", "driver not loaded"); return NVML_ERROR_DRIVER_NOT_LOADED; }
    /* Clear only what an earlier load filled (g_count GPUs): the array is 2 MB of zeros until then, and touching
       all of it costs every process that loads NVML ~500 page faults. */
    memset(g_dev, 0, (size_t)g_count * SLOTS * sizeof g_dev[0]);
    memset(g_topology, 0, sizeof g_topology);
    g_count = 0; g_driver[0] = g_nvml[0] = '\0'; g_cuda = 0; g_persistence = 1; g_init_delay_ms = 0;
    struct nvmlDevice_st *gpu = NULL, *cur = NULL;
    char line[1024];
    int ok = 1;
    while (ok && fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\r\n");
        line[len] = '\0';
        while (len && (line[len - 1] == ' ' || line[len - 1] == '\t')) line[--len] = '\0';
        char *key = line + strspn(line, " \t");
        if (!*key || *key == '#') continue;
        char *val = key + strcspn(key, " \t");
        if (*val) { *val++ = '\0'; val += strspn(val, " \t"); }
        unsigned long long n = 0;
        if (!strcmp(key, "version")) ok = parse_uint(val, &n) && n == 1;
        else if (!strcmp(key, "driver")) snprintf(g_driver, sizeof g_driver, "%s", val);
        else if (!strcmp(key, "nvml")) snprintf(g_nvml, sizeof g_nvml, "%s", val);
        else if (!strcmp(key, "cuda")) { ok = parse_uint(val, &n); g_cuda = (int)n; }
        else if (!strcmp(key, "topology")) ok = parse_topology(val);
        else if (!strcmp(key, "persistence")) { ok = parse_uint(val, &n) && n <= 1; g_persistence = (int)n; }
        else if (!strcmp(key, "init-delay-ms")) { ok = parse_uint(val, &n) && n <= 600000; g_init_delay_ms = (unsigned)n; }
        else if (!strcmp(key, "gpu")) {
            if (g_count >= MAX_GPUS) { ok = 0; break; }
            cur = gpu = &g_dev[g_count * SLOTS];
            gpu->present = 1; gpu->index = gpu->minor = g_count; gpu->max_mig = 7;
            gpu->domain = 0; gpu->bus = g_count + 1;
            g_count++;
        } else if (!strcmp(key, "mig")) {
            if (!gpu || gpu->mig_count >= MAX_MIG) { ok = 0; break; }
            cur = gpu + 1 + gpu->mig_count;
            cur->present = cur->is_mig = 1; cur->index = gpu->mig_count++; cur->parent = gpu;
        } else if (cur) ok = apply_key(cur, key, val);
        if (!ok) diag("malformed facts line", key);
    }
    int read_error = ferror(f);
    fclose(f);
    if (read_error) return NVML_ERROR_DRIVER_NOT_LOADED;
    if (!ok || !g_driver[0]) { diag("facts", "malformed or without driver"); return NVML_ERROR_UNKNOWN; }
    if (!g_nvml[0]) snprintf(g_nvml, sizeof g_nvml, "%d.%s", g_cuda / 1000, g_driver);
    for (unsigned int i = 0; i < g_count; i++) {
        struct nvmlDevice_st *p = &g_dev[i * SLOTS];
        if (!p->uuid[0]) { diag("facts", "GPU without uuid"); return NVML_ERROR_UNKNOWN; }
        if (p->mig_count > p->max_mig) p->max_mig = p->mig_count;
        for (unsigned int j = 0; j < p->mig_count; j++) {
            struct nvmlDevice_st *m = p + 1 + j;
            if (!m->uuid[0]) { diag("facts", "MIG device without uuid"); return NVML_ERROR_UNKNOWN; }
            if (!m->name[0] && p->name[0])
                snprintf(m->name, sizeof m->name, "%.60s MIG %.30s", p->name, m->profile[0] ? m->profile : "unknown");
        }
    }
    return NVML_SUCCESS;
}

/* ---- Initialization ---- */

EXPORT nvmlReturn_t nvmlInitWithFlags(unsigned int flags)
{
    (void)flags;
    nvmlReturn_t r = NVML_SUCCESS;
    lock();
    if (g_refcount == 0) r = load_facts();
    if (r == NVML_SUCCESS && g_refcount == 0 && !g_persistence && g_init_delay_ms) {
        struct timespec ts = { g_init_delay_ms / 1000, (long)(g_init_delay_ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) { }
    }
    if (r == NVML_SUCCESS) __atomic_add_fetch(&g_refcount, 1, __ATOMIC_RELEASE);
    unlock();
    return r;
}
EXPORT nvmlReturn_t nvmlInit_v2(void) { return nvmlInitWithFlags(0); }
EXPORT nvmlReturn_t nvmlInit(void) { return nvmlInitWithFlags(0); }

EXPORT nvmlReturn_t nvmlShutdown(void)
{
    nvmlReturn_t r = NVML_SUCCESS;
    lock();
    if (g_refcount == 0) r = NVML_ERROR_UNINITIALIZED;
    else __atomic_sub_fetch(&g_refcount, 1, __ATOMIC_RELEASE);
    unlock();
    return r;
}

EXPORT const char *nvmlErrorString(nvmlReturn_t result)
{
    switch (result) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_NO_PERMISSION: return "Insufficient Permissions";
    case NVML_ERROR_ALREADY_INITIALIZED: return "Already Initialized";
    case NVML_ERROR_NOT_FOUND: return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
    case NVML_ERROR_INSUFFICIENT_POWER: return "Insufficient External Power";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    case NVML_ERROR_TIMEOUT: return "Timeout";
    case NVML_ERROR_IRQ_ISSUE: return "Interrupt Request Issue";
    case NVML_ERROR_LIBRARY_NOT_FOUND: return "NVML Shared Library Not Found";
    case NVML_ERROR_FUNCTION_NOT_FOUND: return "Function Not Found";
    case NVML_ERROR_CORRUPTED_INFOROM: return "Corrupted infoROM";
    case NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
    case NVML_ERROR_RESET_REQUIRED: return "GPU requires restart";
    case NVML_ERROR_OPERATING_SYSTEM: return "The operating system has blocked the request";
    case NVML_ERROR_LIB_RM_VERSION_MISMATCH: return "RM has detected an NVML/RM version mismatch";
    case NVML_ERROR_IN_USE: return "In use by another client";
    case NVML_ERROR_MEMORY: return "Insufficient Memory";
    case NVML_ERROR_NO_DATA: return "No data";
    case NVML_ERROR_ARGUMENT_VERSION_MISMATCH: return "Argument version mismatch";
    default: return "Unknown Error";
    }
}

#define REQUIRE_INIT() do { if (!initialized()) return NVML_ERROR_UNINITIALIZED; } while (0)
#define REQUIRE_DEV(d) do { REQUIRE_INIT(); if (!valid(d)) return NVML_ERROR_INVALID_ARGUMENT; } while (0)
/* Facts a MIG device shares with its parent GPU. */
#define PHYS(d) ((d)->is_mig ? (d)->parent : (d))

/* ---- Live readings ---- */

#define WALK_STEP_MS 1000ULL

/* Milliseconds since the epoch, or the frozen instant of GANTRY_NVML_TIME (seconds, may have a fraction). */
static unsigned long long now_ms(void)
{
    const char *frozen = getenv("GANTRY_NVML_TIME");
    if (frozen && *frozen) return (unsigned long long)(strtod(frozen, NULL) * 1000.0);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (unsigned long long)ts.tv_sec * 1000ULL + (unsigned long long)ts.tv_nsec / 1000000ULL;
}

/* splitmix64: a well-mixed 64-bit hash, so each (step, device, metric) gets its own pseudo-random target. */
static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static double target(uint64_t step, uint64_t salt) { return (double)(mix(step * 1315423911ULL ^ mix(salt)) >> 11) / 9007199254740992.0; }

/* The value of a reading now: a new target in [lo, hi] every step, eased from the previous one (smoothstep). */
static unsigned long long read_now(const reading_t *r, nvmlDevice_t d, unsigned int metric)
{
    if (!r->have) return 0;
    if (r->lo == r->hi) return r->lo;
    uint64_t t = now_ms(), step = t / WALK_STEP_MS;
    uint64_t salt = (uint64_t)(PHYS(d) - g_dev) * 64 + metric;
    double f = (double)(t % WALK_STEP_MS) / (double)WALK_STEP_MS;
    f = f * f * (3.0 - 2.0 * f);
    double a = target(step, salt), b = target(step + 1, salt);
    double v = a + (b - a) * f;
    return r->lo + (unsigned long long)(v * (double)(r->hi - r->lo) + 0.5);
}

/* ---- System ---- */

EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length)
{ REQUIRE_INIT(); return copy_str(g_driver, version, length); }
EXPORT nvmlReturn_t nvmlSystemGetNVMLVersion(char *version, unsigned int length)
{ REQUIRE_INIT(); return copy_str(g_nvml, version, length); }
EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *v)
{ REQUIRE_INIT(); if (!v) return NVML_ERROR_INVALID_ARGUMENT; *v = g_cuda; return NVML_SUCCESS; }
EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *v) { return nvmlSystemGetCudaDriverVersion(v); }

/* ---- Device enumeration ---- */

EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count)
{ REQUIRE_INIT(); if (!count) return NVML_ERROR_INVALID_ARGUMENT; *count = g_count; return NVML_SUCCESS; }
EXPORT nvmlReturn_t nvmlDeviceGetCount(unsigned int *count) { return nvmlDeviceGetCount_v2(count); }

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
{
    REQUIRE_INIT();
    if (!device || index >= g_count) return NVML_ERROR_INVALID_ARGUMENT;
    *device = &g_dev[index * SLOTS];
    return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t *device)
{ return nvmlDeviceGetHandleByIndex_v2(index, device); }

EXPORT nvmlReturn_t nvmlDeviceGetHandleByUUID(const char *uuid, nvmlDevice_t *device)
{
    REQUIRE_INIT();
    if (!uuid || !device) return NVML_ERROR_INVALID_ARGUMENT;
    for (unsigned int i = 0; i < g_count * SLOTS; i++)
        if (g_dev[i].present && strcmp(g_dev[i].uuid, uuid) == 0) { *device = &g_dev[i]; return NVML_SUCCESS; }
    return NVML_ERROR_NOT_FOUND;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByPciBusId_v2(const char *busId, nvmlDevice_t *device)
{
    REQUIRE_INIT();
    struct nvmlDevice_st want;
    if (!busId || !device || !parse_bus_id(busId, &want)) return NVML_ERROR_INVALID_ARGUMENT;
    for (unsigned int i = 0; i < g_count; i++) {
        struct nvmlDevice_st *d = &g_dev[i * SLOTS];
        if (d->domain == want.domain && d->bus == want.bus && d->dev == want.dev) { *device = d; return NVML_SUCCESS; }
    }
    return NVML_ERROR_NOT_FOUND;
}
EXPORT nvmlReturn_t nvmlDeviceGetHandleByPciBusId(const char *busId, nvmlDevice_t *device)
{ return nvmlDeviceGetHandleByPciBusId_v2(busId, device); }

EXPORT nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t d, unsigned int *index)
{
    REQUIRE_DEV(d);
    if (!index) return NVML_ERROR_INVALID_ARGUMENT;
    if (d->is_mig) return NVML_ERROR_NOT_SUPPORTED;
    *index = d->index;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMinorNumber(nvmlDevice_t d, unsigned int *minor)
{
    REQUIRE_DEV(d);
    if (!minor) return NVML_ERROR_INVALID_ARGUMENT;
    if (d->is_mig) return NVML_ERROR_NOT_SUPPORTED;
    *minor = d->minor;
    return NVML_SUCCESS;
}

/* ---- Identity ---- */

/* Fills the fields every nvmlPciInfo version shares (the first 36 bytes). */
static void fill_pci_common(nvmlDevice_t p, nvmlPciInfo_t *pci)
{
    snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "%04X:%02X:%02X.0", p->domain & 0xffff, p->bus, p->dev);
    pci->domain = p->domain; pci->bus = p->bus; pci->device = p->dev;
    pci->pciDeviceId = p->pci_device_id; pci->pciSubSystemId = p->pci_subsystem_id;
}

EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t d, nvmlPciInfo_t *pci)
{
    REQUIRE_DEV(d);
    if (!pci) return NVML_ERROR_INVALID_ARGUMENT;
    nvmlDevice_t p = PHYS(d);
    fill_pci_common(p, pci);
    snprintf(pci->busId, sizeof pci->busId, "%08X:%02X:%02X.0", p->domain, p->bus, p->dev);
    return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v2(nvmlDevice_t d, nvmlPciInfo_t *pci) { return nvmlDeviceGetPciInfo_v3(d, pci); }

/* The unversioned entry point predates busId[32]; its callers may pass the 52-byte v1 struct. */
EXPORT nvmlReturn_t nvmlDeviceGetPciInfo(nvmlDevice_t d, nvmlPciInfo_t *pci)
{
    REQUIRE_DEV(d);
    if (!pci) return NVML_ERROR_INVALID_ARGUMENT;
    fill_pci_common(PHYS(d), pci);
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *uuid, unsigned int length)
{ REQUIRE_DEV(d); return copy_str(d->uuid, uuid, length); }

EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int length)
{
    REQUIRE_DEV(d);
    if (!d->name[0]) return NVML_ERROR_NOT_SUPPORTED;
    return copy_str(d->name, name, length);
}

EXPORT nvmlReturn_t nvmlDeviceGetBrand(nvmlDevice_t d, int *type)
{
    REQUIRE_DEV(d);
    if (!type) return NVML_ERROR_INVALID_ARGUMENT;
    *type = PHYS(d)->brand;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t d, int *major, int *minor)
{
    REQUIRE_DEV(d);
    if (!major || !minor) return NVML_ERROR_INVALID_ARGUMENT;
    nvmlDevice_t p = PHYS(d);
    if (!p->have_cc) return NVML_ERROR_NOT_SUPPORTED;
    *major = p->cc_major; *minor = p->cc_minor;
    return NVML_SUCCESS;
}

static int gpu_lost(unsigned int index);

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *mem)
{
    REQUIRE_DEV(d);
    if (gpu_lost(d->is_mig ? d->parent->index : d->index)) return NVML_ERROR_GPU_IS_LOST;
    if (!mem) return NVML_ERROR_INVALID_ARGUMENT;
    if (!d->have_mem) return NVML_ERROR_NOT_SUPPORTED;
    unsigned long long used = read_now(&d->mem_used, d, 0);
    if (used > d->mem_total) used = d->mem_total;
    mem->total = d->mem_total; mem->used = used; mem->free = d->mem_total - used;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t d, nvmlMemory_v2_t *mem)
{
    REQUIRE_DEV(d);
    if (!mem) return NVML_ERROR_INVALID_ARGUMENT;
    if (mem->version != NVML_MEMORY_V2) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    nvmlMemory_t m;
    nvmlReturn_t r = nvmlDeviceGetMemoryInfo(d, &m);
    if (r != NVML_SUCCESS) return r;
    mem->total = m.total; mem->reserved = 0; mem->free = m.free; mem->used = m.used;
    return NVML_SUCCESS;
}

/* ---- Addressing mode (the CDI generator's coherent annotations) ---- */

typedef struct { unsigned int version, value; } nvmlDeviceAddressingMode_t;
#define NVML_DEVICE_ADDRESSING_MODE_V1 ((unsigned int)(sizeof(nvmlDeviceAddressingMode_t) | (1 << 24)))

EXPORT nvmlReturn_t nvmlDeviceGetAddressingMode(nvmlDevice_t d, nvmlDeviceAddressingMode_t *mode)
{
    REQUIRE_DEV(d);
    if (!mode) return NVML_ERROR_INVALID_ARGUMENT;
    if (mode->version != NVML_DEVICE_ADDRESSING_MODE_V1) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    if (d->is_mig || !d->have_addressing) return NVML_ERROR_NOT_SUPPORTED;
    mode->value = d->addressing_mode;
    return NVML_SUCCESS;
}

/* ---- MIG ---- */

EXPORT nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned int *current, unsigned int *pending)
{
    REQUIRE_DEV(d);
    if (!current || !pending) return NVML_ERROR_INVALID_ARGUMENT;
    if (d->is_mig || !d->mig_capable) return NVML_ERROR_NOT_SUPPORTED;
    *current = d->mig_mode ? 1 : 0; *pending = d->mig_pending ? 1 : 0;
    return NVML_SUCCESS;
}

/* Zero when MIG is unsupported or disabled, as documented. */
EXPORT nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t d, unsigned int *count)
{
    REQUIRE_DEV(d);
    if (!count || d->is_mig) return NVML_ERROR_INVALID_ARGUMENT;
    *count = d->mig_capable && d->mig_mode ? d->max_mig : 0;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t d, unsigned int index, nvmlDevice_t *mig)
{
    REQUIRE_DEV(d);
    if (!mig || d->is_mig) return NVML_ERROR_INVALID_ARGUMENT;
    if (!d->mig_capable || !d->mig_mode) return NVML_ERROR_NOT_SUPPORTED;
    if (index >= d->max_mig) return NVML_ERROR_INVALID_ARGUMENT;
    if (index >= d->mig_count) return NVML_ERROR_NOT_FOUND;
    *mig = d + 1 + index;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceIsMigDeviceHandle(nvmlDevice_t d, unsigned int *is_mig)
{
    REQUIRE_DEV(d);
    if (!is_mig) return NVML_ERROR_INVALID_ARGUMENT;
    *is_mig = d->is_mig ? 1 : 0;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetGpuInstanceId(nvmlDevice_t d, unsigned int *id)
{
    REQUIRE_DEV(d);
    if (!id) return NVML_ERROR_INVALID_ARGUMENT;
    if (!d->is_mig) return NVML_ERROR_NOT_SUPPORTED;
    *id = d->gi;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetComputeInstanceId(nvmlDevice_t d, unsigned int *id)
{
    REQUIRE_DEV(d);
    if (!id) return NVML_ERROR_INVALID_ARGUMENT;
    if (!d->is_mig) return NVML_ERROR_NOT_SUPPORTED;
    *id = d->ci;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetDeviceHandleFromMigDeviceHandle(nvmlDevice_t mig, nvmlDevice_t *device)
{
    REQUIRE_DEV(mig);
    if (!device || !mig->is_mig) return NVML_ERROR_INVALID_ARGUMENT;
    *device = mig->parent;
    return NVML_SUCCESS;
}

/* ---- Telemetry: power, thermals, utilization, clocks, PCIe, ECC, processes, topology ---- */

typedef struct { unsigned int gpu, memory; } nvmlUtilization_t;
typedef struct { unsigned long long bar1Total, bar1Free, bar1Used; } nvmlBAR1Memory_t;
typedef struct { unsigned int pid; unsigned long long usedGpuMemory; } nvmlProcessInfo_v1_t;
typedef struct { unsigned int pid; unsigned long long usedGpuMemory; unsigned int gpuInstanceId, computeInstanceId; } nvmlProcessInfo_v2_t;
typedef struct {
    unsigned int pid; unsigned long long usedGpuMemory; unsigned int gpuInstanceId, computeInstanceId;
    unsigned long long usedGpuCcProtectedMemory;
} nvmlProcessInfo_v3_t;

enum { CLOCK_GRAPHICS = 0, CLOCK_SM = 1, CLOCK_MEM = 2, CLOCK_VIDEO = 3 };
enum { PCIE_TX = 0, PCIE_RX = 1 };
enum { LOCATION_L1 = 0, LOCATION_L2 = 1, LOCATION_DEVICE_MEMORY = 2, LOCATION_DRAM = 7 };
#define NO_INSTANCE 0xFFFFFFFFu

/* One unsigned reading of the physical GPU: NOT_SUPPORTED when the facts do not have it. */
static nvmlReturn_t get_reading(nvmlDevice_t d, size_t offset, unsigned int *out)
{
    REQUIRE_DEV(d);
    if (!out) return NVML_ERROR_INVALID_ARGUMENT;
    const reading_t *r = (const reading_t *)((const char *)PHYS(d) + offset);
    if (!r->have) return NVML_ERROR_NOT_SUPPORTED;
    *out = (unsigned int)read_now(r, d, (unsigned int)(offset / sizeof(reading_t)));
    return NVML_SUCCESS;
}
#define READING(d, field, out) get_reading(d, offsetof(struct nvmlDevice_st, field), out)

EXPORT nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *mw) { return READING(d, power, mw); }
EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t d, unsigned int *mw) { return READING(d, power_limit, mw); }
EXPORT nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t d, unsigned int *mw) { return READING(d, power_limit, mw); }
EXPORT nvmlReturn_t nvmlDeviceGetNumGpuCores(nvmlDevice_t d, unsigned int *n) { return READING(d, cores, n); }
EXPORT nvmlReturn_t nvmlDeviceGetMemoryBusWidth(nvmlDevice_t d, unsigned int *bits) { return READING(d, bus_width, bits); }
EXPORT nvmlReturn_t nvmlDeviceGetMaxPcieLinkGeneration(nvmlDevice_t d, unsigned int *gen) { return READING(d, pcie_gen, gen); }
EXPORT nvmlReturn_t nvmlDeviceGetMaxPcieLinkWidth(nvmlDevice_t d, unsigned int *width) { return READING(d, pcie_width, width); }

/* Only the GPU die sensor (NVML_TEMPERATURE_GPU = 0) exists. */
EXPORT nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t d, int sensor, unsigned int *celsius)
{
    if (sensor != 0) { REQUIRE_DEV(d); return NVML_ERROR_INVALID_ARGUMENT; }
    return READING(d, temperature, celsius);
}

EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t *u)
{
    REQUIRE_DEV(d);
    if (!u) return NVML_ERROR_INVALID_ARGUMENT;
    nvmlDevice_t p = PHYS(d);
    if (!p->util_gpu.have || !p->util_mem.have) return NVML_ERROR_NOT_SUPPORTED;
    u->gpu = (unsigned int)read_now(&p->util_gpu, d, 100);
    u->memory = (unsigned int)read_now(&p->util_mem, d, 101);
    return NVML_SUCCESS;
}

static nvmlReturn_t codec_utilization(nvmlDevice_t d, size_t offset, unsigned int *util, unsigned int *period_us)
{
    if (!period_us) { REQUIRE_DEV(d); return NVML_ERROR_INVALID_ARGUMENT; }
    nvmlReturn_t r = get_reading(d, offset, util);
    if (r == NVML_SUCCESS) *period_us = (unsigned int)(WALK_STEP_MS * 1000);
    return r;
}
EXPORT nvmlReturn_t nvmlDeviceGetEncoderUtilization(nvmlDevice_t d, unsigned int *util, unsigned int *period_us)
{ return codec_utilization(d, offsetof(struct nvmlDevice_st, encoder), util, period_us); }
EXPORT nvmlReturn_t nvmlDeviceGetDecoderUtilization(nvmlDevice_t d, unsigned int *util, unsigned int *period_us)
{ return codec_utilization(d, offsetof(struct nvmlDevice_st, decoder), util, period_us); }

static nvmlReturn_t clock_of(nvmlDevice_t d, int type, size_t graphics, size_t mem, unsigned int *mhz)
{
    switch (type) {
    case CLOCK_GRAPHICS: case CLOCK_SM: return get_reading(d, graphics, mhz);
    case CLOCK_MEM: return get_reading(d, mem, mhz);
    case CLOCK_VIDEO: REQUIRE_DEV(d); return NVML_ERROR_NOT_SUPPORTED;
    default: REQUIRE_DEV(d); return NVML_ERROR_INVALID_ARGUMENT;
    }
}
EXPORT nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t d, int type, unsigned int *mhz)
{ return clock_of(d, type, offsetof(struct nvmlDevice_st, clock_sm), offsetof(struct nvmlDevice_st, clock_mem), mhz); }
EXPORT nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t d, int type, unsigned int *mhz)
{ return clock_of(d, type, offsetof(struct nvmlDevice_st, max_clock_sm), offsetof(struct nvmlDevice_st, max_clock_mem), mhz); }

EXPORT nvmlReturn_t nvmlDeviceGetBAR1MemoryInfo(nvmlDevice_t d, nvmlBAR1Memory_t *bar1)
{
    REQUIRE_DEV(d);
    if (!bar1) return NVML_ERROR_INVALID_ARGUMENT;
    nvmlDevice_t p = PHYS(d);
    if (!p->bar1_total.have) return NVML_ERROR_NOT_SUPPORTED;
    unsigned long long total = p->bar1_total.lo, used = read_now(&p->bar1_used, d, 102);
    if (used > total) used = total;
    bar1->bar1Total = total; bar1->bar1Used = used; bar1->bar1Free = total - used;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetPcieThroughput(nvmlDevice_t d, int counter, unsigned int *kbps)
{
    if (counter == PCIE_TX) return READING(d, pcie_tx, kbps);
    if (counter == PCIE_RX) return READING(d, pcie_rx, kbps);
    REQUIRE_DEV(d);
    return NVML_ERROR_INVALID_ARGUMENT;
}

EXPORT nvmlReturn_t nvmlDeviceGetEccMode(nvmlDevice_t d, int *current, int *pending)
{
    REQUIRE_DEV(d);
    if (!current || !pending) return NVML_ERROR_INVALID_ARGUMENT;
    nvmlDevice_t p = PHYS(d);
    if (!p->ecc.have) return NVML_ERROR_NOT_SUPPORTED;
    *current = *pending = p->ecc.lo ? 1 : 0;
    return NVML_SUCCESS;
}

/* nvmlEnableState_t: 1 enabled. One setting for the whole host, as `gantry simulate --persistence` writes it. */
EXPORT nvmlReturn_t nvmlDeviceGetPersistenceMode(nvmlDevice_t d, int *mode)
{
    REQUIRE_DEV(d);
    if (!mode) return NVML_ERROR_INVALID_ARGUMENT;
    *mode = g_persistence;
    return NVML_SUCCESS;
}

/* Error counts do not depend on the error or counter type here; only the location picks the fact. */
EXPORT nvmlReturn_t nvmlDeviceGetMemoryErrorCounter(nvmlDevice_t d, int errorType, int counterType, int location,
                                                    unsigned long long *count)
{
    (void)errorType; (void)counterType;
    REQUIRE_DEV(d);
    if (!count) return NVML_ERROR_INVALID_ARGUMENT;
    nvmlDevice_t p = PHYS(d);
    const reading_t *r = location == LOCATION_L1 ? &p->ecc_l1 : location == LOCATION_L2 ? &p->ecc_l2
                       : location == LOCATION_DEVICE_MEMORY || location == LOCATION_DRAM ? &p->ecc_mem : NULL;
    if (!r || !r->have || !p->ecc.have || !p->ecc.lo) return NVML_ERROR_NOT_SUPPORTED;
    *count = read_now(r, d, 103 + (unsigned int)location);
    return NVML_SUCCESS;
}

/* The documented size protocol: too small a buffer → INSUFFICIENT_SIZE with the count needed. */
static nvmlReturn_t processes(nvmlDevice_t d, unsigned int *count, void *infos, size_t size)
{
    REQUIRE_DEV(d);
    if (!count) return NVML_ERROR_INVALID_ARGUMENT;
    nvmlDevice_t p = PHYS(d);
    unsigned int n = p->proc_count;
    if (*count < n) { *count = n; return NVML_ERROR_INSUFFICIENT_SIZE; }
    *count = n;
    if (n && !infos) return NVML_ERROR_INVALID_ARGUMENT;
    for (unsigned int i = 0; i < n; i++) {
        nvmlProcessInfo_v3_t info = { p->procs[i].pid, p->procs[i].used, NO_INSTANCE, NO_INSTANCE, 0 };
        memcpy((char *)infos + i * size, &info, size);
    }
    return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_v1_t *infos)
{ return processes(d, count, infos, sizeof *infos); }
EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_v2_t *infos)
{ return processes(d, count, infos, sizeof *infos); }
EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_v3_t *infos)
{ return processes(d, count, infos, sizeof *infos); }

EXPORT nvmlReturn_t nvmlSystemGetProcessName(unsigned int pid, char *name, unsigned int length)
{
    REQUIRE_INIT();
    if (!name || length == 0) return NVML_ERROR_INVALID_ARGUMENT;
    for (unsigned int i = 0; i < g_count; i++) {
        nvmlDevice_t p = &g_dev[i * SLOTS];
        for (unsigned int j = 0; j < p->proc_count; j++)
            if (p->procs[j].pid == pid) {
                /* NVML truncates to the buffer rather than failing. */
                snprintf(name, length, "%s", p->procs[j].name);
                return NVML_SUCCESS;
            }
    }
    return NVML_ERROR_NOT_FOUND;
}

EXPORT nvmlReturn_t nvmlDeviceGetTopologyCommonAncestor(nvmlDevice_t a, nvmlDevice_t b, int *level)
{
    REQUIRE_DEV(a);
    if (!valid(b) || !level || a->is_mig || b->is_mig) return NVML_ERROR_INVALID_ARGUMENT;
    int known = g_topology[a->index][b->index];
    if (a == b) { *level = 0; return NVML_SUCCESS; }
    if (!known) return NVML_ERROR_NOT_SUPPORTED;
    *level = known - 1;
    return NVML_SUCCESS;
}

/* ---- Events ---- */

#define EV_SINGLE_ECC 0x1ULL
#define EV_DOUBLE_ECC 0x2ULL
#define EV_XID 0x8ULL
#define MAX_SETS 64

typedef struct {
    nvmlDevice_t device;
    unsigned long long eventType, eventData;
    unsigned int gpuInstanceId, computeInstanceId;
} nvmlEventData_t;

typedef struct nvmlEventSet_st { int used; long offset; unsigned long long mask[MAX_GPUS]; } *nvmlEventSet_t;
static struct nvmlEventSet_st g_sets[MAX_SETS];

static long events_size(void)
{
    FILE *f = g_events_path[0] ? fopen(g_events_path, "r") : NULL;
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n < 0 ? 0 : n;
}

/* Whether the last "lost"/"back" line for the GPU says lost. The file is small: read whole each time. */
static int gpu_lost(unsigned int index)
{
    FILE *f = g_events_path[0] ? fopen(g_events_path, "r") : NULL;
    if (!f) return 0;
    char line[256], kind[16];
    unsigned int gpu;
    int lost = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%15s %u", kind, &gpu) == 2 && gpu == index) {
            if (!strcmp(kind, "lost")) lost = 1;
            else if (!strcmp(kind, "back")) lost = 0;
        }
    fclose(f);
    return lost;
}

EXPORT nvmlReturn_t nvmlEventSetCreate(nvmlEventSet_t *set)
{
    REQUIRE_INIT();
    if (!set) return NVML_ERROR_INVALID_ARGUMENT;
    lock();
    for (int i = 0; i < MAX_SETS; i++)
        if (!g_sets[i].used) {
            memset(&g_sets[i], 0, sizeof g_sets[i]);
            g_sets[i].used = 1;
            g_sets[i].offset = events_size();
            unlock();
            *set = &g_sets[i];
            return NVML_SUCCESS;
        }
    unlock();
    return NVML_ERROR_MEMORY;
}

static int valid_set(nvmlEventSet_t s) { return s >= g_sets && s < g_sets + MAX_SETS && s->used; }

EXPORT nvmlReturn_t nvmlEventSetFree(nvmlEventSet_t set)
{
    REQUIRE_INIT();
    if (!valid_set(set)) return NVML_ERROR_INVALID_ARGUMENT;
    set->used = 0;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetSupportedEventTypes(nvmlDevice_t d, unsigned long long *types)
{
    REQUIRE_DEV(d);
    if (!types) return NVML_ERROR_INVALID_ARGUMENT;
    if (d->is_mig) return NVML_ERROR_NOT_SUPPORTED;
    *types = EV_SINGLE_ECC | EV_DOUBLE_ECC | EV_XID;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceRegisterEvents(nvmlDevice_t d, unsigned long long types, nvmlEventSet_t set)
{
    REQUIRE_DEV(d);
    if (!valid_set(set) || d->is_mig) return NVML_ERROR_INVALID_ARGUMENT;
    if (types & ~(EV_SINGLE_ECC | EV_DOUBLE_ECC | EV_XID)) return NVML_ERROR_NOT_SUPPORTED;
    set->mask[d->index] |= types;
    return NVML_SUCCESS;
}

/* The next event line after the set's offset that a registered mask wants; 1 and *out filled, else 0. */
static int next_event(nvmlEventSet_t set, nvmlEventData_t *out)
{
    FILE *f = g_events_path[0] ? fopen(g_events_path, "r") : NULL;
    if (!f) return 0;
    if (fseek(f, set->offset, SEEK_SET) != 0) { fclose(f); return 0; }
    char line[256], kind[16], arg[16];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        if (n == 0 || line[n - 1] != '\n') break; /* a line still being written */
        set->offset += (long)n;
        unsigned int gpu, gi = 0xFFFFFFFFu, ci = 0xFFFFFFFFu;
        unsigned long long type = 0, data = 0;
        int fields = sscanf(line, "%15s %u %15s %u %u", kind, &gpu, arg, &gi, &ci);
        if (fields < 2 || gpu >= g_count) continue;
        if (!strcmp(kind, "xid") && fields >= 3) { type = EV_XID; data = strtoull(arg, NULL, 10); }
        else if (!strcmp(kind, "ecc") && fields >= 3) type = !strcmp(arg, "single") ? EV_SINGLE_ECC : EV_DOUBLE_ECC;
        else if (!strcmp(kind, "lost")) { type = EV_XID; data = 79; }
        else continue;
        if (fields < 5) gi = ci = 0xFFFFFFFFu;
        if (!(set->mask[gpu] & type)) continue;
        out->device = &g_dev[gpu * SLOTS];
        out->eventType = type; out->eventData = data;
        out->gpuInstanceId = gi; out->computeInstanceId = ci;
        found = 1;
    }
    fclose(f);
    return found;
}

EXPORT nvmlReturn_t nvmlEventSetWait_v2(nvmlEventSet_t set, nvmlEventData_t *data, unsigned int timeoutms)
{
    REQUIRE_INIT();
    if (!valid_set(set) || !data) return NVML_ERROR_INVALID_ARGUMENT;
    struct timespec start, now, nap = { 0, 10 * 1000 * 1000 };
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        if (next_event(set, data)) return NVML_SUCCESS;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long elapsed = (now.tv_sec - start.tv_sec) * 1000LL + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed >= timeoutms) return NVML_ERROR_TIMEOUT;
        nanosleep(&nap, NULL);
    }
}

EXPORT nvmlReturn_t nvmlEventSetWait(nvmlEventSet_t set, nvmlEventData_t *data, unsigned int timeoutms)
{ return nvmlEventSetWait_v2(set, data, timeoutms); }
