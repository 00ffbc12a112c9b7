#ifndef SEAFOLD_CPROCESS_H
#define SEAFOLD_CPROCESS_H

/// Asks the kernel to send `signal` to this process when its parent thread exits (Linux
/// prctl(PR_SET_PDEATHSIG); prctl is variadic, so Swift cannot call it directly). Returns 0 on
/// success, -1 where unsupported. The caller must then check getppid() still names the parent
/// it expects: a parent that died before this call sends nothing.
int seafold_die_with_parent(int signal);

#endif
