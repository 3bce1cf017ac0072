/* wncc board support: startup for Cortex-M boards under semihosting (qemu-system-arm).
 *
 * Reset: copy .data from its load address, zero .bss, enable the FPU (and MVE) through CPACR,
 * open the semihosting stdio handles, fetch the command line (SYS_GET_CMDLINE) as argc/argv,
 * call main and leave through SYS_EXIT_EXTENDED with main's status. Any fault leaves the same
 * way with status WN_FAULT_EXIT (a crash never looks like success).
 * Symbols come from the board's linker script: __wn_stack_top, __wn_data_load, __wn_data_start,
 * __wn_data_end, __wn_bss_start, __wn_bss_end. */
#include <stdint.h>
#include <stdio.h>

#define WN_FAULT_EXIT 70
#define WN_MAX_ARGS 16

#define SYS_WRITE0 0x04
#define SYS_GET_CMDLINE 0x15
#define SYS_EXIT 0x18
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

extern uint32_t __wn_stack_top[];
extern uint32_t __wn_data_load[], __wn_data_start[], __wn_data_end[];
extern uint32_t __wn_bss_start[], __wn_bss_end[];

int main(int argc, char **argv);
extern void initialise_monitor_handles(void);

void wn_reset_handler(void);
void wn_fault_handler(void);
void wn_default_handler(void);

static inline uintptr_t wn_semihost(uintptr_t op, uintptr_t arg)
{
    register uintptr_t r0 __asm__("r0") = op;
    register uintptr_t r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* Leave qemu with this exit status (SYS_EXIT_EXTENDED carries the code). */
__attribute__((noreturn)) void wn_board_exit(int status)
{
    uintptr_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uintptr_t)(unsigned)status};
    wn_semihost(SYS_EXIT_EXTENDED, (uintptr_t)block);
    /* a debugger without SYS_EXIT_EXTENDED: plain SYS_EXIT (status 0 or 1 only) */
    wn_semihost(SYS_EXIT, status == 0 ? ADP_STOPPED_APPLICATION_EXIT : 0x20023);
    for (;;) {
    }
}

void wn_fault_handler(void)
{
    wn_semihost(SYS_WRITE0, (uintptr_t) "wn_board: fault (HardFault/MemManage/BusFault/UsageFault)\n");
    wn_board_exit(WN_FAULT_EXIT);
}

void wn_default_handler(void)
{
    wn_semihost(SYS_WRITE0, (uintptr_t) "wn_board: unexpected interrupt\n");
    wn_board_exit(WN_FAULT_EXIT + 1);
}

/* Cortex-M vector table: initial SP, reset, NMI, HardFault, MemManage, BusFault, UsageFault,
 * SecureFault (v8-M), 3 reserved, SVC, DebugMon, reserved, PendSV, SysTick, 32 IRQs. */
__attribute__((section(".vectors"), used)) void (*const wn_vectors[16 + 32])(void) = {
    (void (*)(void))(uintptr_t)__wn_stack_top,
    wn_reset_handler,
    wn_fault_handler,   /* NMI */
    wn_fault_handler,   /* HardFault */
    wn_fault_handler,   /* MemManage */
    wn_fault_handler,   /* BusFault */
    wn_fault_handler,   /* UsageFault */
    wn_fault_handler,   /* SecureFault */
    0, 0, 0,
    wn_default_handler, /* SVC */
    wn_default_handler, /* DebugMon */
    0,
    wn_default_handler, /* PendSV */
    wn_default_handler, /* SysTick */
    wn_default_handler, wn_default_handler, wn_default_handler, wn_default_handler,
    wn_default_handler, wn_default_handler, wn_default_handler, wn_default_handler,
    wn_default_handler, wn_default_handler, wn_default_handler, wn_default_handler,
    wn_default_handler, wn_default_handler, wn_default_handler, wn_default_handler,
    wn_default_handler, wn_default_handler, wn_default_handler, wn_default_handler,
    wn_default_handler, wn_default_handler, wn_default_handler, wn_default_handler,
    wn_default_handler, wn_default_handler, wn_default_handler, wn_default_handler,
    wn_default_handler, wn_default_handler, wn_default_handler, wn_default_handler,
};

static char wn_cmdline[512];
static char *wn_argv[WN_MAX_ARGS + 1];

/* argv from the semihosting command line (qemu: -semihosting-config arg=...,arg=...). */
static int wn_args(void)
{
    uintptr_t block[2] = {(uintptr_t)wn_cmdline, sizeof wn_cmdline - 1};
    int argc = 0;
    char *p = wn_cmdline;
    if (wn_semihost(SYS_GET_CMDLINE, (uintptr_t)block) != 0) {
        wn_argv[0] = "wn_vocode";
        wn_argv[1] = 0;
        return 1;
    }
    wn_cmdline[block[1] < sizeof wn_cmdline ? block[1] : sizeof wn_cmdline - 1] = '\0';
    while (*p != '\0' && argc < WN_MAX_ARGS) {
        while (*p == ' ') {
            *p++ = '\0';
        }
        if (*p == '\0') {
            break;
        }
        wn_argv[argc++] = p;
        while (*p != '\0' && *p != ' ') {
            ++p;
        }
    }
    wn_argv[argc] = 0;
    return argc;
}

__attribute__((noreturn)) void wn_reset_handler(void)
{
    uint32_t *src = __wn_data_load;
    uint32_t *dst;
    int argc, rc;
    for (dst = __wn_data_start; dst < __wn_data_end;) {
        *dst++ = *src++;
    }
    for (dst = __wn_bss_start; dst < __wn_bss_end;) {
        *dst++ = 0;
    }
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
    /* CPACR: full access to CP10 and CP11 (the FPU, and the MVE unit on v8.1-M) */
    *(volatile uint32_t *)0xE000ED88u |= (0xFu << 20);
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    initialise_monitor_handles();
    argc = wn_args();
    rc = main(argc, wn_argv);
    fflush(stdout);
    fflush(stderr);
    wn_board_exit(rc);
}
