/* hello: exercises newlib semihosting I/O end to end: printf, fopen/fread
 * of a host file (path relative to the host's working directory, which the
 * tests make the repository root), argc/argv, and a non-zero exit code. */
#include <stdio.h>

#define HELLO_PATH "kernels_c/data/hello.txt"
#define HELLO_EXIT_CODE 3   /* tests check that this reaches the host */

int main(int argc, char **argv)
{
    printf("hello: int %d, string %s\n", 42, "mcusim");

    FILE *f = fopen(HELLO_PATH, "r");
    if (!f) {
        printf("hello: cannot open %s\n", HELLO_PATH);
        return 1;
    }
    char buf[128];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    printf("file (%u bytes): %s", (unsigned)n, buf);

    printf("argc: %d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]: %s\n", i, argv[i]);
    return HELLO_EXIT_CODE;
}
