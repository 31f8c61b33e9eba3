// SPDX-License-Identifier: MIT
/*
 * guests_golden: the built-in real-mode guests, run through the mini-kvm
 * command as a user would, print exactly their golden transcripts
 * (guests/real/NAME.golden, embedded here at build time so the test runs
 * alone from anywhere). Four of them at once keep their lines whole and
 * complete; hctest echoes piped input and exits with its line count; and
 * matrix's product is checked against one computed here.
 *
 * The command is $MINI_KVM, else ../mini-kvm or ./mini-kvm next to this
 * binary; without it, or without KVM, the test skips.
 */
#include <limits.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "test_util.h"

#define GOLDEN(n)                                                            \
	asm(".pushsection .rodata.golden." #n ",\"a\"\n"                      \
	    "golden_" #n "_start:\n.incbin \"guests/real/" #n ".golden\"\n"    \
	    "golden_" #n "_end:\n.popsection\n");                             \
	extern const char golden_##n##_start[], golden_##n##_end[]

GOLDEN(minimal);
GOLDEN(hello);
GOLDEN(counter);
GOLDEN(multiplication);
GOLDEN(fibonacci);
GOLDEN(matrix);
GOLDEN(hctest);
GOLDEN(segments);

/* Bounds every guest: the harness's own timeout is the last resort. */
#define GUEST_TIMEOUT "--timeout=10"
#define OUT_MAX (1 << 16)

static char mini_kvm[PATH_MAX + 16];

struct run {
	int status; /* the exit status, or 128 + the signal */
	char out[OUT_MAX], err[OUT_MAX];
	size_t out_len, err_len;
};

/* Reads fd into buf (NUL-terminated); false at end of file. */
static bool drain(int fd, char *buf, size_t *len)
{
	ssize_t n = read(fd, buf + *len, OUT_MAX - 1 - *len);

	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0)
		return false;
	*len += n;
	buf[*len] = '\0';
	return *len < OUT_MAX - 1;
}

static void child(int in[2], int out[2], int err[2], char *const argv[])
{
	dup2(in[0], 0);
	dup2(out[1], 1);
	dup2(err[1], 2);
	close(in[1]);
	close(out[0]);
	close(err[0]);
	execv(mini_kvm, argv);
	_exit(127);
}

/* Runs mini-kvm with argv (argv[0] included), input on stdin. */
static void run_mini_kvm(struct run *r, const char *input, char *const argv[])
{
	int in[2], out[2], err[2], wstatus;
	struct pollfd pfd[2];
	pid_t pid;

	memset(r, 0, sizeof(r->status) + sizeof(r->out) + sizeof(r->err));
	r->out_len = r->err_len = 0;
	if (pipe(in) || pipe(out) || pipe(err))
		abort();
	pid = fork();
	if (!pid)
		child(in, out, err, argv);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	/* Inputs here are small: they fit in the pipe before anyone reads. */
	if (input && write(in[1], input, strlen(input)) < 0)
		abort();
	close(in[1]);
	pfd[0] = (struct pollfd){ .fd = out[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = err[0], .events = POLLIN };
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[0].revents && !drain(out[0], r->out, &r->out_len))
			pfd[0].fd = -1;
		if (pfd[1].revents && !drain(err[0], r->err, &r->err_len))
			pfd[1].fd = -1;
	}
	close(out[0]);
	close(err[0]);
	waitpid(pid, &wstatus, 0);
	r->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

FIXTURE(golden) {
	struct run r;
};

FIXTURE_VARIANT(golden) {
	const char *name;
	const char *start, *end;
};

#define GOLDEN_VARIANT(n)                                                    \
	FIXTURE_VARIANT_ADD(golden, n) {                                      \
		.name = #n, .start = golden_##n##_start, .end = golden_##n##_end, \
	}

GOLDEN_VARIANT(minimal);
GOLDEN_VARIANT(hello);
GOLDEN_VARIANT(counter);
GOLDEN_VARIANT(multiplication);
GOLDEN_VARIANT(fibonacci);
GOLDEN_VARIANT(matrix);
GOLDEN_VARIANT(hctest);
GOLDEN_VARIANT(segments);

