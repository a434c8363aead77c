/* SIGINT/SIGTERM during a native run: no Python code runs while the C hot path emulates, so a
 * Python signal handler would never get to stop it. This C handler only records the signal;
 * the block hook sees it at the next block and stops the run there, as at a limit
 * (sim/core/interrupt.py installs and removes it around the emulation). A second signal ends the
 * process at once, as the default action would; the same signal again within SAME_REQUEST_NS is
 * the first one's copy (GNU timeout sends its signal to the child and to its process group: two
 * deliveries microseconds apart), as in sim/core/interrupt.py. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <string.h>
#include <time.h>

#include "hotpath.h"

#define SAME_REQUEST_NS 250000000LL

volatile sig_atomic_t hp_signal_pending = 0;

static struct sigaction saved_int, saved_term, saved_alrm;
static long long first_ns;  /* when the pending signal came (CLOCK_MONOTONIC) */

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);  /* (async-signal-safe) */
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void on_signal(int sig)
{
    if (hp_signal_pending) {
        if (sig == hp_signal_pending && now_ns() - first_ns < SAME_REQUEST_NS)
            return;
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    first_ns = now_ns();
    hp_signal_pending = sig;
}

void hp_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    hp_signal_pending = 0;
    sigaction(SIGINT, &sa, &saved_int);
    sigaction(SIGTERM, &sa, &saved_term);
    sigaction(SIGALRM, &sa, &saved_alrm);  /* --timeout (sim/core/interrupt.py host_timer) */
}

/* Puts the previous handlers (Python's) back; returns the signal that arrived, or 0. */
int hp_release_signals(void)
{
    sigaction(SIGINT, &saved_int, NULL);
    sigaction(SIGTERM, &saved_term, NULL);
    sigaction(SIGALRM, &saved_alrm, NULL);
    int sig = hp_signal_pending;
    hp_signal_pending = 0;
    return sig;
}
