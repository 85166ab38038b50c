/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Token table (RFC 8684 §3.2): an MP_JOIN SYN names the connection it
 * joins by the 32-bit token of the receiver's key, so the stack keeps a map
 * token -> connection.  Chained hashing; the bucket index mixes a secret
 * seed with the token so that a peer sending chosen tokens in MP_JOINs
 * cannot predict which bucket it probes.
 */
#include "base/splitmix.h"
#include "common.h"
#include "crypto/crypto.h"
#include "mptcp/dsbuf.h"

/* RFC 8684 §3.1 asks for a locally unique token; give up after this many clashes in a row. */
#define TOKEN_MAX_TRIES 16

/* splitmix64 finaliser over seed ^ token: a cheap keyed mix, not a MAC. */
static size_t token_bucket(const struct mpt_token_table *t, uint32_t token)
{
	uint64_t x = t->seed ^ ((uint64_t)token * MPT_SPLITMIX64_GAMMA);

	return (size_t)mpt_splitmix64_mix(x) & t->mask;
}

static struct mpt_token_ent *token_find(const struct mpt_token_table *t, uint32_t token)
{
	struct mpt_token_ent *e;

	if (!t->buckets)
		return NULL;
	for (e = t->buckets[token_bucket(t, token)]; e; e = e->next)
		if (e->token == token)
			return e;
	return NULL;
}

int mpt_token_table_init(struct mpt_token_table *t, const struct mpt_mem *mem, size_t nbuckets,
			 uint64_t seed)
{
	size_t n = 1;

	if (!t)
		return MPT_ERR_INVAL;
	memset(t, 0, sizeof(*t));
	if (!mem || nbuckets > (SIZE_MAX / 2) / sizeof(*t->buckets))
		return MPT_ERR_INVAL;
	while (n < nbuckets)
		n <<= 1;
	t->buckets = mpt_calloc(mem, n, sizeof(*t->buckets));
	if (!t->buckets)
		return MPT_ERR_NOMEM;
	t->mem = mem;
	t->mask = n - 1;
	t->seed = seed;
	return 0;
}

void mpt_token_table_free(struct mpt_token_table *t)
{
	size_t i;

	if (!t || !t->buckets)
		return;
	for (i = 0; i <= t->mask; i++) {
		struct mpt_token_ent *e = t->buckets[i];

		while (e) {
			struct mpt_token_ent *next = e->next;

			mpt_free(t->mem, e);
			e = next;
		}
	}
	mpt_free(t->mem, t->buckets);
	t->buckets = NULL;
	t->mask = 0;
	t->count = 0;
}

int mpt_token_insert(struct mpt_token_table *t, uint32_t token, void *conn)
{
	struct mpt_token_ent *e;
	size_t b;

	if (!t->buckets)
		return MPT_ERR_INVAL;
	if (token_find(t, token))
		return MPT_ERR_EXIST;
	e = mpt_malloc(t->mem, sizeof(*e));
	if (!e)
		return MPT_ERR_NOMEM;
	b = token_bucket(t, token);
	e->token = token;
	e->conn = conn;
	e->next = t->buckets[b];
	t->buckets[b] = e;
	t->count++;
	return 0;
}

void *mpt_token_lookup(const struct mpt_token_table *t, uint32_t token)
{
	struct mpt_token_ent *e = token_find(t, token);

	return e ? e->conn : NULL;
}

bool mpt_token_exists(const struct mpt_token_table *t, uint32_t token)
{
	return token_find(t, token) != NULL;
}

int mpt_token_remove(struct mpt_token_table *t, uint32_t token)
{
	struct mpt_token_ent **pp;

	if (!t->buckets)
		return MPT_ERR_NOTFOUND;
	for (pp = &t->buckets[token_bucket(t, token)]; *pp; pp = &(*pp)->next) {
		struct mpt_token_ent *e = *pp;

		if (e->token == token) {
			*pp = e->next;
			mpt_free(t->mem, e);
			t->count--;
			return 0;
		}
	}
	return MPT_ERR_NOTFOUND;
}

int mpt_token_new_key(struct mpt_token_table *t, int version, mpt_rand_fn rnd, void *rnd_ud,
		      void *conn, uint64_t *key, uint32_t *token, uint64_t *idsn)
{
	int tries, rc;

	if (!rnd || !t->buckets)
		return MPT_ERR_INVAL;
	/* A shard takes one key in `shards` on average (its residue), so the
	 * clash budget is per residue hit, and the draws are bounded too. */
	uint32_t draws = 0, max_draws = TOKEN_MAX_TRIES * 16u * (t->shards > 1 ? t->shards : 1u);
	for (tries = 0; tries < TOKEN_MAX_TRIES && draws < max_draws; draws++) {
		uint64_t k = mpt_key_gen(rnd, rnd_ud);
		uint64_t is;
		uint32_t tok;

		rc = mpt_key_token_idsn(version, k, &tok, &is);
		if (rc < 0)
			return rc;
		if (t->shards > 1 && tok % t->shards != t->shard)
			continue;
		tries++;
		/* RFC 8684 §3.1: a key whose token is already in use is not usable. */
		if (token_find(t, tok))
			continue;
		rc = mpt_token_insert(t, tok, conn);
		if (rc < 0)
			return rc;
		if (key)
			*key = k;
		if (token)
			*token = tok;
		if (idsn)
			*idsn = is;
		return 0;
	}
	return MPT_ERR_LIMIT;
}
