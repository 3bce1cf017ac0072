/*
 * wn_insn_count: a QEMU TCG plugin that counts executed guest instructions, all of them and
 * those executed inside marker regions. Built against qemu-plugin.h from Debian's qemu source
 * package by .ci/setup-qemu-plugin (or wncc.counting.plugin_path()); plugin API version 1
 * (QEMU 7.2).
 *
 *   qemu-aarch64 -plugin libwn_insn_count.so,begin=0x400abc,end=0x400ac4,out=counts.json ./prog
 *
 * Arguments (QEMU 7.2 syntax: KEY=VALUE after the library, comma separated; a comma inside a
 * value is written twice):
 *   begin=ADDR  a region starts when execution reaches ADDR (the first instruction of the begin
 *               marker function; the instructions from there on count)
 *   end=ADDR    the region ends when execution reaches ADDR (the end marker's first instruction
 *               does not count). Regions may repeat: their counts add up.
 *   out=PATH    write the totals there as one JSON object (default: stderr)
 *   mode=tb     count with one inline add per translated block (default, fast), or
 *   mode=insn   one inline add per instruction (exact even when a block exits part-way, e.g. on a
 *               fault in system emulation)
 *   profile=PATH  also count the executions of every translated block of the whole run and
 *               write one line per executed block there: "ADDR INSNS EXECUTIONS" (hex address
 *               of its first instruction, its instruction count, how often it ran); wncc maps
 *               the addresses to functions (wncc/counting.py)
 * ADDR is hex (0x...) or decimal; for Thumb code bit 0 is ignored. begin and end come together
 * or not at all (then only the total is counted). Resolve symbol names with nm or readelf.
 *
 * Output: {"total_insns": T, "region_insns": R, "regions": N, "open_region": 0|1,
 *          "stray_begin": B, "stray_end": E, "mode": "tb", "begin": "0x...", "end": "0x..."}
 * total_insns counts everything the guest executed (user mode: from the ELF entry point).
 * A begin inside an open region and an end outside one are ignored and counted as stray; a region
 * still open at exit is not added to region_insns (open_region=1).
 *
 * Counters are plain 64-bit memory adds (QEMU 7.2 has no per-vCPU scoreboards): exact for a
 * single-threaded guest or a single-core machine, which is what wncc benchmarks run.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

enum { MODE_TB, MODE_INSN };

static uint64_t total;          /* instructions executed, updated by inline ops */
static uint64_t region_insns;   /* sum over closed regions */
static uint64_t regions;        /* closed regions */
static uint64_t stray_begin, stray_end;
static uint64_t region_start;   /* value of total at the current region's begin */
static bool in_region;

static bool have_markers;
static uint64_t begin_addr, end_addr;
static uint64_t addr_mask = ~(uint64_t)0;
static int mode = MODE_TB;
static char *out_path;
static char *profile_path;

/* profile=: one record per translated block; chunks never move, so the inline adds registered
 * on a record's counter stay valid */
typedef struct {
    uint64_t vaddr;
    uint64_t insns;
    uint64_t executions;
} block_record;

enum { CHUNK_RECORDS = 4096 };
typedef struct chunk {
    block_record records[CHUNK_RECORDS];
    size_t used;
    struct chunk *next;
} chunk;
static chunk *chunks;

static block_record *new_record(uint64_t vaddr, uint64_t insns)
{
    if (!chunks || chunks->used == CHUNK_RECORDS) {
        chunk *c = calloc(1, sizeof *c);
        if (!c) {
            return NULL;
        }
        c->next = chunks;
        chunks = c;
    }
    block_record *r = &chunks->records[chunks->used++];
    r->vaddr = vaddr;
    r->insns = insns;
    return r;
}

static void write_profile(void)
{
    FILE *f = fopen(profile_path, "w");
    if (!f) {
        fprintf(stderr, "wn_insn_count: cannot write %s: %s\n", profile_path, strerror(errno));
        return;
    }
    for (chunk *c = chunks; c; c = c->next) {
        for (size_t i = 0; i < c->used; i++) {
            const block_record *r = &c->records[i];
            if (r->executions) {
                fprintf(f, "0x%" PRIx64 " %" PRIu64 " %" PRIu64 "\n", r->vaddr, r->insns,
                        r->executions);
            }
        }
    }
    fclose(f);
}

/*
 * Marker callbacks run just before the marker instruction executes. userdata packs the marker
 * kind (bit 0: 1 = end) and, in tb mode, how many instructions of the current block the block's
 * inline add has counted ahead (the marker itself and those after it): total - ahead is the exact
 * number of instructions executed before the marker.
 */
