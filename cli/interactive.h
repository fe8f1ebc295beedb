/* interactive.html, written beside the report's index.html: the labs' panels
 * with nd compiled to WebAssembly (web/, scripts/build-wasm.sh). */
#ifndef ND_INTERACTIVE_H
#define ND_INTERACTIVE_H

/* Copies the page that scripts/build-wasm.sh assembled into dir; where there is
 * none (nd built without Emscripten), writes a page that says how to get it.
 * 0, or -1 with a message on stderr. */
int interactive_write(const char *dir);
/* The panel of interactive.html for a report section's id ("opt" for
 * "optimization"), or NULL when no panel belongs to it. */
const char *interactive_panel(const char *section_id);

#endif
