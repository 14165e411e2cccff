// The native TCP engine of @knet/dataplane: listening sockets, accepts, backend connects and the byte pump, on the
// proxy's own libuv loop (no threads, no locks). Hand-written because bench:dataplane showed Node's socket layer
// (a Socket object, streams and JS callbacks per connection, per read and per write) to be the bottleneck against
// HAProxy; the pure-JS engine (tcp-listener.ts) stays as the portable one.
//
// JS keeps every decision, once per connection: on accept C calls pick() (backend choice, affinity, the PROXY
// header); on a failed connect it calls retry(). C only moves bytes, counts, and enforces timeouts.
//
// Lifetimes: a listener lives until its server and timer handles are closed, its last connection is freed and JS
// has dropped it (the external's finalizer). A connection lives until its client and upstream handles are closed.
// An abandoned connect attempt (failed or timed out) closes its own handle and counts on the listener.
#include <node_api.h>
#include <uv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/socket.h>

#define READ_BUF 65536

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

typedef struct {
  uv_tcp_t tcp;
  uv_connect_t req;
  conn_t *conn; // NULL once abandoned
  listener_t *l;
} upstream_t;

/** One direction of a connection: 0 client → upstream, 1 upstream → client. */
typedef struct {
  uv_write_t req;
  uv_shutdown_t shut;
  char *pending;   // the part a try_send did not take, while uv_write sends it (reads stopped meanwhile)
  size_t pending_len;
  uint8_t eof;     // the reader sent FIN
} dir_t;

struct conn {
  listener_t *l;
  conn_t *prev, *next;
  uv_tcp_t client;
  upstream_t *up;
  uv_write_t header_req;
  char *header; // PROXY protocol header, written to each upstream before any client byte
  size_t header_len;
  int32_t target;
  int32_t *tried;
  int ntried;
  double serial; // the listener's connection count when accepted: drain() closes connections up to a serial
  uint64_t since; // connect started, then last traffic seen (uv_now, ms)
  uint64_t bytes; // bytes moved either way
  uint64_t seen;  // bytes at the last sweep
  uint8_t connected, closing, open; // open: handles not yet closed
  dir_t d[2];
};

struct listener {
  napi_env env;
  int32_t id;
  uv_tcp_t server;
  uv_timer_t *timer;
  conn_t *conns;
  double connections, failures, connect_errors, bytes_in, bytes_out;
  int64_t active; // accepted and not yet closing
  int64_t nconns; // not yet freed
  int handles;    // server, timer and abandoned upstreams not yet closed
  int port;
  uint64_t connect_ms, idle_ms, sweep_ms;
  target_t *targets;
  int32_t ntargets;
  uint8_t want_addr, listening, server_closed, closed_told, js_gone;
};

