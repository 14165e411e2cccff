// The native TCP engine of @knet/dataplane: listening sockets, accepts, backend connects and the byte pump, on the
// proxy's own libuv loop (no threads, no locks). Hand-written because bench:dataplane showed Node's socket layer
// (a Socket object, streams and JS callbacks per connection, per read and per write) to be the bottleneck against
// HAProxy; the pure-JS engine (tcp-listener.ts) stays as the portable one.
//
// Sockets live in the engine's own epoll set, which libuv watches as one fd (a single uv_poll_t). Session 3 ran
// every socket as a libuv handle; `strace -c` under wrk `Connection: close` then counted 21 system calls per
// connection against HAProxy's 18 (5.1 epoll_ctl, a getsockopt, a loop wakeup each), and perf put libuv's stream
// bookkeeping (uv__io_start/stop, uv_close callbacks, uv__platform_invalidate_fd) on top. Now (14 per connection):
// each socket is added once, edge-triggered (never a MOD or a DEL: close(2) drops it); a connect is done when
// EPOLLOUT comes without EPOLLERR (no getsockopt); accepts are batched per wakeup; accepted sockets inherit the
// listener's TCP_NODELAY; the client's first bytes are read at accept and sent as soon as connect(2) returns (on
// loopback the handshake is over by then); a short read after EPOLLRDHUP is the end of the stream (no recv that
// returns 0), and those last bytes wait (MSG_MORE) for the FIN to leave in one segment, as HAProxy does; the
// client is watched for EPOLLOUT only once a send to it fell short. Proxy CPU per connection went from 79-85 to
// 67-75 µs against HAProxy's 73-90 (interleaved runs, load 2.5-5.5); over 90% of what is left is kernel work that
// HAProxy does too.
//
// Where the kernel allows it, a listener's established connections move their bytes through an io_uring instead
// (see "the ring" below): the accept, the early read and the connect are the same, the byte pump is not.
//
// JS keeps every decision, once per connection: on accept C calls pick() (backend choice, affinity, the PROXY
// header); on a failed connect it calls retry(). C only moves bytes, counts, and enforces timeouts.
//
// Events name a slot (index + generation), never a pointer: an event still queued for a socket already closed (or
// one whose file a forked child still holds open) finds its slot's generation moved on and is dropped.
//
// Lifetimes: a listener lives until its socket is closed (its 'closed' is told on the next loop turn, as a handle
// close would be), its timer handle is closed, its last connection is freed and JS has dropped it (the external's
// finalizer). A connection is freed after the callback that closed it returns.
#define _GNU_SOURCE // accept4
#include <node_api.h>
#include <uv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include "ring.h"

#define READ_BUF 65536
#define MAX_EVENTS 256
#define READS_PER_TURN 32   // like libuv: then other sockets get their turn
#define ACCEPTS_PER_TURN 64 // like HAProxy's maxaccept; the listener is level-triggered, so the rest waits a turn
#define RING_ROUNDS 64      // completion batches per wakeup; the rest waits for the next loop turn

typedef struct listener listener_t;
typedef struct conn conn_t;

typedef union {
  struct sockaddr sa;
  struct sockaddr_in v4;
  struct sockaddr_in6 v6;
} addr_t;

typedef struct {
  addr_t addr;
  uint8_t set;
  uint8_t live; // in the pool: a connect that completes to a target no longer live is a failed one
} target_t;

/** One direction of a connection: 0 client → upstream (reads side 0, writes side 1), 1 upstream → client. */
typedef struct {
  char *pending; // what the writer did not take (reads of this direction stop until it is sent), or the PROXY header
  size_t len, off;
  uint8_t eof; // the reader sent FIN
  int32_t bid;  // ring mode: the receive buffer whose bytes [off, len) are being sent (-1: none)
} dir_t;

enum { CLIENT = 0, UPSTREAM = 1 };

struct conn {
  listener_t *l;
  conn_t *prev, *next; // the listener's connections
  conn_t *dead_next;   // the graveyard, once closed
  int fd[2];           // client, upstream (-1: none)
  uint32_t slot[2];
  uint8_t readable[2], writable[2], rdhup[2]; // edge-triggered state: what the last events said, until EAGAIN
  char *header; // PROXY protocol header, sent to the upstream before any client byte
  size_t header_len;
  int32_t target;
  int32_t *tried;
  int ntried;
  double serial;  // the listener's connection count when accepted: drain() closes connections up to a serial
  uint64_t since; // connect started, then last traffic seen (uv_now, ms)
  uint64_t bytes; // bytes moved either way
  uint64_t seen;  // bytes at the last sweep
  uint8_t connected, closing;
  uint8_t client_out; // EPOLLOUT asked for on the client socket (only once a send to it fell short)
  uint8_t header_done; // the PROXY header is queued (a retry's decision brings it again: ignored)
  uint8_t ring;         // its bytes move through the io_uring (see "the ring" below), not epoll events
  uint8_t recv_on[2], send_on[2], poll_on; // ring operations in flight: a receive on side i, a send to side i, a poll
  dir_t d[2];
};

struct listener {
  napi_env env;
  int32_t id;
  int fd;
  uint32_t slot;
  uv_timer_t *timer;
  conn_t *conns;
  listener_t *stopped_next; // waiting for the next loop turn to tell 'closed'
  double connections, failures, connect_errors, bytes_in, bytes_out;
  int64_t active; // accepted and not yet closing
  int64_t nconns; // not yet freed
  int handles;    // the timer, and the socket until its close is processed
  int port;
  uint64_t connect_ms, idle_ms, sweep_ms;
  target_t *targets;
  int32_t ntargets;
  uint8_t ring; // its connections use the ring
  uint8_t want_addr, listening, server_closed, closed_told, js_gone;
};

static napi_ref pick_ref, retry_ref, event_ref;
static napi_async_context async_ctx;
static int env_gone;
static char read_buf[READ_BUF];
static uv_loop_t *loop;

// ---- the engine's epoll set --------------------------------------------------------------------------------------

enum { K_FREE, K_LISTENER, K_CLIENT, K_UPSTREAM };

typedef struct {
  void *owner;
  uint32_t gen;
  uint32_t next_free;
  uint8_t kind;
} slot_t;

static int epfd = -1;
static int reserve_fd = -1; // given up to accept-and-close when out of descriptors (libuv's EMFILE trick)
static uv_poll_t poll_h;    // libuv watches epfd: readable when any socket of the set has an event
static uv_idle_t idle_h;    // runs deferred work (listener closes, frees, reads cut short) without blocking the loop
static slot_t *slots;
static uint32_t nslots, slot_cap, free_slot = UINT32_MAX;
static int64_t watched;        // sockets in the set: the loop stays alive while there are any, as with handles
static conn_t *graveyard;      // closed connections, freed once the current callback is done
static listener_t *stopped;    // listeners whose socket closed: 'closed' waits for the next loop turn
/** Tags of sockets to come back to, oldest first: taken from `head`, added at `n`. */
typedef struct {
  uint64_t *v;
  size_t head, n, cap;
} tags_t;

static tags_t again;           // sockets whose reads were cut short by READS_PER_TURN
static int depth;              // nesting of engine callbacks: memory is freed when the outermost one ends

static int64_t slot_new(void *owner, uint8_t kind) {
  uint32_t i;
  if (free_slot != UINT32_MAX) {
    i = free_slot;
    free_slot = slots[i].next_free;
  } else {
    if (nslots == 1u << 24) return -1; // a ring operation names its slot in 24 bits
    if (nslots == slot_cap) {
      uint32_t cap = slot_cap == 0 ? 1024 : slot_cap * 2;
      slot_t *s = realloc(slots, sizeof(slot_t) * cap);
      if (s == NULL) return -1;
      slots = s;
      slot_cap = cap;
    }
    i = nslots++;
    slots[i].gen = 0;
  }
  slots[i].owner = owner;
  slots[i].kind = kind;
  return i;
}

