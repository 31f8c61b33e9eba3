// SPDX-License-Identifier: MIT
/*
 * launch: runs commands interleaved, N rounds (A B C A B C ...), and
 * reports each run's wall time (fork to reaped, CLOCK_MONOTONIC) and peak
 * RSS (ru_maxrss), then the median, min and max of each, and each
 * command's per-round ratio to the first command (median, min, max).
 *
 *   launch [-n ROUNDS] [-i INPUT] [-o OUTPUT] [-e ERRORS] [-t SECONDS] [-w] \
 *          -- LABEL[/STATUS] CMD [ARG...] [-- LABEL[/STATUS] CMD [ARG...]]...
 *
 *   -n ROUNDS   how many times each command runs (default 5)
 *   -i INPUT    each run's stdin: INPUT opened afresh (default /dev/null)
 *   -o OUTPUT   each run's stdout goes (appended) to OUTPUT (default: ours)
 *   -e ERRORS   each run's stderr goes (appended) to ERRORS, after a line
 *               "@run LABEL ROUND" (default: ours)
 *   -t SECONDS  a run still going after SECONDS is killed and fails (60)
 *   -w          before each run, wait while any qemu-system-* process runs
 *               (other people's VMs would share our CPUs); not timed
 *   /STATUS     the exit status that means success (default 0)
 *
 *   launch -s   no commands: the same statistics for the numbers on stdin,
 *               "LABEL ROUND VALUE" a line (a label may have several values
 *               in a round): a stat line per label (N, median, min, max of
 *               its values) and a ratio line per pair of labels (over the
 *               rounds both have, each value to the other's first)
 *
 * Peak RSS comes from wait4(), the child's own rusage: the same ru_maxrss
 * getrusage(RUSAGE_CHILDREN) would give for one child. Linux counts the
 * RSS the child had before exec (a copy of ours) into it, so this launcher
 * is built static and small; its floor shows in the "empty" runs.
 *
 * Output lines (times in microseconds, RSS in KiB):
 *   run LABEL ROUND WALL_US RSS_KIB STATUS
 *   stat LABEL N WALL_MED WALL_MIN WALL_MAX RSS_MED RSS_MIN RSS_MAX
 *   ratio LABEL BASE WALL_MED WALL_MIN WALL_MAX RSS_MED RSS_MIN RSS_MAX
 * where a ratio is LABEL's figure over BASE's in the same round, for every
 * pair of commands, summarised over the rounds. With -s, the same lines
 * with one figure each: stat LABEL N MED MIN MAX, ratio LABEL BASE MED MIN MAX.
 * Exit status 0, or 1 if any run failed (wrong status, killed, timed out).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS 16
#define MAX_ROUNDS 1000
#define MAX_SERIES 32
#define MAX_VALUES (4 * MAX_ROUNDS)

struct cmd {
	char label[64];
	int want;
	char **argv;
	double wall[MAX_ROUNDS], rss[MAX_ROUNDS];
};

static struct cmd cmds[MAX_CMDS];
static int nr_cmds;

/* -s: the values of one label, each with its round. */
struct series {
	char label[64];
	int n, round[MAX_VALUES];
	double v[MAX_VALUES];
};

