/* interactive.c — see interactive.h. The page is one self-contained file
 * (nd's .wasm inlined), found where the build left it (ND_INTERACTIVE_PAGE:
 * build-wasm/interactive.html of the source tree) or where `make install` put
 * it (ND_INSTALLED_INTERACTIVE_PAGE); ND_INTERACTIVE_PAGE in the environment
 * names another. It is read when the report is written, not compiled in, so
 * that a build without Emscripten still builds and its report still links a
 * page, one saying what is missing. */
#include "interactive.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef ND_INTERACTIVE_PAGE
#define ND_INTERACTIVE_PAGE "build-wasm/interactive.html"
#endif
#ifndef ND_INSTALLED_INTERACTIVE_PAGE
#define ND_INSTALLED_INTERACTIVE_PAGE "/usr/local/share/nd/interactive.html"
#endif

static const char *missing =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<title>nd labs, interactive</title>\n</head>\n<body>\n<h1>nd labs, interactive</h1>\n"
    "<p>This nd was built without its WebAssembly page, so the labs cannot run in the "
    "browser here. Build it with Emscripten (<code>scripts/build-wasm.sh</code>; "
    "<code>make build</code> and <code>make run</code> do it when <code>emcc</code> is "
    "installed, as <code>scripts/install-deps.sh</code> installs it), then run "
    "<code>nd labs</code> again.</p>\n<p><a href=\"index.html\">Back to the report</a></p>\n"
    "</body>\n</html>\n";

const char *interactive_panel(const char *id) {
    static const char *const panels[][2] = {{"optimization", "opt"},
                                            {"relu-synthesis", "relu"},
                                            {"autodiff", "ad"},
                                            {"affine", "aff"},
                                            {"activations", "act"}};
    for (size_t i = 0; i < sizeof panels / sizeof panels[0]; i++)
        if (!strcmp(id, panels[i][0])) return panels[i][1];
    return NULL;
}

int interactive_write(const char *dir) {
    const char *page = getenv("ND_INTERACTIVE_PAGE");
    if (!page || !*page) page = ND_INTERACTIVE_PAGE;
    if (access(page, R_OK) != 0) page = ND_INSTALLED_INTERACTIVE_PAGE;
    FILE *in = fopen(page, "rb");
    char path[4096];
    snprintf(path, sizeof path, "%s/interactive.html", dir);
    FILE *out = fopen(path, "wb");
    int rc = out ? 0 : -1;
    if (out && in) {
        char buf[1 << 16];
        size_t n;
        while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
            if (fwrite(buf, 1, n, out) != n) rc = -1;
        if (ferror(in)) rc = -1;
    } else if (out) {
        if (fputs(missing, out) < 0) rc = -1;
    }
    if (in) fclose(in);
    if (out && fclose(out) != 0) rc = -1;
    if (rc) fprintf(stderr, "nd: cannot write %s: %s\n", path, strerror(errno));
    return rc;
}