static uint64_t slot_tag(uint32_t i) {
  return ((uint64_t)slots[i].gen << 32) | i;
}

/** The slot an event names, if it still holds what the event was for. */
static slot_t *slot_of(uint64_t tag) {
  uint32_t i = (uint32_t)tag;
  if (i >= nslots || slots[i].gen != (uint32_t)(tag >> 32) || slots[i].kind == K_FREE) return NULL;
  return &slots[i];
}

/** Which side of its connection a socket's slot is. */
static int side_of(const slot_t *s) {
  return s->kind == K_CLIENT ? 0 : 1; // CLIENT, UPSTREAM
}

/** Adds a tag: 0, or -1 out of memory. What was taken is reclaimed before the list grows. */
static int tags_push(tags_t *t, uint64_t tag) {
  if (t->n == t->cap && t->head > 0) {
    memmove(t->v, t->v + t->head, sizeof(uint64_t) * (t->n - t->head));
    t->n -= t->head;
    t->head = 0;
  }
  if (t->n == t->cap) {
    size_t cap = t->cap == 0 ? 64 : t->cap * 2;
    uint64_t *v = realloc(t->v, sizeof(uint64_t) * cap);
    if (v == NULL) return -1;
    t->v = v;
    t->cap = cap;
  }
  t->v[t->n++] = tag;
  return 0;
}

static void slot_free(uint32_t i) {
  slots[i].owner = NULL;
  slots[i].kind = K_FREE;
  slots[i].gen++;
  slots[i].next_free = free_slot;
  free_slot = i;
}

/** A socket the engine owns: the loop stays alive while there are any, as with handles. */
static void own(void) {
  if (watched++ == 0) uv_ref((uv_handle_t *)&poll_h);
}

static void disown(uint32_t slot) {
  slot_free(slot);
  if (--watched == 0) uv_unref((uv_handle_t *)&poll_h);
}

/** Adds a socket to the epoll set; a ring connection's sockets only count (the ring tells about them). */
static int watch(int fd, uint32_t slot, uint32_t events, int ring) {
  if (!ring) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = slot_tag(slot);
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) return -1;
  }
  own();
  return 0;
}

/** Closes a watched socket: close(2) takes it out of the set (no other process shares it: SOCK_CLOEXEC). */
static void unwatch_close(int fd, uint32_t slot) {
  close(fd);
  disown(slot);
}

// ---- the ring ----------------------------------------------------------------------------------------------------
//
// Where the kernel allows it (Linux 6.1+, io_uring not blocked by a seccomp filter, as Docker's default one does),
// a listener's connections move their bytes through an io_uring instead of epoll events and recv/send calls. Each
// direction has one receive in flight; its completion brings the bytes in a buffer the kernel picked from a shared
// pool (so an idle connection holds none), a send of that buffer follows, and the next receive is asked for once
// the send is done (backpressure: one buffer per direction at most). The kernel runs the completions of a whole
// loop turn in one batch (DEFER_TASKRUN) and the engine submits its operations in one call: under wrk -c50
// keep-alive through a prototype, proxy CPU per request fell 12% against the epoll path (11.5 against 13.1 µs),
// the four system calls per request being most of it. Accepts, the client's first bytes and the connect stay
// system calls, as above; a connect that is not done at once is waited for with a poll operation.
//
// An operation names its socket's slot and generation (and, for a send, its buffer): the completion of one whose
// socket was closed meanwhile only gives its buffer back. Closing a socket cancels its operations by name.

enum { OP_NONE, OP_RECV, OP_SEND, OP_POLL };

static int ring_err = ENOSYS; // 0: the ring is up; else why not (an errno)
#ifdef KNET_HAVE_RING
static int ring_tried;        // ring_setup ran: once per process, when a listener first asks for the ring
static ring_t ring;
static bufring_t bufs;
static unsigned nbufs;        // receive buffers of READ_BUF bytes shared by the ring's connections (touched as used)
static int ring_efd = -1;     // the ring signals it when completions are there: libuv watches it
static uv_poll_t ring_poll_h;
static tags_t starved;        // receives that found no free buffer, retried as buffers come back

/** An operation's name: slot generation (24 bits), slot (24), buffer id (12), operation (4). */
static uint64_t op_tag(uint32_t slot, int op, unsigned bid) {
  return ((uint64_t)(slots[slot].gen & 0xffffff) << 40) | ((uint64_t)slot << 16) | ((uint64_t)(bid & 0xfff) << 4) | (uint64_t)op;
}

/** The slot an operation was for, if its socket is still there. */
static slot_t *op_slot(uint64_t tag) {
  uint32_t i = (uint32_t)(tag >> 16) & 0xffffff;
  if (i >= nslots || (slots[i].gen & 0xffffff) != (uint32_t)(tag >> 40) || slots[i].kind == K_FREE) return NULL;
  return &slots[i];
}

static void destroy(conn_t *c, int how);

/** An SQE for an operation of c's; NULL (and c closed) when the ring has none: better closed than stalled. */
static struct io_uring_sqe *conn_sqe(conn_t *c) {
  struct io_uring_sqe *s = ring_sqe(&ring);
  if (s == NULL) destroy(c, 0);
  return s;
}

/** Asks for one receive on side `side` into a pool buffer. */
static void ring_recv(conn_t *c, int side) {
  struct io_uring_sqe *s = conn_sqe(c);
  if (s == NULL) return;
  s->opcode = IORING_OP_RECV;
  s->fd = c->fd[side];
  s->len = READ_BUF;
  s->flags = IOSQE_BUFFER_SELECT;
  s->buf_group = 0;
  s->user_data = op_tag(c->slot[side], OP_RECV, 0);
  c->recv_on[side] = 1;
}

/** A buffer is free again: a receive that found none gets it. */
static void buffer_back(unsigned bid) {
  bufring_put(&bufs, bid);
  while (starved.head < starved.n) {
    slot_t *s = op_slot(starved.v[starved.head++]);
    if (s == NULL) continue;
    conn_t *c = (conn_t *)s->owner;
    if (!c->closing) ring_recv(c, side_of(s));
    break;
  }
  if (starved.head == starved.n) starved.head = starved.n = 0;
}

static void starve(conn_t *c, int side) {
  if (tags_push(&starved, op_tag(c->slot[side], OP_RECV, 0)) != 0) destroy(c, 0); // nothing would wake it
}

/** Sends direction d's buffer, from its offset, to the other side. */
static void ring_send(conn_t *c, int d) {
  dir_t *dir = &c->d[d];
  int to = d ^ 1;
  struct io_uring_sqe *s = conn_sqe(c);
  if (s == NULL) return;
  s->opcode = IORING_OP_SEND;
  s->fd = c->fd[to];
  s->addr = (uint64_t)(uintptr_t)(bufring_at(&bufs, (unsigned)dir->bid) + dir->off);
  s->len = (uint32_t)(dir->len - dir->off);
  s->msg_flags = MSG_NOSIGNAL;
  s->user_data = op_tag(c->slot[to], OP_SEND, (unsigned)dir->bid);
  c->send_on[to] = 1;
}

/** Waits for the upstream to take bytes: its connect is done (or failed), or a send that fell short can go on. */
static void ring_poll(conn_t *c) {
  struct io_uring_sqe *s = conn_sqe(c);
  if (s == NULL) return;
  s->opcode = IORING_OP_POLL_ADD;
  s->fd = c->fd[UPSTREAM];
  s->poll32_events = POLLOUT | POLLERR | POLLHUP;
  s->user_data = op_tag(c->slot[UPSTREAM], OP_POLL, 0);
  c->poll_on = 1;
}

static void ring_cancel(uint64_t tag) {
  struct io_uring_sqe *s = ring_sqe(&ring);
  if (s == NULL) return;
  s->opcode = IORING_OP_ASYNC_CANCEL;
  s->addr = tag;
  s->flags = IOSQE_CQE_SKIP_SUCCESS;
  s->user_data = OP_NONE;
}

