/* nd's text (printing, parsing) is always Python's: a decimal point, whatever
 * the program's locale says ("2,5" in some). printf and strtod follow the
 * locale, so the thread switches to the C locale around them. */
#include "internal.h"

locale_t nd__use_c_locale(locale_t *previous) {
    locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    *previous = c ? uselocale(c) : (locale_t)0;
    return c;
}

void nd__restore_locale(locale_t c, locale_t previous) {
    if (!c) return;
    uselocale(previous);
    freelocale(c);
}