static void on_marker(unsigned int vcpu_index, void *userdata)
{
    uintptr_t u = (uintptr_t)userdata;
    bool is_end = u & 1;
    uint64_t ahead = u >> 1;
    uint64_t now = total - ahead;

    (void)vcpu_index;
    if (mode == MODE_INSN) {
        total += 1;  /* the marker instruction carries no inline add of its own */
    }
    if (!is_end) {
        if (in_region) {
            stray_begin++;
            return;
        }
        in_region = true;
        region_start = now;
    } else {
        if (!in_region) {
            stray_end++;
            return;
        }
        in_region = false;
        region_insns += now - region_start;
        regions++;
    }
}

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    (void)id;

    if (mode == MODE_TB) {
        qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &total, n);
    }
    if (profile_path && n > 0) {
        block_record *r = new_record(qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, 0)), n);
        if (r) {
            qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
                                                     &r->executions, 1);
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        bool marker = false;
        uintptr_t u = 0;
        if (have_markers) {
            uint64_t va = qemu_plugin_insn_vaddr(insn) & addr_mask;
            if (va == begin_addr || va == end_addr) {
                marker = true;
                u = (va == end_addr) ? 1 : 0;
                if (mode == MODE_TB) {
                    u |= (uintptr_t)(n - i) << 1;
                }
            }
        }
        if (marker) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS,
                                                   (void *)u);
        } else if (mode == MODE_INSN) {
            qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &total,
                                                       1);
        }
    }
}

static void wn_at_exit(qemu_plugin_id_t id, void *p)
{
    char buf[512];
    (void)id;
    (void)p;
    if (profile_path) {
        write_profile();
    }
    snprintf(buf, sizeof buf,
             "{\"total_insns\": %" PRIu64 ", \"region_insns\": %" PRIu64 ", \"regions\": %" PRIu64
             ", \"open_region\": %d, \"stray_begin\": %" PRIu64 ", \"stray_end\": %" PRIu64
             ", \"mode\": \"%s\", \"begin\": \"0x%" PRIx64 "\", \"end\": \"0x%" PRIx64 "\"}\n",
             total, region_insns, regions, in_region ? 1 : 0, stray_begin, stray_end,
             mode == MODE_TB ? "tb" : "insn", begin_addr, end_addr);
    if (out_path) {
        FILE *f = fopen(out_path, "w");
        if (!f) {
            fprintf(stderr, "wn_insn_count: cannot write %s: %s\n", out_path, strerror(errno));
            return;
        }
        fputs(buf, f);
        fclose(f);
    } else {
        fputs(buf, stderr);
    }
}

static bool parse_addr(const char *s, uint64_t *v)
{
    char *endp;
    if (!*s) {
        return false;
    }
    errno = 0;
    *v = strtoull(s, &endp, 0);
    return errno == 0 && *endp == '\0';
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv)
{
    bool have_begin = false, have_end = false;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *eq = strchr(a, '=');
        const char *val = eq ? eq + 1 : "";
        size_t klen = eq ? (size_t)(eq - a) : strlen(a);
        if (klen == 5 && !strncmp(a, "begin", 5)) {
            if (!parse_addr(val, &begin_addr)) {
                fprintf(stderr, "wn_insn_count: begin=%s: not an address (resolve symbols with nm)\n",
                        val);
                return -1;
            }
            have_begin = true;
        } else if (klen == 3 && !strncmp(a, "end", 3)) {
            if (!parse_addr(val, &end_addr)) {
                fprintf(stderr, "wn_insn_count: end=%s: not an address (resolve symbols with nm)\n",
                        val);
                return -1;
            }
            have_end = true;
        } else if (klen == 3 && !strncmp(a, "out", 3)) {
            free(out_path);
            out_path = strdup(val);
        } else if (klen == 7 && !strncmp(a, "profile", 7)) {
            free(profile_path);
            profile_path = strdup(val);
        } else if (klen == 4 && !strncmp(a, "mode", 4)) {
            if (!strcmp(val, "tb")) {
                mode = MODE_TB;
            } else if (!strcmp(val, "insn")) {
                mode = MODE_INSN;
            } else {
                fprintf(stderr, "wn_insn_count: mode=%s: expected tb or insn\n", val);
                return -1;
            }
        } else {
            fprintf(stderr, "wn_insn_count: unknown argument '%s' (begin=, end=, out=, mode=, "
                    "profile=)\n", a);
            return -1;
        }
    }
    if (have_begin != have_end) {
        fprintf(stderr, "wn_insn_count: begin= and end= go together\n");
        return -1;
    }
    have_markers = have_begin;
    if (info->target_name && !strncmp(info->target_name, "arm", 3)) {
        addr_mask = ~(uint64_t)1;  /* Thumb symbols have bit 0 set; instruction addresses don't */
    }
    begin_addr &= addr_mask;
    end_addr &= addr_mask;
    if (have_markers && begin_addr == end_addr) {
        fprintf(stderr, "wn_insn_count: begin and end are the same address\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
    qemu_plugin_register_atexit_cb(id, wn_at_exit, NULL);
    return 0;
}