/** Closes a ring connection's socket: its operations are cancelled, the close goes with the next submit. */
static void ring_close(conn_t *c, int side) {
  uint32_t slot = c->slot[side];
  dir_t *into = &c->d[side ^ 1]; // the direction that sends to this side
  if (c->recv_on[side]) ring_cancel(op_tag(slot, OP_RECV, 0));
  if (c->send_on[side]) ring_cancel(op_tag(slot, OP_SEND, (unsigned)into->bid));
  else if (into->bid >= 0) buffer_back((unsigned)into->bid); // held, its send never asked for
  if (side == UPSTREAM && c->poll_on) ring_cancel(op_tag(slot, OP_POLL, 0));
  c->recv_on[side] = c->send_on[side] = 0;
  if (side == UPSTREAM) c->poll_on = 0;
  into->bid = -1; // a send in flight gives it back on its completion
  struct io_uring_sqe *s = ring_sqe(&ring);
  if (s != NULL) {
    s->opcode = IORING_OP_CLOSE;
    s->fd = c->fd[side];
    s->flags = IOSQE_CQE_SKIP_SUCCESS;
    s->user_data = OP_NONE;
  } else {
    close(c->fd[side]);
  }
  disown(slot);
}

static void ring_flush(void) {
  if (ring.sq_filled > 0) ring_submit(&ring);
}
#else
static void ring_close(conn_t *c, int side) {
  (void)c;
  (void)side;
}
static void ring_flush(void) {}
#endif

static void on_idle(uv_idle_t *h);

static void defer(void) {
  if (!uv_is_active((uv_handle_t *)&idle_h)) uv_idle_start(&idle_h, on_idle);
}

static const char *errno_name(int e) {
  return uv_err_name(uv_translate_sys_error(e));
}

static void maybe_free(listener_t *l) {
  if (l->handles == 0 && l->nconns == 0 && l->js_gone) {
    free(l->targets);
    free(l);
  }
}

// ---- calls into JS ---------------------------------------------------------------------------------------------

static napi_value str(napi_env env, const char *s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

static napi_value num(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

/** Calls a registered JS function. Exceptions are JS's to handle (the callbacks catch); one that escapes is dropped. */
static napi_value call_js(napi_env env, napi_ref ref, size_t argc, napi_value *argv, int make_callback) {
  napi_value fn, global, result = NULL;
  napi_get_reference_value(env, ref, &fn);
  napi_get_global(env, &global);
  napi_status s = make_callback ? napi_make_callback(env, async_ctx, global, fn, argc, argv, &result)
                                : napi_call_function(env, global, fn, argc, argv, &result);
  if (s != napi_ok) {
    napi_value ex;
    napi_get_and_clear_last_exception(env, &ex);
    return NULL;
  }
  return result;
}

/** event(listenerId, kind, code): 'closed' once the listener is fully closed, 'accept' for an accept error. */
static void tell(listener_t *l, const char *kind, const char *code) {
  if (env_gone || l->js_gone) return;
  napi_handle_scope scope;
  napi_open_handle_scope(l->env, &scope);
  napi_value argv[3] = {num(l->env, l->id), str(l->env, kind), str(l->env, code)};
  call_js(l->env, event_ref, 3, argv, 1);
  napi_close_handle_scope(l->env, scope);
}

/** "address" of a socket end, as Node formats it (IPv6 without brackets). */
static int addr_string(const struct sockaddr_storage *ss, char *out, size_t n, int *port) {
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    *port = ntohs(a->sin_port);
    return uv_ip4_name(a, out, n);
  }
  if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
    *port = ntohs(a->sin6_port);
    return uv_ip6_name(a, out, n);
  }
  return UV_EINVAL;
}

/** Both ends of the client connection as JS values (undefined where unknown), for affinity and PROXY headers. */
static void client_addresses(napi_env env, conn_t *c, napi_value *argv) {
  struct sockaddr_storage ss;
  char buf[INET6_ADDRSTRLEN + 1];
  int port = 0;
  socklen_t len;
  napi_value undef;
  napi_get_undefined(env, &undef);
  for (int i = 0; i < 4; i++) argv[i] = undef;
  len = sizeof ss;
  if (getpeername(c->fd[CLIENT], (struct sockaddr *)&ss, &len) == 0 && addr_string(&ss, buf, sizeof buf, &port) == 0) {
    argv[0] = str(env, buf);
    argv[1] = num(env, port);
  }
  len = sizeof ss;
  if (getsockname(c->fd[CLIENT], (struct sockaddr *)&ss, &len) == 0 && addr_string(&ss, buf, sizeof buf, &port) == 0) {
    argv[2] = str(env, buf);
    argv[3] = num(env, port);
  }
}

/** A decision from JS: a target id, or [id, header Buffer]; -1 (or anything else) refuses. */
static int32_t decision(napi_env env, napi_value r, conn_t *c) {
  if (r == NULL) return -1;
  napi_valuetype t;
  napi_typeof(env, r, &t);
  int32_t id = -1;
  if (t == napi_number) {
    napi_get_value_int32(env, r, &id);
    return id;
  }
  bool is_array = false;
  napi_is_array(env, r, &is_array);
  if (!is_array) return -1;
  napi_value v;
  napi_get_element(env, r, 0, &v);
  if (napi_get_value_int32(env, v, &id) != napi_ok) return -1;
  napi_get_element(env, r, 1, &v);
  bool is_buf = false;
  napi_is_buffer(env, v, &is_buf);
  if (is_buf && c->header == NULL && !c->header_done) {
    void *data;
    size_t len;
    napi_get_buffer_info(env, v, &data, &len);
    if (len > 0 && len <= 4096) {
      c->header = malloc(len);
      if (c->header != NULL) {
        memcpy(c->header, data, len);
        c->header_len = len;
      }
    }
  }
  return id;
}

// ---- connections -----------------------------------------------------------------------------------------------

static void on_timer_closed(uv_handle_t *h);

/** The socket is closed and the last connection gone: the sweep timer goes, and JS hears 'closed'. */
static void all_closed(listener_t *l) {
  if (l->closed_told) return;
  l->closed_told = 1;
  if (l->timer != NULL) {
    uv_close((uv_handle_t *)l->timer, on_timer_closed);
    l->timer = NULL;
  }
  tell(l, "closed", "");
}

static void free_conn(conn_t *c) {
  listener_t *l = c->l;
  for (int i = 0; i < 2; i++) free(c->d[i].pending);
  free(c->header);
  free(c->tried);
  free(c);
  l->nconns--;
  if (l->server_closed && l->nconns == 0) all_closed(l);
  maybe_free(l);
}

/** Entered an engine callback (an event, the sweep, the idle turn, a call from JS). */
static void enter(void) {
  depth++;
}

/** Leaves it: the outermost one frees the connections closed meanwhile (a call from JS leaves that to the idle turn). */
static void leave(int from_js) {
  if (--depth > 0) return;
  ring_flush(); // what this callback asked of the ring goes in one submit
  if (graveyard == NULL) return;
  if (from_js) {
    defer(); // freeing tells JS 'closed': not from inside a call JS made
    return;
  }
  while (graveyard != NULL) {
    conn_t *c = graveyard;
    graveyard = c->dead_next;
    free_conn(c);
  }
}

