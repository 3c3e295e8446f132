#ifndef PROX_CHIREDIS_SHIM_H
#define PROX_CHIREDIS_SHIM_H
// Debian's libhiredis-dev 0.14: RESP2 only, blocking API.
#include <hiredis/hiredis.h>
#endif
