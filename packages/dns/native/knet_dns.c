// The UDP fast path of the knet DNS server: the socket and the encoded-reply table, in C.
//
// Why hand-written C (an N-API addon) instead of node:dgram: bench:dns measured that a bare Node dgram responder
// (no parsing at all) spends ~7.8 µs of CPU per query on a JS callback per datagram and a send request per reply,
// about as much as dnsmasq spends in total (~8.65 µs); knet with its JS encoded-reply cache spent ~12.5 µs. So no
// JS-side change could reach dnsmasq's QPS. Here one libuv wakeup reads a batch with recvmmsg, repeated questions
// are answered from this table (copy, patch the ID) and the batch's replies leave with one sendmmsg; only misses
// call into JS (synchronously, once per datagram), which answers as before and may hand its reply back to the table.
//
// Same thread as JS (the DNS server's own libuv loop): no locks. The only parsing is length checks and the QR bit:
// a datagram is either the exact octets of a stored query (after the ID) or handed to JS as it came.
#define _GNU_SOURCE  // sendmmsg
#include <node_api.h>

#if !defined(__linux__)
// sendmmsg/recvmmsg are Linux's: elsewhere the addon loads but offers nothing, and the server keeps node:dgram.
NAPI_MODULE_INIT() { return exports; }
#else

#include <uv.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

// ---------------------------------------------------------------------------------------------------------------
// The table: encoded replies keyed by (variant, the query's octets after the ID). Same rules as the JS
// EncodedReplyCache: byte budget of key + reply + ENTRY_OVERHEAD per entry, oldest out first, queries and replies
// over their bounds are not kept, and everything goes when the zone's serial moves.

#define ENTRY_OVERHEAD 160
#define MAX_SLOTS 1024
#define MAX_BOUNDS 32

typedef struct entry {
  struct entry *chain;  // next in the same bucket
  struct entry *newer;  // insertion order, for eviction
  uint64_t hash;
  uint32_t keylen, replylen;
  uint16_t slot;  // what JS knows about the reply (type, rcode, truncated): an index it assigned
  uint8_t variant;
  uint8_t data[];  // key octets, then reply octets
} entry_t;

typedef struct {
  entry_t **buckets;
  size_t nbuckets;  // a power of two
  size_t count, bytes;
  entry_t *oldest, *newest;
  double serial;
  size_t max_bytes, max_query, max_reply;
  // Hit counters in a Float64Array JS owns and reads (no copy, no allocation per report): [0] hits since JS last
  // read them, then per slot: hits, their summed duration (ns), their count per duration bucket (+ overflow).
  int nbounds;
  uint64_t bounds_ns[MAX_BOUNDS];
  double *stats;
  size_t stride;
  napi_ref stats_ref;
} table_t;

static uint64_t hash_key(uint8_t variant, const uint8_t *p, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull) ^ variant;
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  uint64_t w = 0;
  memcpy(&w, p, n);
  h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 32;
  return h;
}

static entry_t *table_find(table_t *t, uint8_t variant, const uint8_t *key, size_t keylen) {
  uint64_t h = hash_key(variant, key, keylen);
  for (entry_t *e = t->buckets[h & (t->nbuckets - 1)]; e; e = e->chain) {
    if (e->hash == h && e->variant == variant && e->keylen == keylen && memcmp(e->data, key, keylen) == 0) return e;
  }
  return NULL;
}

static void table_reset(table_t *t, double serial) {
  for (entry_t *e = t->oldest; e;) {
    entry_t *next = e->newer;
    free(e);
    e = next;
  }
  memset(t->buckets, 0, t->nbuckets * sizeof(entry_t *));
  t->oldest = t->newest = NULL;
  t->count = t->bytes = 0;
  t->serial = serial;
}

static void table_evict_oldest(table_t *t) {
  entry_t *e = t->oldest;
  entry_t **p = &t->buckets[e->hash & (t->nbuckets - 1)];
  while (*p != e) p = &(*p)->chain;
  *p = e->chain;
  t->oldest = e->newer;
  if (!t->oldest) t->newest = NULL;
  t->bytes -= e->keylen + e->replylen + ENTRY_OVERHEAD;
  t->count--;
  free(e);
}