static void close_side(conn_t *c, int side, int reset) {
  int fd = c->fd[side];
  if (fd < 0) return;
  if (reset) {
    struct linger lg = {1, 0}; // close(2) then sends a reset, as uv_tcp_close_reset does
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  if (c->ring) ring_close(c, side);
  else unwatch_close(fd, c->slot[side]);
  c->fd[side] = -1;
}

enum { RESET_CLIENT = 1, RESET_UPSTREAM = 2 };

/** Closes both sockets (a reset where asked, else FIN or whatever close() sends). */
static void destroy(conn_t *c, int how) {
  if (c->closing) return;
  c->closing = 1;
  listener_t *l = c->l;
  if (c->prev != NULL) c->prev->next = c->next;
  else l->conns = c->next;
  if (c->next != NULL) c->next->prev = c->prev;
  c->prev = c->next = NULL;
  l->active--;
  close_side(c, CLIENT, how & RESET_CLIENT);
  close_side(c, UPSTREAM, how & RESET_UPSTREAM);
  c->dead_next = graveyard;
  graveyard = c;
}

static void refuse(conn_t *c) {
  c->l->failures++;
  destroy(c, RESET_CLIENT);
}

static void attempt(conn_t *c, int32_t id);

/** The current connect attempt failed: close it and let JS name the next backend, or refuse the client. */
static void connect_failed(conn_t *c, const char *code) {
  listener_t *l = c->l;
  close_side(c, UPSTREAM, 0);
  l->connect_errors++;
  int32_t *tried = realloc(c->tried, sizeof(int32_t) * (c->ntried + 1));
  if (tried == NULL || env_gone || l->js_gone) {
    if (tried != NULL) c->tried = tried;
    refuse(c);
    return;
  }
  c->tried = tried;
  c->tried[c->ntried++] = c->target;
  napi_env env = l->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value argv[5], arr;
  argv[0] = num(env, l->id);
  argv[1] = num(env, c->target);
  napi_create_array_with_length(env, c->ntried, &arr);
  for (int i = 0; i < c->ntried; i++) napi_set_element(env, arr, i, num(env, c->tried[i]));
  argv[2] = arr;
  argv[3] = str(env, code);
  napi_value addrs[4];
  if (l->want_addr) client_addresses(env, c, addrs);
  else napi_get_undefined(env, &addrs[0]);
  argv[4] = addrs[0];
  int32_t next = decision(env, call_js(env, retry_ref, 5, argv, 1), c);
  napi_close_handle_scope(env, scope);
  if (c->closing) return;
  if (next < 0) refuse(c);
  else attempt(c, next);
}

/** One socket failed: both close, and the other side is reset when this one was reset (a reset is passed on). */
static void failed(conn_t *c, int upstream_failed, int err) {
  if (err != UV_ECONNRESET) destroy(c, 0);
  else destroy(c, upstream_failed ? RESET_CLIENT : RESET_UPSTREAM);
}

/** Direction d has passed on everything up to its FIN: pass the FIN on, or close when the other way is done too. */
static void finish(conn_t *c, int d) {
  dir_t *o = &c->d[d ^ 1];
  if (o->eof && o->pending == NULL && o->bid < 0) {
    // Both ways done: close() sends the FINs (nothing is unread on either socket, so no reset).
    destroy(c, 0);
    return;
  }
  // An error (the peer is gone) shows up as a read error on that socket.
  shutdown(c->fd[d ^ 1], SHUT_WR);
}

/** send(2) without SIGPIPE: bytes taken, UV_EAGAIN when none, or an error. */
static ssize_t send_to(int fd, const char *buf, size_t len, int flags) {
  ssize_t n;
  do n = send(fd, buf, len, MSG_NOSIGNAL | flags);
  while (n < 0 && errno == EINTR);
  if (n >= 0) return n;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return UV_EAGAIN;
  return uv_translate_sys_error(errno);
}

/**
 * Bytes taken by direction d's writer: counted, and the writer is marked full when it took less. The client
 * socket is watched for EPOLLOUT only from then on: most connections never fill it, and an EPOLLOUT watched from
 * the accept is one more event per connection (its first, at once).
 */
static void sent(conn_t *c, int d, size_t n, size_t wanted) {
  if (d == 1) c->l->bytes_out += (double)n;
  if (n >= wanted) return;
  c->writable[d ^ 1] = 0;
  if (d == 1 && !c->client_out) {
    struct epoll_event ev;
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = slot_tag(c->slot[CLIENT]);
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd[CLIENT], &ev) == 0) c->client_out = 1;
    else destroy(c, 0); // nothing would say when to send the rest: better closed than stalled
  }
}

/** Sends direction d's pending bytes. 1 when none are left (and the connection still stands). */
static int flush(conn_t *c, int d) {
  dir_t *dir = &c->d[d];
  if (!c->writable[d ^ 1]) return 0;
  ssize_t w = send_to(c->fd[d ^ 1], dir->pending + dir->off, dir->len - dir->off, 0);
  if (w < 0 && w != UV_EAGAIN) {
    failed(c, d == 0, (int)w); // the writer failed
    return 0;
  }
  if (w < 0) w = 0;
  c->bytes += (uint64_t)w;
  sent(c, d, (size_t)w, dir->len - dir->off);
  dir->off += (size_t)w;
  if (dir->off < dir->len || c->closing) return 0;
  free(dir->pending);
  dir->pending = NULL;
  if (dir->eof) {
    finish(c, d);
    return 0;
  }
  return 1;
}

/** Passes n bytes of read_buf on to direction d's writer; what it does not take is kept (backpressure). 1: all went. */
static int forward(conn_t *c, int d, size_t n, int flags) {
  ssize_t w = c->writable[d ^ 1] ? send_to(c->fd[d ^ 1], read_buf, n, flags) : UV_EAGAIN;
  if (w < 0 && w != UV_EAGAIN) {
    failed(c, d == 0, (int)w); // the writer failed
    return 0;
  }
  if (w < 0) w = 0;
  sent(c, d, (size_t)w, n);
  if ((size_t)w == n) return 1;
  if (c->closing) return 0;
  // Keep what is left; this direction reads again once its writer took it (EPOLLOUT).
  dir_t *dir = &c->d[d];
  dir->len = n - (size_t)w;
  dir->off = 0;
  dir->pending = malloc(dir->len);
  if (dir->pending == NULL) {
    destroy(c, 0);
    return 0;
  }
  memcpy(dir->pending, read_buf + w, dir->len);
  return 0;
}

static void eof(conn_t *c, int d) {
  c->d[d].eof = 1;
  if (c->d[d].pending == NULL) finish(c, d);
}

static void again_later(conn_t *c, int d) {
  if (tags_push(&again, slot_tag(c->slot[d])) != 0) {
    destroy(c, 0); // cannot promise another turn: better closed than stalled
    return;
  }
  defer();
}

/** Moves what direction d can move now: its pending bytes, then what its reader has, until EAGAIN or backpressure. */
static void pump(conn_t *c, int d) {
  dir_t *dir = &c->d[d];
  if (dir->pending != NULL && !flush(c, d)) return;
  if (dir->eof) return;
  listener_t *l = c->l;
  for (int i = 0; c->readable[d]; i++) {
    if (i == READS_PER_TURN) {
      again_later(c, d);
      return;
    }
    ssize_t n = recv(c->fd[d], read_buf, READ_BUF, 0);
    if (n > 0) {
      if (d == 0) l->bytes_in += (double)n;
      c->bytes += (uint64_t)n;
      // A short read emptied the socket: the next edge says when there is more. After the peer's FIN
      // (EPOLLRDHUP seen before this read) the data is all in, so this is the end: no recv that returns 0, and
      // the bytes wait (MSG_MORE) for the FIN that shutdown or close sends next, in the same segment, as
      // HAProxy does: one packet less for the peer, whose receive work on loopback is done on our CPU.
      int last = n < READ_BUF && c->rdhup[d];
      if (!forward(c, d, (size_t)n, last ? MSG_MORE : 0)) return;
      if (n == READ_BUF) continue;
      if (last) eof(c, d);
      else c->readable[d] = 0;
      return;
    }
    if (n == 0) {
      eof(c, d);
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      c->readable[d] = 0;
      return;
    }
    failed(c, d == 1, uv_translate_sys_error(errno)); // the reader failed
    return;
  }
}