static napi_ref pick_ref, retry_ref, event_ref;
static napi_async_context async_ctx;
static int env_gone;
static char read_buf[READ_BUF];

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
  int port = 0, len;
  napi_value undef;
  napi_get_undefined(env, &undef);
  for (int i = 0; i < 4; i++) argv[i] = undef;
  len = sizeof ss;
  if (uv_tcp_getpeername(&c->client, (struct sockaddr *)&ss, &len) == 0 && addr_string(&ss, buf, sizeof buf, &port) == 0) {
    argv[0] = str(env, buf);
    argv[1] = num(env, port);
  }
  len = sizeof ss;
  if (uv_tcp_getsockname(&c->client, (struct sockaddr *)&ss, &len) == 0 && addr_string(&ss, buf, sizeof buf, &port) == 0) {
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
  if (is_buf && c->header == NULL) {
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

/** The server is closed and the last connection gone: the sweep timer goes, and JS hears 'closed'. */
static void all_closed(listener_t *l) {
  if (l->closed_told) return;
  l->closed_told = 1;
  if (l->timer != NULL) {
    uv_close((uv_handle_t *)l->timer, on_timer_closed);
    l->timer = NULL;
  }
  tell(l, "closed", "");
}

static void conn_handle_closed(conn_t *c) {
  if (--c->open > 0) return;
  listener_t *l = c->l;
  for (int i = 0; i < 2; i++) free(c->d[i].pending);
  free(c->header);
  free(c->tried);
  free(c);
  l->nconns--;
  if (l->server_closed && l->nconns == 0) all_closed(l);
  maybe_free(l);
}

static void on_client_closed(uv_handle_t *h) {
  conn_handle_closed((conn_t *)h->data);
}

static void on_upstream_closed(uv_handle_t *h) {
  upstream_t *up = (upstream_t *)h->data;
  conn_t *c = up->conn;
  listener_t *l = up->l;
  free(up);
  if (c != NULL) conn_handle_closed(c);
  else {
    l->handles--;
    maybe_free(l);
  }
}

static void close_tcp(uv_tcp_t *h, int reset, uv_close_cb cb) {
  if (uv_is_closing((uv_handle_t *)h)) return;
  if (reset && uv_tcp_close_reset(h, cb) == 0) return;
  uv_close((uv_handle_t *)h, cb);
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
  close_tcp(&c->client, how & RESET_CLIENT, on_client_closed);
  if (c->up != NULL) close_tcp(&c->up->tcp, how & RESET_UPSTREAM, on_upstream_closed);
}

static void refuse(conn_t *c) {
  c->l->failures++;
  destroy(c, RESET_CLIENT);
}

static void attempt(conn_t *c, int32_t id);

/** The current connect attempt failed: close it and let JS name the next backend, or refuse the client. */
static void connect_failed(conn_t *c, const char *code) {
  listener_t *l = c->l;
  upstream_t *up = c->up;
  c->up = NULL;
  c->open--; // the upstream handle no longer belongs to the connection
  up->conn = NULL;
  l->handles++;
  uv_close((uv_handle_t *)&up->tcp, on_upstream_closed);
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

/**
 * No buffer: libuv then hands the read over (the read callback gets UV_ENOBUFS, as uv_alloc_cb documents) and
 * receive() reads with recv(2) instead of libuv's read(2), whose VFS layer cost ~2% of the proxy's CPU per
 * keep-alive request (perf, against HAProxy's recv/send).
 */
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  buf->base = NULL;
  buf->len = 0;
}

/** One read into the buffer every socket shares (on_read consumes or copies it before the next): bytes, UV_EOF, 0 (nothing yet) or an error. */
static ssize_t receive(uv_stream_t *s) {
  uv_os_fd_t fd;
  if (uv_fileno((uv_handle_t *)s, &fd) != 0) return UV_EBADF;
  ssize_t n;
  do n = recv(fd, read_buf, READ_BUF, 0);
  while (n < 0 && errno == EINTR);
  if (n > 0) return n;
  if (n == 0) return UV_EOF;
  if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
  return uv_translate_sys_error(errno);
}

static uv_stream_t *reader(conn_t *c, int d) {
  return d == 0 ? (uv_stream_t *)&c->client : (uv_stream_t *)&c->up->tcp;
}
static uv_stream_t *writer(conn_t *c, int d) {
  return d == 0 ? (uv_stream_t *)&c->up->tcp : (uv_stream_t *)&c->client;
}

/** One socket failed: both close, and the other side is reset when this one was reset (a reset is passed on). */
static void failed(conn_t *c, int upstream_failed, int err) {
  if (err != UV_ECONNRESET) destroy(c, 0);
  else destroy(c, upstream_failed ? RESET_CLIENT : RESET_UPSTREAM);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  (void)req;
  (void)status; // a failure shows up as a read error on the same socket
}

/** Direction d has passed on everything up to its FIN: pass the FIN on, or close when the other way is done too. */
static void finish(conn_t *c, int d) {
  dir_t *o = &c->d[d ^ 1];
  if (o->eof && o->pending == NULL) {
    // Both ways done: close() sends the FINs (nothing is unread on either socket, so no reset).
    destroy(c, 0);
    return;
  }
  uv_stream_t *w = writer(c, d);
  uv_os_fd_t fd;
  // Nothing queued: shutdown(2) now. uv_shutdown would wait for a writable event first (two epoll_ctl and a
  // loop turn per connection). An error (the peer is gone) shows up as a read error on that socket.
  if (uv_stream_get_write_queue_size(w) == 0 && uv_fileno((uv_handle_t *)w, &fd) == 0) {
    shutdown(fd, SHUT_WR);
    return;
  }
  if (uv_shutdown(&c->d[d].shut, w, on_shutdown) != 0) destroy(c, 0);
}

static int start_reading(conn_t *c, int d);

/**
 * uv_try_write with send(2) instead of write(2): the same contract (nothing while a write is queued: UV_EAGAIN),
 * without the VFS layer write(2) adds on a socket (perf under wrk keep-alive: ~2% of the proxy's CPU per request,
 * which HAProxy's send(2) does not pay). MSG_NOSIGNAL: a peer gone is EPIPE, never SIGPIPE.
 */
static int try_send(uv_stream_t *w, const char *buf, size_t len) {
  uv_os_fd_t fd;
  if (uv_stream_get_write_queue_size(w) != 0) return UV_EAGAIN;
  if (uv_fileno((uv_handle_t *)w, &fd) != 0) return UV_EBADF;
  ssize_t n;
  do n = send(fd, buf, len, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n >= 0) return (int)n;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return UV_EAGAIN;
  return uv_translate_sys_error(errno);
}

static void on_write(uv_write_t *req, int status) {
  conn_t *c = (conn_t *)req->data;
  int d = req == &c->d[0].req ? 0 : 1;
  dir_t *dir = &c->d[d];
  size_t len = dir->pending_len;
  free(dir->pending);
  dir->pending = NULL;
  dir->pending_len = 0;
  if (status == UV_ECANCELED || c->closing) return;
  if (status < 0) {
    failed(c, d == 0, status); // the writer failed
    return;
  }
  if (d == 1) c->l->bytes_out += (double)len;
  c->bytes += len;
  if (dir->eof) finish(c, d);
  else if (start_reading(c, d) != 0) destroy(c, 0);
}

/** What one read of direction d gave (bytes in read_buf, UV_EOF, 0 for nothing, an error): passed on. */
static void pass(conn_t *c, int d, uv_stream_t *s, ssize_t nread) {
  if (nread > 0) {
    listener_t *l = c->l;
    if (d == 0) l->bytes_in += (double)nread;
    c->bytes += (uint64_t)nread;
    int w = try_send(writer(c, d), read_buf, (size_t)nread);
    if (w == nread) {
      if (d == 1) l->bytes_out += (double)w;
      return;
    }
    if (w < 0 && w != UV_EAGAIN) {
      failed(c, d == 0, w); // the writer failed
      return;
    }
    if (w < 0) w = 0;
    if (d == 1) l->bytes_out += (double)w;
    // Backpressure: keep what is left, stop reading until it is written.
    dir_t *dir = &c->d[d];
    size_t rest = (size_t)nread - (size_t)w;
    dir->pending = malloc(rest);
    if (dir->pending == NULL) {
      destroy(c, 0);
      return;
    }
    memcpy(dir->pending, read_buf + w, rest);
    dir->pending_len = rest;
    uv_read_stop(s);
    dir->req.data = c;
    uv_buf_t wb = uv_buf_init(dir->pending, (unsigned)rest);
    if (uv_write(&dir->req, writer(c, d), &wb, 1, on_write) != 0) {
      free(dir->pending);
      dir->pending = NULL;
      destroy(c, 0);
    }
    return;
  }
  if (nread == 0) return;
  if (nread == UV_EOF) {
    c->d[d].eof = 1;
    uv_read_stop(s);
    if (c->d[d].pending == NULL) finish(c, d);
    return;
  }
  failed(c, d == 1, (int)nread); // the reader failed
}

static void on_read(conn_t *c, int d, uv_stream_t *s, ssize_t nread) {
  if (c == NULL || c->closing) return;
  if (nread != UV_ENOBUFS) {
    pass(c, d, s, nread); // libuv's own error
    return;
  }
  // Like libuv's reads: again while a read fills the buffer and all of it was passed on (at most 32 times).
  for (int i = 0; i < 32 && !c->closing; i++) {
    ssize_t n = receive(s);
    pass(c, d, s, n);
    if (n < READ_BUF || c->d[d].pending != NULL) return;
  }
}

static void on_client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  (void)buf;
  on_read((conn_t *)s->data, 0, s, nread);
}

static void on_upstream_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  (void)buf;
  on_read(((upstream_t *)s->data)->conn, 1, s, nread);
}