static void table_grow(table_t *t) {
  size_t n = t->nbuckets * 2;
  entry_t **b = calloc(n, sizeof(entry_t *));
  if (!b) return;  // keeps working with longer chains
  for (entry_t *e = t->oldest; e; e = e->newer) {
    entry_t **head = &b[e->hash & (n - 1)];
    e->chain = *head;
    *head = e;
  }
  free(t->buckets);
  t->buckets = b;
  t->nbuckets = n;
}

static void table_store(table_t *t, uint8_t variant, const uint8_t *key, size_t keylen, const uint8_t *reply,
                        size_t replylen, uint16_t slot) {
  if (replylen > t->max_reply || keylen + 2 > t->max_query || keylen < 10) return;
  if (table_find(t, variant, key, keylen)) return;
  size_t cost = keylen + replylen + ENTRY_OVERHEAD;
  if (cost > t->max_bytes) return;
  while (t->bytes + cost > t->max_bytes && t->oldest) table_evict_oldest(t);
  entry_t *e = malloc(sizeof(entry_t) + keylen + replylen);
  if (!e) return;
  e->hash = hash_key(variant, key, keylen);
  e->keylen = (uint32_t)keylen;
  e->replylen = (uint32_t)replylen;
  e->slot = slot;
  e->variant = variant;
  e->newer = NULL;
  memcpy(e->data, key, keylen);
  memcpy(e->data + keylen, reply, replylen);
  if (t->count + 1 > t->nbuckets) table_grow(t);
  entry_t **head = &t->buckets[e->hash & (t->nbuckets - 1)];
  e->chain = *head;
  *head = e;
  if (t->newest) t->newest->newer = e;
  else t->oldest = e;
  t->newest = e;
  t->count++;
  t->bytes += cost;
}

static void table_count_hit(table_t *t, uint16_t slot, uint64_t ns) {
  double *s = t->stats + 1 + (size_t)slot * t->stride;
  s[0] += 1;
  s[1] += (double)ns;
  int b = 0;
  while (b < t->nbounds && ns > t->bounds_ns[b]) b++;
  s[2 + b] += 1;
  t->stats[0] += 1;
}

static void table_free(table_t *t) {
  table_reset(t, -1);
  free(t->buckets);
  free(t);
}

// ---------------------------------------------------------------------------------------------------------------
// The socket.

#define RECV_CHUNKS 20             // libuv reads up to 20 datagrams per recvmmsg, each into a 64 KiB chunk
#define RECV_CHUNK (64 * 1024)
#define SEND_BATCH 64
#define SEND_ARENA (256 * 1024)

typedef struct {
  uint8_t family;  // 4 or 6
  uint8_t prefix;
  uint8_t addr[16];
} cidr_t;

typedef struct {
  uv_udp_t handle;
  napi_env env;
  table_t *table;
  napi_ref table_ref, on_miss, resource, inbox_ref;
  uint8_t *inbox;  // a JS Buffer a missed datagram is copied into for onMiss (no Buffer allocated per miss)
  size_t inbox_len;
  napi_async_context async;
  bool closing, closed, finalized, in_scope, async_live;
  napi_handle_scope hscope;
  napi_callback_scope cscope;
  // Who may recurse (RA): a reply to them is a different variant. NULL: no one (forwarding off).
  cidr_t *acl;
  size_t nacl;
  bool recursion;
  uint8_t *rbuf;
  // Replies of the current batch, sent together with sendmmsg.
  struct mmsghdr msgs[SEND_BATCH];
  struct iovec iov[SEND_BATCH];
  struct sockaddr_storage to[SEND_BATCH];
  size_t nout, arena_used;
  uint8_t arena[SEND_ARENA];
} udp_t;

typedef struct {
  uv_udp_send_t req;
  uv_buf_t buf;
  struct sockaddr_storage to;
  uint8_t data[];
} send_req_t;

