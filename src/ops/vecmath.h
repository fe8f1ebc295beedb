/*
 * vecmath.h — libm's functions under names (vm_expf, vm_tanh, ...) that let
 * GCC vectorise the elementwise loops of unary.c, activations.c and binary.c.
 *
 * glibc ships libmvec, SIMD versions of expf, tanhf, powf... (16 floats per
 * call with AVX-512), and GCC calls them from a vectorised loop, but glibc's
 * <math.h> only announces them under -ffast-math, which would also change what
 * NaN and infinity do everywhere. So each function is declared once more here,
 * under a vm_ name bound to the same symbol (an asm label), marked `simd` (a
 * vector version exists) and `const` (nd never reads errno). Everywhere else
 * (clang, other C libraries, glibc before 2.35) the vm_ names are the plain
 * functions and the loops stay scalar.
 */
#ifndef ND_VECMATH_H
#define ND_VECMATH_H

#include <math.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__) &&       \
    defined(__GLIBC_PREREQ)
#if __GLIBC_PREREQ(2, 35)
#define ND_HAVE_LIBMVEC 1
#endif
#endif

#ifdef ND_HAVE_LIBMVEC
#define VM_FN(ret, name, params)                                                                   \
    ret vm_##name params __asm__(#name) __attribute__((simd("notinbranch"), const, nothrow));
#else
#define VM_FN(ret, name, params) /* vm_name is name: see below */
#endif

#define VM_FLOAT_AND_DOUBLE(name)                                                                  \
    VM_FN(float, name##f, (float))                                                                 \
    VM_FN(double, name, (double))
VM_FLOAT_AND_DOUBLE(exp)
VM_FLOAT_AND_DOUBLE(log)
VM_FLOAT_AND_DOUBLE(log1p)
VM_FLOAT_AND_DOUBLE(sin)
VM_FLOAT_AND_DOUBLE(cos)
VM_FLOAT_AND_DOUBLE(tanh)
VM_FLOAT_AND_DOUBLE(sinh)
VM_FLOAT_AND_DOUBLE(cosh)
VM_FLOAT_AND_DOUBLE(erf)
VM_FLOAT_AND_DOUBLE(erfc)
VM_FN(float, powf, (float, float))
VM_FN(double, pow, (double, double))

#ifndef ND_HAVE_LIBMVEC
#define vm_expf   expf
#define vm_exp    exp
#define vm_logf   logf
#define vm_log    log
#define vm_log1pf log1pf
#define vm_log1p  log1p
#define vm_sinf   sinf
#define vm_sin    sin
#define vm_cosf   cosf
#define vm_cos    cos
#define vm_tanhf  tanhf
#define vm_tanh   tanh
#define vm_sinhf  sinhf
#define vm_sinh   sinh
#define vm_coshf  coshf
#define vm_cosh   cosh
#define vm_erff   erff
#define vm_erf    erf
#define vm_erfcf  erfcf
#define vm_erfc   erfc
#define vm_powf   powf
#define vm_pow    pow
#endif

#endif /* ND_VECMATH_H */
