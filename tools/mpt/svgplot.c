/* SPDX-License-Identifier: Apache-2.0 */
/* SVG charts (svgplot.h). */
#include "svgplot.h"

#include <errno.h>
#include <stdio.h>

double svg_nice_step(double max, int n)
{
	if (!(max > 0))
		return 1;
	double raw = max / n, p = 1;
	while (p * 10 <= raw)
		p *= 10;
	while (p > raw)
		p /= 10;
	double m = raw / p;
	return p * (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10);
}

/* Text for the SVG: & < > escaped. */
static void put_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else
			fputc(*s, f);
	}
}

int svg_plot(const char *path, const char *title, const char *xlabel, const char *ylabel,
	     const struct svg_series *s, size_t ns, const struct svg_band *bands, size_t nb,
	     bool total_first)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	const double W = 960, H = 460, L = 70, R = 300, T = 40, B = 50;
	double xmax = 0, ymax = 0;
	for (size_t k = 0; k < ns; k++)
		for (size_t i = 0; i < s[k].n; i++) {
			if (s[k].x[i] > xmax)
				xmax = s[k].x[i];
			if (s[k].y[i] > ymax)
				ymax = s[k].y[i];
		}
	if (xmax <= 0)
		xmax = 1;
	if (ymax <= 0)
		ymax = 1;
	double xstep = svg_nice_step(xmax, 8), ystep = svg_nice_step(ymax * 1.05, 5);
	xmax = xstep * (double)(long)(xmax / xstep + 0.999);
	ymax = ystep * (double)(long)(ymax * 1.05 / ystep + 0.999);
	static const char *const colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
					     "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
	double pw = W - L - R, ph = H - T - B;
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		"font-family=\"sans-serif\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
		"<text x=\"%.0f\" y=\"22\" font-size=\"14\">",
		W, H, L);
	put_text(f, title);
	fprintf(f, "</text>\n");
	for (size_t b = 0; b < nb; b++) {
		double x0 = L + pw * bands[b].x0 / xmax, x1 = L + pw * bands[b].x1 / xmax;
		if (x1 > L + pw)
			x1 = L + pw;
		fprintf(
		    f,
		    "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" fill=\"#f2c6c6\" "
		    "fill-opacity=\"0.6\"/><text x=\"%.1f\" y=\"%.0f\" font-size=\"11\" "
		    "fill=\"#a33\">",
		    x0, T, x1 > x0 ? x1 - x0 : 1, ph, x0 + 3, T + 12 + 13 * (double)b);
		put_text(f, bands[b].label);
		fprintf(f, "</text>\n");
	}
	for (double v = 0; v <= ymax + ystep / 2; v += ystep) {
		double y = T + ph - ph * v / ymax;
		fprintf(f,
			"<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
			"<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
			L, y, L + pw, y, L - 4, y + 4, v);
	}
	for (double v = 0; v <= xmax + xstep / 2; v += xstep) {
		double x = L + pw * v / xmax;
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"black\"/>"
			"<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%g</text>\n",
			x, T + ph, x, T + ph + 4, x, T + ph + 16, v);
	}
	fprintf(f,
		"<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n"
		"<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n"
		"<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">",
		L, T + ph, L + pw, T + ph, L, T, L, T + ph, L + pw / 2, H - 12);
	put_text(f, xlabel);
	fprintf(f,
		"</text>\n<text x=\"16\" y=\"%.0f\" transform=\"rotate(-90 16 %.0f)\" "
		"text-anchor=\"middle\">",
		T + ph / 2, T + ph / 2);
	put_text(f, ylabel);
	fprintf(f, "</text>\n");
	for (size_t k = 0; k < ns; k++) {
		const char *c =
		    total_first && k == 0 ? "#000000" : colors[(k - (total_first ? 1 : 0)) % 10];
		if (s[k].dots) {
			fprintf(f, "<g fill=\"%s\">", c);
			for (size_t i = 0; i < s[k].n; i++)
				fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"2\" height=\"2\"/>",
					L + pw * s[k].x[i] / xmax - 1,
					T + ph - ph * s[k].y[i] / ymax - 1);
			fprintf(f, "</g>\n");
		} else if (s[k].n) {
			fprintf(
			    f,
			    "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" points=\"",
			    c, total_first && k == 0 ? "2.5" : "1.5");
			for (size_t i = 0; i < s[k].n; i++)
				fprintf(f, "%.1f,%.1f ", L + pw * s[k].x[i] / xmax,
					T + ph - ph * s[k].y[i] / ymax);
			fprintf(f, "\"/>\n");
		}
		fprintf(f,
			"<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"%s\" fill=\"%s\"/>"
			"<text x=\"%.0f\" y=\"%.0f\">",
			L + pw + 12, T + 18 * (double)k, s[k].dots ? "6" : "3", c, L + pw + 30,
			T + 18 * (double)k + 5);
		put_text(f, s[k].label);
		fprintf(f, "</text>\n");
	}
	fprintf(f, "</svg>\n");
	int bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	return 0;
}