static void on_queued_sent(uv_udp_send_t *req, int status) {
  (void)status;  // a lost UDP reply is the client's to retry
  free(req);
}

/** Sends one reply now, or queues a copy in libuv when the socket buffer is full. */
static void send_one(udp_t *u, const uint8_t *data, size_t len, const struct sockaddr *to) {
  uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
  int r = uv_udp_try_send(&u->handle, &b, 1, to);
  if (r >= 0 || r != UV_EAGAIN) return;
  send_req_t *q = malloc(sizeof(send_req_t) + len);
  if (!q) return;
  memcpy(q->data, data, len);
  memcpy(&q->to, to, to->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
  q->buf = uv_buf_init((char *)q->data, (unsigned)len);
  if (uv_udp_send(&q->req, &u->handle, &q->buf, 1, (struct sockaddr *)&q->to, on_queued_sent) != 0) free(q);
}

static void flush_sends(udp_t *u) {
  size_t done = 0;
  uv_os_fd_t fd;
  if (u->nout == 0) return;
  if (u->closing || uv_fileno((uv_handle_t *)&u->handle, &fd) != 0) {
    u->nout = u->arena_used = 0;
    return;
  }
  while (done < u->nout) {
    int n = sendmmsg(fd, u->msgs + done, (unsigned)(u->nout - done), MSG_DONTWAIT);
    if (n > 0) {
      done += (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      // Socket buffer full: hand the rest to libuv's queue, as dgram would.
      for (; done < u->nout; done++) {
        send_one(u, u->iov[done].iov_base, u->iov[done].iov_len, (struct sockaddr *)&u->to[done]);
      }
    } else {
      done++;  // this datagram cannot be sent (e.g. an unreachable address): skip it
    }
  }
  u->nout = u->arena_used = 0;
}

/** Room for one reply of `len` octets to `to` in the batch (flushing first when full), or NULL if it never fits. */
static uint8_t *batch_slot(udp_t *u, size_t len, const struct sockaddr *to) {
  if (len > SEND_ARENA) return NULL;
  if (u->nout == SEND_BATCH || u->arena_used + len > SEND_ARENA) flush_sends(u);
  size_t i = u->nout++;
  uint8_t *p = u->arena + u->arena_used;
  u->arena_used += len;
  size_t alen = to->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
  memcpy(&u->to[i], to, alen);
  u->iov[i].iov_base = p;
  u->iov[i].iov_len = len;
  memset(&u->msgs[i], 0, sizeof(u->msgs[i]));
  u->msgs[i].msg_hdr.msg_name = &u->to[i];
  u->msgs[i].msg_hdr.msg_namelen = (socklen_t)alen;
  u->msgs[i].msg_hdr.msg_iov = &u->iov[i];
  u->msgs[i].msg_hdr.msg_iovlen = 1;
  return p;
}

static bool prefix_match(const uint8_t *a, const uint8_t *net, unsigned bits) {
  unsigned full = bits / 8, rest = bits % 8;
  if (memcmp(a, net, full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = (uint8_t)(0xff << (8 - rest));
  return (a[full] & mask) == (net[full] & mask);
}

/** Whether this client may recurse: the same CIDR test as ClientAcl (an IPv4-mapped IPv6 source counts as IPv4). */
static bool acl_allows(const udp_t *u, const struct sockaddr *from) {
  const uint8_t *a;
  uint8_t family;
  if (from->sa_family == AF_INET) {
    a = (const uint8_t *)&((const struct sockaddr_in *)from)->sin_addr;
    family = 4;
  } else {
    const uint8_t *a6 = (const uint8_t *)&((const struct sockaddr_in6 *)from)->sin6_addr;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a6, mapped, 12) == 0) {
      a = a6 + 12;
      family = 4;
    } else {
      a = a6;
      family = 6;
    }
  }
  for (size_t i = 0; i < u->nacl; i++) {
    if (u->acl[i].family == family && prefix_match(a, u->acl[i].addr, u->acl[i].prefix)) return true;
  }
  return false;
}

/** The async context and its resource, once no callback scope uses them. */
static void release_async(udp_t *u) {
  if (!u->async_live) return;
  u->async_live = false;
  napi_async_destroy(u->env, u->async);
  napi_delete_reference(u->env, u->resource);
}

static void end_batch(udp_t *u) {
  flush_sends(u);
  if (u->in_scope) {
    u->in_scope = false;
    // Runs process.nextTick callbacks and microtasks the misses queued (e.g. forwarded answers' promises).
    napi_close_callback_scope(u->env, u->cscope);
    napi_close_handle_scope(u->env, u->hscope);
  }
  if (u->closing) release_async(u);
}

/** A datagram the table cannot answer: JS's onMiss(length, address, port) answers the inbox (a Buffer now, or later). */
static void call_miss(udp_t *u, const uint8_t *msg, size_t len, const struct sockaddr *from) {
  napi_env env = u->env;
  if (!u->in_scope) {
    napi_value resource;
    if (napi_open_handle_scope(env, &u->hscope) != napi_ok) return;
    napi_get_reference_value(env, u->resource, &resource);
    if (napi_open_callback_scope(env, resource, u->async, &u->cscope) != napi_ok) {
      napi_close_handle_scope(env, u->hscope);
      return;
    }
    u->in_scope = true;
  }
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  char name[INET6_ADDRSTRLEN] = "";
  int port;
  if (from->sa_family == AF_INET6) {
    const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)from;
    uv_ip6_name(s, name, sizeof name);
    port = ntohs(s->sin6_port);
  } else {
    const struct sockaddr_in *s = (const struct sockaddr_in *)from;
    uv_ip4_name(s, name, sizeof name);
    port = ntohs(s->sin_port);
  }
  napi_value argv[3], fn, recv, result;
  if (len > u->inbox_len) len = u->inbox_len;  // cannot happen: the inbox holds any datagram
  memcpy(u->inbox, msg, len);
  napi_create_uint32(env, (uint32_t)len, &argv[0]);
  napi_create_string_latin1(env, name, NAPI_AUTO_LENGTH, &argv[1]);
  napi_create_int32(env, port, &argv[2]);
  napi_get_reference_value(env, u->on_miss, &fn);
  napi_get_undefined(env, &recv);
  napi_status st = napi_call_function(env, recv, fn, 3, argv, &result);
  if (st == napi_pending_exception) {
    // respond() never throws; should it, the datagram goes unanswered rather than the process down.
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
  } else if (st == napi_ok && !u->closing) {
    bool is_buffer = false;
    napi_is_buffer(env, result, &is_buffer);
    if (is_buffer) {
      void *data;
      size_t n;
      napi_get_buffer_info(env, result, &data, &n);
      uint8_t *out = batch_slot(u, n, from);
      if (out) memcpy(out, data, n);
      else send_one(u, data, n, from);
    }
  }
  napi_close_handle_scope(env, scope);
  if (u->closing) end_batch(u);  // JS closed the socket: libuv calls us no more for this batch
}

static void on_datagram(udp_t *u, const uint8_t *msg, size_t len, const struct sockaddr *from) {
  table_t *t = u->table;
  // No header, or a response (QR=1): JS drops those; anything else the table may know.
  if (len >= 12 && len <= t->max_query && (msg[2] & 0x80) == 0 && t->count > 0) {
    uint64_t t0 = uv_hrtime();
    uint8_t variant = (u->recursion && acl_allows(u, from)) ? 1 : 0;
    entry_t *e = table_find(t, variant, msg + 2, len - 2);
    if (e) {
      uint8_t *out = batch_slot(u, e->replylen, from);
      if (!out) return;
      memcpy(out, e->data + e->keylen, e->replylen);
      out[0] = msg[0];
      out[1] = msg[1];
      table_count_hit(t, e->slot, uv_hrtime() - t0);
      return;
    }
  }
  call_miss(u, msg, len, from);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  udp_t *u = h->data;
  *buf = uv_buf_init((char *)u->rbuf, RECV_CHUNKS * RECV_CHUNK);
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from, unsigned flags) {
  udp_t *u = h->data;
  if (u->closing) return;
  // UV_UDP_PARTIAL: longer than 64 KiB, not a DNS message. nread < 0: a socket error, nothing to answer.
  if (nread > 0 && from && !(flags & UV_UDP_PARTIAL)) on_datagram(u, (const uint8_t *)buf->base, (size_t)nread, from);
  // One recvmmsg batch ends with a call without UV_UDP_MMSG_CHUNK (the buffer's release, or "nothing more").
  if (!(flags & UV_UDP_MMSG_CHUNK) && !u->closing) end_batch(u);
}

static void udp_free(udp_t *u) {
  free(u->rbuf);
  free(u->acl);
  free(u);
}

static void on_closed(uv_handle_t *h) {
  udp_t *u = h->data;
  u->closed = true;
  if (u->finalized) udp_free(u);
}

static void udp_start_close(udp_t *u) {
  if (u->closing) return;
  u->closing = true;
  uv_close((uv_handle_t *)&u->handle, on_closed);
}

static void on_env_cleanup(void *arg) {
  udp_start_close(arg);
}

// ---------------------------------------------------------------------------------------------------------------
// N-API glue.

#define CHECK(call)                                        \
  do {                                                     \
    if ((call) != napi_ok) {                               \
      napi_throw_error(env, NULL, "knet_dns: " #call);     \
      return NULL;                                         \
    }                                                      \
  } while (0)

static napi_value args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t n = want;
  CHECK(napi_get_cb_info(env, info, &n, argv, NULL, NULL));
  if (n < want) {
    napi_throw_type_error(env, NULL, "knet_dns: too few arguments");
    return NULL;
  }
  napi_value ok;
  napi_get_boolean(env, true, &ok);
  return ok;
}

static void *external(napi_env env, napi_value v) {
  void *p = NULL;
  napi_valuetype type;
  if (napi_typeof(env, v, &type) != napi_ok || type != napi_external || napi_get_value_external(env, v, &p) != napi_ok) {
    napi_throw_type_error(env, NULL, "knet_dns: not a handle");
    return NULL;
  }
  return p;
}

static double number(napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return d;
}

static void table_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  table_t *t = data;
  if (t->stats_ref) napi_delete_reference(env, t->stats_ref);
  table_free(t);
}

