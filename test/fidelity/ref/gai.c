/*
 * gai: the reference getaddrinfo client of the fidelity suite (test/fidelity).
 *
 *   gai NAME [any|inet|inet6] [canon|nocanon] [REPEAT] [PAUSE_MS]
 *
 * Looks NAME up REPEAT times (default 1) in this one process, PAUSE_MS (default 0) apart, and
 * prints one JSON line per lookup:
 *   {"addresses":["10.0.0.5",...],"error":null|"EAI_AGAIN"|...,"canonname":null|"...",
 *    "start_ms":<CLOCK_REALTIME ms with µs>,"elapsed_ms":<CLOCK_MONOTONIC ms>}
 * Hints: ai_family from the argument, AI_CANONNAME when asked, socktype 0 (so every address
 * comes back once per socket type; they are de-duplicated here), no AI_ADDRCONFIG.
 * The pause keeps the queries of successive lookups apart in the fake server's log; resolver
 * state between lookups (glibc's rotate counter and sticky single-request flags) has no clock.
 *
 * Built at test time (never committed) with `gcc -O2` (glibc) and `musl-gcc -static -O2` (musl).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static const char *eai_name(int rc, char *buf, size_t len) {
  /* an if-chain, not a switch: some libcs give two names the same value */
#ifdef EAI_AGAIN
  if (rc == EAI_AGAIN) return "EAI_AGAIN";
#endif
#ifdef EAI_NONAME
  if (rc == EAI_NONAME) return "EAI_NONAME";
#endif
#ifdef EAI_NODATA
  if (rc == EAI_NODATA) return "EAI_NODATA";
#endif
#ifdef EAI_FAIL
  if (rc == EAI_FAIL) return "EAI_FAIL";
#endif
#ifdef EAI_ADDRFAMILY
  if (rc == EAI_ADDRFAMILY) return "EAI_ADDRFAMILY";
#endif
#ifdef EAI_FAMILY
  if (rc == EAI_FAMILY) return "EAI_FAMILY";
#endif
#ifdef EAI_SYSTEM
  if (rc == EAI_SYSTEM) return "EAI_SYSTEM";
#endif
#ifdef EAI_MEMORY
  if (rc == EAI_MEMORY) return "EAI_MEMORY";
#endif
#ifdef EAI_BADFLAGS
  if (rc == EAI_BADFLAGS) return "EAI_BADFLAGS";
#endif
#ifdef EAI_SERVICE
  if (rc == EAI_SERVICE) return "EAI_SERVICE";
#endif
#ifdef EAI_SOCKTYPE
  if (rc == EAI_SOCKTYPE) return "EAI_SOCKTYPE";
#endif
#ifdef EAI_OVERFLOW
  if (rc == EAI_OVERFLOW) return "EAI_OVERFLOW";
#endif
#ifdef EAI_INTR
  if (rc == EAI_INTR) return "EAI_INTR";
#endif
  snprintf(buf, len, "EAI_%d", rc);
  return buf;
}

static double ms_of(const struct timespec *t) { return (double)t->tv_sec * 1000.0 + (double)t->tv_nsec / 1e6; }

/* JSON string body: the names here are DNS names, but escape anyway */
static void put_json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: gai NAME [any|inet|inet6] [canon|nocanon] [REPEAT] [PAUSE_MS]\n");
    return 2;
  }
  const char *name = argv[1];
  int family = AF_UNSPEC;
  if (argc > 2) {
    if (strcmp(argv[2], "inet") == 0) family = AF_INET;
    else if (strcmp(argv[2], "inet6") == 0) family = AF_INET6;
    else if (strcmp(argv[2], "any") != 0) {
      fprintf(stderr, "gai: family must be any, inet or inet6\n");
      return 2;
    }
  }
  int canon = argc > 3 && strcmp(argv[3], "canon") == 0;
  int repeat = argc > 4 ? atoi(argv[4]) : 1;
  if (repeat < 1) repeat = 1;
  long pause_ms = argc > 5 ? atol(argv[5]) : 0;

  for (int i = 0; i < repeat; i++) {
    if (i > 0 && pause_ms > 0) {
      struct timespec pause = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};
      nanosleep(&pause, NULL);
    }
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family;
    hints.ai_socktype = 0;
    hints.ai_flags = canon ? AI_CANONNAME : 0;
    struct addrinfo *res = NULL;
    struct timespec wall, t0, t1;
    clock_gettime(CLOCK_REALTIME, &wall);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = getaddrinfo(name, NULL, &hints, &res);
    clock_gettime(CLOCK_MONOTONIC, &t1);

    printf("{\"addresses\":[");
    char seen[64][INET6_ADDRSTRLEN];
    int nseen = 0;
    if (rc == 0) {
      for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char text[INET6_ADDRSTRLEN] = "";
        if (ai->ai_family == AF_INET) inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, text, sizeof text);
        else if (ai->ai_family == AF_INET6) inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, text, sizeof text);
        else continue;
        int dup = 0;
        for (int k = 0; k < nseen; k++) dup |= strcmp(seen[k], text) == 0;
        if (dup || nseen == 64) continue;
        strcpy(seen[nseen], text);
        printf("%s", nseen ? "," : "");
        put_json_string(text);
        nseen++;
      }
    }
    char buf[32];
    printf("],\"error\":");
    if (rc == 0) printf("null");
    else put_json_string(eai_name(rc, buf, sizeof buf));
    printf(",\"canonname\":");
    if (rc == 0 && res && res->ai_canonname) put_json_string(res->ai_canonname);
    else printf("null");
    printf(",\"start_ms\":%.3f,\"elapsed_ms\":%.3f}\n", ms_of(&wall), ms_of(&t1) - ms_of(&t0));
    fflush(stdout);
    if (rc == 0) freeaddrinfo(res);
  }
  return 0;
}
