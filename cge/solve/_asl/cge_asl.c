/* A minimal reader of AMPL model files (.nl) for cge's Newton solver (cge/solve/newton.py).
 *
 * It exposes the residuals g(x) and the sparse Jacobian of the constraints, nothing else.  The
 * AMPL Solver Library's fg_read is used (first derivatives only): PyNumero's reader also sets up the
 * Hessian of the Lagrangian, whose sparsity pattern is nearly dense once the scenario instruments
 * are variables of the file, which is what lets cge write the file once per model.
 *
 * Build (scripts/setup.sh does this):
 *   gcc -O2 -shared -fPIC -I/usr/include/ampl-netlib-solvers cge_asl.c -lamplsolver -o libcge_asl.so
 */
#include "asl.h"

typedef struct {
    ASL *asl;
} Handle;

/* Read the file; returns NULL on failure. n[0..2] = variables, constraints, Jacobian nonzeros. */
void *cge_asl_open(const char *path, int *n) {
    ASL *asl = ASL_alloc(ASL_read_fg);
    FILE *nl = jac0dim_ASL(asl, path, (ftnlen)strlen(path));
    if (nl == NULL) { ASL_free(&asl); return NULL; }
    if (fg_read_ASL(asl, nl, ASL_return_read_err) != 0) { ASL_free(&asl); return NULL; }
    n[0] = asl->i.n_var_;
    n[1] = asl->i.n_con_;
    n[2] = (int)asl->i.nzc_;
    Handle *h = (Handle *)malloc(sizeof(Handle));
    h->asl = asl;
    return h;
}

/* The Jacobian's structure: row and column of each nonzero, in jacval's order. */
void cge_asl_structure(void *handle, int *rows, int *cols) {
    ASL *asl = ((Handle *)handle)->asl;
    int i;
    cgrad *cg;
    for (i = 0; i < asl->i.n_con_; i++)
        for (cg = asl->i.Cgrad_[i]; cg; cg = cg->next) {
            rows[cg->goff] = i;
            cols[cg->goff] = cg->varno;
        }
}

/* Constraint bodies at x; returns 0, or nonzero after an evaluation error (e.g. a negative base). */
int cge_asl_residuals(void *handle, double *x, double *g) {
    ASL *asl = ((Handle *)handle)->asl;
    fint ne = 0;
    (*asl->p.Conval)(asl, x, g, &ne);
    return (int)ne;
}

/* Jacobian values at x, in the order of cge_asl_structure; returns nonzero after an error. */
int cge_asl_jacobian(void *handle, double *x, double *jac) {
    ASL *asl = ((Handle *)handle)->asl;
    fint ne = 0;
    (*asl->p.Jacval)(asl, x, jac, &ne);
    return (int)ne;
}

void cge_asl_close(void *handle) {
    Handle *h = (Handle *)handle;
    ASL_free(&h->asl);
    free(h);
}