/**
 * tableNew(maxBytes, maxQueryBytes, maxReplyBytes, durationBoundsNs: Float64Array, stats: Float64Array) → table.
 * stats: 1 + MAX_SLOTS × (3 + bounds) zeroes, written here and read (and zeroed) by JS.
 */
static napi_value js_table_new(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!args(env, info, 5, argv)) return NULL;
  table_t *t = calloc(1, sizeof(table_t));
  if (!t) return NULL;
  t->max_bytes = (size_t)number(env, argv[0]);
  t->max_query = (size_t)number(env, argv[1]);
  t->max_reply = (size_t)number(env, argv[2]);
  t->serial = -1;
  napi_typedarray_type tt;
  size_t n = 0;
  void *data = NULL;
  if (napi_get_typedarray_info(env, argv[3], &tt, &n, &data, NULL, NULL) == napi_ok && tt == napi_float64_array) {
    t->nbounds = n > MAX_BOUNDS ? MAX_BOUNDS : (int)n;
    for (int i = 0; i < t->nbounds; i++) t->bounds_ns[i] = (uint64_t)((double *)data)[i];
  }
  t->stride = 2 + (size_t)t->nbounds + 1;
  void *stats = NULL;
  if (napi_get_typedarray_info(env, argv[4], &tt, &n, &stats, NULL, NULL) != napi_ok || tt != napi_float64_array ||
      n < 1 + MAX_SLOTS * t->stride) {
    free(t);
    napi_throw_type_error(env, NULL, "knet_dns: stats must be a Float64Array of 1 + MAX_SLOTS × (3 + bounds)");
    return NULL;
  }
  t->stats = stats;
  t->nbuckets = 1024;
  t->buckets = calloc(t->nbuckets, sizeof(entry_t *));
  if (!t->buckets) {
    free(t);
    napi_throw_error(env, NULL, "knet_dns: out of memory");
    return NULL;
  }
  // The array stays alive (and its memory in place: V8 does not move backing stores) while the table is.
  CHECK(napi_create_reference(env, argv[4], 1, &t->stats_ref));
  napi_value out;
  CHECK(napi_create_external(env, t, table_finalize, NULL, &out));
  return out;
}