FIXTURE_SETUP(golden)
{
}

FIXTURE_TEARDOWN(golden)
{
}

/* Each guest alone, stdin empty: stdout is its golden, byte for byte. */
TEST_F(golden, alone)
{
	char *argv[] = { "mini-kvm", GUEST_TIMEOUT, (char *)variant->name, NULL };
	size_t len = variant->end - variant->start;

	run_mini_kvm(&self->r, "", argv);
	EXPECT_EQ(0, self->r.status) TH_LOG("stderr: %s", self->r.err);
	EXPECT_EQ(len, self->r.out_len);
	EXPECT_EQ(0, memcmp(variant->start, self->r.out, len))
		TH_LOG("%s printed:\n%s", variant->name, self->r.out);
	EXPECT_EQ(0, self->r.err_len) TH_LOG("stderr: %s", self->r.err);
}

/* The next line of golden text at *pos, without its newline; NULL at the end. */
static const char *next_line(const char *text, size_t len, size_t *pos, size_t *line_len)
{
	const char *line = text + *pos, *nl;

	if (*pos >= len)
		return NULL;
	nl = memchr(line, '\n', len - *pos);
	*line_len = nl ? (size_t)(nl - line) : len - *pos;
	*pos += *line_len + 1;
	return line;
}

/*
 * Four guests in one mini-kvm: every output line is "name| " plus a whole
 * line of that guest, and each guest's lines, in order, are its golden.
 */
TEST(four_at_once_lines_whole)
{
	static const struct {
		const char *name, *start, *end;
	} g[] = {
		{ "hello", golden_hello_start, golden_hello_end },
		{ "counter", golden_counter_start, golden_counter_end },
		{ "fibonacci", golden_fibonacci_start, golden_fibonacci_end },
		{ "multiplication", golden_multiplication_start, golden_multiplication_end },
	};
	char *argv[] = { "mini-kvm", GUEST_TIMEOUT, "hello", "counter", "fibonacci",
			 "multiplication", NULL };
	size_t pos[4] = { 0 }, out_pos = 0, line_len, want_len;
	struct run *r = malloc(sizeof(*r));
	const char *line, *want;

	ASSERT_NE(NULL, r);
	run_mini_kvm(r, "", argv);
	ASSERT_EQ(0, r->status) TH_LOG("stderr: %s", r->err);
	while ((line = next_line(r->out, r->out_len, &out_pos, &line_len))) {
		int i;

		for (i = 0; i < 4; i++)
			if (!strncmp(line, g[i].name, strlen(g[i].name)) &&
			    !strncmp(line + strlen(g[i].name), "| ", 2))
				break;
		ASSERT_LT(i, 4) TH_LOG("a line with no guest's prefix: %.*s", (int)line_len, line);
		line += strlen(g[i].name) + 2;
		line_len -= strlen(g[i].name) + 2;
		want = next_line(g[i].start, g[i].end - g[i].start, &pos[i], &want_len);
		ASSERT_NE(NULL, want) TH_LOG("%s: an extra line: %.*s", g[i].name,
					     (int)line_len, line);
		ASSERT_EQ(want_len, line_len);
		ASSERT_EQ(0, memcmp(want, line, line_len))
			TH_LOG("%s: got '%.*s', want '%.*s'", g[i].name, (int)line_len, line,
			       (int)want_len, want);
	}
	EXPECT_EQ('\n', r->out[r->out_len - 1]);
	for (int i = 0; i < 4; i++) {
		EXPECT_EQ((size_t)(g[i].end - g[i].start), pos[i])
			TH_LOG("%s: lines missing", g[i].name);
	}
	free(r);
}

