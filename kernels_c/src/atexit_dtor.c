/* atexit_dtor: exit-time handlers run through indirect calls (newlib's
 * __call_exitprocs does `blx r2`): two atexit handlers, one of them
 * __libc_fini_array, which runs a destructor. Observing the run (profile,
 * memory accounting, regions, traces) must not change what it prints.
 * Nothing is printed before exit, so that the first output happens in a handler.
 * Expected output: "bye", "dtor", "dtor" (crt0 registers __libc_fini_array too). */
#include <stdio.h>
#include <stdlib.h>

extern void __libc_fini_array(void);

static void bye(void)
{
    puts("bye");
}

__attribute__((destructor)) static void dtor(void)
{
    puts("dtor");
}

int main(void)
{
    atexit(__libc_fini_array);
    atexit(bye);
    return 0;
}