static bool buffer_arg(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool is = false;
  if (napi_is_buffer(env, v, &is) != napi_ok || !is) {
    napi_throw_type_error(env, NULL, "knet_dns: not a Buffer");
    return false;
  }
  return napi_get_buffer_info(env, v, (void **)data, len) == napi_ok;
}

/** tableSetSerial(table, serial): a new serial empties the table. */
static napi_value js_table_set_serial(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!args(env, info, 2, argv)) return NULL;
  table_t *t = external(env, argv[0]);
  if (!t) return NULL;
  double serial = number(env, argv[1]);
  if (serial != t->serial) table_reset(t, serial);
  return NULL;
}

/** tableLookup(table, variant, msg, serial) → slot (the reply, with msg's ID, written to out) or -1. */
static napi_value js_table_lookup(napi_env env, napi_callback_info info) {
  napi_value argv[5], out;
  if (!args(env, info, 5, argv)) return NULL;
  table_t *t = external(env, argv[0]);
  uint8_t *msg, *dst;
  size_t len, dlen;
  if (!t || !buffer_arg(env, argv[2], &msg, &len) || !buffer_arg(env, argv[4], &dst, &dlen)) return NULL;
  double serial = number(env, argv[3]);
  int32_t found = -1;
  if (serial != t->serial) {
    table_reset(t, serial);
  } else if (len >= 12 && len <= t->max_query) {
    entry_t *e = table_find(t, (uint8_t)number(env, argv[1]), msg + 2, len - 2);
    if (e && e->replylen <= dlen) {
      memcpy(dst, e->data + e->keylen, e->replylen);
      dst[0] = msg[0];
      dst[1] = msg[1];
      found = (int32_t)e->replylen | ((int32_t)e->slot << 16);
    }
  }
  CHECK(napi_create_int32(env, found, &out));
  return out;
}

