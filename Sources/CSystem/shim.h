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
#endif
