// kith_udp: batched UDP for the Node.js adapter. A non-blocking socket polled
// by libuv; every wake-up drains up to 32 datagrams with one recvmmsg, hands
// them to JavaScript in one call (through shared buffers, no per-datagram
// objects), and sends the replies queued during that call with one sendmmsg.
//
// Shared memory with JavaScript (all little-endian, native order):
//   rx    BATCH × SLOT bytes: received datagrams, slot i at i × SLOT
//   tx    BATCH × SLOT bytes: replies to send, slot j at j × SLOT
//   meta  Int32 × META_INTS:
//     [RX_LEN + i]  length of datagram i (-1:  [RX_IP + i]   IPv4 source (host order), or -1 for IPv6
//                   longer than a slot)
//     [RX_PORT + i] source port                [TX_COUNT]    replies queued (set by JavaScript)
//     [TX_LEN + j]  length of reply j          [TX_SRC + j]  reply to the source of datagram i, or -1:
//     [TX_IP + j], [TX_PORT + j]               an explicit IPv4 destination
//   rx6   BATCH × 16 bytes: IPv6 source addresses (when RX_IP is -1)
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdio.h>

/* A slot holds the largest control message (MAX_CONTROL_BYTES, 8192) with room to spare; a
 * longer datagram arrives truncated (MSG_TRUNC) and is reported with length -1, never cut. */
#define BATCH 32
#define SLOT 9216
#define RX_LEN 0
#define RX_IP (RX_LEN + BATCH)
#define RX_PORT (RX_IP + BATCH)
#define TX_COUNT (RX_PORT + BATCH)
#define TX_LEN (TX_COUNT + 1)
#define TX_SRC (TX_LEN + BATCH)
#define TX_IP (TX_SRC + BATCH)
#define TX_PORT (TX_IP + BATCH)
#define META_INTS (TX_PORT + BATCH)
#define MAX_ROUNDS 16

typedef struct {
  int fd;
  int family;
  int closed;       /* close() ran: socket and poll handle are going away */
  int poll_closed;  /* libuv has released the poll handle */
  int finalized;    /* JavaScript dropped the handle: free once libuv is done too */
  uv_poll_t poll;
  napi_env env;
  napi_ref onbatch;
  napi_async_context async;
  uint8_t rx[BATCH * SLOT];
  uint8_t tx[BATCH * SLOT];
  uint8_t rx6[BATCH * 16];
  int32_t meta[META_INTS];
  struct mmsghdr rmsg[BATCH];
  struct iovec riov[BATCH];
  struct sockaddr_storage raddr[BATCH];
  struct mmsghdr tmsg[BATCH];
  struct iovec tiov[BATCH];
  struct sockaddr_storage taddr[BATCH];
} sock_t;

#define CHECK(env, call) do { if ((call) != napi_ok) { napi_throw_error((env), NULL, #call " failed"); return NULL; } } while (0)