/** tableStore(table, variant, msg, serial, reply, slot) */
static napi_value js_table_store(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!args(env, info, 6, argv)) return NULL;
  table_t *t = external(env, argv[0]);
  uint8_t *msg, *reply;
  size_t len, rlen;
  if (!t || !buffer_arg(env, argv[2], &msg, &len) || !buffer_arg(env, argv[4], &reply, &rlen)) return NULL;
  double serial = number(env, argv[3]);
  double slot = number(env, argv[5]);
  if (len < 12 || slot < 0 || slot >= MAX_SLOTS) return NULL;
  if (serial != t->serial) table_reset(t, serial);
  table_store(t, (uint8_t)number(env, argv[1]), msg + 2, len - 2, reply, rlen, (uint16_t)slot);
  return NULL;
}

/** tableSize(table) → [entries, bytes] */
static napi_value js_table_size(napi_env env, napi_callback_info info) {
  napi_value argv[1], out, a, b;
  if (!args(env, info, 1, argv)) return NULL;
  table_t *t = external(env, argv[0]);
  if (!t) return NULL;
  CHECK(napi_create_array_with_length(env, 2, &out));
  napi_create_double(env, (double)t->count, &a);
  napi_create_double(env, (double)t->bytes, &b);
  napi_set_element(env, out, 0, a);
  napi_set_element(env, out, 1, b);
  return out;
}

static void udp_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  udp_t *u = data;
  u->finalized = true;
  if (u->closed) udp_free(u);
  // Still open (dropped without close()): it keeps serving, as a dgram socket would, and leaks at exit.
}