/* The golden's checks, then the echo, then the count: exit status 3. */
TEST(hctest_echoes_piped_input)
{
	static const char input[] = "one\ntwo\n\nlast line without newline";
	char *argv[] = { "mini-kvm", GUEST_TIMEOUT, "hctest", NULL };
	const char *echo_at = strstr(golden_hctest_start, "until HC_EOF\n");
	char want[4096];
	struct run *r = malloc(sizeof(*r));
	int n;

	ASSERT_NE(NULL, r);
	ASSERT_NE(NULL, echo_at);
	echo_at += strlen("until HC_EOF\n");
	n = snprintf(want, sizeof(want), "%.*s%s\nhctest: 4 lines read, exit status 4\n",
		     (int)(echo_at - golden_hctest_start), golden_hctest_start, input);
	run_mini_kvm(r, input, argv);
	EXPECT_EQ(4, r->status) TH_LOG("stderr: %s", r->err);
	EXPECT_EQ((size_t)n, r->out_len);
	EXPECT_STREQ(want, r->out);
	free(r);
}

/* 300 lines: the exit status is the count mod 256. */
TEST(hctest_status_wraps)
{
	char *argv[] = { "mini-kvm", GUEST_TIMEOUT, "hctest", NULL };
	static char input[301 * 2];
	struct run *r = malloc(sizeof(*r));

	ASSERT_NE(NULL, r);
	for (int i = 0; i < 300; i++)
		memcpy(input + 2 * i, "x\n", 2);
	run_mini_kvm(r, input, argv);
	EXPECT_EQ(300 % 256, r->status) TH_LOG("stderr: %s", r->err);
	EXPECT_NE(NULL, strstr(r->out, "hctest: 300 lines read, exit status 44\n"));
	free(r);
}

/* Reads an n x n matrix of integers after the line title in text. */
static bool parse_matrix(const char *text, const char *title, int n, long m[4][4])
{
	const char *p = strstr(text, title);
	char *end;

	if (!p)
		return false;
	p += strlen(title);
	for (int i = 0; i < n * n; i++) {
		m[i / n][i % n] = strtol(p, &end, 10);
		if (end == p)
			return false;
		p = end;
	}
	return true;
}

/* The guest's product, checked by computing it here from its own A and B. */
TEST(matrix_product_is_right)
{
	char *argv[] = { "mini-kvm", GUEST_TIMEOUT, "matrix", NULL };
	long a[4][4], b[4][4], c[4][4];
	struct run *r = malloc(sizeof(*r));
	int nonzero = 0;

	ASSERT_NE(NULL, r);
	run_mini_kvm(r, "", argv);
	ASSERT_EQ(0, r->status);
	ASSERT_TRUE(parse_matrix(r->out, "A =\n", 4, a)) TH_LOG("%s", r->out);
	ASSERT_TRUE(parse_matrix(r->out, "B =\n", 4, b)) TH_LOG("%s", r->out);
	ASSERT_TRUE(parse_matrix(r->out, "A x B =\n", 4, c)) TH_LOG("%s", r->out);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++) {
			long sum = 0;

			for (int k = 0; k < 4; k++)
				sum += a[i][k] * b[k][j];
			EXPECT_EQ(sum, c[i][j]) TH_LOG("C[%d][%d]", i, j);
			nonzero += sum != 0;
		}
	EXPECT_GT(nonzero, 8) TH_LOG("a product of mostly zeros proves little");
	free(r);
}

/* Installed, this test lives in a directory called mini-kvm: not that. */
static bool is_program(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

/* $MINI_KVM, or the command next to (or one above) this test binary. */
static bool find_mini_kvm(void)
{
	static const char *const rel[] = { "/../mini-kvm", "/mini-kvm" };
	const char *env = getenv("MINI_KVM");
	char self[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		snprintf(mini_kvm, sizeof(mini_kvm), "%s", env);
		return is_program(mini_kvm);
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return false;
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(mini_kvm, sizeof(mini_kvm), "%s%s", self, rel[i]);
		if (is_program(mini_kvm))
			return true;
	}
	return false;
}

/* A KVM that runs real mode, and the command to run the guests with. */
static const char *need_mini_kvm(void)
{
	return find_mini_kvm() ? NULL : "no mini-kvm command (build it, or set MINI_KVM)";
}

KVM_TEST_HARNESS_MAIN(need_mode(KVM_MODE_REAL) ?: need_mini_kvm())
