/*
 * mpt — a portable userspace Multipath TCP stack.
 *
 * Public API. The engine is sans-I/O: time, randomness, memory and packet
 * I/O all come in from the caller (see ../shared/DESIGN.md).  Time is a
 * uint64_t count of nanoseconds on any monotonic clock; UINT64_MAX means
 * "no deadline".
 *
 * Error convention: functions return 0 (or a non-negative count) on success
 * and a negative enum mpt_err value on failure.
 */
#ifndef MPT_MPT_H
#define MPT_MPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MPT_VERSION_STRING "0.1.0"

/** "No deadline" value for timer functions. */
#define MPT_TIME_NEVER UINT64_MAX
#define MPT_NS_PER_US UINT64_C(1000)
#define MPT_NS_PER_MS UINT64_C(1000000)
#define MPT_NS_PER_S UINT64_C(1000000000)

/** Error codes. All are negative; 0 is success. */
enum mpt_err {
	MPT_OK = 0,
	MPT_ERR_INVAL = -1,       /**< invalid argument */
	MPT_ERR_NOMEM = -2,       /**< allocator hook returned NULL */
	MPT_ERR_TRUNCATED = -3,   /**< input shorter than its header/length field says */
	MPT_ERR_BADLEN = -4,      /**< a length field is impossible for its type */
	MPT_ERR_CHECKSUM = -5,    /**< checksum mismatch */
	MPT_ERR_FRAGMENT = -6,    /**< IP fragment (not supported, dropped) */
	MPT_ERR_PROTO = -7,       /**< protocol violation / malformed field */
	MPT_ERR_UNSUPPORTED = -8, /**< valid but unsupported (version, protocol) */
	MPT_ERR_NOSPACE = -9,     /**< output buffer too small */
	MPT_ERR_AGAIN = -10,      /**< would block: retry when ready */
	MPT_ERR_STATE = -11,      /**< operation not valid in this state */
	MPT_ERR_CLOSED = -12,     /**< connection closed / shut down */
	MPT_ERR_RESET = -13,      /**< connection reset by peer */
	MPT_ERR_TIMEDOUT = -14,   /**< retransmission / keep-alive timeout */
	MPT_ERR_REFUSED = -15,    /**< connection refused (RST to our SYN) */
	MPT_ERR_EXIST = -16,      /**< already exists (port in use, duplicate name) */
	MPT_ERR_NOTFOUND = -17,   /**< no such object */
	MPT_ERR_LIMIT = -18,      /**< a configured resource limit was reached */
};

/** Human-readable text for an error code (never NULL). */
const char *mpt_strerror(int err);

/**
 * Allocator hooks. Every allocation the engine makes goes through these.
 * realloc semantics follow C's realloc. free(NULL) must be a no-op.
 */
struct mpt_mem {
	void *(*malloc)(size_t size, void *user_data);
	void *(*calloc)(size_t nmemb, size_t size, void *user_data);
	void *(*realloc)(void *ptr, size_t size, void *user_data);
	void (*free)(void *ptr, void *user_data);
	void *user_data;
};

/** The C library allocator (the only place the library calls malloc). */
const struct mpt_mem *mpt_mem_default(void);

/**
 * Randomness callback: fill buf with len random bytes.  Simulations pass a
 * seeded generator so that runs replay exactly; real backends pass
 * mpt_rand_default (OpenSSL RAND_bytes).
 */
typedef void (*mpt_rand_fn)(uint8_t *buf, size_t len, void *user_data);

/** OpenSSL RAND_bytes; aborts if the CSPRNG fails (it never should). */
void mpt_rand_default(uint8_t *buf, size_t len, void *user_data);

/** An IPv4 or IPv6 address (network byte order in bytes[]). */
struct mpt_addr {
	uint8_t family;    /**< 4 or 6 */
	uint8_t bytes[16]; /**< IPv4 uses bytes[0..3] */
};

/** Address + port (port in host byte order). */
struct mpt_endpoint {
	struct mpt_addr addr;
	uint16_t port;
};

/** Parse "1.2.3.4" or "2001:db8::1" (no port). Returns 0 or MPT_ERR_INVAL. */
int mpt_addr_parse(struct mpt_addr *out, const char *text);
/** Format an address; buf should hold 46 bytes. Returns buf. */
char *mpt_addr_format(const struct mpt_addr *a, char *buf, size_t len);
/** True when both addresses are equal (family and bytes). */
bool mpt_addr_equal(const struct mpt_addr *a, const struct mpt_addr *b);

#ifdef __cplusplus
}
#endif
#endif /* MPT_MPT_H */