/** An IP literal (a JS string, into host) and a port as a socket address; false when it is none. */
static bool addr_arg(napi_env env, napi_value v, int port, char host[64], struct sockaddr_storage *ss) {
  size_t hl = 0;
  host[0] = 0;
  if (napi_get_value_string_utf8(env, v, host, 64, &hl) != napi_ok) return false;
  memset(ss, 0, sizeof *ss);
  if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0) return true;
  return uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0;
}

static napi_value throw_uv(napi_env env, int err, const char *syscall, const char *host, int port) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s %s %s:%d", syscall, uv_err_name(err), host, port);
  napi_value e, code, text;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_string_utf8(env, uv_err_name(err), NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, text, &e);
  napi_throw(env, e);
  return NULL;
}

/**
 * udpOpen(table, host, port, acl: Uint8Array | null, inbox: Buffer, onMiss(length, address, port) → Buffer | unknown)
 * → socket. acl: 18-octet records (family 4|6, prefix length, 16 address octets); null when no one may recurse.
 * inbox: at least 65536 octets; a datagram the table cannot answer is copied there, valid during onMiss only.
 */
static napi_value js_udp_open(napi_env env, napi_callback_info info) {
  napi_value argv[6], out;
  if (!args(env, info, 6, argv)) return NULL;
  table_t *t = external(env, argv[0]);
  if (!t) return NULL;
  uint8_t *inbox;
  size_t inbox_len;
  if (!buffer_arg(env, argv[4], &inbox, &inbox_len)) return NULL;
  if (inbox_len < RECV_CHUNK) {
    napi_throw_range_error(env, NULL, "knet_dns: the inbox must hold 65536 octets");
    return NULL;
  }
  char host[64];
  int port = (int)number(env, argv[2]);
  struct sockaddr_storage ss;
  if (!addr_arg(env, argv[1], port, host, &ss)) return throw_uv(env, UV_EINVAL, "bind", host, port);
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));

  udp_t *u = calloc(1, sizeof(udp_t));
  if (!u) return NULL;
  u->rbuf = malloc(RECV_CHUNKS * RECV_CHUNK);
  napi_valuetype at;
  napi_typeof(env, argv[3], &at);
  if (at != napi_null && at != napi_undefined) {
    napi_typedarray_type tt;
    size_t n = 0;
    void *data = NULL;
    if (napi_get_typedarray_info(env, argv[3], &tt, &n, &data, NULL, NULL) != napi_ok || tt != napi_uint8_array) {
      udp_free(u);
      napi_throw_type_error(env, NULL, "knet_dns: acl must be a Uint8Array");
      return NULL;
    }
    u->recursion = true;
    u->nacl = n / sizeof(cidr_t);
    u->acl = malloc(u->nacl * sizeof(cidr_t) + 1);
    if (u->acl) memcpy(u->acl, data, u->nacl * sizeof(cidr_t));
    for (size_t i = 0; u->acl && i < u->nacl; i++) {
      if (u->acl[i].prefix > (u->acl[i].family == 4 ? 32 : 128)) u->acl[i].family = 0;  // never matches
    }
  }
  if (!u->rbuf || (u->recursion && !u->acl)) {
    udp_free(u);
    napi_throw_error(env, NULL, "knet_dns: out of memory");
    return NULL;
  }
  int r = uv_udp_init_ex(loop, &u->handle, ss.ss_family | UV_UDP_RECVMMSG);
  if (r != 0) {
    udp_free(u);
    return throw_uv(env, r, "socket", host, port);
  }
  u->handle.data = u;
  u->env = env;
  u->table = t;
  u->inbox = inbox;
  u->inbox_len = inbox_len;
  r = uv_udp_bind(&u->handle, (struct sockaddr *)&ss, 0);
  if (r == 0) r = uv_udp_recv_start(&u->handle, on_alloc, on_recv);
  if (r != 0) {
    // Freed once libuv has closed the handle; no JS object owns it.
    u->finalized = true;
    udp_start_close(u);
    return throw_uv(env, r, "bind", host, port);
  }
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "knet:dns:udp", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &u->async);
  u->async_live = true;
  napi_create_reference(env, resource, 1, &u->resource);
  napi_create_reference(env, argv[0], 1, &u->table_ref);
  napi_create_reference(env, argv[5], 1, &u->on_miss);
  napi_create_reference(env, argv[4], 1, &u->inbox_ref);
  napi_add_env_cleanup_hook(env, on_env_cleanup, u);
  CHECK(napi_create_external(env, u, udp_finalize, NULL, &out));
  return out;
}