/** The PROXY header goes first: put before the client's bytes read so far (the direction reads no more meanwhile). */
static int queue_header(conn_t *c) {
  if (c->header_done || c->header == NULL) return 1;
  dir_t *d = &c->d[0];
  size_t rest = d->pending == NULL ? 0 : d->len - d->off;
  char *p = rest == 0 ? c->header : realloc(c->header, c->header_len + rest);
  if (p == NULL) return 0;
  if (rest > 0) memcpy(p + c->header_len, d->pending + d->off, rest);
  free(d->pending);
  d->pending = p;
  d->len = c->header_len + rest;
  d->off = 0;
  c->header = NULL;
  c->header_done = 1;
  return 1;
}

static void ring_start(conn_t *c);

static void established(conn_t *c) {
  c->connected = 1;
  c->since = uv_now(loop);
  c->seen = c->bytes;
  c->writable[UPSTREAM] = 1;
  if (!queue_header(c)) {
    destroy(c, 0);
    return;
  }
  if (c->ring) {
    ring_start(c);
    return;
  }
  pump(c, 0);
  if (!c->closing) pump(c, 1);
}

/** The upstream's first event: connected (EPOLLOUT alone), or the connect failed (its error from SO_ERROR). */
static void connecting(conn_t *c, uint32_t e) {
  if (e & (EPOLLERR | EPOLLHUP)) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd[UPSTREAM], SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err == 0) err = ECONNREFUSED;
    connect_failed(c, errno_name(err));
    return;
  }
  if (!(e & EPOLLOUT)) return;
  listener_t *l = c->l;
  if (c->target >= l->ntargets || !l->targets[c->target].live) {
    connect_failed(c, "EREMOVED");
    return;
  }
  if (e & (EPOLLIN | EPOLLRDHUP)) c->readable[UPSTREAM] = 1;
  if (e & EPOLLRDHUP) c->rdhup[UPSTREAM] = 1;
  established(c);
}

static void on_socket(conn_t *c, int side, uint32_t e) {
  if (c->closing) return;
  if (side == UPSTREAM && !c->connected) {
    connecting(c, e);
    return;
  }
  if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c->readable[side] = 1;
  if (e & EPOLLERR) c->rdhup[side] = 0; // read the error, do not take it for an end
  else if (e & EPOLLRDHUP) c->rdhup[side] = 1;
  if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) c->writable[side] = 1; // an error shows on the next send
  if (!c->connected) return; // the client's bytes wait for the upstream
  if (c->d[side ^ 1].pending != NULL) pump(c, side ^ 1); // the direction that writes to this side
  if (!c->closing && c->readable[side]) pump(c, side);
}

static void attempt(conn_t *c, int32_t id) {
  listener_t *l = c->l;
  if (id < 0 || id >= l->ntargets || !l->targets[id].set) {
    refuse(c);
    return;
  }
  const addr_t *a = &l->targets[id].addr;
  c->target = id;
  c->since = uv_now(loop);
  c->readable[UPSTREAM] = c->writable[UPSTREAM] = c->rdhup[UPSTREAM] = 0;
  int fd = socket(a->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    connect_failed(c, errno_name(errno));
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int64_t slot = slot_new(c, K_UPSTREAM);
  if (slot < 0) {
    close(fd);
    connect_failed(c, "ENOMEM");
    return;
  }
  socklen_t alen = a->sa.sa_family == AF_INET6 ? sizeof a->v6 : sizeof a->v4;
  int r;
  do r = connect(fd, &a->sa, alen);
  while (r != 0 && errno == EINTR);
  int err = r == 0 || errno == EINPROGRESS ? 0 : errno;
  // Added even when connect already failed, so that connect_failed closes it like any other attempt.
  if (watch(fd, (uint32_t)slot, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, c->ring) != 0) {
    if (err == 0) err = errno;
    close(fd);
    slot_free((uint32_t)slot);
    connect_failed(c, errno_name(err));
    return;
  }
  c->fd[UPSTREAM] = fd;
  c->slot[UPSTREAM] = (uint32_t)slot;
  if (err != 0) {
    connect_failed(c, errno_name(err));
    return;
  }
  dir_t *d = &c->d[0];
  if (d->pending == NULL) {
    if (c->ring) ring_poll(c); // epoll says it with EPOLLOUT
    return;
  }
  // The client's first bytes are here (read at accept), and on loopback the handshake is over when connect(2)
  // returns: send them now, not a loop turn later. EAGAIN: still connecting, EPOLLOUT will say when it is done.
  if (!queue_header(c)) {
    destroy(c, 0);
    return;
  }
  ssize_t w = send_to(fd, d->pending + d->off, d->len - d->off, 0);
  if (w == UV_EAGAIN) {
    if (c->ring) ring_poll(c);
    return;
  }
  if (w < 0) {
    connect_failed(c, uv_err_name((int)w));
    return;
  }
  d->off += (size_t)w;
  c->bytes += (uint64_t)w;
  if (d->off == d->len) {
    free(d->pending);
    d->pending = NULL;
  }
  established(c);
}

// ---- the ring's completions ---------------------------------------------------------------------------------------

#ifdef KNET_HAVE_RING
static int ring_more; // a wakeup's batches ran out before the completions did: the idle turn goes on

/** Sends what direction 0 holds from before the connect (the client's first bytes, a PROXY header). 1: all went. */
static int ring_pending(conn_t *c) {
  dir_t *d = &c->d[0];
  if (d->pending == NULL) return 1;
  ssize_t w = send_to(c->fd[UPSTREAM], d->pending + d->off, d->len - d->off, 0);
  if (w < 0 && w != UV_EAGAIN) {
    failed(c, 1, (int)w);
    return 0;
  }
  if (w > 0) {
    d->off += (size_t)w;
    c->bytes += (uint64_t)w;
  }
  if (d->off < d->len) {
    ring_poll(c); // the rest when the upstream takes more
    return 0;
  }
  free(d->pending);
  d->pending = NULL;
  return 1;
}

static void ring_start(conn_t *c) {
  ring_recv(c, UPSTREAM);
  if (!c->closing && ring_pending(c)) ring_recv(c, CLIENT);
}

/** Direction d's buffer holds n new bytes: counted, and sent on. */
static void pass_on(conn_t *c, int d, size_t n) {
  dir_t *dir = &c->d[d];
  if (d == CLIENT) c->l->bytes_in += (double)n;
  c->bytes += (uint64_t)n;
  dir->off = 0;
  dir->len = n;
  ring_send(c, d);
}

/** A receive on side d is done: its bytes go on to the other side, or its end or error is passed on. */
static void received(conn_t *c, int d, int32_t res, uint32_t flags) {
  if (res > 0) {
    c->d[d].bid = (int32_t)(flags >> IORING_CQE_BUFFER_SHIFT);
    pass_on(c, d, (size_t)res);
    return;
  }
  if (flags & IORING_CQE_F_BUFFER) buffer_back(flags >> IORING_CQE_BUFFER_SHIFT);
  if (res == 0) eof(c, d);
  else if (res == -ENOBUFS) starve(c, d); // every buffer is on its way somewhere: wait for one
  else if (res == -EINTR || res == -EAGAIN) ring_recv(c, d);
  else failed(c, d == UPSTREAM, uv_translate_sys_error(-res)); // the reader failed
}

/** A send of direction d is done: the rest goes, or its buffer goes back and the next receive is asked for. */
static void ring_sent(conn_t *c, int d, int32_t res) {
  dir_t *dir = &c->d[d];
  if (res == -EINTR || res == -EAGAIN) {
    ring_send(c, d);
    return;
  }
  if (res < 0) {
    failed(c, d == CLIENT, uv_translate_sys_error(-res)); // the writer failed; closing gives the buffer back
    return;
  }
  c->bytes += (uint64_t)res;
  if (d == UPSTREAM) c->l->bytes_out += res;
  dir->off += (size_t)res;
  if (dir->off < dir->len) {
    ring_send(c, d);
    return;
  }
  if (dir->len == READ_BUF) {
    // The last receive filled the buffer: a stream, whose next bytes are likely there already. Read them into the
    // same buffer now rather than through another receive's completion (1 GiB: proxy CPU 520 instead of 620 ms,
    // epoll's 520-530, in interleaved reads). An end or an error is left to the receive below.
    ssize_t n;
    do n = recv(c->fd[d], bufring_at(&bufs, (unsigned)dir->bid), READ_BUF, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
      pass_on(c, d, (size_t)n);
      return;
    }
  }
  unsigned bid = (unsigned)dir->bid;
  dir->bid = -1;
  ring_recv(c, d); // asked for before the buffer goes back: a starved receive elsewhere may take it first
  buffer_back(bid);
}

static void on_cqe(uint64_t tag, int32_t res, uint32_t flags) {
  int op = (int)(tag & 0xf);
  if (op == OP_NONE) return;
  slot_t *s = op_slot(tag);
  if (s == NULL) { // its socket is closed: only what it held goes back
    if (op == OP_RECV && (flags & IORING_CQE_F_BUFFER)) buffer_back(flags >> IORING_CQE_BUFFER_SHIFT);
    else if (op == OP_SEND) buffer_back((unsigned)(tag >> 4) & 0xfff);
    return;
  }
  conn_t *c = (conn_t *)s->owner;
  int side = side_of(s);
  if (op == OP_RECV) {
    c->recv_on[side] = 0;
    received(c, side, res, flags);
  } else if (op == OP_SEND) {
    c->send_on[side] = 0;
    ring_sent(c, side ^ 1, res);
  } else {
    c->poll_on = 0;
    uint32_t e = res < 0 ? EPOLLERR : (uint32_t)res;
    if (!c->connected) connecting(c, e);
    else if (ring_pending(c)) ring_recv(c, CLIENT);
  }
}

/** Submits what is queued, runs the completions the kernel deferred, and handles them; again while there are more. */
static void ring_turn(void) {
  for (int round = 0; round < RING_ROUNDS; round++) {
    int err = ring_get_events(&ring); // EBUSY: completions overflowed the queue; those in it are still handled
    unsigned head = *ring.cq_head, tail = __atomic_load_n(ring.cq_tail, __ATOMIC_ACQUIRE);
    if (head == tail && (err != 0 || !ring_work_pending(&ring))) return;
    while (head != tail) {
      struct io_uring_cqe *q = &ring.cqes[head & *ring.cq_mask];
      uint64_t tag = q->user_data;
      int32_t res = q->res;
      uint32_t flags = q->flags;
      __atomic_store_n(ring.cq_head, ++head, __ATOMIC_RELEASE);
      on_cqe(tag, res, flags);
    }
  }
  ring_more = 1;
  defer();
}

static void on_ring(uv_poll_t *h, int status, int events) {
  (void)h;
  (void)status;
  (void)events;
  uint64_t v;
  ssize_t r = read(ring_efd, &v, sizeof v); // drained: the next completion signals it again
  (void)r;
  enter();
  ring_turn();
  leave(0);
}

/**
 * Sets the ring up, with `n` receive buffers (a power of two: JS checked it), the first time a listener asks for it:
 * once per process. On failure ring_err says why and listeners use epoll.
 */
static void ring_setup(unsigned n) {
  if (ring_tried) return;
  ring_tried = 1;
  nbufs = n;
  int e = ring_init(&ring, 4096);
  if (e == 0) e = bufring_init(&ring, &bufs, nbufs, READ_BUF, 0);
  if (e == 0) {
    ring_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ring_efd < 0) e = -errno;
  }
  if (e == 0) e = ring_register(&ring, IORING_REGISTER_EVENTFD, &ring_efd, 1);
  if (e == 0 && (uv_poll_init(loop, &ring_poll_h, ring_efd) != 0 || uv_poll_start(&ring_poll_h, UV_READABLE, on_ring) != 0))
    e = -EINVAL;
  if (e != 0) {
    ring_err = -e;
    return; // what was set up stays unused: once per process
  }
  uv_unref((uv_handle_t *)&ring_poll_h); // the sockets keep the loop alive (poll_h), not the ring
  for (unsigned i = 0; i < nbufs; i++) bufring_put(&bufs, i);
  ring_err = 0;
}
#else
static void ring_start(conn_t *c) {
  (void)c;
}
static void ring_setup(unsigned n) {
  (void)n;
}
#endif

