/* wasi:sockets, present so that components built against the full WASI 0.2
 * world link, and denying: apps reach the network only through the server
 * until egress exists. No socket is ever created, so socket methods can only
 * be reached with a forged handle and trap. Signatures are left to the
 * component's declared types (NULL sig): every answer here is an error case
 * or a trap, valid for any of them. */
#include "internal.h"

/* wasi:sockets/network error-code cases. */
enum { SOCK_ACCESS_DENIED = 1, SOCK_NOT_SUPPORTED = 2 };

static char network_token;

static int deny(eos_cm_call *call, eos_cm_val *res, uint32_t code)
{
    EOS_WASI__ENTER(ctx, call);
    return eos_wasi__err_case(ctx, res, code);
}

static int access_denied(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    return deny(call, &results[0], SOCK_ACCESS_DENIED);
}

static int never(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    return EOS_TRAP_HOST;
}

static int instance_network(eos_cm_call *call, void *ud, const eos_cm_val *args,
                            eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    return eos_wasi__ret_handle(&results[0],
                                eos_wasi__res_add(ctx, EOS_WASI__R_OTHER, &network_token));
}

static int network_error_code(eos_cm_call *call, void *ud, const eos_cm_val *args,
                              eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    eos_wasi__val_option(&results[0], NULL); /* no io error comes from a socket */
    return 0;
}

#define NEVER(n)                                                                                   \
    {                                                                                              \
        n, NULL, never                                                                             \
    }
static const eos_cm_host_func instance_funcs[] = {{"instance-network", NULL, instance_network}};
static const eos_cm_host_func network_funcs[] = {{"network-error-code", NULL, network_error_code}};
static const eos_cm_host_func lookup_funcs[] = {
    {"resolve-addresses", NULL, access_denied},
    NEVER("[method]resolve-address-stream.resolve-next-address"),
    NEVER("[method]resolve-address-stream.subscribe"),
};
static const eos_cm_host_func tcp_create_funcs[] = {{"create-tcp-socket", NULL, access_denied}};
static const eos_cm_host_func udp_create_funcs[] = {{"create-udp-socket", NULL, access_denied}};
static const eos_cm_host_func tcp_funcs[] = {
    NEVER("[method]tcp-socket.start-bind"),
    NEVER("[method]tcp-socket.finish-bind"),
    NEVER("[method]tcp-socket.start-connect"),
    NEVER("[method]tcp-socket.finish-connect"),
    NEVER("[method]tcp-socket.start-listen"),
    NEVER("[method]tcp-socket.finish-listen"),
    NEVER("[method]tcp-socket.accept"),
    NEVER("[method]tcp-socket.local-address"),
    NEVER("[method]tcp-socket.remote-address"),
    NEVER("[method]tcp-socket.is-listening"),
    NEVER("[method]tcp-socket.address-family"),
    NEVER("[method]tcp-socket.set-listen-backlog-size"),
    NEVER("[method]tcp-socket.keep-alive-enabled"),
    NEVER("[method]tcp-socket.set-keep-alive-enabled"),
    NEVER("[method]tcp-socket.keep-alive-idle-time"),
    NEVER("[method]tcp-socket.set-keep-alive-idle-time"),
    NEVER("[method]tcp-socket.keep-alive-interval"),
    NEVER("[method]tcp-socket.set-keep-alive-interval"),
    NEVER("[method]tcp-socket.keep-alive-count"),
    NEVER("[method]tcp-socket.set-keep-alive-count"),
    NEVER("[method]tcp-socket.hop-limit"),
    NEVER("[method]tcp-socket.set-hop-limit"),
    NEVER("[method]tcp-socket.receive-buffer-size"),
    NEVER("[method]tcp-socket.set-receive-buffer-size"),
    NEVER("[method]tcp-socket.send-buffer-size"),
    NEVER("[method]tcp-socket.set-send-buffer-size"),
    NEVER("[method]tcp-socket.subscribe"),
    NEVER("[method]tcp-socket.shutdown"),
};
static const eos_cm_host_func udp_funcs[] = {
    NEVER("[method]udp-socket.start-bind"),
    NEVER("[method]udp-socket.finish-bind"),
    NEVER("[method]udp-socket.stream"),
    NEVER("[method]udp-socket.local-address"),
    NEVER("[method]udp-socket.remote-address"),
    NEVER("[method]udp-socket.address-family"),
    NEVER("[method]udp-socket.unicast-hop-limit"),
    NEVER("[method]udp-socket.set-unicast-hop-limit"),
    NEVER("[method]udp-socket.receive-buffer-size"),
    NEVER("[method]udp-socket.set-receive-buffer-size"),
    NEVER("[method]udp-socket.send-buffer-size"),
    NEVER("[method]udp-socket.set-send-buffer-size"),
    NEVER("[method]udp-socket.subscribe"),
    NEVER("[method]incoming-datagram-stream.receive"),
    NEVER("[method]incoming-datagram-stream.subscribe"),
    NEVER("[method]outgoing-datagram-stream.check-send"),
    NEVER("[method]outgoing-datagram-stream.send"),
    NEVER("[method]outgoing-datagram-stream.subscribe"),
};
#undef NEVER

const eos_wasi__iface eos_wasi__sock_ifaces[] = {
    EOS_WASI__IFACE("wasi:sockets/instance-network", "resource network;", instance_funcs),
    EOS_WASI__IFACE("wasi:sockets/network", "resource network;", network_funcs),
    EOS_WASI__IFACE("wasi:sockets/ip-name-lookup", "resource resolve-address-stream;",
                    lookup_funcs),
    EOS_WASI__IFACE("wasi:sockets/tcp-create-socket", "resource tcp-socket;", tcp_create_funcs),
    EOS_WASI__IFACE("wasi:sockets/udp-create-socket", "resource udp-socket;", udp_create_funcs),
    EOS_WASI__IFACE("wasi:sockets/tcp", "resource tcp-socket;", tcp_funcs),
    EOS_WASI__IFACE("wasi:sockets/udp",
                    "resource udp-socket;\nresource incoming-datagram-stream;\n"
                    "resource outgoing-datagram-stream;\n",
                    udp_funcs),
};
const size_t eos_wasi__sock_iface_count = EOS_ARRAY_LEN(eos_wasi__sock_ifaces);
