// The few io_uring calls the TCP engine makes, on the raw system calls: liburing is not on a fresh machine, the
// kernel's own header is (linux-libc-dev comes with g++). One ring per process, used from the loop's thread only.
#ifndef KNET_RING_H
#define KNET_RING_H
#include <linux/io_uring.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

// DEFER_TASKRUN (Linux 6.1) is what makes the ring pay: completions are run in one batch when the engine asks
// for them, not one task-work interrupt each. Headers older than that build the engine without a ring.
#if defined(IORING_SETUP_DEFER_TASKRUN) && defined(__NR_io_uring_setup)
#define KNET_HAVE_RING 1

typedef struct {
  int fd;
  unsigned *sq_head, *sq_tail, *sq_mask, *sq_array, *sq_flags, sq_entries;
  struct io_uring_sqe *sqes;
  unsigned *cq_head, *cq_tail, *cq_mask;
  struct io_uring_cqe *cqes;
  unsigned sq_filled; // SQEs written since the last submit
} ring_t;

typedef struct {
  struct io_uring_buf_ring *br;
  char *mem;
  unsigned entries, size;
  uint16_t tail;
} bufring_t;

static int ring_enter(ring_t *r, unsigned to_submit, unsigned flags) {
  int n = (int)syscall(__NR_io_uring_enter, r->fd, to_submit, 0, flags, NULL, 0);
  return n < 0 ? -errno : n;
}

/** Sets the ring up: 0, or -errno (ENOSYS, EPERM under a seccomp filter, EINVAL on a kernel older than 6.1). */
static int ring_init(ring_t *r, unsigned entries) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SUBMIT_ALL |
            IORING_SETUP_CQSIZE;
  p.cq_entries = entries * 4;
  int fd = (int)syscall(__NR_io_uring_setup, entries, &p);
  if (fd < 0) return -errno;
  if (!(p.features & IORING_FEAT_SINGLE_MMAP) || !(p.features & IORING_FEAT_NODROP)) {
    close(fd);
    return -EINVAL;
  }
  size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  size_t len = sq_len > cq_len ? sq_len : cq_len;
  char *q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  if (q == MAP_FAILED) {
    close(fd);
    return -ENOMEM;
  }
  void *sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                    fd, IORING_OFF_SQES);
  if (sqes == MAP_FAILED) {
    munmap(q, len);
    close(fd);
    return -ENOMEM;
  }
  r->fd = fd;
  r->sq_head = (unsigned *)(q + p.sq_off.head);
  r->sq_tail = (unsigned *)(q + p.sq_off.tail);
  r->sq_mask = (unsigned *)(q + p.sq_off.ring_mask);
  r->sq_array = (unsigned *)(q + p.sq_off.array);
  r->sq_flags = (unsigned *)(q + p.sq_off.flags);
  r->sq_entries = p.sq_entries;
  r->sqes = sqes;
  r->cq_head = (unsigned *)(q + p.cq_off.head);
  r->cq_tail = (unsigned *)(q + p.cq_off.tail);
  r->cq_mask = (unsigned *)(q + p.cq_off.ring_mask);
  r->cqes = (struct io_uring_cqe *)(q + p.cq_off.cqes);
  r->sq_filled = 0;
  for (unsigned i = 0; i < p.sq_entries; i++) r->sq_array[i] = i; // SQE i sits at index i: the array is the identity
  return 0;
}

/** Submits what was written: 0 or -errno. */
static int ring_submit(ring_t *r) {
  while (r->sq_filled > 0) {
    int n = ring_enter(r, r->sq_filled, 0);
    if (n == -EINTR) continue;
    if (n < 0) return n;
    r->sq_filled -= (unsigned)n < r->sq_filled ? (unsigned)n : r->sq_filled;
    if (n == 0) return -EBUSY;
  }
  return 0;
}

/** A zeroed SQE to fill, submitting first when the queue is full; NULL when even that fails. */
static struct io_uring_sqe *ring_sqe(ring_t *r) {
  unsigned tail = *r->sq_tail;
  if (tail - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE) >= r->sq_entries) {
    if (ring_submit(r) != 0) return NULL;
    if (tail - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE) >= r->sq_entries) return NULL;
  }
  struct io_uring_sqe *s = &r->sqes[tail & *r->sq_mask];
  memset(s, 0, sizeof *s);
  __atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE); // the kernel reads it at the next enter, not before
  r->sq_filled++;
  return s;
}

/**
 * Submits and runs the completions the kernel has deferred (DEFER_TASKRUN), without waiting: 0 or -errno. One call
 * runs a bounded number of them (20 on Linux 6.13): ring_work_pending says whether more are waiting.
 */
static int ring_get_events(ring_t *r) {
  for (;;) {
    int n = ring_enter(r, r->sq_filled, IORING_ENTER_GETEVENTS);
    if (n == -EINTR) continue;
    if (n < 0) return n;
    r->sq_filled -= (unsigned)n < r->sq_filled ? (unsigned)n : r->sq_filled;
    return 0;
  }
}

/** Deferred completions are still waiting to run (TASKRUN_FLAG): no new eventfd signal will say so. */
static int ring_work_pending(ring_t *r) {
  return (__atomic_load_n(r->sq_flags, __ATOMIC_ACQUIRE) & IORING_SQ_TASKRUN) != 0;
}

static int ring_register(ring_t *r, unsigned op, void *arg, unsigned n) {
  return syscall(__NR_io_uring_register, r->fd, op, arg, n) < 0 ? -errno : 0;
}

/** `entries` buffers of `size` bytes that receives pick from (a receive takes one only once its data is there). */
static int bufring_init(ring_t *r, bufring_t *b, unsigned entries, unsigned size, uint16_t group) {
  size_t ring_len = entries * sizeof(struct io_uring_buf);
  void *br = mmap(NULL, ring_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (br == MAP_FAILED) return -ENOMEM;
  // Touched only as buffers are used: an idle proxy pays for none of them.
  char *mem = mmap(NULL, (size_t)entries * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    munmap(br, ring_len);
    return -ENOMEM;
  }
  struct io_uring_buf_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.ring_addr = (uint64_t)(uintptr_t)br;
  reg.ring_entries = entries;
  reg.bgid = group;
  int e = ring_register(r, IORING_REGISTER_PBUF_RING, &reg, 1);
  if (e != 0) {
    munmap(br, ring_len);
    munmap(mem, (size_t)entries * size);
    return e;
  }
  b->br = br;
  b->mem = mem;
  b->entries = entries;
  b->size = size;
  b->tail = 0;
  return 0;
}

static char *bufring_at(bufring_t *b, unsigned bid) {
  return b->mem + (size_t)bid * b->size;
}

/** Gives buffer `bid` back for receives to pick. */
static void bufring_put(bufring_t *b, unsigned bid) {
  struct io_uring_buf *buf = &b->br->bufs[b->tail & (b->entries - 1)];
  buf->addr = (uint64_t)(uintptr_t)bufring_at(b, bid);
  buf->len = b->size;
  buf->bid = (uint16_t)bid;
  b->tail++;
  __atomic_store_n(&b->br->tail, b->tail, __ATOMIC_RELEASE);
}

#endif
#endif
