/* The server layer: the epoll event loop and workers, TLS connections, the
 * framed management protocol, HTTP, and routing to apps. */
#ifndef EOS_NET_H
#define EOS_NET_H

#include "eos/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The layer's version string, static storage. */
EOS_API const char *eos_net_version(void);

#ifdef __cplusplus
}
#endif
#endif