static int start_reading(conn_t *c, int d) {
  return uv_read_start(reader(c, d), alloc_cb, d == 0 ? on_client_read : on_upstream_read);
}

static void on_header_written(uv_write_t *req, int status) {
  conn_t *c = (conn_t *)req->data;
  if (status < 0 && status != UV_ECANCELED && !c->closing) failed(c, 1, status);
}

static void established(conn_t *c) {
  c->connected = 1;
  c->since = uv_now(uv_handle_get_loop((uv_handle_t *)&c->client));
  c->seen = c->bytes;
  if (c->header != NULL) {
    // Queued first: try_send refuses while the queue is not empty, so client bytes follow it.
    uv_buf_t b = uv_buf_init(c->header, (unsigned)c->header_len);
    c->header_req.data = c;
    if (uv_write(&c->header_req, (uv_stream_t *)&c->up->tcp, &b, 1, on_header_written) != 0) {
      destroy(c, 0);
      return;
    }
  }
  // The upstream already reads (see attempt): only the client starts now.
  if (start_reading(c, 0) != 0) destroy(c, 0);
}

static void on_connect(uv_connect_t *req, int status) {
  upstream_t *up = (upstream_t *)req->data;
  conn_t *c = up->conn;
  if (c == NULL || c->closing || c->up != up || status == UV_ECANCELED) return;
  if (status < 0) {
    connect_failed(c, uv_err_name(status));
    return;
  }
  listener_t *l = c->l;
  if (c->target >= l->ntargets || !l->targets[c->target].live) {
    connect_failed(c, "EREMOVED");
    return;
  }
  established(c);
}

