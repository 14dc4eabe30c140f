#ifndef CODESAGE_CBLAS_SHIM_H
#define CODESAGE_CBLAS_SHIM_H
#include <cblas.h>
/* OpenBLAS extensions (declared here too in case cblas.h is the netlib one). */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
#endif
