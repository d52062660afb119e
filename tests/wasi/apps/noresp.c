/* A handler that returns without ever setting its response-outparam. The
 * handles it was given are dropped, as a careless guest would. */
#include <stdint.h>

__attribute__((import_module("wasi:http/types@0.2.12"),
               import_name("[resource-drop]incoming-request")))
extern void drop_request(int32_t h);
__attribute__((import_module("wasi:http/types@0.2.12"),
               import_name("[resource-drop]response-outparam")))
extern void drop_outparam(int32_t h);

__attribute__((export_name("wasi:http/incoming-handler@0.2.12#handle")))
void handle(int32_t request, int32_t outparam)
{
    drop_request(request);
    drop_outparam(outparam);
}
