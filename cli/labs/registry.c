/* The labs in the chapter's order: one table, written out, so adding a lab is
 * one line here and one file in cli/labs/ (plain C11: no start-up hooks). */
#include "lab.h"

#include <string.h>

/* Each defined in its own file, cli/labs/NAME.c. */
extern const lab tensors_lab, data_lab, linear_algebra_lab, calculus_lab, autodiff_lab,
    optimization_lab, affine_lab, activations_lab, relu_synthesis_lab, geometry_lab;

static const lab *const labs[] = {
    &tensors_lab,        /* 1. N维数组 */
    &data_lab,           /* 2. 数据预处理 */
    &linear_algebra_lab, /* 3. 线性代数 */
    &calculus_lab,       /* 4. 多元微分 */
    &autodiff_lab,       /* 5. 自动微分 */
    &optimization_lab,   /* 6. 优化 */
    &affine_lab,         /* 7. 二维仿射变换 */
    &activations_lab,    /* 8. 激活函数 */
    &relu_synthesis_lab, /* 9. ReLU 合成 */
    &geometry_lab,       /* 10. 深度学习 = 几何变换 */
};
enum { LAB_COUNT = sizeof labs / sizeof labs[0] };

int lab_count(void) {
    return LAB_COUNT;
}
const lab *lab_at(int i) {
    return i >= 0 && i < LAB_COUNT ? labs[i] : NULL;
}

const lab *lab_find(const char *name) {
    for (int i = 0; i < LAB_COUNT; i++)
        if (!strcmp(labs[i]->name, name)) return labs[i];
    return NULL;
}
