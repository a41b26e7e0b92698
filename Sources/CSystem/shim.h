// GNU extensions of glibc that Swift's Glibc module does not expose (they need _GNU_SOURCE).
// Declared under our own names bound to glibc's symbols, with no system header included, so this
// module never redefines a type that Swift's Glibc module also defines.
#ifndef MOJO_CSYSTEM_SHIM_H
#define MOJO_CSYSTEM_SHIM_H

/// pipe2(2).
extern int mojo_pipe2(int *fds, int flags) __asm__("pipe2");
/// posix_spawn_file_actions_addchdir_np(3), glibc 2.29+; `actions` is a posix_spawn_file_actions_t *.
extern int mojo_spawn_addchdir(void *actions, const char *dir) __asm__("posix_spawn_file_actions_addchdir_np");
/// ioctl(2) with an int out-parameter (FIONREAD); glibc's ioctl reads its third argument like a
/// fixed one, so a non-variadic prototype is safe.
extern int mojo_ioctl_int(int fd, unsigned long request, int *value) __asm__("ioctl");

/// CRC-32C with the SSE 4.2 `crc32` instruction (x86-64), for the spool's record checksums:
/// `mojo_crc32c_update(crc, p, n)` continues a raw (not inverted) CRC over n bytes. Only call it
/// when `mojo_cpu_has_crc32c()` says the CPU has the instruction; elsewhere the Swift table
/// implementation runs. Builtins and inline assembly only: no system header is included.
#if defined(__x86_64__)
static inline int mojo_cpu_has_crc32c(void) {
    unsigned int a = 1, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return (int)((c >> 20) & 1u);   /* CPUID.1:ECX.SSE4_2 */
}
__attribute__((target("sse4.2")))
static inline unsigned int mojo_crc32c_update(unsigned int crc, const unsigned char *p, unsigned long n) {
    unsigned long long c = crc;
    while (n >= 8) {
        unsigned long long v;
        __builtin_memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        n -= 8;
    }
    unsigned int c32 = (unsigned int)c;
    while (n > 0) {
        c32 = __builtin_ia32_crc32qi(c32, *p);
        p++;
        n--;
    }
    return c32;
}
#else
static inline int mojo_cpu_has_crc32c(void) { return 0; }
static inline unsigned int mojo_crc32c_update(unsigned int crc, const unsigned char *p, unsigned long n) {
    (void)p; (void)n; return crc;
}
#endif

#endif
