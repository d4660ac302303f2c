/*
 * poisson-load: open-loop HTTP/1.1 load on 127.0.0.1 with Poisson arrivals, for latency below
 * saturation. wrk's paced connections wake on its whole-millisecond timers, so every request due in
 * one millisecond leaves together: at half a proxy's own maximum rate, each tick hands it half a
 * millisecond of work at once, whatever the proxy. Here the gaps between arrivals are exponential
 * (independent clients) and timed in nanoseconds (epoll_pwait2). Latency counts from each
 * request's scheduled arrival, so an arrival that finds every connection busy waits, and that
 * wait is measured (no coordinated omission). The timer slack is set to 1 ns: Linux's default of
 * 50 us let every timed wake-up come 50-80 us late, and that lateness of the generator's own was
 * counted in every latency. Idle connections are taken in turn (first freed, first taken), so every
 * connection carries its share of the arrivals as wrk's paced run does, and none sits idle long
 * enough for a server's idle timeout to close it (uWS closes one after 10 s). "lateP99Ms" is the
 * p99 of how late the generator itself wrote the measured arrivals that found an idle connection:
 * when it is near the p99 latency, the tail is the generator's, not the server's.
 *
 * usage: poisson-load PORT RATE CONNECTIONS SECONDS WARMUP_SECONDS REQUEST_FILE
 * REQUEST_FILE holds one or more whole requests back to back (a body only with a Content-Length);
 * arrivals take them in turn, again and again, on keep-alive connections, so a load can offer
 * distinct reads as wrk's scenarios do. Answers must carry a Content-Length. Prints one JSON line.
 * Build: cc -O2 -o poisson-load poisson-load.c -lm
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ANSWER_MAX (64 * 1024)
#define REQUESTS_MAX 4096
#define DRAIN_NS 5000000000ull

typedef struct {
  int fd;
  uint64_t scheduled;
  size_t length;
  char *bytes;
} connection;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int fail(const char *what) {
  fprintf(stderr, "poisson-load: %s\n", what);
  return 1;
}

/* xorshift64*: a fixed seed, so that two runs offer the same arrivals. */
static uint64_t seed = 0x9e3779b97f4a7c15ull;
static double uniform(void) {
  seed ^= seed >> 12;
  seed ^= seed << 25;
  seed ^= seed >> 27;
  return (double)((seed * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
}

static int by_value(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* The whole answer's length once its head is in, 0 before, -1 for one without Content-Length. */
static long answer_length(const char *bytes, size_t length) {
  const char *end = memmem(bytes, length, "\r\n\r\n", 4);
  if (end == NULL) return 0;
  for (const char *line = bytes; line < end; line++) {
    if ((line == bytes || line[-1] == '\n') && strncasecmp(line, "content-length:", 15) == 0) {
      return (long)(end + 4 - bytes) + atol(line + 15);
    }
  }
  return -1;
}

/* Splits `bytes` into whole requests; returns how many, 0 when a part is not a whole request. */
static int split_requests(const char *bytes, size_t length, const char **starts, size_t *lengths) {
  int count = 0;
  for (size_t at = 0; at < length;) {
    long whole = answer_length(bytes + at, length - at);
    if (whole == 0 || count == REQUESTS_MAX) return 0;
    /* A request without Content-Length has no body: it ends with its head. */
    if (whole < 0) whole = (long)((const char *)memmem(bytes + at, length - at, "\r\n\r\n", 4) + 4 - (bytes + at));
    if ((size_t)whole > length - at) return 0;
    starts[count] = bytes + at;
    lengths[count++] = (size_t)whole;
    at += (size_t)whole;
  }
  return count;
}

/* Writes the next request in turn on `fd`. */
static const char *request_starts[REQUESTS_MAX];
static size_t request_lengths[REQUESTS_MAX];
static int request_count, request_next;
static int send_next(int fd) {
  int k = request_next;
  request_next = (request_next + 1) % request_count;
  return write(fd, request_starts[k], request_lengths[k]) == (ssize_t)request_lengths[k];
}

int main(int argc, char **argv) {
  if (argc != 7) return fail("usage: poisson-load PORT RATE CONNECTIONS SECONDS WARMUP_SECONDS REQUEST_FILE");
  int port = atoi(argv[1]), count = atoi(argv[3]);
  double rate = atof(argv[2]), seconds = atof(argv[4]), warmup = atof(argv[5]);
  if (port <= 0 || rate <= 0 || count <= 0 || seconds <= 0 || warmup < 0) return fail("bad arguments");
  FILE *file = fopen(argv[6], "rb");
  if (file == NULL) return fail("cannot read the request file");
  static char requests[8 * 1024 * 1024];
  size_t requests_length = fread(requests, 1, sizeof requests, file);
  int whole_file = feof(file);
  fclose(file);
  if (!whole_file) return fail("the request file is over 8 MiB");
  request_count = split_requests(requests, requests_length, request_starts, request_lengths);
  if (request_count == 0) return fail("the request file does not hold whole requests (at most 4096)");

  int poller = epoll_create1(0);
  connection *connections = calloc((size_t)count, sizeof *connections);
  /* Idle connections in a ring: the first freed is the first taken again. */
  int *idle = malloc(sizeof(int) * (size_t)count), idle_count = 0, idle_head = 0;
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  for (int i = 0; i < count; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) return fail("cannot connect");
    fcntl(fd, F_SETFL, O_NONBLOCK);
    connections[i] = (connection){.fd = fd, .bytes = malloc(ANSWER_MAX)};
    struct epoll_event event = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(poller, EPOLL_CTL_ADD, fd, &event);
    idle[idle_count++] = i;
  }
  /* Timed wake-ups as precise as the kernel gives them: the default slack (50 us) makes each late. */
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

  /* Arrivals that found no idle connection, in order; each connection takes the oldest when it frees. */
  size_t queue_size = 1u << 20, queue_head = 0, queue_tail = 0;
  uint64_t *queue = malloc(sizeof(uint64_t) * queue_size);
  size_t latency_size = (size_t)(rate * seconds * 2) + 1024, measured = 0;
  uint64_t *latencies = malloc(sizeof(uint64_t) * latency_size);
  uint64_t *lateness = malloc(sizeof(uint64_t) * latency_size);
  size_t late_count = 0;
  uint64_t start = now_ns(), from = start + (uint64_t)(warmup * 1e9), until = from + (uint64_t)(seconds * 1e9);
  uint64_t next = start, errors = 0, waited = 0, outstanding = 0;
  double mean_gap_ns = 1e9 / rate;
  struct epoll_event events[256];

  for (;;) {
    uint64_t now = now_ns();
    for (; next <= now && next < until; next += (uint64_t)(-log(1.0 - uniform()) * mean_gap_ns)) {
      int measured_arrival = next >= from;
      if (idle_count == 0) {
        if (queue_tail - queue_head == queue_size) return fail("more than 2^20 arrivals waiting: the rate is far past saturation");
        queue[queue_tail++ % queue_size] = next;
        if (measured_arrival) waited++;
        continue;
      }
      connection *c = &connections[idle[idle_head]];
      idle_head = (idle_head + 1) % count;
      idle_count--;
      c->scheduled = next;
      if (measured_arrival && late_count < latency_size) lateness[late_count++] = now_ns() - next;
      if (!send_next(c->fd)) return fail("a request could not be written whole");
      outstanding++;
    }
    if (now >= until && (outstanding == 0 || now >= until + DRAIN_NS)) break;
    /* The writes above took time: wait from now, not from before them. */
    now = now_ns();
    uint64_t wait = next < until ? (next > now ? next - now : 0) : 10000000ull;
    struct timespec timeout = {.tv_sec = (time_t)(wait / 1000000000ull), .tv_nsec = (long)(wait % 1000000000ull)};
    int ready = epoll_pwait2(poller, events, 256, &timeout, NULL);
    if (ready < 0 && errno != EINTR) return fail("epoll_pwait2 failed (Linux 5.11 or later is needed)");
    for (int k = 0; k < ready; k++) {
      int index = (int)events[k].data.u32;
      connection *c = &connections[index];
      ssize_t got = read(c->fd, c->bytes + c->length, ANSWER_MAX - c->length);
      if (got < 0 && errno == EAGAIN) continue;
      if (got <= 0) return fail("the server closed a connection");
      c->length += (size_t)got;
      long whole = answer_length(c->bytes, c->length);
      if (whole < 0) return fail("an answer without Content-Length");
      if (whole > ANSWER_MAX) return fail("an answer over 64 KiB");
      if (whole == 0 || c->length < (size_t)whole) continue;
      uint64_t done = now_ns();
      /* Errors and latencies of the measured arrivals only, as `requests` counts them. */
      if (c->scheduled >= from && c->scheduled < until) {
        if (c->length < 12 || (c->bytes[9] != '2' && c->bytes[9] != '3')) errors++;
        if (measured < latency_size) latencies[measured++] = done - c->scheduled;
      }
      c->length = 0;
      if (queue_head != queue_tail) {
        c->scheduled = queue[queue_head++ % queue_size];
        if (!send_next(c->fd)) return fail("a request could not be written whole");
      } else {
        outstanding--;
        idle[(idle_head + idle_count++) % count] = index;
      }
    }
  }
  if (outstanding > 0) return fail("answers still missing 5 s after the last arrival");
  qsort(latencies, measured, sizeof *latencies, by_value);
  qsort(lateness, late_count, sizeof *lateness, by_value);
#define PERCENTILE_MS(values, n, q) ((n) == 0 ? 0 : (values)[(size_t)((q) * (double)((n) - 1))] / 1e6)
  printf("{\"requests\":%zu,\"seconds\":%.3f,\"p50Ms\":%.4f,\"p99Ms\":%.4f,\"maxMs\":%.4f,\"errors\":%llu,\"waited\":%llu,\"lateP99Ms\":%.4f}\n",
         measured, seconds, PERCENTILE_MS(latencies, measured, 0.5), PERCENTILE_MS(latencies, measured, 0.99), PERCENTILE_MS(latencies, measured, 1.0),
         (unsigned long long)errors, (unsigned long long)waited, PERCENTILE_MS(lateness, late_count, 0.99));
  return 0;
}
