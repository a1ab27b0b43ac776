// SPDX-License-Identifier: GPL-2.0-only
//
// /init of a hog domU (tests/e2e/run.sh): says it is up, then uses all the CPU it is
// given, forever. The volatile counter keeps the compiler from removing the loop.
#include <stdio.h>

int main(void)
{
    volatile unsigned long spins = 0;

    puts("E2E-HOG up");
    fflush(stdout);
    for (;;)
        spins++;
}
