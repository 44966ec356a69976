/* Facts about the machine, recorded with every result so runs can be compared honestly. */
#include "env.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "options.h"

long lg_env_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -1;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl.rlim_cur = rl.rlim_max;
    }
    return rl.rlim_cur == RLIM_INFINITY ? (long)1 << 30 : (long)rl.rlim_cur;
}

static void cpu_model(char *buf, size_t len)
{
    snprintf(buf, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0 || strncmp(line, "Model", 5) == 0) {
            char *colon = strchr(line, ':');
            if (colon) {
                colon++;
                while (*colon == ' ' || *colon == '\t')
                    colon++;
                colon[strcspn(colon, "\n")] = 0;
                snprintf(buf, len, "%s", colon);
                break;
            }
        }
    }
    fclose(f);
}

json_t *lg_env_json(long nofile_limit)
{
    char host[256] = "unknown", kernel[600] = "unknown", cpu[256];
    if (gethostname(host, sizeof host) < 0)
        snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = 0;
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(kernel, sizeof kernel, "%s %s %s", u.sysname, u.release, u.machine);
    cpu_model(cpu, sizeof cpu);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    /* The cores this process may run on (taskset, cgroup cpusets): what more threads could use. */
    cpu_set_t set;
    long allowed = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : cores;
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "hostname", host, "kernel", kernel,
                     "cpu_model", cpu, "cores", (json_int_t)(cores > 0 ? cores : 1), "cpus_allowed",
                     (json_int_t)(allowed > 0 ? allowed : 1), "nofile_limit",
                     (json_int_t)(nofile_limit > 0 ? nofile_limit : 0), "loadgen_version", LG_VERSION);
}
