// librsvg renders the report's SVG figures to PNG through cairo, with real fonts (fontconfig).
#include <librsvg/rsvg.h>
#include <cairo.h>