static void attempt(conn_t *c, int32_t id) {
  listener_t *l = c->l;
  if (id < 0 || id >= l->ntargets || !l->targets[id].set) {
    refuse(c);
    return;
  }
  upstream_t *up = calloc(1, sizeof *up);
  if (up == NULL) {
    refuse(c);
    return;
  }
  uv_loop_t *loop = uv_handle_get_loop((uv_handle_t *)&c->client);
  uv_tcp_init(loop, &up->tcp);
  up->tcp.data = up;
  up->req.data = up;
  up->conn = c;
  up->l = l;
  c->up = up;
  c->open++;
  c->target = id;
  c->since = uv_now(loop);
  uv_tcp_nodelay(&up->tcp, 1);
  int r = uv_tcp_connect(&up->req, &up->tcp, &l->targets[id].addr.sa, on_connect);
  // Reading is asked for while connecting: libuv then registers the socket once for both events instead of
  // once for the connect and again for reads (an epoll_ctl less per connection). Nothing is read before the
  // connect callback has run: libuv reports the connect first.
  if (r == 0) r = start_reading(c, 1);
  if (r != 0) connect_failed(c, uv_err_name(r));
}

// ---- sweeps: connect timeout, idle timeout -------------------------------------------------------------------

static void sweep(uv_timer_t *t) {
  listener_t *l = (listener_t *)t->data;
  uint64_t now = uv_now(uv_handle_get_loop((uv_handle_t *)t));
  conn_t *c = l->conns;
  while (c != NULL) {
    conn_t *next = c->next;
    if (!c->connected) {
      if (c->up != NULL && now - c->since >= l->connect_ms) connect_failed(c, "ETIMEDOUT");
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
}

static void ensure_sweep(listener_t *l) {
  if (l->timer == NULL) {
    l->timer = malloc(sizeof *l->timer);
    if (l->timer == NULL) return;
    uv_timer_init(uv_handle_get_loop((uv_handle_t *)&l->server), l->timer);
    l->timer->data = l;
    uv_unref((uv_handle_t *)l->timer); // like the JS engine's sweeps: timeouts alone do not keep the process up
    l->handles++;
  }
  if (!uv_is_active((uv_handle_t *)l->timer)) uv_timer_start(l->timer, sweep, l->sweep_ms, l->sweep_ms);
}

// ---- listeners -------------------------------------------------------------------------------------------------

static void on_connection(uv_stream_t *server, int status) {
  listener_t *l = (listener_t *)server->data;
  if (status < 0) {
    tell(l, "accept", uv_err_name(status));
    return;
  }
  conn_t *c = calloc(1, sizeof *c);
  if (c == NULL) return;
  uv_tcp_init(uv_handle_get_loop((uv_handle_t *)server), &c->client);
  c->client.data = c;
  c->l = l;
  c->open = 1;
  c->target = -1;
  l->nconns++;
  if (uv_accept(server, (uv_stream_t *)&c->client) != 0) {
    c->closing = 1;
    uv_close((uv_handle_t *)&c->client, on_client_closed);
    return;
  }
  l->connections++;
  l->active++;
  c->serial = l->connections;
  c->next = l->conns;
  if (l->conns != NULL) l->conns->prev = c;
  l->conns = c;
  uv_tcp_nodelay(&c->client, 1);
  ensure_sweep(l);
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

static void on_server_closed(uv_handle_t *h) {
  listener_t *l = (listener_t *)h->data;
  l->handles--;
  l->server_closed = 1;
  if (l->nconns == 0) all_closed(l);
  maybe_free(l);
}

static void on_timer_closed(uv_handle_t *h) {
  listener_t *l = (listener_t *)h->data;
  free(h);
  l->handles--;
  maybe_free(l);
}

static void stop_listening(listener_t *l) {
  if (!l->listening) return;
  l->listening = 0;
  uv_close((uv_handle_t *)&l->server, on_server_closed);
}

static void finalize_listener(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  listener_t *l = (listener_t *)data;
  l->js_gone = 1;
  maybe_free(l);
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

/** init(pick, retry, event): the JS callbacks, once per process. */
static napi_value js_init(napi_env env, napi_callback_info info) {
  ARGS(3);
  if (pick_ref != NULL) return NULL;
  napi_create_reference(env, argv[0], 1, &pick_ref);
  napi_create_reference(env, argv[1], 1, &retry_ref);
  napi_create_reference(env, argv[2], 1, &event_ref);
  napi_value resource, name;
  napi_create_object(env, &resource);
  name = str(env, "knet.tcpEngine");
  napi_async_init(env, resource, name, &async_ctx);
  return NULL;
}

/**
 * listen(id, address, port, backlog, connectTimeoutMs, idleTimeoutMs, sweepMs) → the listener (an external), or
 * the errno code of the failed bind/listen ('EADDRINUSE', 'EACCES'...).
 */
static napi_value js_listen(napi_env env, napi_callback_info info) {
  ARGS(7);
  int32_t id, backlog;
  double connect_ms, idle_ms, sweep_ms;
  addr_t addr;
  napi_get_value_int32(env, argv[0], &id);
  napi_get_value_int32(env, argv[3], &backlog);
  napi_get_value_double(env, argv[4], &connect_ms);
  napi_get_value_double(env, argv[5], &idle_ms);
  napi_get_value_double(env, argv[6], &sweep_ms);
  int r = parse_addr(env, argv[1], argv[2], &addr);
  if (r != 0) return str(env, uv_err_name(r));
  listener_t *l = calloc(1, sizeof *l);
  if (l == NULL) return str(env, "ENOMEM");
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  l->env = env;
  l->id = id;
  l->connect_ms = connect_ms < 1 ? 1 : (uint64_t)connect_ms;
  l->idle_ms = idle_ms < 0 ? 0 : (uint64_t)idle_ms;
  l->sweep_ms = sweep_ms < 1 ? 1 : (uint64_t)sweep_ms;
  uv_tcp_init(loop, &l->server);
  l->server.data = l;
  l->handles = 1;
  l->listening = 1;
  r = uv_tcp_bind(&l->server, &addr.sa, 0);
  if (r == 0) r = uv_listen((uv_stream_t *)&l->server, backlog, on_connection);
  if (r != 0) {
    l->js_gone = 1; // never handed to JS: freed once the server handle is closed
    l->closed_told = 1;
    stop_listening(l);
    return str(env, uv_err_name(r));
  }
  napi_value ext;
  napi_create_external(env, l, finalize_listener, NULL, &ext);
  return ext;
}

/** port(listener): the bound port, asked of the kernel on first use (a cold start binds 10,000 and asks none). */
static napi_value js_port(napi_env env, napi_callback_info info) {
  ARGS(1);
  listener_t *l = listener_arg(env, argv[0]);
  if (l == NULL) return NULL;
  if (l->port == 0 && l->listening) {
    struct sockaddr_storage ss;
    int len = sizeof ss;
    char ignored[INET6_ADDRSTRLEN + 1];
    if (uv_tcp_getsockname(&l->server, (struct sockaddr *)&ss, &len) == 0) addr_string(&ss, ignored, sizeof ignored, &l->port);
  }
  return num(env, l->port);
}

/** target(listener, id, address, port, live): where target `id` is, and whether new connects to it may finish. */
static napi_value js_target(napi_env env, napi_callback_info info) {
  ARGS(5);
  listener_t *l = listener_arg(env, argv[0]);
  if (l == NULL) return NULL;
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
  ARGS(2);
  listener_t *l = listener_arg(env, argv[0]);
  if (l == NULL) return NULL;
  bool b;
  napi_get_value_bool(env, argv[1], &b);
  l->want_addr = b;
  return NULL;
}

/** drain(listener, ids | null, upToSerial): closes connections accepted up to a serial, to those targets (null: all). */
static napi_value js_drain(napi_env env, napi_callback_info info) {
  ARGS(3);
  listener_t *l = listener_arg(env, argv[0]);
  if (l == NULL) return NULL;
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
  return NULL;
}

/** stop(listener): stops accepting; 'closed' follows once the last connection is gone. */
static napi_value js_stop(napi_env env, napi_callback_info info) {
  ARGS(1);
  listener_t *l = listener_arg(env, argv[0]);
  if (l != NULL) stop_listening(l);
  return NULL;
}

/** counters(listener, Float64Array(7)): connections, active, failures, connectErrors, bytesIn, bytesOut, serial. */
static napi_value js_counters(napi_env env, napi_callback_info info) {
  ARGS(2);
  listener_t *l = listener_arg(env, argv[0]);
  if (l == NULL) return NULL;
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
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_add_env_cleanup_hook(env, env_cleanup, NULL);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
