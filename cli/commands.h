/* Commands of the nd program that live in files of their own. Each takes the
 * arguments after `nd` (argv[0] is the command's name) and returns the exit
 * status; each prints its own --help. */
#ifndef ND_COMMANDS_H
#define ND_COMMANDS_H

int cmd_fit(int argc, char **argv);      /* cli/fit.c */
int cmd_autodiff(int argc, char **argv); /* cli/autodiff.c */
int cmd_train(int argc, char **argv);    /* cli/train.c (over libnd_dist when built) */

#endif
