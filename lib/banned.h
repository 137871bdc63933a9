/*
 * Calls that have no place in zkeep: each has a bounded or checked
 * replacement (buf_addf, snprintf with a checked result, strvec). Included
 * last by every file of lib/ and cmd/, so a use fails to compile.
 */
#ifndef ZK_BANNED_H
#define ZK_BANNED_H

#define BANNED(func) sorry_##func##_is_banned_in_zkeep

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef gets
#define gets(x) BANNED(gets)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef system
#define system(x) BANNED(system)
#undef popen
#define popen(x, y) BANNED(popen)

#endif
