/* The console layer's private view of the generated asset table
 * (console_assets.c, written by embed.cmake). */
#ifndef EOS_CONSOLE_INTERNAL_H
#define EOS_CONSOLE_INTERNAL_H

#include "eos/console.h"

extern const eos_console_asset eos_console__assets[];
extern const size_t eos_console__asset_count;
extern const char eos_console__listing[];
extern const char eos_console__hash_hex[];
/* The listing served as "assets.sha256"; its own hash is the console hash. */
extern const eos_console_asset eos_console__listing_asset;

#endif