// ---- sweeps: connect timeout, idle timeout -------------------------------------------------------------------

/**
 * Whether a connect has finished (or failed) though its event has not been read: timers run before the loop's I/O,
 * so after the loop was busy a sweep can come to a connect that is done. Not a timeout: its event says how it went.
 */
static int connect_settled(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  return poll(&p, 1, 0) == 1;
}

static void sweep(uv_timer_t *t) {
  listener_t *l = (listener_t *)t->data;
  uint64_t now = uv_now(loop);
  enter();
  conn_t *c = l->conns;
  while (c != NULL) {
    conn_t *next = c->next;
    if (!c->connected) {
      if (c->fd[UPSTREAM] >= 0 && now - c->since >= l->connect_ms && !connect_settled(c->fd[UPSTREAM])) connect_failed(c, "ETIMEDOUT");
    } else if (l->idle_ms > 0) {
      if (c->bytes != c->seen) {
        c->seen = c->bytes;
        c->since = now;
      } else if (now - c->since >= l->idle_ms)
        destroy(c, 0);
    }
    // connect_failed may have destroyed c (not next: only c is touched), and a retry keeps c in the list.
    c = next;
  }
  if (l->conns == NULL) uv_timer_stop(t);
  leave(0);
}

static void ensure_sweep(listener_t *l) {
  if (l->timer == NULL) {
    l->timer = malloc(sizeof *l->timer);
    if (l->timer == NULL) return;
    uv_timer_init(loop, l->timer);
    l->timer->data = l;
    uv_unref((uv_handle_t *)l->timer); // like the JS engine's sweeps: timeouts alone do not keep the process up
    l->handles++;
  }
  if (!uv_is_active((uv_handle_t *)l->timer)) uv_timer_start(l->timer, sweep, l->sweep_ms, l->sweep_ms);
}

// ---- listeners -------------------------------------------------------------------------------------------------

/** A new client socket: watched from now on (its bytes wait until the upstream is connected), and JS picks. */
static void accepted(listener_t *l, int fd) {
  conn_t *c = calloc(1, sizeof *c);
  // The client's first bytes are usually here already (HAProxy reads at accept too): read before the socket joins
  // the set, so that they go out right after the connect (see attempt) and bring no event of their own.
  ssize_t n = -1;
  int early_err = 0;
  if (c != NULL) {
    do n = recv(fd, read_buf, READ_BUF, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) early_err = errno;
    if (n > 0 && (c->d[0].pending = malloc((size_t)n)) == NULL) {
      free(c);
      c = NULL;
    } else if (n > 0) {
      memcpy(c->d[0].pending, read_buf, (size_t)n);
      c->d[0].len = (size_t)n;
    }
  }
  int64_t slot = c == NULL ? -1 : slot_new(c, K_CLIENT);
  if (slot < 0 || watch(fd, (uint32_t)slot, EPOLLIN | EPOLLRDHUP | EPOLLET, l->ring) != 0) {
    if (slot >= 0) slot_free((uint32_t)slot);
    if (c != NULL) free(c->d[0].pending);
    free(c);
    close(fd);
    return;
  }
  c->l = l;
  c->ring = l->ring;
  c->d[0].bid = c->d[1].bid = -1;
  c->fd[CLIENT] = fd;
  c->slot[CLIENT] = (uint32_t)slot;
  c->fd[UPSTREAM] = -1;
  c->writable[CLIENT] = 1;
  c->target = -1;
  l->nconns++;
  l->connections++;
  l->active++;
  c->serial = l->connections;
  c->next = l->conns;
  if (l->conns != NULL) l->conns->prev = c;
  l->conns = c;
  ensure_sweep(l);
  if (n > 0) {
    l->bytes_in += (double)n;
    c->bytes += (uint64_t)n;
  } else if (n == 0) {
    c->readable[CLIENT] = 1; // its FIN: passed on once the upstream is connected
  }
  if (early_err != 0) {
    // Reset (or failed) before a backend was asked for: nothing to pass it on to.
    destroy(c, 0);
    return;
  }
  if (env_gone || l->js_gone) {
    refuse(c);
    return;
  }
  napi_env env = l->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value argv[5];
  argv[0] = num(env, l->id);
  size_t argc = 1;
  if (l->want_addr) {
    client_addresses(env, c, argv + 1);
    argc = 5;
  }
  int32_t id = decision(env, call_js(env, pick_ref, argc, argv, 0), c);
  napi_close_handle_scope(env, scope);
  if (c->closing) return;
  if (id < 0) refuse(c);
  else attempt(c, id);
}

