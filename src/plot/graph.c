/* Computation graphs drawn by Graphviz's own library (dot layout). */
#include "nd_plot.h"

#include "nd_ext.h"
#include "lock.h"

#include <errno.h>
#include <gvc.h>
#include <stdio.h>
#include <string.h>

/* One Graphviz context for the whole process: Graphviz's text-layout plugin
 * caches font data across graphs, and a context freed and made again leaves
 * that cache pointing at freed memory (AddressSanitizer sees it on the second
 * graph a process draws). Made and used under the drawing lock (lock.h). */
static GVC_t *context(void) {
    static GVC_t *gvc;
    if (!gvc) gvc = gvContext();
    return gvc;
}

/* Graphviz's messages become nd's error instead of lines on stderr. */
static char graphviz_message[256];
static int keep_graphviz_message(char *message) {
    snprintf(graphviz_message, sizeof graphviz_message, "%s", message ? message : "");
    size_t n = strlen(graphviz_message);
    while (n > 0 && (graphviz_message[n - 1] == '\n' || graphviz_message[n - 1] == ' '))
        graphviz_message[--n] = '\0';
    return 0;
}

static int draw(const char *dot, const char *path, const char *format) {
    GVC_t *gvc = context();
    if (!gvc) return nd__fail_int_as(ND_ERR_EXTERNAL, "nd_plot_graph: Graphviz could not start");
    graphviz_message[0] = '\0';
    agseterrf(keep_graphviz_message);
    Agraph_t *g = agmemread(dot);
    if (!g)
        return nd__fail_int_as(ND_ERR_EXTERNAL,
                               "nd_plot_graph: Graphviz could not parse the DOT text (%s)",
                               graphviz_message[0] ? graphviz_message : "no message");
    int rc = gvLayout(gvc, g, "dot");
    if (rc == 0) rc = gvRenderFilename(gvc, g, format, path);
    gvFreeLayout(gvc, g);
    agclose(g);
    return rc == 0
               ? 0
               : nd__fail_int_as(ND_ERR_EXTERNAL, "nd_plot_graph: Graphviz failed to draw %s (%s)",
                                 path, graphviz_message[0] ? graphviz_message : "no message");
}

int nd_plot_graph(const char *dot, const char *path) {
    if (!dot || !path) return nd__fail_int("nd_plot_graph: NULL text or path");
    const char *ext = strrchr(path, '.');
    const char *format = !ext                   ? NULL
                         : !strcmp(ext, ".png") ? "png"
                         : !strcmp(ext, ".svg") ? "svg"
                         : !strcmp(ext, ".pdf") ? "pdf"
                                                : NULL;
    if (!format)
        return nd__fail_int("nd_plot_graph: %s: unsupported format (use .png, .svg or .pdf)", path);
    FILE *probe = fopen(path, "wb");
    if (!probe)
        return nd__fail_int_as(nd__errno_code(errno), "nd_plot_graph: %s: cannot write: %s", path,
                               nd__strerror(errno));
    fclose(probe);
    nd__drawing_begin(); /* Graphviz's context and error callback are the process's */
    int rc = draw(dot, path, format);
    nd__drawing_end();
    return rc;
}
