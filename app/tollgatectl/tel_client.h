/* SPDX-License-Identifier: BSD-3-Clause
 * A client for DPDK's telemetry v2 socket: find it the way EAL does,
 * connect, read the greeting, send "/cmd,params" and read one reply.
 */
#ifndef TGCTL_TEL_CLIENT_H
#define TGCTL_TEL_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "json.h"

/** DPDK 22.11 reads a request into a 1 KiB buffer (1023 bytes and a NUL)
 *  and echoes at most 56 characters of the command name in its reply. */
#define TEL_MAX_REQUEST 1023
#define TEL_CMD_LEN	56
/** DPDK's connection limit on the v2 socket (lib/telemetry). */
#define TEL_MAX_CLIENTS 10

struct tel_conn {
	int fd;
	char prefix[256];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uint32_t max_output_len; /**< from the greeting */
	long pid;		 /**< of the DPDK process, from the greeting */
	char *buf;		 /**< the last reply, NUL-ended */
	size_t len;		 /**< its length */
	size_t cap;
};

/**
 * The socket path of the DPDK process started with --file-prefix
 * @p prefix, as EAL computes it: $RUNTIME_DIRECTORY, else /var/run for
 * root and $XDG_RUNTIME_DIR (or /tmp) for other users; then
 * dpdk/<prefix>/dpdk_telemetry.v2.
 * @return 0, or -ENAMETOOLONG when it does not fit a socket address.
 */
int tel_socket_path(const char *prefix, char *path, size_t len);

/**
 * Connect to the process with @p prefix and read its greeting.
 * @return 0, or 3 (cannot connect) with the reason printed on stderr:
 *   not running, permission denied, socket busy.
 */
int tel_open(struct tel_conn *t, const char *prefix, int timeout_s);

/** Close the connection and free its buffer (safe to call twice). */
void tel_close(struct tel_conn *t);

/** Wait at most @p timeout_s for each send and reply from now on. */
void tel_set_timeout(struct tel_conn *t, int timeout_s);

/**
 * Send @p cmd (with ",@p params" when @p params is not NULL) and read the
 * raw reply into t->buf (@p len and t->len bytes, NUL-ended).
 * @return 0; 2 when the request is too long for DPDK; 3 when the
 *   connection failed (message printed).
 */
int tel_request(
	struct tel_conn *t, const char *cmd, const char *params, size_t *len);

/**
 * tel_request(), then parse the reply and check it is {"<cmd>": value}
 * with a value that is neither null (unknown command) nor an object with
 * an "error" member (bad parameters).
 * @return 0 with *doc (json_free() it) and *val its value; 1 when the
 *   command failed or the reply is not what DPDK sends (message
 *   printed); 2 or 3 as tel_request().
 */
int tel_query(struct tel_conn *t, const char *cmd, const char *params,
	struct json_doc **doc, const struct json_value **val);

#endif /* TGCTL_TEL_CLIENT_H */