static void flush(sock_t *s) {
  if (s->closed) return;
  int k = s->meta[TX_COUNT];
  if (k <= 0) return;
  if (k > BATCH) k = BATCH;
  for (int j = 0; j < k; j++) {
    s->tiov[j].iov_base = s->tx + j * SLOT;
    s->tiov[j].iov_len = (size_t)s->meta[TX_LEN + j];
    struct msghdr *h = &s->tmsg[j].msg_hdr;
    memset(h, 0, sizeof *h);
    h->msg_iov = &s->tiov[j];
    h->msg_iovlen = 1;
    int src = s->meta[TX_SRC + j];
    if (src >= 0 && src < BATCH) {
      h->msg_name = &s->raddr[src];
      h->msg_namelen = s->rmsg[src].msg_hdr.msg_namelen;
    } else {
      struct sockaddr_in *a = (struct sockaddr_in *)&s->taddr[j];
      memset(a, 0, sizeof *a);
      a->sin_family = AF_INET;
      a->sin_addr.s_addr = htonl((uint32_t)s->meta[TX_IP + j]);
      a->sin_port = htons((uint16_t)s->meta[TX_PORT + j]);
      h->msg_name = a;
      h->msg_namelen = sizeof *a;
    }
  }
  int done = 0;
  while (done < k) {
    int n = sendmmsg(s->fd, s->tmsg + done, (unsigned)(k - done), MSG_DONTWAIT);
    if (n > 0) { done += n; continue; }
    if (n < 0 && errno == EINTR) continue;
    done++; // a datagram that cannot go (buffer full, unreachable) is dropped, as UDP would
  }
  s->meta[TX_COUNT] = 0;
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  sock_t *s = handle->data;
  (void)events;
  if (status < 0 || s->closed) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  for (int round = 0; round < MAX_ROUNDS && !s->closed; round++) {
    for (int i = 0; i < BATCH; i++) {
      s->riov[i].iov_base = s->rx + i * SLOT;
      s->riov[i].iov_len = SLOT;
      struct msghdr *h = &s->rmsg[i].msg_hdr;
      memset(h, 0, sizeof *h);
      h->msg_name = &s->raddr[i];
      h->msg_namelen = sizeof s->raddr[i];
      h->msg_iov = &s->riov[i];
      h->msg_iovlen = 1;
    }
    int n = recvmmsg(s->fd, s->rmsg, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) break;
    for (int i = 0; i < n; i++) {
      s->meta[RX_LEN + i] = (s->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) ? -1 : (int32_t)s->rmsg[i].msg_len;
      if (s->raddr[i].ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&s->raddr[i];
        s->meta[RX_IP + i] = (int32_t)ntohl(a->sin_addr.s_addr);
        s->meta[RX_PORT + i] = ntohs(a->sin_port);
      } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&s->raddr[i];
        s->meta[RX_IP + i] = -1;
        s->meta[RX_PORT + i] = ntohs(a->sin6_port);
        memcpy(s->rx6 + i * 16, &a->sin6_addr, 16);
      }
    }
    s->meta[TX_COUNT] = 0;
    napi_value cb, recv, arg, result;
    if (napi_get_reference_value(env, s->onbatch, &cb) != napi_ok) break;
    napi_get_global(env, &recv); // napi_make_callback wants an object as `this`
    napi_create_int32(env, n, &arg);
    napi_make_callback(env, s->async, recv, cb, 1, &arg, &result);
    flush(s);
    if (n < BATCH) break;
  }
  napi_close_handle_scope(env, scope);
}

static napi_value ext_buffer(napi_env env, void *data, size_t len) {
  napi_value ab;
  if (napi_create_external_arraybuffer(env, data, len, NULL, NULL, &ab) != napi_ok) return NULL;
  return ab;
}

static void on_closed(uv_handle_t *h) {
  sock_t *s = h->data;
  s->poll_closed = 1;
  if (s->finalized) free(s);
}

/* Stops polling and closes the socket; memory stays until both libuv and JavaScript let go. */
static void shut(napi_env env, sock_t *s) {
  if (s->closed) return;
  s->closed = 1;
  uv_poll_stop(&s->poll);
  uv_close((uv_handle_t *)&s->poll, on_closed);
  close(s->fd);
  s->fd = -1;
  napi_delete_reference(env, s->onbatch);
  napi_async_destroy(env, s->async);
}

static void finalize_sock(napi_env env, void *data, void *hint) {
  (void)hint;
  sock_t *s = data;
  shut(env, s);
  s->finalized = 1;
  if (s->poll_closed) free(s);
}

