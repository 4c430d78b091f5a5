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
 *   mig                             starts the next MIG device of the last GPU; its index = order under it
 *     uuid MIG-...  gi 1  ci 0  profile 1g.5gb  memory-total 5368709120  memory-used 0
 *     name ...                      (default "<parent name> MIG <profile>")
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <sched.h>
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
#define SLOTS (1 + MAX_MIG) /* a GPU and its MIG devices sit side by side in g_dev */

typedef struct nvmlDevice_st {
    int present, is_mig;
    unsigned int index, minor, gi, ci, mig_count, max_mig;
    struct nvmlDevice_st *parent;
    char uuid[96], name[96], profile[32];
    unsigned int domain, bus, dev, fn, pci_device_id, pci_subsystem_id;
    int brand, have_cc, cc_major, cc_minor, have_mem, mig_capable, mig_mode, mig_pending;
    unsigned long long mem_total, mem_used;
} *nvmlDevice_t;

static struct nvmlDevice_st g_dev[MAX_GPUS * SLOTS];
static unsigned int g_count;
static char g_driver[80], g_nvml[80];
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

/* Applies one "key value" line to the current device; 0 on a malformed value. Unknown keys pass. */
static int apply_key(struct nvmlDevice_st *d, const char *key, const char *val)
{
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
    else if (!strcmp(key, "memory-used")) NUM(mem_used);
    else if (!strcmp(key, "memory-total")) { NUM(mem_total); d->have_mem = 1; }
    else if (!strcmp(key, "mig-capable")) NUM(mig_capable);
    else if (!strcmp(key, "mig-mode")) { NUM(mig_mode); d->mig_pending = d->mig_mode; if (n) d->mig_capable = 1; }
    else if (!strcmp(key, "mig-pending")) NUM(mig_pending);
    else if (!strcmp(key, "max-mig")) { NUM(max_mig); if (n > MAX_MIG) return 0; }
    else if (!strcmp(key, "bus-id")) return parse_bus_id(val, d);
    else if (!strcmp(key, "brand")) { d->brand = parse_brand(val); return d->brand >= 0; }
    else if (!strcmp(key, "cc")) { d->have_cc = sscanf(val, "%d.%d", &d->cc_major, &d->cc_minor) == 2; return d->have_cc; }
#undef NUM
    return 1;
}

static FILE *open_facts(void)
{
    const char *env = getenv("GANTRY_NVML_FACTS");
    if (env && *env) { diag("facts (GANTRY_NVML_FACTS)", env); return fopen(env, "r"); }
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
        if (f || !realpath(info.dli_fname, real)) return f;
        src = real; /* loaded through a symlink: try the directory of the file it points to */
    }
    return NULL;
}

static nvmlReturn_t load_facts(void)
{
    FILE *f = open_facts();
    if (!f) { diag("cannot open facts", "driver not loaded"); return NVML_ERROR_DRIVER_NOT_LOADED; }
    memset(g_dev, 0, sizeof g_dev);
    g_count = 0; g_driver[0] = g_nvml[0] = '\0'; g_cuda = 0;
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

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *mem)
{
    REQUIRE_DEV(d);
    if (!mem) return NVML_ERROR_INVALID_ARGUMENT;
    if (!d->have_mem) return NVML_ERROR_NOT_SUPPORTED;
    unsigned long long used = d->mem_used > d->mem_total ? d->mem_total : d->mem_used;
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
