// SPDX-License-Identifier: GPL-2.0-only
/*
 * rtc-tick RATE: start the emulated MC146818 RTC's periodic timer at 32768 >> (RATE - 1)
 * Hz (RATE 3..15: 8192 Hz .. 2 Hz), or stop it (RATE 0), and print what the RTC holds.
 *
 * Why: under `-icount`, QEMU runs the emulated CPUs one at a time, each for up to the
 * time to the next virtual timer deadline divided by the number of CPUs
 * (accel/tcg/tcg-accel-ops-rr.c). Between a scheduler's own timers the other pCPU is
 * frozen, for as long as the running one's turn: credit's family arms few timers, so
 * its turns are long and a VCPU charged on the frozen pCPU waits for milliseconds that
 * real hardware would not have. A periodic timer that no scheduler owns bounds every
 * turn the same way for every scheduler. The RTC's is one a PV dom0 may program (Xen
 * mediates ports 0x70/0x71 for the hardware domain) and, with `-rtc clock=vm`, it runs
 * on QEMU's virtual clock. The interrupt itself must reach nobody: init.sh unbinds
 * Linux's rtc_cmos first, so IRQ 8 stays masked and only QEMU's timer keeps firing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>

#define RTC_INDEX 0x70
#define RTC_DATA 0x71
#define RTC_REG_A 0x0a /* bits 0-3: rate select; 4-6: divider (010: 32.768 kHz) */
#define RTC_REG_B 0x0b /* bit 6: periodic interrupt enable */
#define RTC_RATE_MASK 0x0f
#define RTC_PIE 0x40

static unsigned char cmos_read(unsigned char reg)
{
	outb(reg, RTC_INDEX);
	return inb(RTC_DATA);
}

static void cmos_write(unsigned char reg, unsigned char value)
{
	outb(reg, RTC_INDEX);
	outb(value, RTC_DATA);
}

int main(int argc, char **argv)
{
	char *end;
	long rate, now;
	unsigned char reg_a, reg_b;

	if (argc != 2) {
		fprintf(stderr, "usage: rtc-tick RATE (3..15: 32768 >> (RATE - 1) Hz; 0: stop)\n");
		return 2;
	}
	errno = 0;
	rate = strtol(argv[1], &end, 10);
	if (errno || *end || end == argv[1] || (rate != 0 && (rate < 3 || rate > 15))) {
		fprintf(stderr, "rtc-tick: RATE must be 0 or 3..15 (got '%s')\n", argv[1]);
		return 2;
	}
	if (ioperm(RTC_INDEX, 2, 1)) {
		fprintf(stderr, "rtc-tick: ioperm(0x70, 2): %s\n", strerror(errno));
		return 1;
	}
	reg_a = cmos_read(RTC_REG_A);
	reg_b = cmos_read(RTC_REG_B);
	if (rate) {
		cmos_write(RTC_REG_A, (reg_a & ~RTC_RATE_MASK) | rate);
		cmos_write(RTC_REG_B, reg_b | RTC_PIE);
	} else {
		cmos_write(RTC_REG_B, reg_b & ~RTC_PIE);
	}
	/* Xen drops a write it does not permit without an error: read back. */
	reg_a = cmos_read(RTC_REG_A);
	reg_b = cmos_read(RTC_REG_B);
	now = (reg_b & RTC_PIE) ? (reg_a & RTC_RATE_MASK) : 0;
	if (now)
		printf("rtc-tick: A=0x%02x B=0x%02x: periodic timer at %ld Hz (%.1f us)\n", reg_a, reg_b,
		       32768L >> (now - 1), 1e6 * (1L << (now - 1)) / 32768.0);
	else
		printf("rtc-tick: A=0x%02x B=0x%02x: periodic timer off\n", reg_a, reg_b);
	if (now != rate) {
		fprintf(stderr, "rtc-tick: the RTC did not take rate %ld (it reads %ld)\n", rate, now);
		return 1;
	}
	return 0;
}
