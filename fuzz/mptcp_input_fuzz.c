/*
 * libFuzzer target: packet input into an established MPTCP connection
 * (v1, DSS checksums on).  Same harness as input_fuzz.c, with MPTCP
 * enabled on both stacks, so crafted segments reach the connection layer.
 */
#define FUZZ_MPTCP 1
#include "input_fuzz.c"
