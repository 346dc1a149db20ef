/*
 * Benchmark target: sets up exactly the descriptors a workload asks for, reports
 * "ready" on stdout, closes stdio and waits to be checkpointed.
 *
 *   target pipes N BYTES            N pipes, BYTES pending in each
 *   target mixed N KINDS DIR        about N fds cycling through KINDS (p=pipe,s=socketpair,f=file)
 *   target dups N K KIND DIR        N fds that are dup()s of K open files (KIND f) or pipe ends (p)
 *   target fork P N BYTES           N pipes with BYTES each, inherited by P-1 forked children
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static char payload[1 << 20];

static void die(const char *what) {
  perror(what);
  exit(1);
}

/* Room for every fd a workload makes; only root may go past the hard limit. */
static void raise_nofile(void) {
  struct rlimit rl = { 65536, 65536 };
  struct rlimit old;
  getrlimit(RLIMIT_NOFILE, &old);
  if (old.rlim_max > rl.rlim_max) rl.rlim_max = old.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
    rl.rlim_cur = rl.rlim_max = old.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/* Writes all of len bytes; the caller made sure they fit, so a short write is an error. */
static void put(int fd, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(fd, payload + (done % sizeof payload), len - done > sizeof payload ? sizeof payload : len - done);
    if (n < 0) die("write");
    done += (size_t)n;
  }
}

static void make_pipe(size_t bytes) {
  int p[2];
  if (pipe2(p, O_NONBLOCK) != 0) die("pipe2");
  if (bytes > 65536 && fcntl(p[1], F_SETPIPE_SZ, (int)bytes) < 0) die("F_SETPIPE_SZ");
  put(p[1], bytes);
}

static void make_socketpair(size_t bytes) {
  int s[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) != 0) die("socketpair");
  put(s[0], bytes);
  put(s[1], bytes / 2);
}

static int make_file(const char *dir, int i, size_t bytes) {
  char path[4096];
  snprintf(path, sizeof path, "%s/f%d", dir, i);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) die("open");
  put(fd, bytes);
  lseek(fd, (off_t)(bytes / 2), SEEK_SET);
  return fd;
}

static void mixed(int n, const char *kinds, const char *dir) {
  size_t nk = strlen(kinds);
  for (int made = 0, i = 0; made < n; i++) {
    char k = kinds[i % nk];
    if (k == 'p') make_pipe((size_t)(i % 3) * 2048), made += 2;
    else if (k == 's') make_socketpair(1024), made += 2;
    else make_file(dir, i, 4096), made += 1;
  }
}

static void dups(int n, int k, char kind, const char *dir) {
  int base[k];
  for (int i = 0; i < k; i++) {
    if (kind == 'f') {
      base[i] = make_file(dir, i, 4096);
    } else {
      int p[2];
      if (pipe2(p, O_NONBLOCK) != 0) die("pipe2");
      put(p[1], 1024);
      close(p[0]);
      base[i] = p[1];
    }
  }
  for (int made = k; made < n; made++)
    if (dup(base[made % k]) < 0) die("dup");
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: target MODE ARGS...\n");
    return 2;
  }
  /* Whatever the launcher left open (bar stdio) is not part of the workload. */
  syscall(SYS_close_range, 3, ~0U, 0);
  memset(payload, 'x', sizeof payload);
  int n = atoi(argv[2]);
  raise_nofile();
  int children = 0;
  if (!strcmp(argv[1], "pipes")) {
    for (int i = 0; i < n; i++) make_pipe(strtoul(argv[3], 0, 10));
  } else if (!strcmp(argv[1], "mixed")) {
    mixed(n, argv[3], argv[4]);
  } else if (!strcmp(argv[1], "dups")) {
    dups(n, atoi(argv[3]), argv[4][0], argv[5]);
  } else if (!strcmp(argv[1], "fork")) {
    int pipes = atoi(argv[3]);
    for (int i = 0; i < pipes; i++) make_pipe(strtoul(argv[4], 0, 10));
    children = n - 1;
  } else {
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
  }
  fflush(stdout);
  for (int i = 0; i < children; i++) {
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      /* Children hold the inherited pipe ends and nothing else of ours. */
      close(0), close(1), close(2);
      for (;;) pause();
    }
  }
  printf("ready %d\n", getpid());
  fflush(stdout);
  close(0), close(1), close(2);
  signal(SIGTERM, SIG_DFL);
  for (;;) pause();
}
