/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPTCP token table (src/mptcp/token.c): insert/lookup/remove, duplicate
 * tokens, key generation with forced token collisions (RFC 8684 §3.1: the
 * token must be locally unique), allocation failures, and 10k tokens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/splitmix.h"
#include "crypto/crypto.h"
#include "mptcp/dsbuf.h"
#include "testmem.h"

/* Counting allocator (tests/common/testmem.c): leaks and injected failures. */
static struct mpt_test_mem tm;

static int setup(void **state)
{
	mpt_test_mem_init(&tm);
	return 0;
}
static int teardown(void **state)
{
	assert_int_equal(tm.live, 0);
	return 0;
}

/*
 * Fake randomness: hands out keys from a script (each key as 8 big-endian
 * bytes; mpt_key_gen reads 8 bytes).  Counts calls.
 */
struct script {
	const uint64_t *keys;
	size_t n, pos, calls;
};

static void script_rand(uint8_t *buf, size_t len, void *ud)
{
	struct script *s = ud;
	uint64_t k = s->keys[s->pos < s->n ? s->pos : s->n - 1];

	s->pos++;
	s->calls++;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(k >> (8 * ((len - 1 - i) % 8)));
}

static uint64_t key_of_script(uint64_t k)
{
	/* What mpt_key_gen makes of our bytes (byte order is its business). */
	struct script s = {&k, 1, 0, 0};

	return mpt_key_gen(script_rand, &s);
}

static void test_init_errors(void **state)
{
	struct mpt_token_table t;

	assert_int_equal(mpt_token_table_init(NULL, &tm.mem, 8, 1), MPT_ERR_INVAL);
	assert_int_equal(mpt_token_table_init(&t, NULL, 8, 1), MPT_ERR_INVAL);
	assert_int_equal(mpt_token_table_init(&t, &tm.mem, SIZE_MAX, 1), MPT_ERR_INVAL);
	tm.fail_at = 0;
	assert_int_equal(mpt_token_table_init(&t, &tm.mem, 8, 1), MPT_ERR_NOMEM);
	mpt_token_table_free(&t);
	assert_null(mpt_token_lookup(&t, 1));
	assert_int_equal(mpt_token_remove(&t, 1), MPT_ERR_NOTFOUND);
	assert_int_equal(mpt_token_insert(&t, 1, &t), MPT_ERR_INVAL);
	tm.fail_at = -1;
	/* Rounded up to a power of two; 0 gives one bucket. */
	assert_int_equal(mpt_token_table_init(&t, &tm.mem, 100, 1), 0);
	assert_int_equal(t.mask, 127);
	mpt_token_table_free(&t);
	assert_int_equal(mpt_token_table_init(&t, &tm.mem, 0, 1), 0);
	assert_int_equal(t.mask, 0);
	assert_int_equal(mpt_token_insert(&t, 5, &t), 0);
	assert_int_equal(mpt_token_insert(&t, 6, &t), 0);
	assert_ptr_equal(mpt_token_lookup(&t, 6), &t);
	mpt_token_table_free(&t); /* frees the entries too */
	mpt_token_table_free(&t);
}

static void test_insert_lookup_remove(void **state)
{
	struct mpt_token_table t;
	int a, b, c;

	assert_int_equal(mpt_token_table_init(&t, &tm.mem, 4, 0x1234), 0);
	assert_null(mpt_token_lookup(&t, 7));
	assert_int_equal(mpt_token_insert(&t, 7, &a), 0);
	assert_int_equal(mpt_token_insert(&t, 0, &b), 0); /* token 0 is a token like any other */
	assert_int_equal(mpt_token_insert(&t, 0xffffffffu, &c), 0);
	assert_int_equal(t.count, 3);
	assert_ptr_equal(mpt_token_lookup(&t, 7), &a);
	assert_ptr_equal(mpt_token_lookup(&t, 0), &b);
	assert_ptr_equal(mpt_token_lookup(&t, 0xffffffffu), &c);
	assert_null(mpt_token_lookup(&t, 8));
	/* Duplicate: refused, original kept. */
	assert_int_equal(mpt_token_insert(&t, 7, &b), MPT_ERR_EXIST);
	assert_ptr_equal(mpt_token_lookup(&t, 7), &a);
	assert_int_equal(t.count, 3);
	/* NULL conn is stored; exists() tells it apart from absence. */
	assert_int_equal(mpt_token_insert(&t, 99, NULL), 0);
	assert_null(mpt_token_lookup(&t, 99));
	assert_true(mpt_token_exists(&t, 99));
	assert_false(mpt_token_exists(&t, 98));
	assert_int_equal(mpt_token_insert(&t, 99, &a), MPT_ERR_EXIST);
	/* Remove. */
	assert_int_equal(mpt_token_remove(&t, 7), 0);
	assert_int_equal(mpt_token_remove(&t, 7), MPT_ERR_NOTFOUND);
	assert_null(mpt_token_lookup(&t, 7));
	assert_ptr_equal(mpt_token_lookup(&t, 0), &b);
	assert_int_equal(t.count, 3);
	assert_int_equal(mpt_token_insert(&t, 7, &c), 0); /* reusable */
	assert_ptr_equal(mpt_token_lookup(&t, 7), &c);
	/* Allocation failure on insert. */
	tm.fail_at = tm.allocs;
	assert_int_equal(mpt_token_insert(&t, 1000, &a), MPT_ERR_NOMEM);
	assert_false(mpt_token_exists(&t, 1000));
	assert_int_equal(t.count, 4);
	mpt_token_table_free(&t);
}

