// SPDX-License-Identifier: GPL-2.0-only
//
// A CPU hog (tests/e2e/run.sh): /init of a hog domU, and the background burner of the
// measuring domU in the mixed-work configuration. Says it is up, then uses all the
// CPU it is given, forever. `hog NICE` first lowers its own priority to that nice
// level (busybox-static has no `nice` applet). The volatile counter keeps the
// compiler from removing the loop.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    volatile unsigned long spins = 0;

    if (argc > 1) {
        char *end;
        long level = strtol(argv[1], &end, 10);

        if (*argv[1] == '\0' || *end != '\0' || level < 0 || level > 19) {
            fprintf(stderr, "hog: the nice level must be 0..19, not '%s'\n", argv[1]);
            return 2;
        }
        errno = 0;
        if (nice((int)level) == -1 && errno != 0) {
            perror("hog: nice");
            return 1;
        }
    }
    printf("E2E-HOG up nice=%d\n", argc > 1 ? atoi(argv[1]) : 0);
    fflush(stdout);
    for (;;)
        spins++;
}
