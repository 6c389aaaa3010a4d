/*
 * A WASI command for the driver's tests; argv[1] picks what it does:
 *   hello                  a line on stdout and one on stderr, exit 0
 *   args NAME...           print argv, then each named environment variable
 *   exit N                 exit with status N
 *   write PATH TEXT        write TEXT to PATH (through the preopens)
 *   cat PATH               print the file at PATH
 *   alloc N                malloc and touch N MiB, 1 MiB at a time; abort() when malloc fails
 *   wait PATH N            print "ready", wait until PATH exists, print "go", exit N
 *   spin                   print "spinning", then loop forever without a system call
 *   trap                   execute `unreachable`
 * Build: see build.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "hello";
  if (strcmp(mode, "hello") == 0) {
    printf("hello from wasi\n");
    fprintf(stderr, "a line on stderr\n");
    return 0;
  }
  if (strcmp(mode, "args") == 0) {
    for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
    for (int i = 2; i < argc; i++) {
      const char *v = getenv(argv[i]);
      printf("%s=%s\n", argv[i], v != NULL ? v : "(unset)");
    }
    return 0;
  }
  if (strcmp(mode, "exit") == 0 && argc > 2) return atoi(argv[2]);
  if (strcmp(mode, "write") == 0 && argc > 3) {
    FILE *f = fopen(argv[2], "w");
    if (f == NULL) {
      perror(argv[2]);
      return 1;
    }
    fputs(argv[3], f);
    fclose(f);
    printf("wrote %s\n", argv[2]);
    return 0;
  }
  if (strcmp(mode, "cat") == 0 && argc > 2) {
    FILE *f = fopen(argv[2], "r");
    if (f == NULL) {
      perror(argv[2]);
      return 1;
    }
    int c;
    while ((c = fgetc(f)) != EOF) putchar(c);
    fclose(f);
    return 0;
  }
  if (strcmp(mode, "alloc") == 0 && argc > 2) {
    int mib = atoi(argv[2]);
    /* The blocks are chained and summed, so the compiler cannot drop the allocations. */
    char **head = NULL;
    for (int i = 0; i < mib; i++) {
      char **p = malloc(1 << 20);
      if (p == NULL) {
        fprintf(stderr, "malloc failed after %d MiB\n", i);
        abort();
      }
      memset(p, 1, 1 << 20);
      *p = (char *)head;
      head = p;
    }
    long sum = 0;
    for (char **p = head; p != NULL; p = (char **)*p) sum += ((char *)p)[100];
    printf("allocated %d MiB (%ld)\n", mib, sum);
    return 0;
  }
  if (strcmp(mode, "wait") == 0 && argc > 3) {
    printf("ready\n");
    fflush(stdout);
    while (!exists(argv[2])) sleep_ms(10);
    printf("go\n");
    return atoi(argv[3]);
  }
  if (strcmp(mode, "spin") == 0) {
    printf("spinning\n");
    fflush(stdout);
    volatile unsigned long n = 0;
    for (;;) n++;
  }
  if (strcmp(mode, "trap") == 0) __builtin_trap();
  fprintf(stderr, "probe: unknown mode %s\n", mode);
  return 2;
}