static void test_new_key(void **state)
{
	struct mpt_token_table t;
	const uint64_t keys[] = {0x0102030405060708ULL};
	struct script s = {keys, 1, 0, 0};
	uint64_t key = 0, idsn = 0, want_idsn;
	uint32_t tok = 0, want_tok;
	int conn;

	assert_int_equal(mpt_token_table_init(&t, &tm.mem, 16, 99), 0);
	assert_int_equal(
	    mpt_token_new_key(&t, MPT_CRYPTO_V1, script_rand, &s, &conn, &key, &tok, &idsn), 0);
	assert_true(key == key_of_script(keys[0]));
	assert_int_equal(mpt_key_token_idsn(MPT_CRYPTO_V1, key, &want_tok, &want_idsn), 0);
	assert_int_equal(tok, want_tok);
	assert_true(idsn == want_idsn);
	assert_ptr_equal(mpt_token_lookup(&t, tok), &conn);
	/* v0 derives differently (SHA-1). */
	{
		const uint64_t k0[] = {0x1111222233334444ULL};
		struct script s0 = {k0, 1, 0, 0};
		uint32_t t0;
		uint64_t i0, wk;

		assert_int_equal(
		    mpt_token_new_key(&t, MPT_CRYPTO_V0, script_rand, &s0, &conn, &wk, &t0, &i0),
		    0);
		assert_int_equal(mpt_key_token_idsn(MPT_CRYPTO_V0, wk, &want_tok, &want_idsn), 0);
		assert_int_equal(t0, want_tok);
		assert_true(i0 == want_idsn);
	}
	/* Bad version and NULL rnd: nothing inserted. */
	assert_int_equal(mpt_token_new_key(&t, 7, script_rand, &s, &conn, NULL, NULL, NULL),
			 MPT_ERR_UNSUPPORTED);
	assert_int_equal(mpt_token_new_key(&t, MPT_CRYPTO_V1, NULL, NULL, &conn, NULL, NULL, NULL),
			 MPT_ERR_INVAL);
	assert_int_equal(t.count, 2);
	mpt_token_table_free(&t);
}

static void test_new_key_collisions(void **state)
{
	struct mpt_token_table t;
	const uint64_t first[] = {0xabcdef0011223344ULL};
	uint64_t keys[20];
	struct script s;
	uint64_t key, k1;
	uint32_t tok, t1;
	int conn;

	assert_int_equal(mpt_token_table_init(&t, &tm.mem, 16, 5), 0);
	s = (struct script){first, 1, 0, 0};
	assert_int_equal(
	    mpt_token_new_key(&t, MPT_CRYPTO_V1, script_rand, &s, &conn, &k1, &t1, NULL), 0);

	/* The same key 5 times, then a fresh one: 6 draws, the fresh key wins. */
	for (size_t i = 0; i < 5; i++)
		keys[i] = first[0];
	keys[5] = 0x5555666677778888ULL;
	s = (struct script){keys, 6, 0, 0};
	assert_int_equal(
	    mpt_token_new_key(&t, MPT_CRYPTO_V1, script_rand, &s, &conn, &key, &tok, NULL), 0);
	assert_int_equal(s.pos, 6);
	assert_true(key == key_of_script(keys[5]));
	assert_true(tok != t1);
	assert_int_equal(t.count, 2);

	/* 15 collisions then a fresh key: still succeeds on the 16th draw. */
	for (size_t i = 0; i < 15; i++)
		keys[i] = first[0];
	keys[15] = 0x9999aaaabbbbccccULL;
	s = (struct script){keys, 16, 0, 0};
	assert_int_equal(
	    mpt_token_new_key(&t, MPT_CRYPTO_V1, script_rand, &s, &conn, &key, &tok, NULL), 0);
	assert_int_equal(s.pos, 16);
	assert_int_equal(t.count, 3);

	/* 16 collisions in a row: MPT_ERR_LIMIT, outputs untouched, nothing added. */
	for (size_t i = 0; i < 20; i++)
		keys[i] = first[0];
	s = (struct script){keys, 20, 0, 0};
	key = 42;
	tok = 42;
	assert_int_equal(
	    mpt_token_new_key(&t, MPT_CRYPTO_V1, script_rand, &s, &conn, &key, &tok, NULL),
	    MPT_ERR_LIMIT);
	assert_int_equal(s.pos, 16);
	assert_true(key == 42);
	assert_int_equal(tok, 42);
	assert_int_equal(t.count, 3);

	/* NOMEM on the insert is passed up. */
	keys[0] = 0x0f0f0f0f0f0f0f0fULL;
	s = (struct script){keys, 1, 0, 0};
	tm.fail_at = tm.allocs;
	assert_int_equal(
	    mpt_token_new_key(&t, MPT_CRYPTO_V1, script_rand, &s, &conn, &key, &tok, NULL),
	    MPT_ERR_NOMEM);
	assert_int_equal(t.count, 3);
	mpt_token_table_free(&t);
}

