#include "cprocess.h"
#ifdef __linux__
#include <sys/prctl.h>
#endif

int seafold_die_with_parent(int signal) {
#ifdef __linux__
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL);
#else
    (void)signal;
    return -1;
#endif
}
