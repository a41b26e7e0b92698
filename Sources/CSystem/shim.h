// GNU extensions of glibc that Swift's Glibc module does not expose without _GNU_SOURCE.
#ifndef MOJO_CSYSTEM_SHIM_H
#define MOJO_CSYSTEM_SHIM_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <fcntl.h>
#include <unistd.h>
#include <spawn.h>

static inline int mojo_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
static inline int mojo_spawn_addchdir(posix_spawn_file_actions_t *a, const char *dir) {
    return posix_spawn_file_actions_addchdir_np(a, dir);
}
#endif