static udp_t *open_udp(napi_env env, napi_value v) {
  udp_t *u = external(env, v);
  if (u && u->closing) {
    napi_throw_error(env, "ERR_SOCKET_DGRAM_NOT_RUNNING", "knet_dns: socket is closed");
    return NULL;
  }
  return u;
}

/** udpPort(socket) → the bound port. */
static napi_value js_udp_port(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  if (!args(env, info, 1, argv)) return NULL;
  udp_t *u = open_udp(env, argv[0]);
  if (!u) return NULL;
  struct sockaddr_storage ss;
  int len = sizeof ss;
  int r = uv_udp_getsockname(&u->handle, (struct sockaddr *)&ss, &len);
  int port = r != 0 ? -1 : ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                                    : ntohs(((struct sockaddr_in *)&ss)->sin_port);
  CHECK(napi_create_int32(env, port, &out));
  return out;
}

/** udpSend(socket, reply, address, port): a reply JS produced later (a forwarded answer). */
static napi_value js_udp_send(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!args(env, info, 4, argv)) return NULL;
  udp_t *u = external(env, argv[0]);
  uint8_t *data;
  size_t len;
  if (!u || !buffer_arg(env, argv[1], &data, &len)) return NULL;
  if (u->closing) return NULL;
  char host[64];
  struct sockaddr_storage ss;
  if (!addr_arg(env, argv[2], (int)number(env, argv[3]), host, &ss)) return NULL;
  send_one(u, data, len, (struct sockaddr *)&ss);
  return NULL;
}

/** udpClose(socket): stops reading at once; the handle is released by libuv. */
static napi_value js_udp_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!args(env, info, 1, argv)) return NULL;
  udp_t *u = external(env, argv[0]);
  if (!u || u->closing) return NULL;
  napi_remove_env_cleanup_hook(env, on_env_cleanup, u);
  // Replies already batched still go out (as dgram's queued sends would).
  if (!u->in_scope) flush_sends(u);
  udp_start_close(u);
  napi_delete_reference(env, u->on_miss);
  napi_delete_reference(env, u->table_ref);
  napi_delete_reference(env, u->inbox_ref);
  // Inside a batch the open callback scope still needs them: end_batch releases them then.
  if (!u->in_scope) release_async(u);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"tableNew", NULL, js_table_new, NULL, NULL, NULL, napi_default, NULL},
      {"tableSetSerial", NULL, js_table_set_serial, NULL, NULL, NULL, napi_default, NULL},
      {"tableLookup", NULL, js_table_lookup, NULL, NULL, NULL, napi_default, NULL},
      {"tableStore", NULL, js_table_store, NULL, NULL, NULL, napi_default, NULL},
      {"tableSize", NULL, js_table_size, NULL, NULL, NULL, napi_default, NULL},
      {"udpOpen", NULL, js_udp_open, NULL, NULL, NULL, napi_default, NULL},
      {"udpPort", NULL, js_udp_port, NULL, NULL, NULL, napi_default, NULL},
      {"udpSend", NULL, js_udp_send, NULL, NULL, NULL, napi_default, NULL},
      {"udpClose", NULL, js_udp_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value slots, overhead;
  napi_create_int32(env, MAX_SLOTS, &slots);
  napi_create_int32(env, ENTRY_OVERHEAD, &overhead);
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_set_named_property(env, exports, "MAX_SLOTS", slots);
  napi_set_named_property(env, exports, "ENTRY_OVERHEAD", overhead);
  return exports;
}
#endif