// bind(address: string, port: number, v6: boolean, onbatch: (count) => void)
//   → { handle, rx, tx, rx6, meta, port } ; throws on failure with errno text.
static napi_value js_bind(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char addr[64];
  size_t alen;
  int32_t port;
  bool v6;
  CHECK(env, napi_get_value_string_utf8(env, argv[0], addr, sizeof addr, &alen));
  CHECK(env, napi_get_value_int32(env, argv[1], &port));
  CHECK(env, napi_get_value_bool(env, argv[2], &v6));
  sock_t *s = calloc(1, sizeof *s);
  if (!s) { napi_throw_error(env, NULL, "out of memory"); return NULL; }
  s->family = v6 ? AF_INET6 : AF_INET;
  s->fd = socket(s->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd < 0) { free(s); napi_throw_error(env, NULL, strerror(errno)); return NULL; }
  struct sockaddr_storage ss;
  socklen_t sl;
  memset(&ss, 0, sizeof ss);
  if (v6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, addr, &a->sin6_addr) != 1) { close(s->fd); free(s); napi_throw_error(env, NULL, "invalid IPv6 address"); return NULL; }
    sl = sizeof *a;
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &a->sin_addr) != 1) { close(s->fd); free(s); napi_throw_error(env, NULL, "invalid IPv4 address"); return NULL; }
    sl = sizeof *a;
  }
  if (bind(s->fd, (struct sockaddr *)&ss, sl) != 0) {
    char msg[160];
    snprintf(msg, sizeof msg, "bind %s:%d: %s", addr, port, strerror(errno));
    close(s->fd); free(s);
    napi_throw_error(env, errno == EADDRINUSE ? "EADDRINUSE" : NULL, msg);
    return NULL;
  }
  getsockname(s->fd, (struct sockaddr *)&ss, &sl);
  int bound = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
  s->env = env;
  CHECK(env, napi_create_reference(env, argv[3], 1, &s->onbatch));
  napi_value name;
  CHECK(env, napi_create_string_utf8(env, "kith_udp", NAPI_AUTO_LENGTH, &name));
  CHECK(env, napi_async_init(env, NULL, name, &s->async));
  uv_loop_t *loop;
  CHECK(env, napi_get_uv_event_loop(env, &loop));
  uv_poll_init(loop, &s->poll, s->fd);
  s->poll.data = s;
  uv_poll_start(&s->poll, UV_READABLE, on_poll);

  napi_value out, handle, v;
  CHECK(env, napi_create_object(env, &out));
  CHECK(env, napi_create_external(env, s, finalize_sock, NULL, &handle));
  napi_set_named_property(env, out, "handle", handle);
  napi_set_named_property(env, out, "rx", ext_buffer(env, s->rx, sizeof s->rx));
  napi_set_named_property(env, out, "tx", ext_buffer(env, s->tx, sizeof s->tx));
  napi_set_named_property(env, out, "rx6", ext_buffer(env, s->rx6, sizeof s->rx6));
  napi_set_named_property(env, out, "meta", ext_buffer(env, s->meta, sizeof s->meta));
  napi_create_int32(env, bound, &v);
  napi_set_named_property(env, out, "port", v);
  return out;
}

/* The socket named by a call's first argument (the handle from bind), or NULL. */
static sock_t *sock_arg(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *p = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return NULL;
  napi_get_value_external(env, argv[0], &p);
  return p;
}

// flush(handle): sends the replies queued outside a batch callback.
static napi_value js_flush(napi_env env, napi_callback_info info) {
  sock_t *s = sock_arg(env, info);
  if (s) flush(s);
  return NULL;
}

// close(handle)
static napi_value js_close(napi_env env, napi_callback_info info) {
  sock_t *s = sock_arg(env, info);
  if (s) shut(env, s);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "bind", NULL, js_bind, NULL, NULL, NULL, napi_default, NULL },
    { "flush", NULL, js_flush, NULL, NULL, NULL, napi_default, NULL },
    { "close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, 3, props);
  napi_value v;
  napi_create_int32(env, BATCH, &v); napi_set_named_property(env, exports, "BATCH", v);
  napi_create_int32(env, SLOT, &v); napi_set_named_property(env, exports, "SLOT", v);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