/** Out of descriptors: accept and close what waits (it would wake the loop forever), keeping one fd in reserve for it. */
static int shed(int lfd) {
  if (reserve_fd < 0) return 0;
  close(reserve_fd);
  reserve_fd = -1;
  int fd;
  while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0 || errno == EINTR)
    if (fd >= 0) close(fd);
  reserve_fd = open("/", O_RDONLY | O_CLOEXEC);
  return 1;
}

static void on_listener(listener_t *l) {
  for (int i = 0; i < ACCEPTS_PER_TURN && l->listening; i++) {
    int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      accepted(l, fd);
      continue;
    }
    int e = errno;
    if (e == EINTR || e == ECONNABORTED) continue;
    if (e == EAGAIN || e == EWOULDBLOCK) return;
    if ((e == EMFILE || e == ENFILE) && shed(l->fd)) return;
    tell(l, "accept", errno_name(e));
    return;
  }
}

static void stop_listening(listener_t *l) {
  if (!l->listening) return;
  l->listening = 0;
  unwatch_close(l->fd, l->slot);
  l->fd = -1;
  l->handles++; // until the idle turn has processed the close
  l->stopped_next = stopped;
  stopped = l;
  defer();
}

static void on_timer_closed(uv_handle_t *h) {
  listener_t *l = (listener_t *)h->data;
  free(h);
  l->handles--;
  maybe_free(l);
}

static void finalize_listener(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  listener_t *l = (listener_t *)data;
  l->js_gone = 1;
  maybe_free(l);
}

// ---- the loop's side: events, deferred work --------------------------------------------------------------------

static void dispatch(uint64_t tag, uint32_t e) {
  slot_t *s = slot_of(tag);
  if (s == NULL) return;
  if (s->kind == K_LISTENER) on_listener((listener_t *)s->owner);
  else on_socket((conn_t *)s->owner, side_of(s), e);
}

/** Reads cut short last turn: again (a socket still readable has no new edge to say so). */
static void run_again(void) {
  if (again.n == 0) return;
  tags_t t = again; // a read cut short again now is for the next turn
  memset(&again, 0, sizeof again);
  for (size_t i = t.head; i < t.n; i++) {
    slot_t *s = slot_of(t.v[i]);
    if (s == NULL) continue;
    conn_t *c = (conn_t *)s->owner;
    if (!c->closing) pump(c, side_of(s));
  }
  free(t.v);
}

static void on_events(uv_poll_t *h, int status, int events) {
  (void)h;
  (void)status;
  (void)events;
  struct epoll_event ev[MAX_EVENTS];
  int n;
  do n = epoll_wait(epfd, ev, MAX_EVENTS, 0);
  while (n < 0 && errno == EINTR);
  enter();
  for (int i = 0; i < n; i++) dispatch(ev[i].data.u64, ev[i].events);
  leave(0);
}

static void on_idle(uv_idle_t *h) {
  enter();
  run_again();
#ifdef KNET_HAVE_RING
  if (ring_more) {
    ring_more = 0;
    ring_turn();
  }
#endif
  while (stopped != NULL) {
    listener_t *l = stopped;
    stopped = l->stopped_next;
    l->server_closed = 1;
    l->handles--;
    if (l->nconns == 0) all_closed(l);
    maybe_free(l);
  }
  leave(0);
#ifdef KNET_HAVE_RING
  if (ring_more) return;
#endif
  if (again.n == 0 && stopped == NULL && graveyard == NULL) uv_idle_stop(h);
}

// ---- N-API surface ---------------------------------------------------------------------------------------------

#define ARGS(n)                                                           \
  size_t argc = n;                                                        \
  napi_value argv[n];                                                     \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;

static listener_t *listener_arg(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a native listener");
    return NULL;
  }
  return (listener_t *)p;
}

/** The arguments of a call whose first is a listener: `l`, or the call returns (a TypeError is pending). */
#define LISTENER_ARGS(n)                                                  \
  ARGS(n);                                                                \
  listener_t *l = listener_arg(env, argv[0]);                             \
  if (l == NULL) return NULL;

static int parse_addr(napi_env env, napi_value a, napi_value p, addr_t *out) {
  char host[INET6_ADDRSTRLEN + 16];
  size_t len;
  int32_t port;
  if (napi_get_value_string_utf8(env, a, host, sizeof host, &len) != napi_ok || len >= sizeof host - 1) return UV_EINVAL;
  if (napi_get_value_int32(env, p, &port) != napi_ok || port < 0 || port > 65535) return UV_EINVAL;
  memset(out, 0, sizeof *out);
  if (strchr(host, ':') != NULL) return uv_ip6_addr(host, port, &out->v6);
  return uv_ip4_addr(host, port, &out->v4);
}

/** init(pick, retry, event): the JS callbacks and the engine's epoll set, once per process. */
static napi_value js_init(napi_env env, napi_callback_info info) {
  ARGS(3);
  if (pick_ref != NULL) return NULL;
  napi_get_uv_event_loop(env, &loop);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0 || uv_poll_init(loop, &poll_h, epfd) != 0) {
    napi_throw_error(env, errno_name(errno), "tcp engine: epoll_create1 failed");
    return NULL;
  }
  uv_poll_start(&poll_h, UV_READABLE, on_events);
  uv_unref((uv_handle_t *)&poll_h); // referenced while sockets are watched
  uv_idle_init(loop, &idle_h);
  reserve_fd = open("/", O_RDONLY | O_CLOEXEC);
  napi_create_reference(env, argv[0], 1, &pick_ref);
  napi_create_reference(env, argv[1], 1, &retry_ref);
  napi_create_reference(env, argv[2], 1, &event_ref);
  napi_value resource, name;
  napi_create_object(env, &resource);
  name = str(env, "knet.tcpEngine");
  napi_async_init(env, resource, name, &async_ctx);
  return NULL;
}

/** A listening socket as libuv's uv_tcp_bind + uv_listen make it (SO_REUSEADDR), plus TCP_NODELAY for accepted sockets to inherit. */
static int open_listener(const addr_t *addr, int backlog, int *out) {
  int fd = socket(addr->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int one = 1;
  socklen_t len = addr->sa.sa_family == AF_INET6 ? sizeof addr->v6 : sizeof addr->v4;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 || bind(fd, &addr->sa, len) != 0 ||
      listen(fd, backlog) != 0) {
    int e = errno;
    close(fd);
    return e;
  }
  *out = fd;
  return 0;
}

/** The ring's buffer count a call asks for (0: no ring); the ring is set up on the first that asks. */
static int ring_asked(napi_env env, napi_value v) {
  uint32_t n = 0;
  napi_get_value_uint32(env, v, &n);
  if (n == 0) return 0;
  ring_setup(n);
  return 1;
}

