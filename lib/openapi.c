/*
 * docs/openapi.json, built into the binary so /api/openapi.json always
 * serves the contract of the code it runs with (the Makefile makes this
 * object depend on the document).
 */
#include "api.h"

__asm__(".section .rodata\n"
        ".global api_openapi_json\n"
        ".type api_openapi_json, @object\n"
        "api_openapi_json:\n"
        ".incbin \"docs/openapi.json\"\n"
        ".byte 0\n"
        ".size api_openapi_json, . - api_openapi_json\n"
        ".previous\n");
