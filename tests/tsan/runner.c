/* main() for the unit tests in the ThreadSanitizer build: runs every test of
 * the file in registration order, in this process (TSan follows the threads a
 * test starts), and exits non-zero when one failed. See criterion/criterion.h. */
#include <criterion/criterion.h>

#include <setjmp.h>
#include <stdarg.h>

static struct criterion_test *first, **last = &first;
static jmp_buf test_ended;
static bool test_failed;

void criterion_register(struct criterion_test *test) {
    *last = test;
    last = &test->next;
}

static void report(const char *file, int line, const char *what, const char *format, va_list ap) {
    fprintf(stderr, "%s:%d: assertion failed: %s\n   ", file, line, what);
    vfprintf(stderr, format, ap);
    fputc('\n', stderr);
    test_failed = true;
}

void criterion_assert_failed(const char *file, int line, const char *what, const char *format,
                             ...) {
    va_list ap;
    va_start(ap, format);
    report(file, line, what, format, ap);
    va_end(ap);
    longjmp(test_ended, 1);
}

void criterion_expect_failed(const char *file, int line, const char *what, const char *format,
                             ...) {
    va_list ap;
    va_start(ap, format);
    report(file, line, what, format, ap);
    va_end(ap);
}

/* One test, its init and fini around it; true when it passed. Apart from
 * main so that nothing but the argument lives across the setjmp. */
static bool run_one(struct criterion_test *t) {
    test_failed = false;
    if (t->init) t->init();
    if (!setjmp(test_ended)) t->run();
    if (t->fini) t->fini();
    fprintf(stderr, "[%s] %s::%s\n", test_failed ? "FAIL" : "PASS", t->suite_name, t->test_name);
    return !test_failed;
}

int main(void) {
    int tests = 0, failures = 0;
    for (struct criterion_test *t = first; t; t = t->next) {
        tests++;
        if (!run_one(t)) failures++;
    }
    fprintf(stderr, "tested: %d, failing: %d\n", tests, failures);
    return failures ? 1 : 0;
}
