// SPDX-License-Identifier: GPL-2.0
/*
 * The memory hog of make zfs-test's pressure phase (zfs-workload.sh):
 * built statically on the host by zfs-test.sh, run in the busybox guest.
 *
 *   zfs-memhog MIB HOLD_MS [MARK]
 *
 * Maps anonymous memory in steps of 16 MiB and writes a byte to every page
 * of it, until MIB MiB are resident, holds them HOLD_MS ms, and exits
 * (which frees them).  The guest has no swap, so the kernel cannot take
 * these pages back: it has to reclaim the page cache, the shrinkers' caches
 * (the ARC's, splkmem's) and whatever else it can, or kill something.  The
 * hog asks to be that something (oom_score_adj 1000): an OOM kill then
 * ends the hog, not the pool's tools, and the workload fails on it.
 *
 * It prints when it is full and how long that took; with MARK it creates
 * that file once every page is touched, so that the workload can tell the
 * hold from the filling.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define STEP_MIB 16

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void oom_first(void)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY);

	if (fd < 0 || write(fd, "1000", 4) != 4)
		perror("zfs-memhog: oom_score_adj");
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned long mib, hold_ms, done = 0;
	struct timespec hold;
	double t0, t1;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: zfs-memhog MIB HOLD_MS [MARK]\n");
		return 2;
	}
	mib = strtoul(argv[1], NULL, 0);
	hold_ms = strtoul(argv[2], NULL, 0);
	oom_first();
	t0 = now_s();
	while (done < mib) {
		unsigned long n = mib - done < STEP_MIB ? mib - done : STEP_MIB;
		size_t len = n << 20;
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		size_t off;

		if (p == MAP_FAILED) {
			perror("zfs-memhog: mmap");
			return 1;
		}
		/* Not 0: a page only read stays the shared zero page. */
		for (off = 0; off < len; off += page)
			p[off] = 1;
		done += n;
	}
	t1 = now_s();
	printf("zfs-memhog: %lu MiB resident after %.2f s; holding %lu ms\n",
	       done, t1 - t0, hold_ms);
	fflush(stdout);
	if (argc == 4) {
		int fd = open(argv[3], O_WRONLY | O_CREAT, 0644);

		if (fd >= 0)
			close(fd);
	}
	hold.tv_sec = hold_ms / 1000;
	hold.tv_nsec = (hold_ms % 1000) * 1000000L;
	while (nanosleep(&hold, &hold) != 0)
		;
	return 0;
}
