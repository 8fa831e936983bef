// Whether another process holds the other end of a pipe this process reads
// (stdin) or writes (stdout): the one way wksp_ctl can tell that the holder
// of a workspace lock it waits for is waiting for it in turn, e.g.
// `wksp_ctl checkpt W - | wksp_ctl restore W - -`, a workspace streamed into
// itself, where one holds W's lock and blocks on the pipe and the other
// waits for the lock.
#ifndef WKSPKIT_APPS_PIPE_PEER_H_
#define WKSPKIT_APPS_PIPE_PEER_H_

#include <sys/types.h>

#include <string>

namespace wk::apps {

// "stdin" when process `pid` (of our pid namespace, readable in /proc: ours,
// or any as root) has a descriptor for the pipe on our stdin, else "stdout"
// for the pipe on our stdout, else "" (no such pipe, or not visible).
std::string PipeSharedWith(pid_t pid);

}  // namespace wk::apps

#endif  // WKSPKIT_APPS_PIPE_PEER_H_