static uint64_t rng;

static uint64_t splitmix64(void)
{
	return mpt_splitmix64(&rng);
}

static void seeded_rand(uint8_t *buf, size_t len, void *ud)
{
	(void)ud;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)splitmix64();
}

#define MANY 10000

static void test_many(void **state)
{
	static uint32_t toks[MANY];
	static uintptr_t conns[MANY];
	struct mpt_token_table t;
	size_t i, max_chain = 0;

	rng = 0x746f6b656e73ULL;
	assert_int_equal(mpt_token_table_init(&t, &tm.mem, 1024, 0xfeedULL), 0);
	for (i = 0; i < MANY; i++) {
		conns[i] = i + 1;
		assert_int_equal(mpt_token_new_key(&t, MPT_CRYPTO_V1, seeded_rand, NULL,
						   (void *)conns[i], NULL, &toks[i], NULL),
				 0);
	}
	assert_int_equal(t.count, MANY);
	for (i = 0; i < MANY; i++)
		assert_ptr_equal(mpt_token_lookup(&t, toks[i]), (void *)conns[i]);
	/* Also sequential tokens inserted directly (an adversarial-looking pattern). */
	for (i = 0; i < MANY; i++) {
		int rc = mpt_token_insert(&t, (uint32_t)i, (void *)(uintptr_t)(i + 100000));

		assert_true(rc == 0 || rc == MPT_ERR_EXIST);
	}
	/* The keyed hash spreads them: no absurd chains. */
	for (i = 0; i <= t.mask; i++) {
		size_t n = 0;

		for (struct mpt_token_ent *e = t.buckets[i]; e; e = e->next)
			n++;
		if (n > max_chain)
			max_chain = n;
	}
	assert_true(max_chain < 60);
	/* Remove every other one; the rest stay reachable. */
	for (i = 0; i < MANY; i += 2)
		assert_int_equal(mpt_token_remove(&t, toks[i]), 0);
	for (i = 0; i < MANY; i++) {
		if (i % 2 == 0)
			assert_false(mpt_token_exists(&t, toks[i]) &&
				     mpt_token_lookup(&t, toks[i]) == (void *)conns[i]);
		else
			assert_ptr_equal(mpt_token_lookup(&t, toks[i]), (void *)conns[i]);
	}
	mpt_token_table_free(&t);
}

/* One stack of a group (issue 13): every token it makes has its residue,
 * for n = 2..5 and each member; keys are drawn until one has it (about n
 * draws each, bounded). */
static void test_shard_residue(void **state)
{
	(void)state;
	rng = 0x7368617264ULL;
	for (uint16_t n = 2; n <= 5; n++) {
		for (uint16_t shard = 0; shard < n; shard++) {
			struct mpt_token_table t;
			assert_int_equal(mpt_token_table_init(&t, &tm.mem, 64, 0x51ULL), 0);
			t.shards = n;
			t.shard = shard;
			for (int i = 0; i < 200; i++) {
				uint32_t tok;
				uint64_t key;
				assert_int_equal(
				    mpt_token_new_key(&t, i % 2 ? MPT_CRYPTO_V0 : MPT_CRYPTO_V1,
						      seeded_rand, NULL, &t, &key, &tok, NULL),
				    0);
				assert_int_equal(tok % n, shard);
			}
			mpt_token_table_free(&t);
		}
	}
	/* A key source that never gives the residue: bounded, MPT_ERR_LIMIT. */
	struct mpt_token_table t;
	assert_int_equal(mpt_token_table_init(&t, &tm.mem, 16, 5), 0);
	const uint64_t one[] = {0xabcdef0011223344ULL};
	uint32_t tok0;
	struct script s = {one, 1, 0, 0};
	assert_int_equal(
	    mpt_token_new_key(&t, MPT_CRYPTO_V1, script_rand, &s, NULL, NULL, &tok0, NULL), 0);
	mpt_token_table_free(&t);
	assert_int_equal(mpt_token_table_init(&t, &tm.mem, 16, 5), 0);
	t.shards = 2;
	t.shard = (uint16_t)(1u - tok0 % 2u);
	s = (struct script){one, 1, 0, 0};
	assert_int_equal(
	    mpt_token_new_key(&t, MPT_CRYPTO_V1, script_rand, &s, NULL, NULL, NULL, NULL),
	    MPT_ERR_LIMIT);
	assert_int_equal(s.calls, 16 * 16 * 2);
	assert_int_equal(t.count, 0);
	mpt_token_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_init_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_insert_lookup_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new_key_collisions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shard_residue, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
