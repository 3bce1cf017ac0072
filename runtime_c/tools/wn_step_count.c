/*
 * wn_step_count: counts the x86-64 instructions a native program executes inside one function,
 * callees included, by single-stepping it under ptrace (Linux). The counterpart of callgrind's
 * --toggle-collect for code valgrind cannot run (valgrind 3.19 has no AVX-512: SIGILL).
 *
 *   wn_step_count ADDR OUT -- PROG [ARGS...]
 *
 * ADDR: the function's address in PROG's ELF file (hex 0x... or decimal, as nm prints it);
 * position-independent executables are relocated by AT_ENTRY - e_entry. PROG runs at full speed
 * up to a breakpoint (int3) on the function's first instruction; from there every instruction is
 * single-stepped and counted until the call returns (the return address reached with the stack
 * pointer back above the call's), the ret included; then the breakpoint is set again. Calls of
 * the function from inside itself count once, inside the outer call.
 * OUT: {"region_insns": R, "regions": N, "exit_status": S} (N the counted calls) is written
 * there; PROG's own stdout and stderr are left alone. The exit status is PROG's (128 + signal
 * when a signal ended it).
 *
 * A rep-prefixed string instruction counts once per iteration (as callgrind does); the stepping
 * costs a few microseconds per instruction.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#if !defined(__x86_64__)
#error "wn_step_count is for x86-64 Linux"
#endif

static void die(const char *what)
{
    fprintf(stderr, "wn_step_count: %s: %s\n", what, strerror(errno));
    exit(125);
}

static uint64_t elf_entry(const char *path)
{
    Elf64_Ehdr eh;
    FILE *f = fopen(path, "rb");
    if (f == NULL || fread(&eh, sizeof eh, 1, f) != 1) {
        die(path);
    }
    fclose(f);
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) {
        fprintf(stderr, "wn_step_count: %s: not a 64-bit ELF file\n", path);
        exit(125);
    }
    return eh.e_entry;
}

static uint64_t auxv_entry(pid_t pid)
{
    char path[64];
    Elf64_auxv_t a;
    FILE *f;
    snprintf(path, sizeof path, "/proc/%d/auxv", (int)pid);
    f = fopen(path, "rb");
    if (f == NULL) {
        die(path);
    }
    while (fread(&a, sizeof a, 1, f) == 1) {
        if (a.a_type == AT_ENTRY) {
            fclose(f);
            return a.a_un.a_val;
        }
    }
    fclose(f);
    fprintf(stderr, "wn_step_count: no AT_ENTRY in %s\n", path);
    exit(125);
}

static long peek(pid_t pid, uint64_t addr)
{
    long word;
    errno = 0;
    word = ptrace(PTRACE_PEEKTEXT, pid, (void *)addr, NULL);
    if (errno != 0) {
        die("PTRACE_PEEKTEXT");
    }
    return word;
}

static void poke(pid_t pid, uint64_t addr, long word)
{
    if (ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)word) != 0) {
        die("PTRACE_POKETEXT");
    }
}

/* wait for the child; returns 1 when it stopped, 0 when it exited (its status in *exit_status) */
static int wait_stop(pid_t pid, int *status, int *exit_status)
{
    if (waitpid(pid, status, 0) < 0) {
        die("waitpid");
    }
    if (WIFEXITED(*status)) {
        *exit_status = WEXITSTATUS(*status);
        return 0;
    }
    if (WIFSIGNALED(*status)) {
        *exit_status = 128 + WTERMSIG(*status);
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    uint64_t addr, bias, ret_addr, call_sp, insns = 0, calls = 0;
    long orig;
    int status, exit_status = 0, sig;
    pid_t pid;
    struct user_regs_struct regs;
    FILE *out;
    if (argc < 5 || strcmp(argv[3], "--") != 0) {
        fprintf(stderr, "usage: wn_step_count ADDR OUT -- PROG [ARGS...]\n");
        return 125;
    }
    addr = strtoull(argv[1], NULL, 0);
    pid = fork();
    if (pid < 0) {
        die("fork");
    }
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) {
            die("PTRACE_TRACEME");
        }
        execv(argv[4], argv + 4);
        die(argv[4]);
    }
    if (!wait_stop(pid, &status, &exit_status)) { /* the exec stop */
        fprintf(stderr, "wn_step_count: %s did not start (status %d)\n", argv[4], exit_status);
        return 125;
    }
    ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)PTRACE_O_EXITKILL);
    bias = auxv_entry(pid) - elf_entry(argv[4]);
    addr += bias;
    orig = peek(pid, addr);
    poke(pid, addr, (orig & ~0xFFL) | 0xCC);
    sig = 0;
    for (;;) {
        if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig) != 0) {
            die("PTRACE_CONT");
        }
        if (!wait_stop(pid, &status, &exit_status)) {
            break;
        }
        sig = WSTOPSIG(status);
        if (sig != SIGTRAP) {
            continue; /* deliver it */
        }
        sig = 0;
        if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) != 0) {
            die("PTRACE_GETREGS");
        }
        if (regs.rip - 1 != addr) {
            continue;
        }
        /* at the function's entry: restore it, step through the call */
        regs.rip = addr;
        if (ptrace(PTRACE_SETREGS, pid, NULL, &regs) != 0) {
            die("PTRACE_SETREGS");
        }
        poke(pid, addr, orig);
        call_sp = regs.rsp;
        ret_addr = (uint64_t)peek(pid, call_sp);
        ++calls;
        for (;;) {
            if (ptrace(PTRACE_SINGLESTEP, pid, NULL, (void *)(long)sig) != 0) {
                die("PTRACE_SINGLESTEP");
            }
            if (!wait_stop(pid, &status, &exit_status)) {
                goto done;
            }
            sig = WSTOPSIG(status) == SIGTRAP ? 0 : WSTOPSIG(status);
            if (sig != 0) {
                continue; /* a signal arrived instead of the step: deliver it with the next */
            }
            ++insns;
            if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) != 0) {
                die("PTRACE_GETREGS");
            }
            if (regs.rip == ret_addr && regs.rsp > call_sp) {
                break;
            }
        }
        poke(pid, addr, (orig & ~0xFFL) | 0xCC);
    }
done:
    out = fopen(argv[2], "w");
    if (out == NULL) {
        die(argv[2]);
    }
    fprintf(out, "{\"region_insns\": %llu, \"regions\": %llu, \"exit_status\": %d}\n",
            (unsigned long long)insns, (unsigned long long)calls, exit_status);
    fclose(out);
    return exit_status;
}