static struct series series[MAX_SERIES];
static int nr_series;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Is a process whose name starts with "qemu-system" running? */
static int qemu_running(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;

	while (d && !found && (e = readdir(d))) {
		char path[300], comm[64] = "";
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		found = fgets(comm, sizeof(comm), f) && !strncmp(comm, "qemu-system", 11);
		fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

static void wait_for_quiet(void)
{
	int said = 0;

	while (qemu_running()) {
		if (!said++)
			fprintf(stderr, "launch: waiting for other QEMU processes to end\n");
		sleep(2);
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median (the mean of the middle two for an even count), min and max. */
static void summary(const double *v, int n, double out[3])
{
	double s[MAX_VALUES];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp);
	out[0] = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	out[1] = s[0];
	out[2] = s[n - 1];
}

static int run_one(struct cmd *c, int round, const char *in, const char *out,
		   const char *err, int timeout_s, double *wall, double *rss)
{
	struct timespec limit = { .tv_sec = timeout_s };
	struct rusage ru;
	sigset_t set;
	double t0;
	pid_t pid;
	int status;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (err) {
		FILE *f = fopen(err, "a");

		if (!f) {
			perror(err);
			exit(1);
		}
		fprintf(f, "@run %s %d\n", c->label, round);
		fclose(f);
	}
	fflush(stdout);
	t0 = now_us();
	pid = fork();
	if (pid < 0) {
		perror("launch: fork");
		exit(1);
	}
	if (!pid) {
		int fd = open(in, O_RDONLY);

		if (fd < 0 || dup2(fd, 0) < 0)
			_exit(127);
		if (out) {
			fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
			if (fd < 0 || dup2(fd, 1) < 0)
				_exit(127);
		}
		if (err) {
			fd = open(err, O_WRONLY | O_CREAT | O_APPEND, 0644);
			if (fd < 0 || dup2(fd, 2) < 0)
				_exit(127);
		}
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		execvp(c->argv[0], c->argv);
		fprintf(stderr, "launch: %s: %s\n", c->argv[0], strerror(errno));
		_exit(127);
	}
	while (sigtimedwait(&set, NULL, &limit) < 0) {
		if (errno == EINTR)
			continue;
		fprintf(stderr, "launch: %s: still running after %d s, killed\n",
			c->label, timeout_s);
		kill(pid, SIGKILL);
		break;
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR) {
			perror("launch: wait4");
			exit(1);
		}
	*wall = now_us() - t0;
	*rss = ru.ru_maxrss;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static struct series *find_series(const char *label)
{
	struct series *s;

	for (int i = 0; i < nr_series; i++)
		if (!strcmp(series[i].label, label))
			return &series[i];
	if (nr_series == MAX_SERIES)
		return NULL;
	s = &series[nr_series++];
	snprintf(s->label, sizeof(s->label), "%s", label);
	return s;
}

static int summarise(void)
{
	char line[256], label[64];
	double v, m[3], r[MAX_VALUES];
	int round;

	while (fgets(line, sizeof(line), stdin)) {
		struct series *s;

		if (sscanf(line, "%63s %d %lf", label, &round, &v) != 3) {
			fprintf(stderr, "launch -s: not \"LABEL ROUND VALUE\": %s", line);
			return 2;
		}
		s = find_series(label);
		if (!s || s->n == MAX_VALUES) {
			fprintf(stderr, "launch -s: more than %d labels or %d values\n",
				MAX_SERIES, MAX_VALUES);
			return 2;
		}
		s->round[s->n] = round;
		s->v[s->n++] = v;
	}
	for (int i = 0; i < nr_series; i++) {
		summary(series[i].v, series[i].n, m);
		printf("stat %s %d %.0f %.0f %.0f\n", series[i].label, series[i].n, m[0], m[1], m[2]);
	}
	for (int i = 0; i < nr_series; i++) {
		for (int j = 0; j < nr_series; j++) {
			struct series *a = &series[i], *b = &series[j];
			int k = 0;

			for (int x = 0; x < a->n && i != j; x++) {
				int y = 0;

				while (y < b->n && b->round[y] != a->round[x])
					y++;
				if (y < b->n && b->v[y])
					r[k++] = a->v[x] / b->v[y];
			}
			if (!k)
				continue;
			summary(r, k, m);
			printf("ratio %s %s %.3f %.3f %.3f\n", a->label, b->label, m[0], m[1], m[2]);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *in = "/dev/null", *out = NULL, *err = NULL;
	int rounds = 5, timeout_s = 60, failed = 0, quiet = 0, opt;
	sigset_t set;

	if (argc == 2 && !strcmp(argv[1], "-s"))
		return summarise();
	while ((opt = getopt(argc, argv, "+n:i:o:e:t:w")) != -1) {
		switch (opt) {
		case 'n': rounds = atoi(optarg); break;
		case 'i': in = optarg; break;
		case 'o': out = optarg; break;
		case 'e': err = optarg; break;
		case 't': timeout_s = atoi(optarg); break;
		case 'w': quiet = 1; break;
		default: goto usage;
		}
	}
	if (rounds < 1 || rounds > MAX_ROUNDS || timeout_s < 1)
		goto usage;
	/* getopt stopped after "--": then LABEL CMD ARGS, "--" between commands. */
	for (int i = optind; i < argc;) {
		struct cmd *c = &cmds[nr_cmds];
		char *slash;

		if (nr_cmds == MAX_CMDS || i + 1 >= argc || !strcmp(argv[i + 1], "--"))
			goto usage;
		snprintf(c->label, sizeof(c->label), "%s", argv[i]);
		slash = strchr(c->label, '/');
		if (slash) {
			*slash = '\0';
			c->want = atoi(slash + 1);
		}
		c->argv = &argv[i + 1];
		for (i += 2; i < argc && strcmp(argv[i], "--"); i++)
			;
		if (i < argc)
			argv[i++] = NULL;
		nr_cmds++;
	}
	if (!nr_cmds)
		goto usage;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < nr_cmds; i++) {
			struct cmd *c = &cmds[i];
			int st;

			if (quiet)
				wait_for_quiet();
			st = run_one(c, r + 1, in, out, err, timeout_s, &c->wall[r],
					 &c->rss[r]);

			printf("run %s %d %.0f %.0f %d\n", c->label, r + 1, c->wall[r], c->rss[r], st);
			if (st != c->want) {
				fprintf(stderr, "launch: %s (%s) exited %d, not %d\n", c->label,
					c->argv[0], st, c->want);
				failed = 1;
			}
		}
	}
	for (int i = 0; i < nr_cmds; i++) {
		struct cmd *c = &cmds[i];
		double w[3], m[3];

		summary(c->wall, rounds, w);
		summary(c->rss, rounds, m);
		printf("stat %s %d %.0f %.0f %.0f %.0f %.0f %.0f\n", c->label, rounds,
		       w[0], w[1], w[2], m[0], m[1], m[2]);
	}
	for (int i = 0; i < nr_cmds; i++) {
		for (int j = 0; j < nr_cmds; j++) {
			struct cmd *c = &cmds[i], *b = &cmds[j];
			double w[3], m[3], rw[MAX_ROUNDS], rm[MAX_ROUNDS];

			if (i == j)
				continue;
			for (int r = 0; r < rounds; r++) {
				rw[r] = c->wall[r] / b->wall[r];
				rm[r] = b->rss[r] ? c->rss[r] / b->rss[r] : 0;
			}
			summary(rw, rounds, w);
			summary(rm, rounds, m);
			printf("ratio %s %s %.3f %.3f %.3f %.3f %.3f %.3f\n", c->label,
			       b->label, w[0], w[1], w[2], m[0], m[1], m[2]);
		}
	}
	return failed;
usage:
	fprintf(stderr, "usage: launch [-n ROUNDS] [-i INPUT] [-o OUTPUT] [-e ERRORS] [-t SECONDS] [-w] "
		"-- LABEL[/STATUS] CMD [ARG...] [-- LABEL[/STATUS] CMD [ARG...]]...\n");
	return 2;
}
