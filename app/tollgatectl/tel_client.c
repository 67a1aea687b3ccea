/* SPDX-License-Identifier: BSD-3-Clause
 * The telemetry v2 socket client: connection, greeting, one request and
 * one reply at a time, and the checks every /tollgate/ reply goes through.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "tel_client.h"
#include "tollgatectl.h"

#define GREETING_MAX 1024 /* DPDK writes it from a 1 KiB buffer */

static const char *
runtime_base(void)
{
	const char *d = getenv("RUNTIME_DIRECTORY"); /* systemd's */

	if (d != NULL)
		return d;
	if (getuid() == 0)
		return "/var/run";
	d = getenv("XDG_RUNTIME_DIR");
	return d != NULL ? d : "/tmp";
}

int
tel_socket_path(const char *prefix, char *path, size_t len)
{
	int n = snprintf(path, len, "%s/dpdk/%s/dpdk_telemetry.v2",
		runtime_base(), prefix);

	if (n < 0 || (size_t)n >= len ||
		(size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

/* A non-root user looks under $XDG_RUNTIME_DIR, as EAL would for them;
 * when the process runs as root its socket is under /var/run instead, in
 * a directory only root may enter. Say so rather than "not running". */
static bool
root_instance_exists(const char *prefix, char *path, size_t len)
{
	struct stat st;
	int n;

	if (getuid() == 0 || getenv("RUNTIME_DIRECTORY") != NULL)
		return false;
	n = snprintf(path, len, "/var/run/dpdk/%s", prefix);
	if (n < 0 || (size_t)n >= len ||
		(stat(path, &st) != 0 && errno != EACCES))
		return false;
	n = snprintf(path + n, len - (size_t)n, "/dpdk_telemetry.v2");
	return n > 0;
}

static void
set_timeouts(int fd, int timeout_s)
{
	struct timeval tv = {.tv_sec = timeout_s};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

void
tel_set_timeout(struct tel_conn *t, int timeout_s)
{
	set_timeouts(t->fd, timeout_s);
}

static int
connect_error(struct tel_conn *t, int err)
{
	char other[512];

	switch (err) {
	case ENOENT:
	case ENOTDIR:
		if (root_instance_exists(t->prefix, other, sizeof(other))) {
			fprintf(stderr,
				"tollgatectl: permission denied on %s (run "
				"as the user tollgate runs as, or root)\n",
				other);
			break;
		}
		fprintf(stderr,
			"tollgatectl: tollgate is not running with prefix %s "
			"(no socket at %s)\n",
			t->prefix, t->path);
		break;
	case ECONNREFUSED:
		fprintf(stderr,
			"tollgatectl: tollgate is not running with prefix %s "
			"(%s is left over from a process that is gone)\n",
			t->prefix, t->path);
		break;
	case EACCES:
	case EPERM:
		fprintf(stderr,
			"tollgatectl: permission denied on %s (run as the "
			"user tollgate runs as, or root)\n",
			t->path);
		break;
	case EAGAIN:
	case ETIMEDOUT:
		fprintf(stderr,
			"tollgatectl: telemetry socket busy (DPDK serves at "
			"most %d clients): %s does not accept connections\n",
			TEL_MAX_CLIENTS, t->path);
		break;
	default:
		fprintf(stderr, "tollgatectl: cannot connect to %s: %s\n",
			t->path, strerror(err));
	}
	return CTL_NOCONN;
}

static int
read_greeting(struct tel_conn *t)
{
	struct json_doc *doc;
	uint64_t v;
	ssize_t n;

	n = recv(t->fd, t->buf, GREETING_MAX, 0);
	if (n == 0) {
		/* DPDK accepts, then closes at once past its limit. */
		fprintf(stderr,
			"tollgatectl: telemetry socket busy (DPDK serves at "
			"most %d clients)\n",
			TEL_MAX_CLIENTS);
		return CTL_NOCONN;
	}
	if (n < 0) {
		fprintf(stderr, "tollgatectl: %s: no greeting: %s\n", t->path,
			errno == EAGAIN ? "timed out" : strerror(errno));
		return CTL_NOCONN;
	}
	doc = json_parse(t->buf, (size_t)n, NULL, NULL);
	if (doc == NULL || json_root(doc)->type != JSON_OBJECT) {
		fprintf(stderr,
			"tollgatectl: %s does not greet like DPDK telemetry "
			"v2\n",
			t->path);
		json_free(doc);
		return CTL_NOCONN;
	}
	if (json_u64(json_get(json_root(doc), "max_output_len"), &v) == 0 &&
		v >= 1024 && v <= (16u << 20))
		t->max_output_len = (uint32_t)v;
	if (json_u64(json_get(json_root(doc), "pid"), &v) == 0)
		t->pid = (long)v;
	json_free(doc);
	return 0;
}

int
tel_open(struct tel_conn *t, const char *prefix, int timeout_s)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char *grown;
	int rc;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->max_output_len = 16384;
	snprintf(t->prefix, sizeof(t->prefix), "%s", prefix);
	if (tel_socket_path(prefix, t->path, sizeof(t->path)) < 0) {
		fprintf(stderr,
			"tollgatectl: the socket path for prefix %s is too "
			"long\n",
			prefix);
		return CTL_NOCONN;
	}
	t->cap = GREETING_MAX + 1;
	t->buf = malloc(t->cap);
	if (t->buf == NULL) {
		fprintf(stderr, "tollgatectl: out of memory\n");
		return CTL_NOCONN;
	}
	t->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		fprintf(stderr, "tollgatectl: socket: %s\n", strerror(errno));
		return CTL_NOCONN;
	}
	set_timeouts(t->fd, timeout_s);
	memcpy(sun.sun_path, t->path, strlen(t->path) + 1);
	if (connect(t->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		return connect_error(t, errno);
	rc = read_greeting(t);
	if (rc != 0)
		return rc;
	/* Room for the largest reply DPDK can write, and a byte more to
	 * see when one is larger than announced. */
	grown = realloc(t->buf, (size_t)t->max_output_len + 2);
	if (grown == NULL) {
		fprintf(stderr, "tollgatectl: out of memory\n");
		return CTL_NOCONN;
	}
	t->buf = grown;
	t->cap = (size_t)t->max_output_len + 2;
	return 0;
}

void
tel_close(struct tel_conn *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	free(t->buf);
	t->buf = NULL;
	t->cap = 0;
}

int
tel_request(
	struct tel_conn *t, const char *cmd, const char *params, size_t *len)
{
	char req[TEL_MAX_REQUEST + 2];
	ssize_t n;
	int m;

	if (params != NULL)
		m = snprintf(req, sizeof(req), "%s,%s", cmd, params);
	else
		m = snprintf(req, sizeof(req), "%s", cmd);
	if (m < 0 || m > TEL_MAX_REQUEST) {
		fprintf(stderr,
			"tollgatectl: request too long (DPDK reads at most "
			"%d bytes): %.60s...\n",
			TEL_MAX_REQUEST, req);
		return CTL_USAGE;
	}
	if (send(t->fd, req, (size_t)m, MSG_NOSIGNAL) != m) {
		fprintf(stderr, "tollgatectl: %s: sending %s: %s\n", t->path,
			cmd, strerror(errno));
		return CTL_NOCONN;
	}
	/* One datagram per reply; MSG_TRUNC gives its real length. */
	n = recv(t->fd, t->buf, t->cap - 1, MSG_TRUNC);
	if (n == 0) {
		fprintf(stderr,
			"tollgatectl: %s: tollgate closed the connection "
			"(did it stop?)\n",
			t->path);
		return CTL_NOCONN;
	}
	if (n < 0) {
		if (errno == EINTR && ctl_stop)
			return CTL_NOCONN;
		fprintf(stderr, "tollgatectl: %s: waiting for %s: %s\n",
			t->path, cmd,
			errno == EAGAIN ? "no reply in time" : strerror(errno));
		return CTL_NOCONN;
	}
	if ((size_t)n > t->cap - 2) {
		fprintf(stderr,
			"tollgatectl: %s: reply of %zd bytes is larger than "
			"the %u announced\n",
			cmd, n, t->max_output_len);
		return CTL_NOCONN;
	}
	t->buf[n] = '\0';
	t->len = (size_t)n;
	*len = (size_t)n;
	return 0;
}

int
tel_query(struct tel_conn *t, const char *cmd, const char *params,
	struct json_doc **doc, const struct json_value **val)
{
	const struct json_value *root, *v, *e;
	struct json_error err;
	size_t len;
	int rc;

	*doc = NULL;
	rc = tel_request(t, cmd, params, &len);
	if (rc != 0)
		return rc;
	*doc = json_parse(t->buf, len, NULL, &err);
	if (*doc == NULL) {
		fprintf(stderr,
			"tollgatectl: %s: the reply is not valid JSON (byte "
			"%zu: %s)\n",
			cmd, err.offset, err.msg);
		return CTL_FAILED;
	}
	root = json_root(*doc);
	v = root->type == JSON_OBJECT && root->v.kids.n == 1
		    ? root->v.kids.first
		    : NULL;
	if (v == NULL || strncmp(v->key, cmd, TEL_CMD_LEN) != 0) {
		fprintf(stderr,
			"tollgatectl: %s: unexpected reply (not {\"%s\": "
			"...})\n",
			cmd, cmd);
		goto failed;
	}
	if (v->type == JSON_NULL) {
		fprintf(stderr,
			"tollgatectl: %s: unknown command or invalid "
			"parameters (tollgatectl raw / lists the commands)\n",
			cmd);
		goto failed;
	}
	e = json_get(v, "error");
	if (e != NULL) {
		fprintf(stderr, "tollgatectl: %s: %s\n", cmd,
			json_str(e) != NULL ? json_str(e) : "error");
		goto failed;
	}
	*val = v;
	return 0;
failed:
	json_free(*doc);
	*doc = NULL;
	return CTL_FAILED;
}