/**
 * listen(id, address, port, backlog, connectTimeoutMs, idleTimeoutMs, sweepMs, ringBuffers) → the listener (an
 * external), or the errno code of the failed bind/listen ('EADDRINUSE', 'EACCES'...). ringBuffers > 0: its
 * connections use the ring (set up with that many buffers if it is the first to ask), if there can be one.
 */
static napi_value js_listen(napi_env env, napi_callback_info info) {
  ARGS(8);
  int ring_wanted = ring_asked(env, argv[7]);
  int32_t id, backlog;
  double connect_ms, idle_ms, sweep_ms;
  addr_t addr;
  napi_get_value_int32(env, argv[0], &id);
  napi_get_value_int32(env, argv[3], &backlog);
  napi_get_value_double(env, argv[4], &connect_ms);
  napi_get_value_double(env, argv[5], &idle_ms);
  napi_get_value_double(env, argv[6], &sweep_ms);
  if (epfd < 0) return str(env, "EBADF"); // init() failed
  int r = parse_addr(env, argv[1], argv[2], &addr);
  if (r != 0) return str(env, uv_err_name(r));
  int fd = -1;
  r = open_listener(&addr, backlog, &fd);
  if (r != 0) return str(env, errno_name(r));
  listener_t *l = calloc(1, sizeof *l);
  int64_t slot = l == NULL ? -1 : slot_new(l, K_LISTENER);
  // Level-triggered: what one turn does not accept wakes the next.
  if (slot < 0 || watch(fd, (uint32_t)slot, EPOLLIN, 0) != 0) {
    if (slot >= 0) slot_free((uint32_t)slot);
    free(l);
    close(fd);
    return str(env, "ENOMEM");
  }
  l->env = env;
  l->id = id;
  l->fd = fd;
  l->slot = (uint32_t)slot;
  l->connect_ms = connect_ms < 1 ? 1 : (uint64_t)connect_ms;
  l->idle_ms = idle_ms < 0 ? 0 : (uint64_t)idle_ms;
  l->sweep_ms = sweep_ms < 1 ? 1 : (uint64_t)sweep_ms;
  l->listening = 1;
  l->ring = ring_wanted && ring_err == 0;
  napi_value ext;
  napi_create_external(env, l, finalize_listener, NULL, &ext);
  return ext;
}

/** port(listener): the bound port, asked of the kernel on first use (a cold start binds 10,000 and asks none). */
static napi_value js_port(napi_env env, napi_callback_info info) {
  LISTENER_ARGS(1);
  if (l->port == 0 && l->listening) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char ignored[INET6_ADDRSTRLEN + 1];
    if (getsockname(l->fd, (struct sockaddr *)&ss, &len) == 0) addr_string(&ss, ignored, sizeof ignored, &l->port);
  }
  return num(env, l->port);
}

/** target(listener, id, address, port, live): where target `id` is, and whether new connects to it may finish. */
static napi_value js_target(napi_env env, napi_callback_info info) {
  LISTENER_ARGS(5);
  int32_t id;
  bool live;
  napi_get_value_int32(env, argv[1], &id);
  napi_get_value_bool(env, argv[4], &live);
  if (id < 0 || id > 1 << 24) {
    napi_throw_range_error(env, NULL, "target id out of range");
    return NULL;
  }
  if (id >= l->ntargets) {
    int32_t n = l->ntargets == 0 ? 16 : l->ntargets;
    while (n <= id) n *= 2;
    target_t *t = realloc(l->targets, sizeof(target_t) * n);
    if (t == NULL) {
      napi_throw_error(env, "ENOMEM", "out of memory");
      return NULL;
    }
    memset(t + l->ntargets, 0, sizeof(target_t) * (n - l->ntargets));
    l->targets = t;
    l->ntargets = n;
  }
  target_t *t = &l->targets[id];
  napi_valuetype at;
  napi_typeof(env, argv[2], &at);
  if (at == napi_string) {
    if (parse_addr(env, argv[2], argv[3], &t->addr) != 0) {
      napi_throw_range_error(env, "EINVAL", "target: not an IP address and port");
      return NULL;
    }
    t->set = 1;
  }
  t->live = live ? 1 : 0;
  return NULL;
}

/** configure(listener, wantAddresses): pass client addresses to pick/retry (affinity, PROXY protocol). */
static napi_value js_configure(napi_env env, napi_callback_info info) {
  LISTENER_ARGS(2);
  bool b;
  napi_get_value_bool(env, argv[1], &b);
  l->want_addr = b;
  return NULL;
}

/** drain(listener, ids | null, upToSerial): closes connections accepted up to a serial, to those targets (null: all). */
static napi_value js_drain(napi_env env, napi_callback_info info) {
  LISTENER_ARGS(3);
  double limit;
  napi_get_value_double(env, argv[2], &limit);
  int32_t *ids = NULL;
  size_t n = 0;
  napi_valuetype t;
  napi_typeof(env, argv[1], &t);
  if (t != napi_null && t != napi_undefined) {
    napi_typedarray_type tt;
    void *data;
    if (napi_get_typedarray_info(env, argv[1], &tt, &n, &data, NULL, NULL) != napi_ok || tt != napi_int32_array) {
      napi_throw_type_error(env, NULL, "drain: ids must be an Int32Array or null");
      return NULL;
    }
    ids = (int32_t *)data;
  }
  enter();
  conn_t *c = l->conns;
  while (c != NULL) {
    conn_t *next = c->next;
    if (c->serial <= limit) {
      int hit = ids == NULL;
      for (size_t i = 0; !hit && i < n; i++) hit = ids[i] == c->target;
      if (hit) destroy(c, 0);
    }
    c = next;
  }
  leave(1);
  return NULL;
}

/** stop(listener): stops accepting; 'closed' follows once the last connection is gone. */
static napi_value js_stop(napi_env env, napi_callback_info info) {
  LISTENER_ARGS(1);
  stop_listening(l);
  return NULL;
}

/** counters(listener, Float64Array(6)): connections (also the serial of the last accept), active, failures, connectErrors, bytesIn, bytesOut. */
static napi_value js_counters(napi_env env, napi_callback_info info) {
  LISTENER_ARGS(2);
  napi_typedarray_type tt;
  size_t n;
  void *data;
  if (napi_get_typedarray_info(env, argv[1], &tt, &n, &data, NULL, NULL) != napi_ok || tt != napi_float64_array || n < 6) {
    napi_throw_type_error(env, NULL, "counters: expected a Float64Array of 6");
    return NULL;
  }
  double *o = (double *)data;
  o[0] = l->connections;
  o[1] = (double)l->active;
  o[2] = l->failures;
  o[3] = l->connect_errors;
  o[4] = l->bytes_in;
  o[5] = l->bytes_out;
  return NULL;
}

/** ioUring(ringBuffers): '' when connections can use the ring, else why not (an errno code: ENOSYS, EPERM...). */
static napi_value js_io_uring(napi_env env, napi_callback_info info) {
  ARGS(1);
  ring_asked(env, argv[0]);
  return str(env, ring_err == 0 ? "" : errno_name(ring_err));
}

static void env_cleanup(void *arg) {
  (void)arg;
  env_gone = 1;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"init", NULL, js_init, NULL, NULL, NULL, napi_default, NULL},
      {"listen", NULL, js_listen, NULL, NULL, NULL, napi_default, NULL},
      {"port", NULL, js_port, NULL, NULL, NULL, napi_default, NULL},
      {"target", NULL, js_target, NULL, NULL, NULL, napi_default, NULL},
      {"configure", NULL, js_configure, NULL, NULL, NULL, napi_default, NULL},
      {"drain", NULL, js_drain, NULL, NULL, NULL, napi_default, NULL},
      {"stop", NULL, js_stop, NULL, NULL, NULL, napi_default, NULL},
      {"counters", NULL, js_counters, NULL, NULL, NULL, napi_default, NULL},
      {"ioUring", NULL, js_io_uring, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_add_env_cleanup_hook(env, env_cleanup, NULL);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
