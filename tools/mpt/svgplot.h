/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small self-contained SVG charts (no library, no script): axes with units,
 * ticks at round values (1, 2 or 5 times a power of ten), a legend, lines or
 * dots per series, shaded bands.  Used by `mpt analyze`.
 */
#ifndef MPT_TOOL_SVGPLOT_H
#define MPT_TOOL_SVGPLOT_H

#include <stdbool.h>
#include <stddef.h>

struct svg_series {
	const char *label;
	const double *x, *y;
	size_t n;
	bool dots; /* points instead of a line */
};

struct svg_band {
	double x0, x1; /* shaded from x0 to x1 */
	const char *label;
};

/** A step of about max/n at 1, 2 or 5 times a power of ten. */
double svg_nice_step(double max, int n);

/**
 * Write a chart to path.  Returns 0, or -1 (errno) when it cannot be
 * written.  Series are drawn in order with a fixed palette (series 0 black
 * when it is a total, see total_first).
 */
int svg_plot(const char *path, const char *title, const char *xlabel, const char *ylabel,
	     const struct svg_series *s, size_t ns, const struct svg_band *bands, size_t nb,
	     bool total_first);

#endif /* MPT_TOOL_SVGPLOT_H */
