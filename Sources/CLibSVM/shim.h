#include <libsvm/svm.h>
